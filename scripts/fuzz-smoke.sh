#!/usr/bin/env bash
# A short run of every cargo-fuzz target (fuzz/): builds them and runs each
# for FUZZ_SECONDS (default 10) from its seed corpus. Exits non-zero on any
# crash; the crashing input is left in fuzz/artifacts/<target>/.
#
# cargo-fuzz needs nightly-only rustc flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. Installs cargo-fuzz from crates.io if
# missing (a compile of about 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (crates.io)"
    cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-10}"
mkdir -p target

echo "== writing the seed corpora from the vectors and specs"
python3 make_seeds.py

echo "== building the fuzz targets"
cargo fuzz build
for target in $(cargo fuzz list); do
    echo "== fuzzing $target for ${seconds}s"
    mkdir -p "corpus/$target"
    log="target/fuzz-smoke-$target.log"
    status=0
    cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -n 60 "$log"
        echo "fuzz target $target failed (exit $status); see fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
done
echo "fuzz smoke: every target ran ${seconds}s without a crash"
