//! What a run exercised, over the rules matrix: for every case that sends
//! a payment, the cell (country, provider, direction, flow, outcome, result
//! code) it covers, and the spec operation and HTTP status it expects.
//!
//! The cells a run *could* cover are those of every case the suite derives
//! (the documentation's facts decide which exist: a provider without a
//! documented maximum has no "above the maximum" cell). A cell is covered
//! when one of its cases passed; otherwise the report says why not (the
//! case was skipped, with its reason, or failed). Providers of the table
//! without any cell in a direction are listed as not derivable.

use std::collections::BTreeMap;

use paygate::gateway::rules::{Direction, ProviderTable};
use paygate::gateway::Status;
use serde::Serialize;

use super::cases::{Case, CaseKind, PaymentSpec};
use super::outcome::{CaseResult, Outcome};

/// One cell of the rules matrix.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cell {
    /// ISO country, or `-` when the payment names none.
    pub country: String,
    /// Provider id.
    pub provider: u32,
    /// `c2b` or `b2c`.
    pub direction: &'static str,
    /// The provider's flow in that direction.
    pub flow: &'static str,
    /// What the case makes happen: `accepted`, `refused:<rule>`, `status:<n>`, ...
    pub outcome: String,
    /// The gateway `result.code` expected, when not 0.
    pub code: Option<i64>,
}

/// A spec operation and the HTTP status a case expects from it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OperationStatus {
    /// The spec's operation (`payment_c2b`, `status`, ...).
    pub operation: &'static str,
    /// The HTTP status.
    pub http_status: u16,
}

/// What a case covers: its payment cell and its operation × status, if it
/// sends a payment.
fn covers(kind: &CaseKind, table: &ProviderTable) -> Option<(Cell, OperationStatus)> {
    let (payment, outcome, code, http): (&PaymentSpec, String, Option<i64>, u16) = match kind {
        CaseKind::Accept { payment, .. } => (payment, "accepted".into(), None, 200),
        CaseKind::Reject { payment, rule, .. } => {
            (payment, format!("refused:{rule}"), Some(10422), 422)
        }
        CaseKind::OtpWrong { payment } => (payment, "failed:wrong_otp".into(), None, 200),
        CaseKind::MagicOutcome { payment, status } => {
            (payment, format!("status:{}", status.code()), None, 200)
        }
        CaseKind::Provider14NoCallback { payment } => (
            payment,
            format!("status:{}", Status::InProgress.code()),
            None,
            200,
        ),
        CaseKind::SignatureTampered { payment }
        | CaseKind::SignatureMissing { payment }
        | CaseKind::SignatureWrongKey { payment }
        | CaseKind::WrongMerchantId { payment } => {
            (payment, "refused:authentication".into(), Some(10201), 401)
        }
        CaseKind::UnknownPublicId { payment } => (
            payment,
            "refused:unknown_public_id".into(),
            Some(10404),
            404,
        ),
        CaseKind::Malformed { payment, .. } => {
            (payment, "refused:malformed".into(), Some(10400), 400)
        }
        CaseKind::IdempotentReplay { payment } => (payment, "replayed".into(), None, 200),
        CaseKind::OrderIdReuse { payment } => {
            (payment, "refused:order_id_reused".into(), Some(10409), 409)
        }
        CaseKind::CallbackSignature { payment } => (payment, "callback_verified".into(), None, 200),
        CaseKind::Redirect { payment } => (payment, "redirected".into(), None, 200),
        CaseKind::B2cConfirm { payment } => (payment, "confirmed".into(), None, 200),
        CaseKind::OtpViaStatus { payment } => (payment, "otp_via_status".into(), None, 200),
        CaseKind::PosDeposit { payment }
        | CaseKind::PosPartiallyCancelled { payment }
        | CaseKind::PosFailedNoCallback { payment } => (payment, "pos_deposit".into(), None, 200),
        CaseKind::PosWithdrawal { payment } | CaseKind::PosWithdrawalConfirm { payment } => {
            (payment, "pos_withdrawal".into(), None, 200)
        }
        CaseKind::PreAuthorisedWithdrawal { payment } => (
            payment,
            format!("status:{}", Status::SuccessHold.code()),
            None,
            200,
        ),
        CaseKind::DailyLimit { payment, .. } => {
            (payment, "refused:daily_maximum".into(), Some(10422), 422)
        }
        CaseKind::BulkPayout { payment } => (payment, "bulk_payout".into(), None, 200),
        CaseKind::ForcedOutcome { payment, status } => {
            (payment, format!("forced:{}", status.code()), None, 200)
        }
        CaseKind::AmbiguousFaults { payment, .. } => {
            (payment, "ambiguous_answer_resolved".into(), None, 200)
        }
        CaseKind::SpecError(_)
        | CaseKind::BadOrderId { .. }
        | CaseKind::SeedExample { .. }
        | CaseKind::Hub2(_) => return None,
    };
    let operation = match (kind, payment.direction) {
        (CaseKind::PosDeposit { .. }, _)
        | (CaseKind::PosPartiallyCancelled { .. }, _)
        | (CaseKind::PosFailedNoCallback { .. }, _) => "deposit",
        (CaseKind::PosWithdrawal { .. }, _) | (CaseKind::PosWithdrawalConfirm { .. }, _) => {
            "withdrawal"
        }
        (CaseKind::BulkPayout { .. }, _) => "payment_b2c/bulk",
        (_, Direction::C2b) => "payment_c2b",
        (_, Direction::B2c) => "payment_b2c",
    };
    let flow = table.provider(payment.provider_id).map_or("standard", |p| {
        p.direction(payment.direction).flow().as_str()
    });
    Some((
        Cell {
            country: payment.country.unwrap_or("-").to_owned(),
            provider: payment.provider_id,
            direction: payment.direction.as_str(),
            flow,
            outcome,
            code,
        },
        OperationStatus {
            operation,
            http_status: http,
        },
    ))
}

