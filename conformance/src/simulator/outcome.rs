//! Which final state a transaction reaches: the magic-number table.
//!
//! The outcome is chosen deterministically from the **last three characters
//! of `customer_id`**, so tests can ask for any outcome:
//!
//! | `customer_id` ends in | final status | callback |
//! |---|---|---|
//! | `001` | 3 failed (`provider_result` `{1, "Customer account has insufficient funds"}`) | yes |
//! | `002` | 4 cancelled (`provider_result` `{2, "Cancelled by the customer"}`) | yes |
//! | `003` | stays 1 in progress forever | no |
//! | anything else | 2 success (`provider_result` `{0, "OK"}`) | yes |
//!
//! Flow-specific rules come first:
//!
//! * provider **14** (Simulator) never leaves status 1, answers
//!   `provider_result` `{-8888, "Good"}` and never sends a callback;
//! * an **OTP** flow with `extra.otp` `"0000"` fails (status 3,
//!   `provider_result` `{3, "invalid OTP"}`);
//! * a **redirect** flow waits, in status 1, until the customer opens
//!   `GET /_sim/redirect/{public_id}/{order_id}`; the table then applies;
//! * `POST /_sim/transactions/{public_id}/{order_id}/outcome` forces a final
//!   status at once.

/// A final (or never-final) outcome.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// The status reached: 2, 3 or 4, or 1 for "stays in progress".
    pub status: i64,
    /// `provider_result.code`.
    pub provider_code: i64,
    /// `provider_result.message`.
    pub provider_message: String,
}

impl Outcome {
    /// Whether the transaction reaches a final state (and a callback is due).
    pub fn is_final(&self) -> bool {
        matches!(self.status, 2..=4)
    }

    /// Success.
    pub fn success() -> Self {
        Outcome {
            status: 2,
            provider_code: 0,
            provider_message: "OK".into(),
        }
    }

    /// Failure with a provider message.
    pub fn failed(code: i64, message: &str) -> Self {
        Outcome {
            status: 3,
            provider_code: code,
            provider_message: message.into(),
        }
    }

    /// The outcome forced through the control API.
    pub fn forced(status: i64) -> Self {
        match status {
            2 => Outcome::success(),
            3 => Outcome::failed(1, "Failed (forced by the simulator control API)"),
            _ => Outcome {
                status: 4,
                provider_code: 2,
                provider_message: "Cancelled (forced by the simulator control API)".into(),
            },
        }
    }

    /// The wrong-OTP failure.
    pub fn invalid_otp() -> Self {
        Outcome::failed(3, "invalid OTP")
    }
}

/// The OTP that the simulator treats as wrong.
pub const WRONG_OTP: &str = "0000";

/// The outcome the magic-number table gives `customer_id`.
pub fn for_customer(customer_id: &str) -> Outcome {
    if customer_id.ends_with("001") {
        Outcome::failed(1, "Customer account has insufficient funds")
    } else if customer_id.ends_with("002") {
        Outcome {
            status: 4,
            provider_code: 2,
            provider_message: "Cancelled by the customer".into(),
        }
    } else if customer_id.ends_with("003") {
        Outcome {
            status: 1,
            provider_code: 0,
            provider_message: "OK".into(),
        }
    } else {
        Outcome::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(for_customer("254700000001").status, 3);
        assert_eq!(for_customer("254700000002").status, 4);
        assert_eq!(for_customer("254700000003").status, 1);
        assert!(!for_customer("254700000003").is_final());
        assert_eq!(for_customer("254700000004").status, 2);
        assert_eq!(for_customer("").status, 2);
    }
}
