//! The committed `generated/` crate against the specs:
//!
//! - it is exactly what `paygate-regenerate` writes from today's `spec/`
//!   (a spec edited without regenerating fails here);
//! - a spec that gains an optional request field still compiles code written
//!   the way the README shows (`new` with the required fields, `with_*`
//!   setters): the generated crate is rebuilt from such a spec in a scratch
//!   workspace and a user-style snippet is compiled against it with cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use paygate_codegen::{
    generate_crate, stale_files, CrateInputs, GATEWAY_RULES, GATEWAY_SPEC, HUB2_FACTS, HUB2_SPEC,
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn committed_bindings_are_what_the_specs_generate() {
    let root = workspace_root();
    let inputs = CrateInputs::load(&root).expect("the workspace's specs load");
    let (files, _) = generate_crate(&inputs).expect("the workspace's specs generate");
    let stale = stale_files(&root.join("generated"), &files);
    assert!(
        stale.is_empty(),
        "generated/ is stale ({}): run `cargo run -p paygate-codegen --bin paygate-regenerate` and commit the result",
        stale.join(", ")
    );
}

/// The gateway spec with one more optional field, `loyalty_code`, in
/// `PaymentC2bRequest` (before `signature`, as the gateway would add it).
fn spec_with_an_added_optional_field(spec: &str) -> String {
    let schema = spec
        .find("\n    PaymentC2bRequest:\n")
        .expect("the spec defines PaymentC2bRequest");
    let signature = schema
        + spec[schema..]
            .find("\n        signature:\n")
            .expect("PaymentC2bRequest has a signature property");
    let added = "\n        loyalty_code:\n          type: string\n          description: A loyalty programme code (added for this test)";
    format!("{}{}{}", &spec[..signature], added, &spec[signature..])
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(dir.join("spec"));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn copy_specs(from: &Path, to: &Path) {
    for spec in [GATEWAY_SPEC, GATEWAY_RULES, HUB2_SPEC, HUB2_FACTS] {
        let target = to.join(spec);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("spec folder");
        std::fs::copy(from.join(spec), &target).expect("spec copied");
    }
}

#[test]
fn a_spec_change_without_regeneration_is_reported_stale() {
    let root = workspace_root();
    let dir = scratch("stale-bindings");
    copy_specs(&root, &dir);
    let spec = std::fs::read_to_string(root.join(GATEWAY_SPEC)).expect("gateway spec");
    std::fs::write(
        dir.join(GATEWAY_SPEC),
        spec_with_an_added_optional_field(&spec),
    )
    .expect("changed spec written");
    let inputs = CrateInputs::load(&dir).expect("the changed specs load");
    let (files, _) = generate_crate(&inputs).expect("the changed specs generate");
    // Compared with the committed crate, only the gateway module differs.
    assert_eq!(
        stale_files(&root.join("generated"), &files),
        vec!["src/gateway.rs"]
    );
}

const USER_SNIPPET: &str = r#"
use paygate_generated::gateway::{Country, Currency, PaymentC2bRequest, RequestExtra};
use paygate_generated::signing::{sign, SecretKey, SigningKey};

pub fn signed_payment(order_id: &str) -> String {
    let key = SigningKey::new(&SecretKey::new("merchant-secret"));
    let request = PaymentC2bRequest::new(
        "merchant-id",
        "2250705145655",
        order_id,
        "1100.00".parse().expect("an amount"),
        Currency::Xof,
        2303,
    )
    .with_country(Country::Ci)
    .with_callback_url("https://merchant.example/callback")
    .with_extra(RequestExtra::new().with_customer_name("Name Lastname"));
    sign(&key, &request).expect("a flat request").to_string()
}
"#;

/// A scratch workspace: the generated crate as the generator writes it from
/// the specs under `dir/spec`, and a user crate with [`USER_SNIPPET`].
fn write_scratch_workspace(root: &Path, dir: &Path) {
    let inputs = CrateInputs::load(dir).expect("the specs load");
    let (files, _) = generate_crate(&inputs).expect("the specs generate");
    for file in &files {
        let path = dir.join("generated").join(file.path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("generated folder");
        std::fs::write(&path, &file.text).expect("generated file written");
    }
    let core = root
        .join("paygate/core")
        .canonicalize()
        .expect("paygate/core");
    // Only named by the (off) `regenerate` feature: resolved, never built.
    let codegen = root.join("codegen").canonicalize().expect("codegen");
    let manifest = format!(
        r#"[workspace]
resolver = "2"
members = ["generated", "user"]

[workspace.package]
version = "0.1.0"
edition = "2021"
license = "MIT OR Apache-2.0"
rust-version = "1.88"

[workspace.lints.rust]
unsafe_code = "deny"

[workspace.dependencies]
paygate-core = {{ path = {core:?} }}
paygate-codegen = {{ path = {codegen:?} }}
serde = {{ version = "1", features = ["derive"] }}
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("workspace manifest");
    // The workspace's own lock file: same versions, no network needed.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock copied");
    std::fs::create_dir_all(dir.join("user/src")).expect("user crate");
    std::fs::write(
        dir.join("user/Cargo.toml"),
        "[package]\nname = \"user\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\npaygate-generated = { path = \"../generated\" }\n",
    )
    .expect("user manifest");
    std::fs::write(dir.join("user/src/lib.rs"), USER_SNIPPET).expect("user snippet");
}

fn cargo_check(dir: &Path) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
        .args(["check", "--offline", "--quiet", "-p", "user"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

#[test]
fn user_code_compiles_after_the_spec_adds_an_optional_field() {
    let root = workspace_root();
    let dir = scratch("optional-field");
    copy_specs(&root, &dir);
    let spec = std::fs::read_to_string(root.join(GATEWAY_SPEC)).expect("gateway spec");
    std::fs::write(
        dir.join(GATEWAY_SPEC),
        spec_with_an_added_optional_field(&spec),
    )
    .expect("changed spec written");
    write_scratch_workspace(&root, &dir);

    // The field is really there: the generated struct has it and a setter.
    let gateway = std::fs::read_to_string(dir.join("generated/src/gateway.rs")).expect("bindings");
    assert!(gateway.contains("pub loyalty_code: Option<String>"));
    assert!(gateway.contains("pub fn with_loyalty_code("));

    let output = cargo_check(&dir);
    assert!(
        output.status.success(),
        "the user snippet no longer compiles after an additive spec change:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
