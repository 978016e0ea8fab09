//! The generator: full regeneration of every spec in `spec/` (each
//! `spec/<api>/openapi.yaml`, with its `providers.yaml` when there is one).
//!
//! * `codegen/generate_all`: `paygate_codegen::generate` on specs read once,
//!   outside the timed loop;
//! * `codegen/load_and_generate_all`: reading the files as well.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use paygate_codegen::{
    generate, load_rules_file, load_spec_file, Options, RulesSource, SpecSource,
};

/// `(openapi.yaml, providers.yaml if present)` for every API under `spec/`.
fn spec_paths() -> Vec<(PathBuf, Option<PathBuf>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let mut apis: Vec<_> = std::fs::read_dir(&root)
        .expect("spec/ exists")
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let spec = dir.join("openapi.yaml");
            let rules = dir.join("providers.yaml");
            spec.is_file()
                .then(|| (spec, rules.is_file().then_some(rules)))
        })
        .collect();
    apis.sort();
    assert!(!apis.is_empty(), "no spec/*/openapi.yaml");
    apis
}

fn load(paths: &[(PathBuf, Option<PathBuf>)]) -> Vec<(SpecSource, Option<RulesSource>)> {
    paths
        .iter()
        .map(|(spec, rules)| {
            let spec = load_spec_file(spec).expect("readable spec");
            let rules = rules
                .as_ref()
                .map(|r| load_rules_file(r).expect("readable rules"));
            (spec, rules)
        })
        .collect()
}

fn generate_all(sources: &[(SpecSource, Option<RulesSource>)]) -> usize {
    sources
        .iter()
        .map(|(spec, rules)| {
            generate(spec, rules.as_ref(), &Options::default())
                .expect("the committed specs generate")
                .code
                .len()
        })
        .sum()
}

fn codegen(c: &mut Criterion) {
    let paths = spec_paths();
    let sources = load(&paths);
    eprintln!(
        "codegen: {} spec(s): {}; {} bytes of Rust generated",
        paths.len(),
        paths
            .iter()
            .map(|(s, _)| s
                .parent()
                .and_then(Path::file_name)
                .map_or("?".into(), |n| n.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(", "),
        generate_all(&sources)
    );

    let mut group = c.benchmark_group("codegen");
    // A regeneration takes milliseconds: fewer samples keep the run short.
    group.sample_size(20);
    group.bench_function("generate_all", |b| {
        b.iter(|| generate_all(black_box(&sources)))
    });
    group.bench_function("load_and_generate_all", |b| {
        b.iter(|| generate_all(&load(black_box(&paths))))
    });
    group.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
