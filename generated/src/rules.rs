//! Provider rules: which providers exist, where, in which direction, within
//! which limits, and what each needs. The tables themselves are generated from
//! `spec/gateway/providers.yaml` at build time (see [`crate::gateway::PROVIDER_TABLE`]);
//! these are the types they are made of.

use crate::money::Amount;

/// C2B (the customer pays the merchant) or B2C (the merchant pays out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Customer to business: a payment.
    C2b,
    /// Business to customer: a payout.
    B2c,
}

impl Direction {
    /// `c2b` or `b2c`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::C2b => "c2b",
            Direction::B2c => "b2c",
        }
    }
}

/// How a provider completes a payment beyond the standard request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    /// One request, then a callback.
    Standard,
    /// The customer's one-time password travels in `extra.otp`.
    Otp,
    /// The status response carries `extra.customer_redirect`, a page the
    /// customer must be sent to.
    Redirect,
    /// The synchronous response carries bank-transfer details in `extra`.
    BankTransfer,
    /// The merchant must implement a payment page.
    PaymentPage,
}

/// One piece of a phone-number format: a literal run of digits, or a run of
/// digits drawn from a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneToken {
    /// These exact characters.
    Literal(&'static str),
    /// Between `min` and `max` characters, each one of `allowed`.
    Digits {
        /// The characters allowed (for example `0123456789` or `123456789`).
        allowed: &'static str,
        /// Fewest characters.
        min: u8,
        /// Most characters.
        max: u8,
    },
}

/// A phone-number format, compiled from the rules' anchored pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneFormat {
    /// The pattern as written in the rules (for error messages).
    pub pattern: &'static str,
    /// An example number in this format.
    pub example: &'static str,
    /// The compiled pattern.
    pub tokens: &'static [PhoneToken],
}

impl PhoneFormat {
    /// Whether `number` is in this format.
    pub fn matches(&self, number: &str) -> bool {
        matches_tokens(self.tokens, number.as_bytes())
    }
}

fn matches_tokens(tokens: &[PhoneToken], input: &[u8]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return input.is_empty();
    };
    match *first {
        PhoneToken::Literal(lit) => input
            .strip_prefix(lit.as_bytes())
            .is_some_and(|tail| matches_tokens(rest, tail)),
        PhoneToken::Digits { allowed, min, max } => {
            let run = input
                .iter()
                .take(usize::from(max))
                .take_while(|c| allowed.as_bytes().contains(c))
                .count();
            (usize::from(min)..=run)
                .rev()
                .any(|n| matches_tokens(rest, &input[n..]))
        }
    }
}

/// A country the gateway serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryRule {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// English name.
    pub name: &'static str,
    /// ISO 4217 code of the currency used there.
    pub currency: &'static str,
    /// The phone-number format payment requests must use.
    pub phone: PhoneFormat,
}

/// What a provider allows in one direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectionRule {
    /// Smallest amount, if any.
    pub min: Option<Amount>,
    /// Largest amount per transaction; `None` means no limit.
    pub max: Option<Amount>,
    /// Amounts must be a multiple of this, if set.
    pub step: Option<Amount>,
    /// Cumulative limit per day, if documented.
    pub daily_max: Option<Amount>,
    /// `extra` fields every request in this direction must carry.
    pub extras: &'static [&'static str],
    /// How the payment completes.
    pub flow: Flow,
    /// A remark from the documentation.
    pub note: Option<&'static str>,
}

/// One provider id and everything the documentation says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderRule {
    /// The gateway's provider id.
    pub id: u32,
    /// Display name (MTN, Orange, ...).
    pub name: &'static str,
    /// Country code; `None` for providers that serve any country (the Simulator).
    pub country: Option<&'static str>,
    /// Currency code; `None` for any currency (the Simulator).
    pub currency: Option<&'static str>,
    /// A provider-specific phone format overriding the country's.
    pub phone: Option<PhoneFormat>,
    /// Rules for payments (customer to merchant), if supported.
    pub c2b: Option<DirectionRule>,
    /// Rules for payouts (merchant to customer), if supported.
    pub b2c: Option<DirectionRule>,
    /// A remark from the documentation.
    pub note: Option<&'static str>,
    /// Where the documentation was unclear, what was unclear and which
    /// (stricter) reading the rules took.
    pub ambiguity: Option<&'static str>,
}

impl ProviderRule {
    /// The rules for one direction, if the provider supports it.
    pub fn direction(&self, direction: Direction) -> Option<&DirectionRule> {
        match direction {
            Direction::C2b => self.c2b.as_ref(),
            Direction::B2c => self.b2c.as_ref(),
        }
    }
}

/// A brand's provider table: its countries and providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderTable {
    /// Countries, sorted by code.
    pub countries: &'static [CountryRule],
    /// Providers, sorted by id.
    pub providers: &'static [ProviderRule],
}

impl ProviderTable {
    /// The provider with this id.
    pub fn provider(&self, id: u32) -> Option<&'static ProviderRule> {
        self.providers
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.providers[i])
    }

    /// The country with this code.
    pub fn country(&self, code: &str) -> Option<&'static CountryRule> {
        self.countries
            .binary_search_by(|c| c.code.cmp(code))
            .ok()
            .map(|i| &self.countries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_tokens_match_whole_numbers_only() {
        const CI: PhoneFormat = PhoneFormat {
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
        assert!(CI.matches("2250705145655"));
        assert!(!CI.matches("225070514565"));
        assert!(!CI.matches("22507051456551"));
        assert!(!CI.matches("2240705145655"));
        assert!(!CI.matches("225070514565a"));
        const NO_LEADING_ZERO: PhoneFormat = PhoneFormat {
            pattern: "^[1-9][0-9]{8}$",
            example: "999000000",
            tokens: &[
                PhoneToken::Digits {
                    allowed: "123456789",
                    min: 1,
                    max: 1,
                },
                PhoneToken::Digits {
                    allowed: "0123456789",
                    min: 8,
                    max: 8,
                },
            ],
        };
        assert!(NO_LEADING_ZERO.matches("999000000"));
        assert!(!NO_LEADING_ZERO.matches("099000000"));
    }
}
