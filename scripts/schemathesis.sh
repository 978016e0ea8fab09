#!/usr/bin/env bash
# Spec conformance: runs schemathesis (examples, coverage and fuzzing phases)
# from spec/gateway/openapi.yaml against `paygate simulate` on loopback and
# exits with schemathesis's status.
#
# Needs Python 3 with venv and pip (installs schemathesis from PyPI into a
# virtual environment under the target dir if missing).
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 50), SCHEMATHESIS_PORT
# (default: a free port), SCHEMATHESIS_REPORT_DIR (default
# target/schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

# schemathesis runs in its own virtual environment under the target dir.
# Its interpreter is Debian's /usr/bin/python3 when there is one: CPython
# 3.11.7 (the version manager's `python3` here) has a regression in
# `ast.parse` ("SystemError: AST constructor recursion depth mismatch")
# that hypothesis hits at random while describing recursive strategies,
# which made one run in three of the coverage phase die inside the tool.
# SCHEMATHESIS_PYTHON overrides the choice.
python="${SCHEMATHESIS_PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
        python=/usr/bin/python3
    else
        python=python3
    fi
fi
venv="${CARGO_TARGET_DIR:-target}/schemathesis/venv"
schemathesis="$venv/bin/schemathesis"
if [ ! -x "$schemathesis" ]; then
    echo "== installing schemathesis (PyPI) into $venv with $("$python" --version)"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet 'schemathesis>=4,<5'
fi
"$venv/bin/python" --version
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
