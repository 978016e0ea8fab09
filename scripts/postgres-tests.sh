#!/usr/bin/env bash
# The tests that need PostgreSQL (the simulator's --db postgres://...):
# starts a throwaway cluster on loopback (trust auth, a free port, data in
# a temporary folder), runs them, stops the cluster and removes it. With
# PAYGATE_TEST_POSTGRES_URL already set, that server is used instead.
# PostgreSQL comes from Debian's packages (.ci/run installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

tests=(--test reliability_persistence --test hub2_persistence --test postgres_suite --test replicas --test replicas_suite)

if [ -n "${PAYGATE_TEST_POSTGRES_URL:-}" ]; then
  exec cargo test -p paygate-conformance "${tests[@]}" -- --ignored
fi

bindir=""
if command -v pg_config > /dev/null; then bindir="$(pg_config --bindir)"; fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)"
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL's initdb is not installed (Debian: apt-get install postgresql)" >&2
  exit 1
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/paygate-pg.XXXXXX")"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# initdb and postgres refuse to run as root: as root, run them as postgres.
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$data"
  as_owner=(runuser -u postgres --)
fi
stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m immediate stop > /dev/null 2>&1 || true
  rm -rf "$data"
}
trap stop EXIT
"${as_owner[@]}" "$bindir/initdb" -D "$data" -A trust -U postgres > /dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1" start > /dev/null
echo "throwaway PostgreSQL on 127.0.0.1:$port"

PAYGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres" \
  cargo test -p paygate-conformance "${tests[@]}" -- --ignored
