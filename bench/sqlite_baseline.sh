#!/usr/bin/env bash
# Baseline for galsync's batched import: what SQLite itself takes to insert
# the same volume (1,000,000 rows of ~820 bytes into a rowid table with a
# unique text index, and a history row for each 10,000 of them, as galsync's
# schema 6 stores a batch of creations) with galsync's settings (32 KiB
# pages, WAL, synchronous=FULL) and its commits (one per 10,000 rows), as
# INSERT ... SELECT statements with no application code in the loop.
# Prints the total of the timed statements. See docs/benchmarks.md.
set -euo pipefail
db=$(mktemp -d)/baseline.db
trap 'rm -rf "$(dirname "$db")"' EXIT
{
  cat <<'SQL'
PRAGMA page_size=32768; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
CREATE TABLE contacts(key INTEGER PRIMARY KEY, domain_id INT, contact_id TEXT,
                      time_us INT, deleted INT, json TEXT, source TEXT,
                      source_key TEXT, origin INT);
CREATE UNIQUE INDEX contacts_by_id ON contacts(domain_id, contact_id);
CREATE UNIQUE INDEX contacts_by_source ON contacts(domain_id, source, source_key)
  WHERE source IS NOT NULL;
CREATE TABLE history(key INTEGER PRIMARY KEY, contact_id TEXT, time_us INT,
                     actor TEXT, op TEXT, before_json TEXT, origin INT,
                     last_key INT, ids TEXT);
CREATE INDEX history_by_origin ON history(origin, key);
CREATE TEMP TABLE src(n INTEGER PRIMARY KEY, id TEXT, json TEXT);
INSERT INTO src SELECT value, printf('p%07d', value), hex(randomblob(410))
  FROM generate_series(1, 1000000);
SQL
  echo ".timer on"
  for ((b = 0; b < 100; b++)); do
    lo=$((b * 10000)) hi=$(((b + 1) * 10000))
    cat <<SQL
BEGIN;
INSERT INTO contacts SELECT n, 1, id, 0, 0, json, NULL, NULL, n FROM src
  WHERE n > $lo AND n <= $hi;
INSERT INTO history SELECT min(n), '', 0, 'bench', 'upsert', NULL, NULL, max(n),
                           group_concat(id, char(10))
  FROM src WHERE n > $lo AND n <= $hi;
COMMIT;
SQL
  done
  echo "PRAGMA wal_checkpoint(TRUNCATE);"
} | sqlite3 "$db" | awk '/^Run Time/ { s += $4 } END { printf "%.2f s\n", s }'
