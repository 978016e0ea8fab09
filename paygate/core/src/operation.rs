//! The table of API operations, and the trait tying each operation's request
//! and response types together. The entries are generated from the spec.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::signing::Signable;

/// One operation of an API, as the spec declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationInfo {
    /// The spec's `operationId`.
    pub id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, e.g. `/{public_id}/payment_c2b`.
    pub path: &'static str,
    /// Name of the request body type, if the operation takes one.
    pub request: Option<&'static str>,
    /// Name of the success response type, if documented.
    pub response: Option<&'static str>,
    /// Name of the callback payload type, if the operation has a callback.
    pub callback: Option<&'static str>,
    /// One-line summary.
    pub summary: &'static str,
}

/// Ties an operation to its request and response types.
pub trait Operation {
    /// The JSON request body.
    type Request: Serialize + Signable;
    /// The JSON body of a successful response.
    type Response: DeserializeOwned;
    /// The operation's entry in the table.
    const INFO: &'static OperationInfo;
}
