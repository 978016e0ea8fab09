//! Building the payments the cases send from the provider table: a valid
//! payment for a provider and direction (its customer, amount and extras),
//! the amounts the limits allow, and the customer numbers that break the
//! phone format or select one of the simulator's outcomes.

use paygate::gateway::rules::{CustomerIdKind, Direction, Limits, ProviderRule, ProviderTable};
use paygate::money::Amount;

use super::cases::PaymentSpec;
use super::extras::{extra_rank, extra_value};

/// A bank account number, for providers whose `customer_id` is one (the
/// documentation's own example).
pub const ACCOUNT_NUMBER: &str = "16280954971628095497";

/// The customer a valid payment uses: the documented phone example, or an
/// account number where `customer_id` is an account.
pub fn customer_for(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
) -> String {
    if provider.direction(direction).customer_id_kind() == CustomerIdKind::Account {
        return ACCOUNT_NUMBER.to_owned();
    }
    match table.phone_for(provider) {
        Some(phone) => phone.format.example.to_owned(),
        None => "2250000000000".to_owned(),
    }
}

/// A valid payment for one provider and direction: every extra, the
/// documented customer, an amount every candidate accepts if there is one
/// (else the smallest binding one). `None` if the rules leave no amount.
pub fn valid_payment(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
) -> Option<PaymentSpec> {
    let rule = provider.direction(direction);
    let amount = comfortable_amount(table, &rule.limits, direction)
        .or_else(|| smallest_valid_amount(&rule.limits))?;
    let (country, currency) = match provider.country {
        Some(country) => (
            Some(country),
            table.currency_for(provider).map_or("XOF", |c| c.code),
        ),
        // Providers tied to no country: the Simulator's example country.
        None => (Some("CI"), "XOF"),
    };
    let mut extras: Vec<(&'static str, String)> = rule
        .extras
        .iter()
        .map(|e| (e.name, extra_value(e.name)))
        .collect();
    extras.sort_by_key(|(n, _)| extra_rank(n));
    Some(PaymentSpec {
        direction,
        provider_id: provider.id,
        country,
        currency,
        amount,
        customer_id: customer_for(table, provider, direction),
        extras,
    })
}

/// The smallest amount the binding rules accept (`100.00` when they set no
/// minimum), or `None` if none is below the maximum.
pub fn smallest_valid_amount(limits: &Limits) -> Option<Amount> {
    let step = limits.step.map_or(0, Amount::minor);
    let mut minor = limits.min.map_or(0, Amount::minor).max(step);
    if minor == 0 {
        minor = 10_000;
    }
    let amount = Amount::from_minor(round_up(minor, step)?);
    match limits.max {
        Some(max) if amount > max => None,
        _ => Some(amount),
    }
}

/// The smallest amount from 100.00 up that every candidate table accepts
/// (no warning at all), if there is one.
pub fn comfortable_amount(
    table: &ProviderTable,
    limits: &Limits,
    direction: Direction,
) -> Option<Amount> {
    let mut lo = 10_000u64;
    let mut hi = u64::MAX;
    let mut step = limits.step.map_or(1, Amount::minor).max(1);
    for candidate in table.candidates(limits) {
        let Some(side) = candidate.side(direction) else {
            continue;
        };
        lo = lo.max(side.min.map_or(0, Amount::minor));
        if let Some(max) = side.max {
            hi = hi.min(max.minor());
        }
        for daily in side.daily {
            hi = hi.min(daily.minor());
        }
        if let Some(s) = candidate.step {
            step = lcm(step, s.minor())?;
        }
    }
    let amount = round_up(lo, step)?;
    (amount <= hi).then(|| Amount::from_minor(amount))
}

fn round_up(minor: u64, step: u64) -> Option<u64> {
    if step == 0 || minor.is_multiple_of(step) {
        Some(minor)
    } else {
        (minor / step).checked_add(1)?.checked_mul(step)
    }
}

fn lcm(a: u64, b: u64) -> Option<u64> {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    (a / x.max(1)).checked_mul(b)
}

/// A number in `format` that it does not accept: the example with its last
/// digit removed (or, if that still matches, with one digit added).
pub fn malformed_phone(format: &paygate::gateway::rules::PhoneFormat) -> Option<String> {
    let example = format.example;
    let mut candidates = Vec::new();
    if example.len() > 1 {
        candidates.push(example[..example.len() - 1].to_owned());
    }
    candidates.push(format!("{example}0"));
    candidates.push(format!("x{example}"));
    candidates.into_iter().find(|c| !format.matches(c))
}

/// The example number with its last three digits replaced by `suffix`
/// (the simulator's customer numbers), if it stays valid for the provider.
pub fn magic_phone(
    table: &ProviderTable,
    provider: &ProviderRule,
    base: &str,
    suffix: &str,
) -> Option<String> {
    if base.len() < suffix.len() || !base.is_char_boundary(base.len() - suffix.len()) {
        return None;
    }
    let number = format!("{}{suffix}", &base[..base.len() - suffix.len()]);
    match table.phone_for(provider) {
        Some(p) if !p.format.matches(&number) => None,
        _ => Some(number),
    }
}
