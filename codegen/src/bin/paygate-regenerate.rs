//! `paygate-regenerate [--check] [ROOT]`: writes the `generated/` crate of
//! the paygate workspace at ROOT (default: the current directory) from its
//! `spec/`; with `--check`, writes nothing and exits 1 if any file differs.

use std::path::PathBuf;
use std::process::ExitCode;

use paygate_codegen::{generate_crate, stale_files, CrateInputs};

fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(".");
    for arg in std::env::args_os().skip(1) {
        if arg == "--check" {
            check = true;
        } else if arg == "--help" || arg == "-h" {
            println!("usage: paygate-regenerate [--check] [WORKSPACE_ROOT]");
            return ExitCode::SUCCESS;
        } else {
            root = PathBuf::from(arg);
        }
    }
    let inputs = match CrateInputs::load(&root) {
        Ok(inputs) => inputs,
        Err(e) => {
            eprintln!("paygate-regenerate: {e}");
            return ExitCode::from(2);
        }
    };
    let (files, warnings) = match generate_crate(&inputs) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("paygate-regenerate: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let generated = root.join("generated");
    let stale = stale_files(&generated, &files);
    if !check {
        for file in files.iter().filter(|f| stale.contains(&f.path)) {
            let path = generated.join(file.path);
            if let Some(dir) = path.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("paygate-regenerate: cannot create {}: {e}", dir.display());
                    return ExitCode::from(2);
                }
            }
            if let Err(e) = std::fs::write(&path, &file.text) {
                eprintln!("paygate-regenerate: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    match (check, stale.is_empty()) {
        (_, true) => {
            println!("generated/ is up to date");
            ExitCode::SUCCESS
        }
        (true, false) => {
            eprintln!("generated/ is stale: {}", stale.join(", "));
            ExitCode::FAILURE
        }
        (false, false) => {
            println!("wrote generated/{}", stale.join(", generated/"));
            ExitCode::SUCCESS
        }
    }
}
