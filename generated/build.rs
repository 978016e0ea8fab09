//! Generates the typed gateway bindings from `spec/` with paygate-codegen.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../spec");
    let spec_path = "../spec/gateway/openapi.yaml";
    let rules_path = "../spec/gateway/providers.yaml";
    println!("cargo:rerun-if-changed={spec_path}");
    println!("cargo:rerun-if-changed={rules_path}");

    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("error: OUT_DIR is not set; run this through cargo");
        return ExitCode::FAILURE;
    };
    match generate(spec_path, rules_path, &out_dir.join("gateway.rs")) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Cargo shows stderr of a failed build script; the warning line
            // also surfaces in IDEs that only show `cargo:warning`.
            println!("cargo:warning=paygate-codegen failed: {message}");
            eprintln!("error: paygate-codegen failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate(spec_path: &str, rules_path: &str, out: &Path) -> Result<(), String> {
    let mut spec = paygate_codegen::load_spec_file(spec_path).map_err(|e| e.to_string())?;
    let mut rules = paygate_codegen::load_rules_file(rules_path).map_err(|e| e.to_string())?;
    // Label the inputs relative to the workspace root, as the snapshot does.
    spec.name = "spec/gateway/openapi.yaml".to_owned();
    rules.name = "spec/gateway/providers.yaml".to_owned();
    let generated = paygate_codegen::generate(&spec, Some(&rules), &Default::default())
        .map_err(|e| e.to_string())?;
    for warning in &generated.warnings {
        println!("cargo:warning={}", warning.to_string().replace('\n', " "));
    }
    std::fs::write(out, generated.code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}
