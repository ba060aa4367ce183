#!/usr/bin/env bash
# Baseline for galsync's batched import: what SQLite itself takes to insert
# the same volume (1,000,000 rows of ~820 bytes, a rowid table plus a unique
# text index, and a history table with its index) with galsync's settings
# (32 KiB pages, WAL, synchronous=FULL), as one INSERT ... SELECT per table
# with no application code in the loop. See docs/benchmarks.md.
set -euo pipefail
db=$(mktemp -d)/baseline.db
trap 'rm -rf "$(dirname "$db")"' EXIT
sqlite3 "$db" <<'SQL'
PRAGMA page_size=32768; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
CREATE TABLE contacts(key INTEGER PRIMARY KEY, domain_id INT, contact_id TEXT,
                      time_us INT, deleted INT, json TEXT);
CREATE UNIQUE INDEX contacts_by_id ON contacts(domain_id, contact_id);
CREATE TABLE history(key INTEGER PRIMARY KEY, contact_id TEXT, time_us INT,
                     actor TEXT, op TEXT, before_json TEXT);
CREATE INDEX history_by_contact ON history(contact_id, key);
CREATE TEMP TABLE src(n INTEGER PRIMARY KEY, id TEXT, json TEXT);
INSERT INTO src SELECT value, printf('p%07d', value), hex(randomblob(410))
  FROM generate_series(1, 1000000);
.timer on
BEGIN;
INSERT INTO contacts SELECT n, 1, id, 0, 0, json FROM src;
INSERT INTO history SELECT n, id, 0, 'bench', 'upsert', NULL FROM src;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
