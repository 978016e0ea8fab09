//! How a case ended ([`Outcome`]) and the result of one case
//! ([`CaseResult`]).

use std::time::Duration;

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
