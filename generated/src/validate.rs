//! Pre-flight validation of payment requests against the provider rules.
//!
//! The client runs these checks before anything is sent, and the simulator
//! runs the same ones on what it receives, so a request that one accepts the
//! other accepts too. Every failure names the field and the rule it broke.

use core::fmt;

use crate::money::Amount;
use crate::rules::{Direction, ProviderRule, ProviderTable};

/// The longest `order_id` the gateway accepts.
pub const ORDER_ID_MAX_LEN: usize = 128;

/// The rule a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `order_id` is empty or longer than 128 characters.
    OrderIdLength,
    /// `order_id` has a character other than letters, digits, `_ - : .`.
    OrderIdCharset,
    /// The provider id is not in the provider table.
    UnknownProvider,
    /// The provider does not support this direction (C2B or B2C).
    DirectionNotSupported,
    /// The provider does not serve the request's country.
    CountryMismatch,
    /// The provider does not take the request's currency.
    CurrencyMismatch,
    /// The amount is below the provider's minimum.
    AmountBelowMinimum,
    /// The amount is above the provider's maximum per transaction.
    AmountAboveMaximum,
    /// The amount is not a multiple of the provider's step.
    AmountStep,
    /// The customer's phone number is not in the format of the country or provider.
    PhoneFormat,
    /// An `extra` field the provider requires in this direction is missing.
    MissingExtra,
}

impl Rule {
    /// A stable, machine-readable name (`amount_below_minimum`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Rule::OrderIdLength => "order_id_length",
            Rule::OrderIdCharset => "order_id_charset",
            Rule::UnknownProvider => "unknown_provider",
            Rule::DirectionNotSupported => "direction_not_supported",
            Rule::CountryMismatch => "country_mismatch",
            Rule::CurrencyMismatch => "currency_mismatch",
            Rule::AmountBelowMinimum => "amount_below_minimum",
            Rule::AmountAboveMaximum => "amount_above_maximum",
            Rule::AmountStep => "amount_step",
            Rule::PhoneFormat => "phone_format",
            Rule::MissingExtra => "missing_extra",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One broken rule: which field, which rule, and a sentence saying why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message} [{rule}]")]
pub struct Violation {
    /// The JSON field at fault (`amount`, `extra.customer_name`, ...).
    pub field: String,
    /// The rule it broke.
    pub rule: Rule,
    /// What is wrong, in words.
    pub message: String,
}

/// All the rules a request broke (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl Violations {
    /// Whether some violation is of `rule`.
    pub fn has(&self, rule: Rule) -> bool {
        self.0.iter().any(|v| v.rule == rule)
    }
}

/// The fields of a C2B or B2C payment that the rules constrain.
#[derive(Clone, Copy, Debug)]
pub struct PaymentDraft<'a> {
    /// Payment (C2B) or payout (B2C).
    pub direction: Direction,
    /// `provider_id`.
    pub provider_id: i64,
    /// `country`, if sent.
    pub country: Option<&'a str>,
    /// `currency`.
    pub currency: &'a str,
    /// `amount`.
    pub amount: Amount,
    /// `customer_id`: the customer's phone number (or account, for banks).
    pub customer_id: &'a str,
    /// `order_id`.
    pub order_id: &'a str,
    /// The names of the `extra` fields that are present and non-empty.
    pub extras: &'a [&'a str],
}

/// Checks `order_id` alone: 1 to 128 characters from `A-Z a-z 0-9 _ - : .`.
pub fn check_order_id(order_id: &str) -> Result<(), Violation> {
    if order_id.is_empty() || order_id.len() > ORDER_ID_MAX_LEN {
        return Err(Violation {
            field: "order_id".into(),
            rule: Rule::OrderIdLength,
            message: format!(
                "must be 1 to {ORDER_ID_MAX_LEN} characters long, not {}",
                order_id.chars().count()
            ),
        });
    }
    if let Some(bad) = order_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')))
    {
        return Err(Violation {
            field: "order_id".into(),
            rule: Rule::OrderIdCharset,
            message: format!("may only hold letters, digits and `_ - : .`; found {bad:?}"),
        });
    }
    Ok(())
}

/// Checks a payment against `table`; returns every rule it breaks.
pub fn check_payment(table: &ProviderTable, draft: &PaymentDraft<'_>) -> Result<(), Violations> {
    let mut found = Vec::new();
    if let Err(v) = check_order_id(draft.order_id) {
        found.push(v);
    }
    match u32::try_from(draft.provider_id)
        .ok()
        .and_then(|id| table.provider(id))
    {
        None => found.push(Violation {
            field: "provider_id".into(),
            rule: Rule::UnknownProvider,
            message: format!("{} is not a provider of this gateway", draft.provider_id),
        }),
        Some(provider) => check_against_provider(table, provider, draft, &mut found),
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(Violations(found))
    }
}

