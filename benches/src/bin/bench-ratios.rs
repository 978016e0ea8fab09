//! Prints the signing targets as ratios of the last `signing` benchmark run,
//! from criterion's estimates in `target/criterion` (or the directory given
//! as the first argument). Exits 1 if a target is missed.
//!
//! ```sh
//! cargo bench -p paygate-benches --bench signing
//! cargo run -p paygate-benches --bin bench-ratios
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The median of one benchmark's last run, in nanoseconds.
fn median_ns(root: &Path, id: &str) -> Result<f64, String> {
    let path = root.join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median.point_estimate", path.display()))
}

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"));
    let ids = [
        "c2b/derive",
        "c2b/naive",
        "c2b/floor",
        "callback/verify_raw",
        "callback/floor",
    ];
    let mut ns = Vec::new();
    for id in ids {
        match median_ns(&root, id) {
            Ok(v) => ns.push(v),
            Err(e) => {
                eprintln!("error: {e}; run `cargo bench -p paygate-benches --bench signing` first");
                return ExitCode::from(2);
            }
        }
    }
    let [derive, naive, c2b_floor, verify, callback_floor] = ns[..] else {
        unreachable!()
    };
    println!("| benchmark | median |");
    println!("|---|---|");
    for (id, v) in ids.iter().zip(&ns) {
        println!("| `{id}` | {v:.0} ns |");
    }
    println!();
    let checks = [
        (
            "derive sign / its floor",
            derive / c2b_floor,
            "<= 1.10",
            derive / c2b_floor <= 1.10,
        ),
        (
            "raw verify / its floor",
            verify / callback_floor,
            "<= 1.25",
            verify / callback_floor <= 1.25,
        ),
        (
            "naive sign / derive sign",
            naive / derive,
            ">= 2",
            naive / derive >= 2.0,
        ),
    ];
    println!("| ratio | value | target | met |");
    println!("|---|---|---|---|");
    let mut all = true;
    for (name, value, target, met) in checks {
        println!(
            "| {name} | {value:.3} | {target} | {} |",
            if met { "yes" } else { "**no**" }
        );
        all &= met;
    }
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
