"""schemathesis hooks for scripts/schemathesis.sh.

Every generated JSON-object body is made to pass authentication before it is
sent: `merchant_id` becomes the demo merchant's and `signature` is computed
by `paygate sign` (the project's own signing engine, over the exact bytes
sent) with the demo merchant's key; `callback_url` points at a closed
loopback port, so no callback leaves the machine. Requests then reach the body decoding,
the provider rules, idempotency and the success answers, whose schemas the
checks validate, instead of stopping at 401.
"""

import itertools
import json
import os
import re
import subprocess

import schemathesis
from hypothesis.internal import lambda_sources

# Which spec this run tests: `gateway` (bodies signed as the demo merchant)
# or `hub2` (authenticated by the configuration's `[auth.openapi]` keys).
API = os.environ.get("PAYGATE_SCHEMATHESIS_API", "gateway")


# CPython 3.11's `ast.parse` can fail with "SystemError: AST constructor
# recursion depth mismatch" when called deep in the stack (CPython issue
# gh-106905); hypothesis calls it only to describe a lambda in a strategy's
# repr (`lambda_sources._lambda_description`), and schemathesis 4 reaches it
# while drawing coverage-phase arrays, so the run died with a "Runtime
# Error" in about one run of three, on Debian's 3.11.2 as on 3.11.7. The
# description is cosmetic: on that error it falls back to hypothesis' own
# "unknown body" text. Measured need: the crash in the coverage phase of
# POST /{public_id}/payment_b2c/bulk before this patch.
_describe = lambda_sources._lambda_description


def _describe_or_unknown(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_unknown

PAYGATE_BIN = os.environ["PAYGATE_BIN"]
SECRET_KEY = os.environ.get("PAYGATE_DEMO_SECRET_KEY", "demo-secret-key-change-me")
MERCHANT_ID = os.environ.get("PAYGATE_DEMO_MERCHANT_ID", "demo-merchant")
CALLBACK_URL = "http://127.0.0.1:9/callback"  # discard port: nothing listens
ORDER_ID = re.compile(r"[A-Za-z0-9_\-:.]{1,100}")
_counter = itertools.count(1)


def _sign(body_bytes):
    done = subprocess.run(
        [PAYGATE_BIN, "sign"],
        input=body_bytes,
        capture_output=True,
        env={**os.environ, "PAYGATE_SECRET_KEY": SECRET_KEY},
        timeout=10,
        check=False,
    )
    if done.returncode != 0:
        return None  # not signable (e.g. nested too deep): send it unsigned
    return done.stdout.decode().strip()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if API != "gateway":
        return
    body = case.body
    if not isinstance(body, dict):
        return
    body.pop("signature", None)
    if "merchant_id" in body or case.operation.path.endswith(("c2b", "b2c", "status", "deposit", "withdrawal", "banks")):
        body["merchant_id"] = MERCHANT_ID
    # Callbacks stay on this machine: whatever URL was generated (the
    # examples say https://example.com/...), the simulator calls back a
    # closed loopback port instead.
    if isinstance(body.get("callback_url"), str):
        body["callback_url"] = CALLBACK_URL
    # A fresh valid order_id per request (an invalid one stays as generated),
    # so payments are not all refused as reuses of the examples' order_id
    # (409); `status` keeps its order_id to find the examples' payments.
    order_id = body.get("order_id")
    if (not case.operation.path.endswith("/status") and isinstance(order_id, str)
            and ORDER_ID.fullmatch(order_id)):
        body["order_id"] = f"{order_id}.{os.getpid()}-{next(_counter)}"
    # Sign the bytes the way they go on the wire: the same keys, order and
    # values (the signature is over decoded values, so number spelling and
    # escaping do not matter).
    signature = _sign(json.dumps(body).encode())
    if signature is not None:
        body["signature"] = signature
