//! What can go wrong, and what is worth a remark.

use std::fmt;
use std::path::PathBuf;

/// Why a spec or a rules file could not be turned into Rust.
///
/// Every variant names where the problem is: a line and column for text
/// that does not parse, a JSON pointer (`#/components/schemas/Foo/properties/bar`)
/// for a spec that cannot be mapped, a YAML path (`providers[12].c2b.min`)
/// for rules that do not validate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid JSON or YAML.
    #[error("{origin}: invalid {format} at line {line}, column {column}: {message}")]
    Syntax {
        /// The file (or label) the text came from.
        origin: String,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The spec parses but cannot be mapped to Rust.
    #[error("{origin}: {pointer}: {message}")]
    Spec {
        /// The file (or label) the spec came from.
        origin: String,
        /// JSON pointer of the offending node, like `#/components/schemas/Foo`.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The provider rules do not validate.
    #[error("{origin}: {path}: {message}")]
    Rules {
        /// The file (or label) the rules came from.
        origin: String,
        /// YAML path of the offending node, like `providers[12].c2b.min`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Warnings were found and [`Options::deny_warnings`](crate::Options) is set.
    #[error("{} warning(s) denied; the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    DeniedWarnings(Vec<Warning>),
    /// The generator produced code that does not parse: a bug in paygate-codegen.
    #[error("internal error: the generated code does not parse ({0}); please report this")]
    Internal(String),
}

impl Error {
    /// Where the problem is: a JSON pointer, a YAML path, `line:column`, or a file path.
    pub fn location(&self) -> String {
        match self {
            Error::Io { path, .. } => path.display().to_string(),
            Error::Syntax { line, column, .. } => format!("{line}:{column}"),
            Error::Spec { pointer, .. } => pointer.clone(),
            Error::Rules { path, .. } => path.clone(),
            Error::DeniedWarnings(w) => w.first().map(|w| w.location.clone()).unwrap_or_default(),
            Error::Internal(_) => String::new(),
        }
    }
}

/// A liberty the generator took with input that is not valid by the letter,
/// or a choice a reviewer should know about. Generation still succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Warning {
    /// JSON pointer (spec) or YAML path (rules) of the node concerned.
    pub location: String,
    /// What was found and what the generator did about it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A JSON pointer into the spec, built segment by segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Pointer(String);

impl Pointer {
    pub(crate) fn root() -> Self {
        Pointer("#".to_owned())
    }

    /// Parses `#/a/b` (as found in a `$ref`).
    pub(crate) fn from_ref(text: &str) -> Self {
        Pointer(text.to_owned())
    }

    /// This pointer with one more segment, escaped per RFC 6901.
    pub(crate) fn join(&self, segment: impl fmt::Display) -> Self {
        let segment = segment.to_string().replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{}", self.0, segment))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Collects warnings and builds errors for one input file.
#[derive(Debug)]
pub(crate) struct Diagnostics {
    pub(crate) origin: String,
    pub(crate) warnings: Vec<Warning>,
}

impl Diagnostics {
    pub(crate) fn new(origin: &str) -> Self {
        Diagnostics {
            origin: origin.to_owned(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn warn(&mut self, location: impl fmt::Display, message: impl Into<String>) {
        let warning = Warning {
            location: location.to_string(),
            message: message.into(),
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    pub(crate) fn spec_error(
        &self,
        pointer: impl fmt::Display,
        message: impl Into<String>,
    ) -> Error {
        Error::Spec {
            origin: self.origin.clone(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn rules_error(&self, path: impl fmt::Display, message: impl Into<String>) -> Error {
        Error::Rules {
            origin: self.origin.clone(),
            path: path.to_string(),
            message: message.into(),
        }
    }
}
