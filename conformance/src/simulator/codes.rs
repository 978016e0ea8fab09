//! The simulator's `result.code` values, in one place.
//!
//! Every answer carries `result: {code, message}`. Code 0 is the only
//! success; the others come with the HTTP status noted below and an
//! [`ErrorResponse`](paygate::gateway::ErrorResponse) body
//! `{"result":{"code":N,"message":"..."}}`.
//!
//! | code | HTTP | meaning |
//! |---|---|---|
//! | 0 | 200 | OK: the operation was accepted (or the status was found) |
//! | 10201 | 401 | MERCHANT AUTHENTICATION ERROR: signature missing or wrong, or `merchant_id` not the one of this `public_id` (the gateway's documented code) |
//! | 10400 | 400 | the body is not valid JSON, repeats a key, nests too deep, or does not match the request schema (the message names the JSON path) |
//! | 10404 | 404 | unknown `public_id`, unknown method, or unknown `order_id` in `status` |
//! | 10405 | 405 | the method exists but not with this HTTP verb |
//! | 10409 | 409 | `order_id` already used with a different request (or a forced outcome on a final transaction) |
//! | 10413 | 413 | body larger than the configured limit |
//! | 10415 | 415 | `Content-Type` is not `application/json` |
//! | 10422 | 422 | the request breaks a provider rule (the message names the field and the rule) |
//! | 10500 | 500 | a bug in the simulator, or the `--db` database refused a write (nothing was accepted; never expected) |

/// The operation was accepted.
pub const OK: i64 = 0;
/// Signature missing or wrong, or `merchant_id` unknown for the `public_id`.
pub const AUTHENTICATION: i64 = 10201;
/// Malformed JSON or a body that does not match the request schema.
pub const BAD_REQUEST: i64 = 10400;
/// Unknown `public_id`, method or `order_id`.
pub const NOT_FOUND: i64 = 10404;
/// Known path, wrong HTTP method.
pub const METHOD_NOT_ALLOWED: i64 = 10405;
/// `order_id` reused with a different request.
pub const CONFLICT: i64 = 10409;
/// HTTP 408: the body did not arrive within the simulator's body timeout
/// (`--body-timeout-ms`); the connection is closed.
pub const REQUEST_TIMEOUT: i64 = 10408;
/// Body too large.
pub const PAYLOAD_TOO_LARGE: i64 = 10413;
/// Body is not JSON.
pub const UNSUPPORTED_MEDIA_TYPE: i64 = 10415;
/// A provider rule is broken.
pub const RULE_VIOLATION: i64 = 10422;
/// Internal error (a simulator bug).
pub const INTERNAL: i64 = 10500;

/// The message prefix of [`AUTHENTICATION`] errors, as the gateway words it.
pub const AUTHENTICATION_PREFIX: &str = "MERCHANT AUTHENTICATION ERROR";
