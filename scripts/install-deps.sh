#!/usr/bin/env bash
# Installs the Debian 12 packages galsync needs to build, test and benchmark,
# and only those that are missing. Safe to run repeatedly; a no-op when all
# are present.
#
# Boost: galsync needs Boost 1.81 headers (Beast, Asio, JSON, URL). Debian 12
# ships them as libboost1.81-dev, which conflicts with libboost1.74-dev; never
# install libboost-dev or libboost-all-dev next to it.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev
  libsqlite3-dev sqlite3
  # The PostgreSQL store (libpq), and the server its tests and benchmarks
  # start (scripts/pg-test-server.sh).
  libpq-dev postgresql-15
  libicu-dev
  libssl-dev
  # The TLS tests make throwaway certificates with the openssl command.
  openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  # The export tests read vCards back with vobject (khard's and vdirsyncer's
  # parser) and CSV with Python's csv module, using /usr/bin/python3.
  python3 python3-vobject
  curl wrk bc
)
# scripts/fuzz.sh builds with clang and libFuzzer (libclang-rt-14-dev).
if [ -n "${GALSYNC_WITH_CLANG:-}" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# An apt index may be missing on a fresh machine; refresh it once if the
# install cannot find a package.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
