//! Generates the typed bindings from `spec/` with paygate-codegen: the
//! Payment API Gateway (spec + provider rules) and HUB2 (spec).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One API to generate: its spec, its optional rules, the output file.
struct Api {
    spec: &'static str,
    rules: Option<&'static str>,
    out: &'static str,
}

const APIS: [Api; 2] = [
    Api {
        spec: "spec/gateway/openapi.yaml",
        rules: Some("spec/gateway/providers.yaml"),
        out: "gateway.rs",
    },
    Api {
        spec: "spec/hub2/openapi.yaml",
        rules: None,
        out: "hub2.rs",
    },
];

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../spec");
    let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("error: OUT_DIR is not set; run this through cargo");
        return ExitCode::FAILURE;
    };
    for api in &APIS {
        println!("cargo:rerun-if-changed=../{}", api.spec);
        if let Some(rules) = api.rules {
            println!("cargo:rerun-if-changed=../{rules}");
        }
        if let Err(message) = generate(api, &out_dir.join(api.out)) {
            // Cargo shows stderr of a failed build script; the warning line
            // also surfaces in IDEs that only show `cargo:warning`.
            println!(
                "cargo:warning=paygate-codegen failed on {}: {message}",
                api.spec
            );
            eprintln!("error: paygate-codegen failed on {}: {message}", api.spec);
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn generate(api: &Api, out: &Path) -> Result<(), String> {
    let mut spec =
        paygate_codegen::load_spec_file(format!("../{}", api.spec)).map_err(|e| e.to_string())?;
    // Label the inputs relative to the workspace root, as the snapshots do.
    spec.name = api.spec.to_owned();
    let rules = match api.rules {
        Some(path) => {
            let mut rules = paygate_codegen::load_rules_file(format!("../{path}"))
                .map_err(|e| e.to_string())?;
            rules.name = path.to_owned();
            Some(rules)
        }
        None => None,
    };
    let generated = paygate_codegen::generate(&spec, rules.as_ref(), &Default::default())
        .map_err(|e| e.to_string())?;
    for warning in &generated.warnings {
        println!("cargo:warning={}", warning.to_string().replace('\n', " "));
    }
    std::fs::write(out, generated.code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}
