#!/usr/bin/env bash
# The library crates as a merchant gets them:
#  1. `cargo package` in its workspace form (path dependencies packaged
#     together) with verification: each crate builds from its package alone;
#  2. the runtime's normal and build dependencies hold no generator crate;
#  3. the README's "depend on it" line: a new crate outside the workspace
#     adds `paygate` by path and builds the README's signing snippet;
#  4. the README's install line: `cargo install --path conformance` puts a
#     working `paygate` command in place.
# Run from anywhere; uses target/ of the workspace for everything it builds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

echo "== cargo package (workspace form, verified): the library crates"
# Verification goes through a temporary local registry, and cargo takes a
# registry crate's version as its identity: builds and unpacked sources left
# by an earlier run (same version, older code) would be reused. So it builds
# in a target directory of its own, emptied first, and drops the unpacked
# paygate crates.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
package_target="$target/check-crates"
rm -rf "$package_target" "$cargo_home"/registry/src/-*/paygate-* "$cargo_home"/registry/cache/-*/paygate-*
CARGO_TARGET_DIR="$package_target" cargo package --workspace \
    --exclude paygate-conformance --exclude paygate-benches --allow-dirty --quiet
ls "$package_target"/package/*.crate

echo "== the runtime's dependency tree holds no generator crate"
tree="$(cargo tree -p paygate -e normal,build --prefix none)"
for generator in openapiv3 serde_yaml prettyplease paygate-codegen; do
    if grep -q "^$generator " <<<"$tree"; then
        echo "paygate depends on $generator:" >&2
        cargo tree -p paygate -e normal,build -i "$generator" >&2
        exit 1
    fi
done
echo "no openapiv3, serde_yaml, prettyplease or paygate-codegen under paygate"

echo "== depend on it: a new crate adds paygate by path"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
(
    cd "$scratch"
    cargo new --quiet --bin merchant
    cd merchant
    cp "$root/Cargo.lock" .  # the workspace's versions: no surprise upgrades
    cargo add --quiet --path "$root/paygate"
    cat >src/main.rs <<'RUST'
use paygate::gateway::{Country, Currency, PaymentC2bRequest};
use paygate::signing::{sign, SecretKey, SigningKey};

fn main() {
    let key = SigningKey::new(&SecretKey::new("your-secret-key"));
    let request = PaymentC2bRequest::new(
        "your-merchant-id",
        "2250705145655",
        "order-1",
        "1100.00".parse().expect("two decimals"),
        Currency::Xof,
        2303,
    )
    .with_country(Country::Ci);
    println!("{}", sign(&key, &request).expect("flat payload"));
}
RUST
    CARGO_TARGET_DIR="$target/depend-on-it" cargo run --quiet >signature.txt
    test "$(wc -c <signature.txt)" -eq 129 # 128 hex digits and a newline
    echo "signed: $(cut -c1-16 signature.txt)…"
)

echo "== install: cargo install --locked --path conformance"
CARGO_TARGET_DIR="$target" cargo install --quiet --locked --path conformance --root "$scratch/install"
"$scratch/install/bin/paygate" --version
"$scratch/install/bin/paygate" rules 2303 | head -3
