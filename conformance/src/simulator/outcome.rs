//! Which state a transaction reaches: the customer-number table.
//!
//! The documentation gives the statuses (seed 003's table: -1 undefined,
//! 0 initiated, 1 in progress, 2 success, 3 failed, 4 cancelled, 5
//! cancelled partially, 6 success_hold, 7 in transit) but not when each
//! happens; which one a simulated transaction reaches is the simulator's
//! own choice, made deterministically from the **last three characters of
//! `customer_id`**, so tests can ask for any of them:
//!
//! | `customer_id` ends in | outcome | callback |
//! |---|---|---|
//! | `001` | 3 failed (`provider_result` `{1, "Customer account has insufficient funds"}`) | yes (not for POS) |
//! | `002` | 4 cancelled (`provider_result` `{2, "Cancelled by the customer"}`) | yes (not for POS) |
//! | `003` | stays 1 in progress forever | no |
//! | `004` | -1 undefined (`provider_result` `{-1, "Provider error: status undefined"}`) | yes (not for POS) |
//! | `005` | POS deposit or withdrawal: 5 cancelled partially; others: success | no (POS) |
//! | `006` | `payment_c2b`: 6 success_hold, the amount held until a POS withdrawal for the same customer consumes it (then 2); others: success | yes |
//! | `007` | `payment_b2c` and `withdrawal`: the first answer asks for a confirmation (status 0, `confirm_type` 1), then success | yes |
//! | anything else | 2 success (`provider_result` `{0, "OK"}`) | yes |
//!
//! POS callbacks are sent only for successful operations (seed 003: "after
//! every successful operation performed on POS").
//!
//! Flow-specific rules come first:
//!
//! * provider **14** (Simulator) never leaves status 1, answers
//!   `provider_result` `{-8888, "Good"}` and never sends a callback;
//! * an **OTP** flow with `extra.otp` `"0000"` fails (status 3,
//!   `provider_result` `{3, "invalid OTP"}`); without an OTP it waits in
//!   status 1 for a `status` request carrying `customer_id` and `extra.otp`;
//! * a **redirect** (or payment-page) flow waits, in status 1, until the
//!   customer opens `GET /_sim/redirect/{public_id}/{order_id}`;
//! * `POST /_sim/transactions/{public_id}/{order_id}/outcome` forces any
//!   status but 0, 1 and 7 at once.

use paygate::gateway::Status;

use super::operation::OperationKind;

/// An outcome: the status a transaction moves to (1: it stays).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// The status reached, or 1 for "stays in progress".
    pub status: i64,
    /// `provider_result.code`.
    pub provider_code: i64,
    /// `provider_result.message`.
    pub provider_message: String,
}

impl Outcome {
    /// Whether the transaction leaves "in progress" (and a callback may be
    /// due).
    pub fn is_final(&self) -> bool {
        Status::from(self.status) != Status::InProgress
    }

    /// Success.
    pub fn success() -> Self {
        Outcome {
            status: Status::Success.code(),
            provider_code: 0,
            provider_message: "OK".into(),
        }
    }

    /// Failure with a provider message.
    pub fn failed(code: i64, message: &str) -> Self {
        Outcome {
            status: Status::Failed.code(),
            provider_code: code,
            provider_message: message.into(),
        }
    }

    /// The outcome forced through the control API (any status but 0, 1
    /// and 7, see [`Outcome::can_force`]).
    pub fn forced(status: i64) -> Self {
        match Status::from(status) {
            Status::Success => Outcome::success(),
            Status::Failed => Outcome::failed(1, "Failed (forced by the simulator control API)"),
            Status::Cancelled => Outcome {
                status: Status::Cancelled.code(),
                provider_code: 2,
                provider_message: "Cancelled (forced by the simulator control API)".into(),
            },
            _ => Outcome {
                status,
                provider_code: 0,
                provider_message: "Forced by the simulator control API".into(),
            },
        }
    }

    /// Whether the control API may force `status`: a status the
    /// documentation lists that a transaction can move to.
    pub fn can_force(status: i64) -> bool {
        matches!(
            Status::from(status),
            Status::Undefined
                | Status::Success
                | Status::Failed
                | Status::Cancelled
                | Status::CancelledPartially
                | Status::SuccessHold
        )
    }

    /// The wrong-OTP failure.
    pub fn invalid_otp() -> Self {
        Outcome::failed(3, "invalid OTP")
    }
}

/// The OTP that the simulator treats as wrong.
pub const WRONG_OTP: &str = "0000";

/// The customer suffix whose payouts and withdrawals ask for a
/// confirmation first.
pub const CONFIRM_SUFFIX: &str = "007";

/// Whether the first answer to `op` for `customer_id` asks for a
/// confirmation (`confirm_type` 1).
pub fn asks_confirmation(op: OperationKind, customer_id: &str) -> bool {
    matches!(op, OperationKind::PaymentB2c | OperationKind::Withdrawal)
        && customer_id.ends_with(CONFIRM_SUFFIX)
}

/// The outcome the customer-number table gives `customer_id` for `op`.
pub fn for_customer(op: OperationKind, customer_id: &str) -> Outcome {
    let pos = op.is_pos();
    let suffix = customer_id
        .len()
        .checked_sub(3)
        .and_then(|at| customer_id.get(at..))
        .unwrap_or("");
    match suffix {
        "001" => Outcome::failed(1, "Customer account has insufficient funds"),
        "002" => Outcome {
            status: Status::Cancelled.code(),
            provider_code: 2,
            provider_message: "Cancelled by the customer".into(),
        },
        "003" => Outcome {
            status: Status::InProgress.code(),
            provider_code: 0,
            provider_message: "OK".into(),
        },
        "004" => Outcome {
            status: Status::Undefined.code(),
            provider_code: -1,
            provider_message: "Provider error: status undefined".into(),
        },
        "005" if pos => Outcome {
            status: Status::CancelledPartially.code(),
            provider_code: 0,
            provider_message: "Cancelled partially".into(),
        },
        "006" if op == OperationKind::PaymentC2b => Outcome {
            status: Status::SuccessHold.code(),
            provider_code: 0,
            provider_message: "Held for a withdrawal".into(),
        },
        _ => Outcome::success(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customer_number_table() {
        let c2b = OperationKind::PaymentC2b;
        let deposit = OperationKind::Deposit;
        assert_eq!(for_customer(c2b, "254700000001").status, 3);
        assert_eq!(for_customer(c2b, "254700000002").status, 4);
        assert_eq!(for_customer(c2b, "254700000003").status, 1);
        assert!(!for_customer(c2b, "254700000003").is_final());
        assert_eq!(for_customer(c2b, "254700000004").status, -1);
        assert_eq!(for_customer(c2b, "254700000005").status, 2);
        assert_eq!(for_customer(deposit, "254700000005").status, 5);
        assert_eq!(for_customer(c2b, "254700000006").status, 6);
        assert_eq!(for_customer(deposit, "254700000006").status, 2);
        assert_eq!(for_customer(c2b, "254700000009").status, 2);
        assert_eq!(for_customer(c2b, "").status, 2);
        assert_eq!(for_customer(c2b, "é1").status, 2);
        assert!(asks_confirmation(OperationKind::PaymentB2c, "254700000007"));
        assert!(asks_confirmation(OperationKind::Withdrawal, "254700000007"));
        assert!(!asks_confirmation(c2b, "254700000007"));
    }
}
