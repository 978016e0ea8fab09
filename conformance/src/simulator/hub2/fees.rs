//! The simulator's fee model: one fee per payment attempt, a rate in basis
//! points of the attempt's amount.
//!
//! HUB2 documents that the intent "keeps track of fees and various payment
//! attempts throughout the processing" and the spec puts `fees` (a list of
//! `{amount, currency}`) on each `Payment`; it gives no rates. The rate,
//! the rounding and when the fee is taken are the simulator's own choice:
//!
//! - every attempt carries exactly one fee, computed when the attempt is
//!   created: `amount × rate_bps / 10 000`, rounded to the nearest unit,
//!   halves up, in the intent's currency (integer arithmetic, no float);
//! - a successful attempt credits the collection account with its amount
//!   less its fees; a failed attempt moves no money (its fee stays on it as
//!   the price the attempt had).
//!
//! The rate is `hub2.fees.rate_bps` of the merchants file (default
//! [`DEFAULT_FEE_RATE_BPS`]), or a merchant's own `fees.rate_bps`
//! ([`Hub2Config::fee_model`](super::Hub2Config::fee_model) picks it).

use paygate::hub2::models::{Currency, Fee, Payment};
use serde::Deserialize;

/// The default rate: 200 basis points (2 %).
pub const DEFAULT_FEE_RATE_BPS: u32 = 200;

/// Basis points in 100 %: the highest rate (a fee never exceeds the amount).
pub const MAX_FEE_RATE_BPS: u32 = 10_000;

/// How the simulator prices a payment attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeModel {
    /// Basis points of the amount (`150` = 1.5 %), 0 to 10 000.
    pub rate_bps: u32,
}

impl Default for FeeModel {
    fn default() -> Self {
        FeeModel {
            rate_bps: DEFAULT_FEE_RATE_BPS,
        }
    }
}

impl FeeModel {
    /// The fee on `amount`: `amount × rate_bps / 10 000`, rounded to the
    /// nearest unit, halves up. `None` for a negative amount or a rate above
    /// 10 000 (never for a valid one: the product is computed in `i128`).
    pub fn fee(&self, amount: i64) -> Option<i64> {
        if amount < 0 || self.rate_bps > MAX_FEE_RATE_BPS {
            return None;
        }
        let scale = i128::from(MAX_FEE_RATE_BPS);
        let rounded = i128::from(amount)
            .checked_mul(i128::from(self.rate_bps))?
            .checked_add(scale / 2)?
            / scale;
        i64::try_from(rounded).ok()
    }

    /// The `fees` of an attempt of `amount` in `currency`: one entry.
    pub fn fees(&self, amount: i64, currency: &Currency) -> Option<Vec<Fee>> {
        Some(vec![Fee {
            amount: self.fee(amount)?,
            currency: currency.clone(),
        }])
    }
}

/// What a successful `payment` credits to the collection account: its
/// amount less its fees (in its currency). `None` if that would be negative
/// or overflow.
pub fn net_amount(payment: &Payment) -> Option<i64> {
    let mut net = payment.amount;
    for fee in payment.fees.iter().flatten() {
        if fee.currency != payment.currency {
            continue;
        }
        net = net.checked_sub(fee.amount)?;
    }
    (net >= 0).then_some(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_nearest_unit_halves_up() {
        let two_percent = FeeModel { rate_bps: 200 };
        assert_eq!(two_percent.fee(0), Some(0));
        assert_eq!(two_percent.fee(24), Some(0)); // 0.48
        assert_eq!(two_percent.fee(25), Some(1)); // 0.5
        assert_eq!(two_percent.fee(1024), Some(20)); // 20.48
        assert_eq!(two_percent.fee(1025), Some(21)); // 20.5
        assert_eq!(two_percent.fee(500), Some(10));
        let odd = FeeModel { rate_bps: 175 };
        assert_eq!(odd.fee(200), Some(4)); // 3.5
        assert_eq!(odd.fee(199), Some(3)); // 3.4825
    }

    #[test]
    fn never_overflows_nor_exceeds_the_amount() {
        let all = FeeModel {
            rate_bps: MAX_FEE_RATE_BPS,
        };
        assert_eq!(all.fee(i64::MAX), Some(i64::MAX));
        assert_eq!(
            FeeModel { rate_bps: 9_999 }
                .fee(i64::MAX)
                .map(|f| f < i64::MAX),
            Some(true)
        );
        assert_eq!(FeeModel { rate_bps: 0 }.fee(i64::MAX), Some(0));
        assert_eq!(all.fee(-1), None);
        assert_eq!(FeeModel { rate_bps: 10_001 }.fee(100), None);
    }

    proptest::proptest! {
        /// Any valid rate on any amount up to the maximum: a fee between 0
        /// and the amount, never more for a smaller amount, so the credit
        /// (amount less fee) is never negative.
        #[test]
        fn a_fee_stays_within_its_amount(
            amount in 0..=crate::simulator::hub2::MAX_HUB2_AMOUNT,
            rate_bps in 0..=MAX_FEE_RATE_BPS,
        ) {
            let model = FeeModel { rate_bps };
            let fee = model.fee(amount);
            proptest::prop_assert!(fee.is_some_and(|f| (0..=amount).contains(&f)), "{fee:?}");
            let smaller = model.fee(amount / 2);
            proptest::prop_assert!(smaller <= fee, "{smaller:?} > {fee:?}");
        }
    }
}
