//! The conformance suite behind `paygate conform`.
//!
//! The cases are derived from the spec data (the provider table generated
//! from `spec/gateway/providers.yaml`), not written one by one: every
//! provider and direction gets a valid payment and one rejected payment per
//! rule it documents (minimum, maximum, step, phone format, each required
//! `extra` field). Hand-written cases cover what the table cannot express:
//! signatures, idempotency, the OTP / redirect / bank-transfer / POS flows
//! and the provider-14 test behaviour. The HUB2 cases (groups `hub2-*`)
//! are in [`hub2`].
//!
//! * [`cases`] builds the case list;
//! * [`runner`] runs it against the embedded simulator or a remote sandbox;
//! * [`report`] prints the summary and writes JUnit XML.

pub mod cases;
mod checks;
pub mod derive;
pub mod examples;
mod handwritten;
pub mod hub2;
pub mod receiver;
pub mod report;
pub mod runner;
mod target;

use std::time::Duration;

pub use cases::{Case, CaseKind, Needs, PaymentSpec};
pub use derive::derive_cases;
pub use report::{junit_xml, summary_text, Summary};
pub use runner::{plan, plan_with, run, Hub2Remote, Planned, RunConfig, RunError, Target};

/// Group names used in reports.
pub mod group {
    /// Accepted payments of every provider and direction.
    pub const HAPPY_PATH: &str = "happy-path";
    /// Amount minimum, maximum and step.
    pub const LIMITS: &str = "limits";
    /// Phone-number formats.
    pub const PHONE: &str = "phone";
    /// Required `extra` fields.
    pub const EXTRAS: &str = "extras";
    /// A provider's country and currency.
    pub const COUNTRY: &str = "country";
    /// Facts the documentation is unsure of: accepted with a warning.
    pub const WARNINGS: &str = "warnings";
    /// The requests, responses and callbacks the documentation prints.
    pub const EXAMPLES: &str = "examples";
    /// `order_id` rules.
    pub const ORDER_ID: &str = "order-id";
    /// Signatures, authentication, malformed input.
    pub const SECURITY: &str = "security";
    /// Replays and order reuse.
    pub const IDEMPOTENCY: &str = "idempotency";
    /// Callback delivery and verification.
    pub const CALLBACKS: &str = "callbacks";
    /// OTP, redirect, bank transfer, confirmation, POS, forced outcomes.
    pub const FLOWS: &str = "flows";
    /// The documented behaviour of the test provider 14.
    pub const PROVIDER_14: &str = "provider-14";
}

/// How one case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A check failed; the message says which and why.
    Fail(String),
    /// Not run; the message says why.
    Skip(String),
}

impl Outcome {
    /// `passed`, `failed` or `skipped`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "passed",
            Outcome::Fail(_) => "failed",
            Outcome::Skip(_) => "skipped",
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case id, e.g. `c2b/2303/amount_below_minimum`.
    pub id: String,
    /// The case group, e.g. `limits`.
    pub group: &'static str,
    /// What happened.
    pub outcome: Outcome,
    /// How long the case ran (zero for skipped cases).
    pub duration: Duration,
}
