//! Pre-flight validation of payment requests against the provider rules.
//!
//! The client runs these checks before anything is sent, and the simulator
//! runs the same ones on what it receives, so a request that one accepts the
//! other accepts too. Every finding names the field, the rule, and the
//! documentation it rests on.
//!
//! A finding is a **refusal** only when every reasonable reading of the
//! documentation refuses the request: the fact is documented or inferred
//! (see [`Certainty`]), or it is the loosest of several candidate readings.
//! Everything else is a **warning**: reported to the caller (and as a
//! `tracing` event by the client), never a reason not to send.

use core::fmt;

use crate::gateway::rules::{
    Certainty, CustomerIdKind, Direction, Limits, Provenance, ProviderRule, ProviderTable, Quote,
};
use crate::money::Amount;

/// The longest `order_id` the gateway accepts.
pub const ORDER_ID_MAX_LEN: usize = 128;

/// Where the `order_id` rules come from (seed 003, the API reference).
pub const ORDER_ID_SOURCE: Provenance = Provenance {
    certainty: Certainty::Documented,
    quotes: &[Quote {
        seed: "003",
        text: "Max length is 128 symbols. Allowed symbols: [a-z], [A-Z], [0-9], “_” (underscore character), “-” (hyphen), “:” (colon), “.” (dot).",
    }],
    reason: None,
};

/// Why an unknown provider id is not refused (seed 002).
pub const PROVIDER_IDS_SOURCE: Provenance = Provenance {
    certainty: Certainty::Documented,
    quotes: &[Quote {
        seed: "002",
        text: "Check provider id with your manager",
    }],
    reason: Some("Provider ids differ between merchants and brands, so an id missing from the documented tables may still be valid; nothing is checked for it."),
};

/// The rule a request broke (or may break).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `order_id` is empty or longer than 128 characters.
    OrderIdLength,
    /// `order_id` has a character other than letters, digits, `_ - : .`.
    OrderIdCharset,
    /// The provider id is not in the documented table (a warning only).
    UnknownProvider,
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
    /// The amount alone is above a cumulative maximum per day.
    AmountAboveDailyMaximum,
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
            Rule::CountryMismatch => "country_mismatch",
            Rule::CurrencyMismatch => "currency_mismatch",
            Rule::AmountBelowMinimum => "amount_below_minimum",
            Rule::AmountAboveMaximum => "amount_above_maximum",
            Rule::AmountStep => "amount_step",
            Rule::AmountAboveDailyMaximum => "amount_above_daily_maximum",
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

/// One finding: which field, which rule, a sentence saying why, and the
/// documentation it rests on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message} [{rule}]")]
pub struct Violation {
    /// The JSON field at fault (`amount`, `extra.customer_name`, ...).
    pub field: String,
    /// The rule.
    pub rule: Rule,
    /// What is wrong, in words.
    pub message: String,
    /// How sure the documentation is of the fact (for a refusal on the
    /// loosest of several readings: `Ambiguous`, and every reading refuses).
    pub certainty: Certainty,
    /// The documentation's words the finding rests on.
    pub quotes: &'static [Quote],
    /// Why, for a fact not stated in words.
    pub reason: Option<&'static str>,
}

impl Violation {
    fn new(field: impl Into<String>, rule: Rule, message: String, source: &Provenance) -> Self {
        Violation {
            field: field.into(),
            rule,
            message,
            certainty: source.certainty,
            quotes: source.quotes,
            reason: source.reason,
        }
    }
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

/// What pre-flight validation found: refusals (the request must not be
/// sent) and warnings (it may be valid; the documentation is not sure).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preflight {
    /// Rules every reading of the documentation enforces.
    pub refusals: Vec<Violation>,
    /// Rules some reading enforces, or that the documentation only implies.
    pub warnings: Vec<Violation>,
}

impl Preflight {
    /// `Ok(warnings)` when nothing refuses the request.
    pub fn into_result(self) -> Result<Vec<Violation>, Violations> {
        if self.refusals.is_empty() {
            Ok(self.warnings)
        } else {
            Err(Violations(self.refusals))
        }
    }

    /// Whether nothing refuses the request.
    pub fn accepted(&self) -> bool {
        self.refusals.is_empty()
    }

    fn push(&mut self, binds: bool, v: Violation) {
        if binds {
            self.refusals.push(v);
        } else {
            self.warnings.push(v);
        }
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
        return Err(Violation::new(
            "order_id",
            Rule::OrderIdLength,
            format!(
                "must be 1 to {ORDER_ID_MAX_LEN} characters long, not {}",
                order_id.chars().count()
            ),
            &ORDER_ID_SOURCE,
        ));
    }
    if let Some(bad) = order_id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')))
    {
        return Err(Violation::new(
            "order_id",
            Rule::OrderIdCharset,
            format!("may only hold letters, digits and `_ - : .`; found {bad:?}"),
            &ORDER_ID_SOURCE,
        ));
    }
    Ok(())
}

