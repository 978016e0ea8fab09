//! The generated source for `spec/gateway/` and `spec/hub2/`, as committed: a spec change
//! shows as a diff of the snapshot.
//!
//! Refresh after a spec change with
//! `INSTA_UPDATE=always cargo test -p paygate-codegen --test snapshot`
//! (or `cargo insta test -p paygate-codegen --accept`).

use std::path::Path;

use paygate_codegen::{generate, Options, RulesSource, SpecSource};

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn gateway_spec_and_rules() {
    let spec = SpecSource::new(
        "spec/gateway/openapi.yaml",
        read("spec/gateway/openapi.yaml"),
    );
    let rules = RulesSource::new(
        "spec/gateway/providers.yaml",
        read("spec/gateway/providers.yaml"),
    );
    let out =
        generate(&spec, Some(&rules), &Options::default()).expect("the gateway spec generates");
    // The hand-written spec is meant to be clean.
    assert!(
        out.warnings.is_empty(),
        "unexpected warnings: {:#?}",
        out.warnings
    );
    insta::assert_snapshot!("gateway", out.code);
}

#[test]
fn hub2_spec() {
    let spec = SpecSource::new("spec/hub2/openapi.yaml", read("spec/hub2/openapi.yaml"));
    let out = generate(&spec, None, &Options::default()).expect("the HUB2 spec generates");
    assert!(
        out.warnings.is_empty(),
        "unexpected warnings: {:#?}",
        out.warnings
    );
    insta::assert_snapshot!("hub2", out.code);
}

#[test]
fn generation_is_deterministic() {
    let spec = SpecSource::new(
        "spec/gateway/openapi.yaml",
        read("spec/gateway/openapi.yaml"),
    );
    let rules = RulesSource::new(
        "spec/gateway/providers.yaml",
        read("spec/gateway/providers.yaml"),
    );
    let a = generate(&spec, Some(&rules), &Options::default()).expect("generates");
    let b = generate(&spec, Some(&rules), &Options::default()).expect("generates");
    assert_eq!(a, b);
}
