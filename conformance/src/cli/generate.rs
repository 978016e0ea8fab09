//! `paygate generate`: the command-line front end of `paygate-codegen`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use paygate_codegen::{generate, load_rules_file, load_spec_file, Options};

use super::fail;

/// Arguments of `paygate generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The OpenAPI 3.0 spec (JSON or YAML).
    #[arg(long)]
    spec: PathBuf,
    /// The provider rules YAML.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The folder to write the generated Rust source into (created if
    /// missing); the file is named after the spec (`openapi.yaml` →
    /// `openapi.rs`).
    #[arg(long)]
    out: PathBuf,
    /// Treat the generator's warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
}

/// Runs `paygate generate`.
pub fn run(args: &GenerateArgs) -> ExitCode {
    let spec = match load_spec_file(&args.spec) {
        Ok(spec) => spec,
        Err(err) => return fail(err),
    };
    let rules = match args.rules.as_ref().map(load_rules_file).transpose() {
        Ok(rules) => rules,
        Err(err) => return fail(err),
    };
    let options = Options::default().deny_warnings(args.deny_warnings);
    let generated = match generate(&spec, rules.as_ref(), &options) {
        Ok(generated) => generated,
        Err(err) => return fail(err),
    };
    for warning in &generated.warnings {
        eprintln!("paygate: warning: {warning}");
    }
    let stem = args
        .spec
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("generated");
    let file_name = format!("{}.rs", stem.replace(['-', '.'], "_"));
    if let Err(err) = std::fs::create_dir_all(&args.out) {
        return fail(format!("cannot create {}: {err}", args.out.display()));
    }
    let path = args.out.join(file_name);
    if let Err(err) = std::fs::write(&path, generated.code) {
        return fail(format!("cannot write {}: {err}", path.display()));
    }
    eprintln!(
        "paygate: wrote {} ({} warning(s))",
        path.display(),
        generated.warnings.len()
    );
    ExitCode::SUCCESS
}
