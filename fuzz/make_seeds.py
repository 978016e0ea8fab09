#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/seeds/ from the project's own data:
the recorded PHP signature vectors' bodies and the spec files. Rerun after
re-recording the vectors or changing the specs."""
import hashlib, json, pathlib, struct

root = pathlib.Path(__file__).resolve().parent
repo = root.parent
seeds = root / "seeds"

def put(target, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)

vectors = json.loads((repo / "paygate/tests/vectors/php_signatures.json").read_text())
numbers = set()
for case in vectors["cases"]:
    body = case["body"].encode()
    put("raw_json_sign", body)
    try:
        def collect(v):
            if isinstance(v, dict):
                for x in v.values(): collect(x)
            elif isinstance(v, list):
                for x in v: collect(x)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                numbers.add(v)
        collect(json.loads(case["body"], parse_float=float))
    except Exception:
        pass
for extra in [b'{}', b'{"a":{"b":[1,2,{"c":null}]},"signature":"00"}', b'{"x":1e400,"y":-0,"z":123456789012345678901234567890}']:
    put("raw_json_sign", extra)

for v in sorted(numbers, key=repr)[:64]:
    f = float(v) if abs(v) < 1e308 else float("inf")
    put("php_number", struct.pack("<d", f) + repr(v).encode())
for f, tok in [(100.10, b"100.10"), (1e25, b"1e25"), (713427812991805.0, b"935072035079805.00005"), (5e-324, b"-0"), (0.1, b"1E400")]:
    put("php_number", struct.pack("<d", f) + tok)

put("spec_loader", b"\x00" + (repo / "fuzz/fuzz_targets/spec_loader.rs").read_text().split('r##"')[1].split('"##')[0].encode())
for spec in ["spec/gateway/openapi.yaml", "spec/hub2/openapi.yaml"]:
    put("spec_loader", b"\x00" + (repo / spec).read_bytes())
put("spec_loader", b"\x01" + (repo / "spec/gateway/providers.yaml").read_bytes())