/// Checks a payment against `table`: every refusal and every warning.
pub fn check_payment(table: &'static ProviderTable, draft: &PaymentDraft<'_>) -> Preflight {
    let mut found = Preflight::default();
    if let Err(v) = check_order_id(draft.order_id) {
        found.refusals.push(v);
    }
    match u32::try_from(draft.provider_id)
        .ok()
        .and_then(|id| table.provider(id))
    {
        None => found.warnings.push(Violation::new(
            "provider_id",
            Rule::UnknownProvider,
            format!(
                "{} is not in the documented provider table; no provider rule was checked",
                draft.provider_id
            ),
            &PROVIDER_IDS_SOURCE,
        )),
        Some(provider) => check_against_provider(table, provider, draft, &mut found),
    }
    found
}

/// How messages name a provider (`provider 2303 (Orange Money, CI)`),
/// written only into a message that is made: a payment that passes formats
/// nothing (formatting it up front took about 0.7 % of a loaded
/// simulator's time).
#[derive(Clone, Copy)]
struct Who(&'static ProviderRule);

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = self.0;
        match provider.country {
            Some(country) => write!(f, "provider {} ({}, {country})", provider.id, provider.name),
            None => write!(f, "provider {} ({})", provider.id, provider.name),
        }
    }
}

/// The weaker of two certainties (a fact that rests on both is as sure as
/// the less sure one).
fn weaker(a: Certainty, b: Certainty) -> Certainty {
    a.max(b)
}

fn with_certainty(source: &Provenance, certainty: Certainty) -> Provenance {
    Provenance {
        certainty,
        ..*source
    }
}

fn check_against_provider(
    table: &'static ProviderTable,
    provider: &'static ProviderRule,
    draft: &PaymentDraft<'_>,
    found: &mut Preflight,
) {
    let who = Who(provider);
    let direction = draft.direction.as_str();
    let country = provider.country.and_then(|c| table.country(c));
    if let (Some(country), Some(sent)) = (country, draft.country) {
        if country.code != sent {
            found.push(
                country.identified.certainty.binds(),
                Violation::new(
                    "country",
                    Rule::CountryMismatch,
                    format!("{who} serves {}, not {sent}", country.code),
                    &country.identified,
                ),
            );
        }
    }
    if let (Some(country), Some(currency)) = (country, table.currency_for(provider)) {
        if currency.code != draft.currency {
            let certainty = weaker(country.identified.certainty, currency.provenance.certainty);
            found.push(
                certainty.binds(),
                Violation::new(
                    "currency",
                    Rule::CurrencyMismatch,
                    format!("{who} takes {}, not {}", currency.code, draft.currency),
                    &with_certainty(&currency.provenance, certainty),
                ),
            );
        }
    }
    let rule = provider.direction(draft.direction);
    if rule.customer_id_kind() == CustomerIdKind::Phone {
        if let Some(phone) = table.phone_for(provider) {
            if !phone.format.matches(draft.customer_id) {
                let mut certainty = phone.provenance.certainty;
                if provider.phone.is_none() {
                    if let Some(country) = country {
                        certainty = weaker(certainty, country.identified.certainty);
                    }
                }
                // A `customer_id` kind that is itself unsure (a bank
                // account, by some reading) makes the format unsure too.
                if let Some(kind) = rule.customer_id {
                    certainty = weaker(certainty, kind.provenance.certainty);
                }
                found.push(
                    certainty.binds(),
                    Violation::new(
                        "customer_id",
                        Rule::PhoneFormat,
                        format!(
                            "{:?} is not in the phone format of {who} ({}, for example {})",
                            draft.customer_id, phone.format.pattern, phone.format.example
                        ),
                        &with_certainty(&phone.provenance, certainty),
                    ),
                );
            }
        }
    }
    let currency = table
        .currency_for(provider)
        .map_or(draft.currency, |c| c.code);
    check_limits(table, &rule.limits, draft, who, currency, found);
    for extra in rule.extras {
        if !draft.extras.contains(&extra.name) {
            let binds = extra.provenance.certainty.binds();
            let message = if binds {
                format!(
                    "{who} requires extra.{} for {direction} payments",
                    extra.name
                )
            } else {
                format!(
                    "{who} may need extra.{} for {direction} payments (the documentation is not sure)",
                    extra.name
                )
            };
            found.push(
                binds,
                Violation::new(
                    format!("extra.{}", extra.name),
                    Rule::MissingExtra,
                    message,
                    &extra.provenance,
                ),
            );
        }
    }
}

