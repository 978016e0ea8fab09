//! The operations of the gateway that create a transaction, with their
//! method names and the `operation_type` of their callbacks.

use serde::{Deserialize, Serialize};

/// The operation that created a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// `payment_c2b` (callback operation type 17).
    PaymentC2b,
    /// `payment_b2c` (callback operation type 16).
    PaymentB2c,
    /// POS `deposit` (callback operation type 20).
    Deposit,
    /// POS `withdrawal` (callback operation type 21).
    Withdrawal,
    /// `payment_b2c/bulk`: the record of a bulk payout (its items are
    /// `payment_b2c` transactions). Kept under
    /// [`bulk_key`](super::state::bulk_key).
    BulkB2c,
}

impl OperationKind {
    /// The `operation_type` code of this operation's callbacks.
    pub const fn operation_type(self) -> i64 {
        match self {
            OperationKind::PaymentB2c => 16,
            OperationKind::PaymentC2b => 17,
            OperationKind::Deposit => 20,
            OperationKind::Withdrawal => 21,
            // A bulk record sends no callback of its own; its items do.
            OperationKind::BulkB2c => 16,
        }
    }

    /// The method name (`payment_c2b`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationKind::PaymentC2b => "payment_c2b",
            OperationKind::PaymentB2c => "payment_b2c",
            OperationKind::Deposit => "deposit",
            OperationKind::Withdrawal => "withdrawal",
            OperationKind::BulkB2c => "payment_b2c/bulk",
        }
    }

    /// The operation named `name` (`payment_c2b`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            OperationKind::PaymentC2b,
            OperationKind::PaymentB2c,
            OperationKind::Deposit,
            OperationKind::Withdrawal,
            OperationKind::BulkB2c,
        ]
        .into_iter()
        .find(|op| op.as_str() == name)
    }

    /// Whether the callback is a POS callback (no `provider_result`).
    pub const fn is_pos(self) -> bool {
        matches!(self, OperationKind::Deposit | OperationKind::Withdrawal)
    }
}