fn describe(provider: &ProviderRule) -> String {
    match provider.country {
        Some(country) => format!("provider {} ({}, {country})", provider.id, provider.name),
        None => format!("provider {} ({})", provider.id, provider.name),
    }
}

fn check_against_provider(
    table: &ProviderTable,
    provider: &ProviderRule,
    draft: &PaymentDraft<'_>,
    found: &mut Vec<Violation>,
) {
    let who = describe(provider);
    let direction = draft.direction.as_str();
    if let (Some(expected), Some(sent)) = (provider.country, draft.country) {
        if expected != sent {
            found.push(Violation {
                field: "country".into(),
                rule: Rule::CountryMismatch,
                message: format!("{who} serves {expected}, not {sent}"),
            });
        }
    }
    if let Some(expected) = provider.currency {
        if expected != draft.currency {
            found.push(Violation {
                field: "currency".into(),
                rule: Rule::CurrencyMismatch,
                message: format!("{who} takes {expected}, not {}", draft.currency),
            });
        }
    }
    let phone = provider.phone.or_else(|| {
        provider
            .country
            .and_then(|c| table.country(c))
            .map(|c| c.phone)
    });
    if let Some(format) = phone {
        if !format.matches(draft.customer_id) {
            found.push(Violation {
                field: "customer_id".into(),
                rule: Rule::PhoneFormat,
                message: format!(
                    "{:?} is not in the phone format of {who} ({}, for example {})",
                    draft.customer_id, format.pattern, format.example
                ),
            });
        }
    }
    let Some(rule) = provider.direction(draft.direction) else {
        found.push(Violation {
            field: "provider_id".into(),
            rule: Rule::DirectionNotSupported,
            message: format!("{who} does not support {direction} payments"),
        });
        return;
    };
    let currency = provider.currency.unwrap_or(draft.currency);
    if let Some(min) = rule.min {
        if draft.amount < min {
            found.push(Violation {
                field: "amount".into(),
                rule: Rule::AmountBelowMinimum,
                message: format!(
                    "{} is below the {direction} minimum of {min} {currency} for {who}",
                    draft.amount
                ),
            });
        }
    }
    if let Some(max) = rule.max {
        if draft.amount > max {
            found.push(Violation {
                field: "amount".into(),
                rule: Rule::AmountAboveMaximum,
                message: format!(
                    "{} is above the {direction} maximum of {max} {currency} for {who}",
                    draft.amount
                ),
            });
        }
    }
    if let Some(step) = rule.step {
        if !draft.amount.is_multiple_of(step) {
            found.push(Violation {
                field: "amount".into(),
                rule: Rule::AmountStep,
                message: format!(
                    "{} is not a multiple of {step} as {who} requires for {direction}",
                    draft.amount
                ),
            });
        }
    }
    for extra in rule.extras {
        if !draft.extras.contains(extra) {
            found.push(Violation {
                field: format!("extra.{extra}"),
                rule: Rule::MissingExtra,
                message: format!("{who} requires extra.{extra} for {direction} payments"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{CountryRule, DirectionRule, Flow, PhoneFormat, PhoneToken};

    const CI_PHONE: PhoneFormat = PhoneFormat {
        pattern: "^225[0-9]{10}$",
        example: "2250000000000",
        tokens: &[
            PhoneToken::Literal("225"),
            PhoneToken::Digits {
                allowed: "0123456789",
                min: 10,
                max: 10,
            },
        ],
    };
    const ZERO_PHONE: PhoneFormat = PhoneFormat {
        pattern: "^0[0-9]{9}$",
        example: "0800000000",
        tokens: &[
            PhoneToken::Literal("0"),
            PhoneToken::Digits {
                allowed: "0123456789",
                min: 9,
                max: 9,
            },
        ],
    };
    const LIMITS: DirectionRule = DirectionRule {
        min: Some(Amount::from_minor(20_000)),
        max: Some(Amount::from_minor(100_000_000)),
        step: Some(Amount::from_minor(500)),
        daily_max: None,
        extras: &[],
        flow: Flow::Standard,
        note: None,
    };
    const TABLE: ProviderTable = ProviderTable {
        countries: &[CountryRule {
            code: "CI",
            name: "Ivory Coast",
            currency: "XOF",
            phone: CI_PHONE,
        }],
        providers: &[
            ProviderRule {
                id: 2303,
                name: "MTN",
                country: Some("CI"),
                currency: Some("XOF"),
                phone: None,
                c2b: Some(LIMITS),
                b2c: Some(DirectionRule {
                    extras: &["customer_name"],
                    ..LIMITS
                }),
                note: None,
                ambiguity: None,
            },
            ProviderRule {
                id: 2304,
                name: "Orange",
                country: Some("CI"),
                currency: Some("XOF"),
                phone: Some(ZERO_PHONE),
                c2b: Some(LIMITS),
                b2c: None,
                note: None,
                ambiguity: None,
            },
        ],
    };

    fn valid() -> PaymentDraft<'static> {
        PaymentDraft {
            direction: Direction::C2b,
            provider_id: 2303,
            country: Some("CI"),
            currency: "XOF",
            amount: Amount::from_minor(110_000),
            customer_id: "2250705145655",
            order_id: "order_1:2-3.4",
            extras: &[],
        }
    }

    fn broken(draft: PaymentDraft<'_>) -> Vec<(String, Rule)> {
        match check_payment(&TABLE, &draft) {
            Ok(()) => Vec::new(),
            Err(v) => v.0.into_iter().map(|v| (v.field, v.rule)).collect(),
        }
    }

    #[test]
    fn a_valid_payment_passes() {
        assert_eq!(broken(valid()), vec![]);
    }

    #[test]
    fn each_rule_is_enforced_and_names_its_field() {
        let cases: Vec<(PaymentDraft<'static>, &str, Rule)> = vec![
            (
                PaymentDraft {
                    order_id: "",
                    ..valid()
                },
                "order_id",
                Rule::OrderIdLength,
            ),
            (
                PaymentDraft {
                    order_id: Box::leak("a".repeat(129).into_boxed_str()),
                    ..valid()
                },
                "order_id",
                Rule::OrderIdLength,
            ),
            (
                PaymentDraft {
                    order_id: "order#1",
                    ..valid()
                },
                "order_id",
                Rule::OrderIdCharset,
            ),
            (
                PaymentDraft {
                    provider_id: 9,
                    ..valid()
                },
                "provider_id",
                Rule::UnknownProvider,
            ),
            (
                PaymentDraft {
                    provider_id: -1,
                    ..valid()
                },
                "provider_id",
                Rule::UnknownProvider,
            ),
            (
                PaymentDraft {
                    provider_id: 2304,
                    direction: Direction::B2c,
                    customer_id: "0700000000",
                    ..valid()
                },
                "provider_id",
                Rule::DirectionNotSupported,
            ),
            (
                PaymentDraft {
                    country: Some("SN"),
                    ..valid()
                },
                "country",
                Rule::CountryMismatch,
            ),
            (
                PaymentDraft {
                    currency: "XAF",
                    ..valid()
                },
                "currency",
                Rule::CurrencyMismatch,
            ),
            (
                PaymentDraft {
                    amount: Amount::from_minor(19_500),
                    ..valid()
                },
                "amount",
                Rule::AmountBelowMinimum,
            ),
            (
                PaymentDraft {
                    amount: Amount::from_minor(100_000_500),
                    ..valid()
                },
                "amount",
                Rule::AmountAboveMaximum,
            ),
            (
                PaymentDraft {
                    amount: Amount::from_minor(110_100),
                    ..valid()
                },
                "amount",
                Rule::AmountStep,
            ),
            (
                PaymentDraft {
                    customer_id: "225070514565",
                    ..valid()
                },
                "customer_id",
                Rule::PhoneFormat,
            ),
            (
                PaymentDraft {
                    provider_id: 2304,
                    ..valid()
                },
                "customer_id",
                Rule::PhoneFormat,
            ),
            (
                PaymentDraft {
                    direction: Direction::B2c,
                    ..valid()
                },
                "extra.customer_name",
                Rule::MissingExtra,
            ),
        ];
        for (draft, field, rule) in cases {
            assert_eq!(broken(draft), vec![(field.to_string(), rule)], "{draft:?}");
        }
    }

    #[test]
    fn boundaries_are_inclusive() {
        for minor in [20_000, 100_000_000] {
            assert_eq!(
                broken(PaymentDraft {
                    amount: Amount::from_minor(minor),
                    ..valid()
                }),
                vec![]
            );
        }
        let with_name = PaymentDraft {
            direction: Direction::B2c,
            extras: &["customer_name"],
            ..valid()
        };
        assert_eq!(broken(with_name), vec![]);
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let err = check_payment(
            &TABLE,
            &PaymentDraft {
                amount: Amount::from_minor(19_500),
                ..valid()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "amount: 195.00 is below the c2b minimum of 200.00 XOF for provider 2303 (MTN, CI) [amount_below_minimum]"
        );
    }
}
