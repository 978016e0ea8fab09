//! The generator: full regeneration of the bindings in `generated/src/`
//! from `spec/` (the gateway's spec and provider rules, HUB2's spec and
//! coverage facts), through the same entry points as
//! `paygate-regenerate`.
//!
//! * `codegen/generate_all`: `paygate_codegen::generate_bindings` on
//!   inputs read once, outside the timed loop;
//! * `codegen/load_and_generate_all`: reading the files as well.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use paygate_codegen::{generate_bindings, CrateInputs};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(root: &Path) -> CrateInputs {
    match CrateInputs::load(root) {
        Ok(inputs) => inputs,
        Err(e) => panic!("the committed specs under {} read: {e}", root.display()),
    }
}

/// Bytes of Rust generated.
fn generate_all(inputs: &CrateInputs) -> usize {
    match generate_bindings(inputs) {
        Ok((files, _warnings)) => files.iter().map(|f| f.text.len()).sum(),
        Err(e) => panic!("the committed specs generate: {e}"),
    }
}

fn codegen(c: &mut Criterion) {
    let root = workspace_root();
    let inputs = load(&root);
    eprintln!(
        "codegen: gateway + HUB2 specs and facts; {} bytes of Rust generated",
        generate_all(&inputs)
    );

    let mut group = c.benchmark_group("codegen");
    // A regeneration takes milliseconds: fewer samples keep the run short.
    group.sample_size(20);
    group.bench_function("generate_all", |b| {
        b.iter(|| generate_all(black_box(&inputs)))
    });
    group.bench_function("load_and_generate_all", |b| {
        b.iter(|| generate_all(&load(black_box(&root))))
    });
    group.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
