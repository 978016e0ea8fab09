//! Why a received body cannot be signed ([`JsonError`]) or fails
//! verification ([`VerifyError`]).

use crate::signing::canonical::SignError;
use crate::signing::prefix::MAX_DEPTH;
use crate::signing::segment::Segment;

/// Why a received body cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The body is not well-formed JSON.
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset of the offending input.
        offset: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// The body is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A key occurs twice in the same object.
    #[error("duplicate key `{path}`: a signed payload must not repeat a key within one object")]
    DuplicateKey {
        /// Dotted path of the repeated key.
        path: String,
    },
    /// The payload nests deeper than the signature algorithm allows.
    #[error("`{path}` is nested {depth} levels deep; the signature algorithm allows at most {max} (recursion level exceeded)", max = MAX_DEPTH - 1)]
    TooDeep {
        /// Dotted path of the object or list that went too deep.
        path: String,
        /// Its nesting level (the top-level object is 0).
        depth: usize,
    },
    /// The body is a JSON value other than an object.
    #[error("the payload must be a JSON object")]
    NotAnObject,
}

impl From<SignError> for JsonError {
    fn from(err: SignError) -> Self {
        match err {
            SignError::TooDeep { path, depth } => JsonError::TooDeep { path, depth },
        }
    }
}

impl JsonError {
    /// Places the path of a duplicate key or a level too deep under the
    /// enclosing key.
    #[cold]
    pub(super) fn under(self, key: Segment<'_>) -> Self {
        match self {
            JsonError::DuplicateKey { path } => JsonError::DuplicateKey {
                path: format!("{key}.{path}"),
            },
            JsonError::TooDeep { path, depth } => JsonError::TooDeep {
                path: format!("{key}.{path}"),
                depth,
            },
            other => other,
        }
    }
}

/// Why a received payload fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The body cannot be signed.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The payload has no top-level `signature` field.
    #[error("the payload has no top-level `signature` field")]
    MissingSignature,
    /// The top-level `signature` field is not a JSON string.
    #[error("the top-level `signature` field is not a string")]
    SignatureNotAString,
    /// The signature does not match the payload.
    #[error("the signature does not match the payload")]
    Mismatch,
}
