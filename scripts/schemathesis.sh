#!/usr/bin/env bash
# Spec conformance: runs schemathesis (every phase: examples, coverage,
# fuzzing, stateful; every check) from spec/gateway/openapi.yaml (at `/`)
# and spec/hub2/openapi.yaml (under `/hub2`) against `paygate simulate` on
# loopback; exits non-zero if either run fails.
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

# The demo merchants (simulator/config.rs, simulator/hub2/config.rs), with
# HUB2's rate limits raised: at the default 50 requests per 5 s most
# generated requests would only meet 429 and test nothing behind it.
merchants="$report_dir/merchants.yaml"
cat >"$merchants" <<YAML
merchants:
  - public_id: demo-public-id
    merchant_id: demo-merchant
    secret_key: demo-secret-key-change-me
hub2:
  rate_limit: {requests: 1000000, window_ms: 1000}
  poll_limit: {requests: 1000000, window_ms: 1000}
  merchants:
    - merchant_id: demo-hub2-merchant
      webhook_secret: demo-hub2-webhook-secret
      sandbox_balance: 1000000000
      api_keys:
        - key: demo-hub2-sandbox-key
          environment: sandbox
          permissions: [Api.delegated_payment_create, Api.delegated_transfer_create]
YAML
# The control plane needs a token: one per run, from the OS.
admin_token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$bin" simulate --listen "127.0.0.1:$port" --latency-ms 50 --merchants "$merchants" \
    --admin-token "$admin_token" >"$log" 2>&1 &
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

# Processing Only mode needs the merchant's provider credentials; register
# them for the pair the spec's examples use (orange, CI), for payments and
# transfers, so `/delegated/...` examples reach their success answers.
for kind in payment transfer; do
    curl -fsS -X POST "http://127.0.0.1:$port/hub2/_sim/provider-credentials" \
        -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
        -d "{\"provider\":\"orange\",\"country\":\"CI\",\"transactionType\":\"$kind\",\"merchantId\":\"demo-hub2-merchant\",\"environment\":\"sandbox\",\"credentials\":{\"apiKey\":\"schemathesis\"}}" \
        >/dev/null
done

# Configurations, one per spec. Gateway: `public_id` resolves to the demo
# merchant, so requests get past the 404 for an unknown merchant and reach
# the signature and body checks. HUB2: the demo sandbox account
# (simulator/hub2/config.rs) through the spec's own security schemes, so
# `ignored_auth` can take them away, and its `Environment` header.
# positive_data_acceptance: a schema-valid request may still be refused by
# what one JSON Schema cannot state. Gateway: 422 (code 10422) is the
# provider rules' answer (a phone format, currency, amount range or OTP
# format per provider, from spec/gateway/providers.yaml). HUB2: 400 names
# a provider/country pair HUB2 does not serve or missing Processing Only
# credentials, 402 a balance too low; both listed in the spec. The other
# statuses are schemathesis' defaults.
gateway_config="$report_dir/schemathesis-gateway.toml"
cat >"$gateway_config" <<TOML
[parameters]
"path.public_id" = "demo-public-id"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
TOML
hub2_config="$report_dir/schemathesis-hub2.toml"
cat >"$hub2_config" <<TOML
[auth.openapi.ApiKey]
api_key = "demo-hub2-sandbox-key"

[auth.openapi.MerchantId]
api_key = "demo-hub2-merchant"

[parameters]
"header.Environment" = "sandbox"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "400", "401", "402", "403", "404", "409", "429", "5xx"]
TOML

# Every phase, every check. None is excluded: each can pass against the
# simulator (see the README's "Spec agreement" section for what the
# simulator enforces).
phases=examples,coverage,fuzzing,stateful
checks=all

# Hooks: sign every gateway JSON-object body as the demo merchant (see the
# file).
export PAYGATE_BIN="$bin"
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks
status=0
run_spec() {
    local api="$1" spec="$2" url="$3" config="$4"
    echo "== schemathesis: $spec against $url"
    PAYGATE_SCHEMATHESIS_API="$api" "$schemathesis" --config-file "$config" run "$spec" \
        --url "$url" \
        --phases="$phases" \
        --checks="$checks" \
        --max-examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
        --seed=20250101 \
        --workers=2 \
        --request-timeout=10 \
        --report=junit --report-dir="$report_dir/$api" \
        || status=$?
}
run_spec gateway spec/gateway/openapi.yaml "http://127.0.0.1:$port/" "$gateway_config"
run_spec hub2 spec/hub2/openapi.yaml "http://127.0.0.1:$port/hub2" "$hub2_config"
if [ "$status" -ne 0 ]; then
    echo "== simulator log (last 50 lines)"
    tail -n 50 "$log"
fi
exit "$status"