/// Why a cell is not covered.
#[derive(Clone, Debug, Serialize)]
pub struct Uncovered {
    /// The cell.
    pub cell: Cell,
    /// Skipped (with the reason) or failed, naming a case.
    pub reason: String,
}

/// Coverage of one country.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CountryCoverage {
    /// Cells the suite derives.
    pub cells: usize,
    /// Cells a passing case covers.
    pub covered: usize,
}

/// What a run covered.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    /// Cells the suite derives for this table.
    pub cells: usize,
    /// Cells a passing case covers.
    pub covered: usize,
    /// `covered / cells`, in percent (100 when there is no cell).
    pub percent: f64,
    /// Per country.
    pub by_country: BTreeMap<String, CountryCoverage>,
    /// Spec operation × HTTP status: how many passing cases expect it.
    pub operations: Vec<(OperationStatus, usize)>,
    /// Every cell not covered, and why.
    pub uncovered: Vec<Uncovered>,
    /// Providers and directions of the table without any derived cell.
    pub not_derivable: Vec<String>,
}

impl Coverage {
    /// Coverage of `results` (by case id) for `cases`, over `table`.
    pub fn of(cases: &[Case], results: &[CaseResult], table: &ProviderTable) -> Coverage {
        let outcome_of: BTreeMap<&str, &Outcome> = results
            .iter()
            .map(|r| (r.id.as_str(), &r.outcome))
            .collect();
        let mut cells: BTreeMap<Cell, Option<String>> = BTreeMap::new();
        let mut operations: BTreeMap<OperationStatus, usize> = BTreeMap::new();
        for case in cases {
            let Some((cell, operation)) = covers(&case.kind, table) else {
                continue;
            };
            let why_not = match outcome_of.get(case.id.as_str()) {
                Some(Outcome::Pass) => None,
                Some(Outcome::Skip(reason)) => Some(format!("skipped ({}): {reason}", case.id)),
                Some(Outcome::Fail(_)) => Some(format!("failed: {}", case.id)),
                None => Some(format!("not run: {}", case.id)),
            };
            if why_not.is_none() {
                *operations.entry(operation).or_default() += 1;
            }
            let slot = cells.entry(cell).or_insert(Some(String::new()));
            match (&slot, why_not) {
                (None, _) => {}
                (_, None) => *slot = None,
                (Some(existing), Some(reason)) if existing.is_empty() => *slot = Some(reason),
                (Some(_), Some(_)) => {}
            }
        }
        let mut by_country: BTreeMap<String, CountryCoverage> = BTreeMap::new();
        let mut uncovered = Vec::new();
        for (cell, why_not) in &cells {
            let row = by_country.entry(cell.country.clone()).or_default();
            row.cells += 1;
            match why_not {
                None => row.covered += 1,
                Some(reason) => uncovered.push(Uncovered {
                    cell: cell.clone(),
                    reason: reason.clone(),
                }),
            }
        }
        let mut not_derivable = Vec::new();
        for provider in table.providers {
            for direction in Direction::BOTH {
                let any = cells
                    .keys()
                    .any(|c| c.provider == provider.id && c.direction == direction.as_str());
                if !any {
                    not_derivable.push(format!(
                        "{} {} ({}): no case derives from the documentation's facts for it",
                        provider.id,
                        direction.as_str(),
                        provider.name
                    ));
                }
            }
        }
        let covered = cells.values().filter(|w| w.is_none()).count();
        let percent = if cells.is_empty() {
            100.0
        } else {
            // Shares of counts far below 2^52: exact enough for a percentage.
            (covered as f64) * 100.0 / (cells.len() as f64)
        };
        Coverage {
            cells: cells.len(),
            covered,
            percent,
            by_country,
            operations: operations.into_iter().collect(),
            uncovered,
            not_derivable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::derive_cases;
    use std::time::Duration;

    fn result(case: &Case, outcome: Outcome) -> CaseResult {
        CaseResult {
            id: case.id.clone(),
            group: case.group,
            outcome,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn all_passing_is_full_coverage_and_a_skip_or_failure_uncovers_its_cell() {
        let table = &paygate::gateway::PROVIDER_TABLE;
        let cases = derive_cases(table);
        let mut results: Vec<CaseResult> = cases.iter().map(|c| result(c, Outcome::Pass)).collect();
        let full = Coverage::of(&cases, &results, table);
        assert!(full.cells > 500, "{}", full.cells);
        assert_eq!(full.covered, full.cells);
        assert!(full.uncovered.is_empty());
        assert!(full
            .operations
            .iter()
            .any(|(o, _)| o.operation == "payment_c2b" && o.http_status == 422));
        // Skip every case of one accepted cell's provider: its cells open up.
        let victim = cases
            .iter()
            .find(|c| matches!(c.kind, CaseKind::Accept { .. }))
            .unwrap();
        let (cell, _) = covers(&victim.kind, table).unwrap();
        for (case, result) in cases.iter().zip(results.iter_mut()) {
            if covers(&case.kind, table).is_some_and(|(c, _)| c == cell) {
                *result = CaseResult {
                    outcome: Outcome::Skip("sandbox".into()),
                    ..result.clone()
                };
            }
        }
        let partial = Coverage::of(&cases, &results, table);
        assert_eq!(partial.covered + 1, partial.cells);
        assert!(partial.percent < 100.0);
        assert!(
            partial.uncovered[0].reason.contains("skipped"),
            "{:?}",
            partial.uncovered
        );
    }
}
