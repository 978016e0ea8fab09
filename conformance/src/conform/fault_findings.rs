//! What a run through a fault profile found, and its verdict: shared by
//! the gateway's `faults` group and HUB2's `hub2-faults`, which differ only
//! in how they name a double debit and a mismatch.

use std::collections::BTreeMap;

use serde_json::Value;

/// What the run found, for the verdict.
#[derive(Default)]
pub(crate) struct FaultFindings {
    /// Carts the client left unresolved, with the error.
    pub(crate) unresolved: Vec<String>,
    /// Carts paid twice.
    pub(crate) duplicate_debits: Vec<String>,
    /// Carts whose answer is not what the simulator stored.
    pub(crate) mismatched: Vec<String>,
    /// How the carts' outcomes were learned, counted by name.
    pub(crate) resolutions: BTreeMap<&'static str, u32>,
}

/// How a verdict names a double debit and a mismatch.
pub(crate) struct Wording {
    /// E.g. `debited twice`.
    pub(crate) twice: &'static str,
    /// E.g. `answered with another transaction than stored`.
    pub(crate) mismatched: &'static str,
}

impl FaultFindings {
    /// Counts one resolution.
    pub(crate) fn resolved(&mut self, name: &'static str) {
        *self.resolutions.entry(name).or_default() += 1;
    }

    /// `Ok` when nothing was found; else what, with up to three examples
    /// of each.
    pub(crate) fn verdict(
        &self,
        carts: usize,
        injected: &Value,
        wording: &Wording,
    ) -> Result<(), String> {
        let show = |list: &[String]| list.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        if self.unresolved.is_empty()
            && self.duplicate_debits.is_empty()
            && self.mismatched.is_empty()
        {
            return Ok(());
        }
        Err(format!(
            "{carts} carts, faults injected {injected}: {} not resolved by the client (e.g. {}), \
             {} {} (e.g. {}), {} {} (e.g. {}); resolutions {:?}",
            self.unresolved.len(),
            show(&self.unresolved),
            self.duplicate_debits.len(),
            wording.twice,
            show(&self.duplicate_debits),
            self.mismatched.len(),
            wording.mismatched,
            show(&self.mismatched),
            self.resolutions
        ))
    }
}
