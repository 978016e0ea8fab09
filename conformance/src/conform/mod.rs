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
//! * [`cases`]: what a case is; [`group`]: the report groups;
//! * [`derive`](mod@derive) builds the case list from the provider table, with
//!   [`payment_builders`] (the payments), [`binding`] (which facts refuse
//!   and which warn) and [`extras`]; the hand-written cases, the
//!   documentation's [`examples`] and the [`hub2`] cases join it;
//! * [`runner`] runs it against the embedded simulator or a remote sandbox
//!   (callbacks reach the suite's [`receiver`]);
//! * [`report`] prints the summary and writes JUnit XML.

pub mod binding;
pub mod cases;
mod checks;
pub mod coverage;
pub mod derive;
pub mod detect;
pub mod examples;
pub mod extras;
mod fault_findings;
pub mod filter;
pub mod group;
mod handwritten;
pub mod hub2;
mod outcome;
pub mod payment_builders;
pub mod receiver;
pub mod report;
pub mod report_files;
pub mod runner;
mod target;

pub use cases::{Case, CaseKind, Needs, PaymentSpec};
pub use derive::derive_cases;
pub use outcome::{CaseResult, Outcome};
pub use report::{junit_xml, summary_text, Summary};
pub use runner::{
    plan, plan_reach, plan_remote, plan_with, run, Hub2Remote, Planned, Reach, RunConfig, RunError,
    Target,
};