fn check_limits(
    table: &'static ProviderTable,
    limits: &Limits,
    draft: &PaymentDraft<'_>,
    who: Who,
    currency: &str,
    found: &mut Preflight,
) {
    let Some(certainty) = limits.certainty else {
        return;
    };
    let direction = draft.direction.as_str();
    let amount = draft.amount;
    let candidates: Vec<_> = table.candidates(limits).collect();
    let several = candidates.len() > 1;
    // A binding bound is the loosest candidate's: cite that table.
    let loosest = |pick: fn(&crate::gateway::rules::TableSide) -> Option<Amount>, highest: bool| {
        let sides = candidates
            .iter()
            .filter_map(|t| t.side(draft.direction).map(|s| (t, pick(s))));
        let best = if highest {
            sides.max_by_key(|(_, v)| *v)
        } else {
            sides.min_by_key(|(_, v)| *v)
        };
        Provenance {
            certainty,
            quotes: best.map_or(&[][..], |(t, _)| t.quotes),
            reason: limits.reason,
        }
    };
    let min_source = loosest(|s| s.min, false);
    let max_source = loosest(|s| s.max, true);
    let binding_source = Provenance {
        certainty,
        quotes: candidates.first().map_or(&[][..], |t| t.quotes),
        reason: limits.reason,
    };
    let every = if several {
        format!(" (every one of its {} candidate tables)", candidates.len())
    } else {
        String::new()
    };
    let below = limits.min.filter(|&min| amount < min);
    if let Some(min) = below {
        found.refusals.push(Violation::new(
            "amount",
            Rule::AmountBelowMinimum,
            format!(
                "{amount} is below the {direction} minimum of {min} {currency} for {who}{every}"
            ),
            &min_source,
        ));
    }
    let above = limits.max.filter(|&max| amount > max);
    if let Some(max) = above {
        found.refusals.push(Violation::new(
            "amount",
            Rule::AmountAboveMaximum,
            format!(
                "{amount} is above the {direction} maximum of {max} {currency} for {who}{every}"
            ),
            &max_source,
        ));
    }
    let off_step = limits.step.filter(|&step| !amount.is_multiple_of(step));
    if let Some(step) = off_step {
        found.refusals.push(Violation::new(
            "amount",
            Rule::AmountStep,
            format!(
                "{amount} is not a multiple of {step} as {who} requires for {direction}{every}"
            ),
            &binding_source,
        ));
    }
    let over_daily = limits.daily_max.filter(|&daily| amount > daily);
    if let Some(daily) = over_daily {
        found.refusals.push(Violation::new(
            "amount",
            Rule::AmountAboveDailyMaximum,
            format!("{amount} alone is above the {direction} maximum of {daily} {currency} per day for {who}{every}"),
            &binding_source,
        ));
    }
    // The stricter readings: each candidate that refuses what the binding
    // rules let through is a warning (a rule already refused is not
    // repeated).
    for candidate in &candidates {
        let Some(side) = candidate.side(draft.direction) else {
            continue;
        };
        let source = Provenance {
            certainty: Certainty::Ambiguous,
            quotes: candidate.quotes,
            reason: limits.reason,
        };
        let of = if limits.optional {
            format!(
                "table {} (a reading the documentation leaves open)",
                candidate.id
            )
        } else if several {
            format!(
                "table {} (one of {} candidate tables for {who})",
                candidate.id,
                candidates.len()
            )
        } else {
            format!("table {} for {who}", candidate.id)
        };
        if let Some(min) = side.min.filter(|&min| amount < min && below.is_none()) {
            found.warnings.push(Violation::new(
                "amount",
                Rule::AmountBelowMinimum,
                format!("{amount} is below the {direction} minimum of {min} {currency} of {of}"),
                &source,
            ));
        }
        if let Some(max) = side.max.filter(|&max| amount > max && above.is_none()) {
            found.warnings.push(Violation::new(
                "amount",
                Rule::AmountAboveMaximum,
                format!("{amount} is above the {direction} maximum of {max} {currency} of {of}"),
                &source,
            ));
        }
        if let Some(step) = candidate
            .step
            .filter(|&step| !amount.is_multiple_of(step) && off_step.is_none())
        {
            found.warnings.push(Violation::new(
                "amount",
                Rule::AmountStep,
                format!("{amount} is not a multiple of {step} as {of} asks"),
                &source,
            ));
        }
        if over_daily.is_none() {
            for &daily in side.daily.iter().filter(|&&daily| amount > daily) {
                found.warnings.push(Violation::new(
                    "amount",
                    Rule::AmountAboveDailyMaximum,
                    format!(
                        "{amount} alone is above a daily maximum of {daily} {currency} of {of}"
                    ),
                    &source,
                ));
            }
        }
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
