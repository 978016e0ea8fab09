//! paygate-codegen: turns an OpenAPI 3.0 spec (and, optionally, a provider
//! rules YAML) into typed Rust for the `paygate-generated` crate.
//!
//! The pipeline is `text -> openapiv3::OpenAPI -> model -> TokenStream ->
//! syn::File -> prettyplease text`. Front ends stay thin: the
//! `paygate-regenerate` binary and `paygate-generated`'s build script call
//! [`generate_crate`] / [`generate_bindings`]; the `paygate generate` CLI
//! calls [`generate`].
//!
//! ```no_run
//! let spec = paygate_codegen::load_spec_file("spec/gateway/openapi.yaml")?;
//! let rules = paygate_codegen::load_rules_file("spec/gateway/providers.yaml")?;
//! let out = paygate_codegen::generate(&spec, Some(&rules), &Default::default())?;
//! for warning in &out.warnings {
//!     eprintln!("warning: {warning}");
//! }
//! std::fs::write("gateway.rs", out.code)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It never panics on its input: a spec it cannot map is an [`Error`] naming
//! the JSON pointer of the node at fault; a small violation of the letter is
//! a [`Warning`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bounded_yaml;
mod crate_files;
mod doc;
mod emit;
mod error;
mod hub2_facts;
mod load;
mod model;
mod names;
mod prescan;
pub mod provenance;
mod rules;
mod schema;

use std::path::Path;

pub use crate_files::{
    generate_bindings, generate_crate, stale_files, CrateInputs, GeneratedFile, GATEWAY_RULES,
    GATEWAY_SPEC, HUB2_FACTS, HUB2_SPEC,
};
pub use error::{Error, Warning};
pub use hub2_facts::{
    generate_hub2_providers, hub2_facts_citations, hub2_facts_seed_files, FactsSource,
};
pub use prescan::{MAX_BLOCK_DEPTH, MAX_FLOW_DEPTH, MAX_INPUT_BYTES};

/// An OpenAPI 3.0 document, as JSON or YAML text (detected by content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    /// Where it comes from, for messages and the generated header
    /// (a path like `spec/gateway/openapi.yaml`).
    pub name: String,
    /// The document.
    pub text: String,
}

impl SpecSource {
    /// A spec from text; `name` labels it in messages and the header.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SpecSource {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// A provider rules document (YAML; see `spec/gateway/providers.yaml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesSource {
    /// Where it comes from, for messages and docs.
    pub name: String,
    /// The document.
    pub text: String,
}

impl RulesSource {
    /// Rules from text; `name` labels them in messages and docs.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        RulesSource {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// How to generate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Fail with [`Error::DeniedWarnings`] if there is any warning.
    pub deny_warnings: bool,
}

impl Options {
    /// These options with [`deny_warnings`](Options::deny_warnings) set.
    pub fn deny_warnings(mut self, deny: bool) -> Self {
        self.deny_warnings = deny;
        self
    }
}

/// The generated module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Formatted Rust source, meant to be `include!`d inside a module of the
    /// `paygate-generated` crate (it refers to `crate::money`, `crate::rules`,
    /// `crate::operation`, `crate::signing` and `crate::Signable`, which that
    /// crate re-exports from `paygate-core`).
    pub code: String,
    /// What the generator had to be lenient about, spec first, then rules.
    pub warnings: Vec<Warning>,
}

/// Reads a spec file (JSON or YAML).
pub fn load_spec_file(path: impl AsRef<Path>) -> Result<SpecSource, Error> {
    let path = path.as_ref();
    let text = read(path)?;
    Ok(SpecSource::new(path.display().to_string(), text))
}

/// Reads a provider rules file.
pub fn load_rules_file(path: impl AsRef<Path>) -> Result<RulesSource, Error> {
    let path = path.as_ref();
    let text = read(path)?;
    Ok(RulesSource::new(path.display().to_string(), text))
}

/// Reads a file of at most [`MAX_INPUT_BYTES`]: a bigger one is refused
/// without reading it all (or at all, when its size is known).
pub(crate) fn read(path: &Path) -> Result<String, Error> {
    use std::io::Read as _;
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let too_large =
        |len: &dyn std::fmt::Display| io(std::io::Error::other(prescan::too_large(len)));
    let file = std::fs::File::open(path).map_err(io)?;
    let known = file.metadata().map(|m| m.len()).unwrap_or(0);
    if known > MAX_INPUT_BYTES as u64 {
        return Err(too_large(&known));
    }
    let mut text = String::new();
    file.take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() > MAX_INPUT_BYTES {
        return Err(too_large(&format!("over {MAX_INPUT_BYTES}")));
    }
    Ok(text)
}

/// Type names the rules add; spec schemas must not take them.
const RULES_NAMES: &[&str] = &["ProviderId"];

/// Generates the Rust module for `spec` (and `rules`, if given).
pub fn generate(
    spec: &SpecSource,
    rules: Option<&RulesSource>,
    options: &Options,
) -> Result<Generated, Error> {
    let mut spec_diag = error::Diagnostics::new(&spec.name);
    let api = load::load_openapi(&mut spec_diag, &spec.text)?;
    let reserved: &[&str] = if rules.is_some() { RULES_NAMES } else { &[] };
    let model = schema::lower(&api, &mut spec_diag, reserved)?;

    let mut warnings = spec_diag.warnings;
    let rules_model = match rules {
        Some(source) => {
            let mut diag = error::Diagnostics::new(&source.name);
            let r = rules::load(&mut diag, &source.text)?;
            warnings.extend(diag.warnings);
            Some(rules::resolve(&r))
        }
        None => None,
    };
    if options.deny_warnings && !warnings.is_empty() {
        return Err(Error::DeniedWarnings(warnings));
    }

    let emitter = emit::Emitter {
        api: &model,
        rules: rules_model.as_ref(),
        rules_origin: rules.map(|r| r.name.as_str()),
    };
    let mut code = format!(
        "// @generated by paygate-codegen {} from `{}`",
        env!("CARGO_PKG_VERSION"),
        unix_path(&spec.name)
    );
    if let Some(r) = rules {
        code.push_str(&format!(" and `{}`", unix_path(&r.name)));
    }
    code.push_str(&format!(
        ".\n// {} {}. Do not edit: change the spec and rebuild.\n\n",
        model.title, model.version
    ));
    // Part by part, straight into the output: one copy of the code is held.
    let mut previous_closed = false;
    for part in emitter.file_parts() {
        let file = syn::parse2::<syn::File>(part).map_err(|e| Error::Internal(e.to_string()))?;
        space_items(
            &prettyplease::unparse(&file),
            &mut code,
            &mut previous_closed,
        );
    }
    Ok(Generated { code, warnings })
}

/// Appends `code` to `out` with a blank line between items, which
/// prettyplease does not put; `previous_closed` carries from one call to
/// the next (whether the last line closed an item).
fn space_items(code: &str, out: &mut String, previous_closed: &mut bool) {
    for line in code.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let starts_item =
            !trimmed.starts_with('}') && !trimmed.starts_with(')') && !trimmed.starts_with(']');
        if *previous_closed && starts_item && !trimmed.is_empty() {
            out.push('\n');
        }
        *previous_closed =
            (trimmed == "}" || trimmed == "};" || trimmed.ends_with(';') && indent == 0)
                && !trimmed.is_empty();
        // Only item-level closers count: a block closing inside a function
        // body is followed by more statements, not items.
        if *previous_closed && indent > 4 {
            *previous_closed = false;
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn unix_path(p: &str) -> String {
    p.replace('\\', "/")
}
