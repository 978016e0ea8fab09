#!/usr/bin/env bash
# Spec conformance: runs schemathesis (examples, coverage and fuzzing phases)
# from spec/gateway/openapi.yaml against `paygate simulate` on loopback and
# exits with schemathesis's status.
#
# Needs Python 3 with pip (installs schemathesis from PyPI if missing).
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 50), SCHEMATHESIS_PORT
# (default: a free port), SCHEMATHESIS_REPORT_DIR (default
# target/schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

# Call it by the path pip installs it to: on a fresh machine a version
# manager's shim for a newly installed script may not exist yet.
schemathesis="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/schemathesis"
if [ ! -x "$schemathesis" ]; then
    echo "== installing schemathesis (PyPI)"
    python3 -m pip install --quiet 'schemathesis>=4,<5'
fi
"$schemathesis" --version

echo "== building the simulator"
cargo build --quiet -p paygate-conformance --bin paygate
target_dir="${CARGO_TARGET_DIR:-target}"
bin="$(cd "$target_dir/debug" && pwd)/paygate"

port="${SCHEMATHESIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
report_dir="${SCHEMATHESIS_REPORT_DIR:-target/schemathesis}"
mkdir -p "$report_dir"
log="$report_dir/simulator.log"

"$bin" simulate --listen "127.0.0.1:$port" --latency-ms 50 >"$log" 2>&1 &
sim_pid=$!
cleanup() {
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/_sim/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        echo "the simulator exited:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/_sim/health" >/dev/null

# `public_id` resolves to the demo merchant, so requests get past the 404
# for an unknown merchant and reach the signature and body checks.
config="$report_dir/schemathesis.toml"
cat >"$config" <<TOML
[parameters]
"path.public_id" = "demo-public-id"
TOML

echo "== schemathesis against http://127.0.0.1:$port/"
# Hooks: sign every JSON-object body as the demo merchant (see the file).
export PAYGATE_BIN="$bin"
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks
status=0
"$schemathesis" --config-file "$config" run spec/gateway/openapi.yaml \
    --url "http://127.0.0.1:$port/" \
    --phases=examples,coverage,fuzzing \
    --checks=not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
    --max-examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
    --seed=20250101 \
    --workers=2 \
    --request-timeout=10 \
    --report=junit --report-dir="$report_dir" \
    || status=$?
if [ "$status" -ne 0 ]; then
    echo "== simulator log (last 50 lines)"
    tail -n 50 "$log"
fi
exit "$status"
