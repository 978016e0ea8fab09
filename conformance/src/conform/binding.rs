//! Which facts of the provider table bind (a payment that breaks them is
//! refused) and which only warn (the documentation is unsure of them), and
//! the warnings the client must raise for a payment, computed from the
//! table's data independently of the client's validator.

use paygate::gateway::rules::{CustomerIdKind, Direction, ProviderRule, ProviderTable};
use paygate::gateway::validate::Rule;

use super::cases::PaymentSpec;

/// Whether `customer_id` of `provider` is held to a binding phone format.
pub fn phone_binds(table: &ProviderTable, provider: &ProviderRule, direction: Direction) -> bool {
    let rule = provider.direction(direction);
    if rule.customer_id_kind() != CustomerIdKind::Phone {
        return false;
    }
    let Some(phone) = table.phone_for(provider) else {
        return false;
    };
    let mut sure = phone.provenance.certainty.binds();
    if provider.phone.is_none() {
        sure &= country_binds(table, provider);
    }
    if let Some(kind) = rule.customer_id {
        sure &= kind.provenance.certainty.binds();
    }
    sure
}

/// Whether the provider's country is binding.
pub fn country_binds(table: &ProviderTable, provider: &ProviderRule) -> bool {
    provider
        .country
        .and_then(|c| table.country(c))
        .is_some_and(|c| c.identified.certainty.binds())
}

/// Whether the provider's currency is binding.
pub fn currency_binds(table: &ProviderTable, provider: &ProviderRule) -> bool {
    country_binds(table, provider)
        && table
            .currency_for(provider)
            .is_some_and(|c| c.provenance.certainty.binds())
}

/// The warnings the client must raise for `payment`, computed from the
/// table's data: every rule some candidate reading enforces and the
/// binding rules let through. Sorted, without duplicates.
pub fn expected_warnings(table: &ProviderTable, payment: &PaymentSpec) -> Vec<Rule> {
    let mut out = Vec::new();
    let Some(provider) = table.provider(payment.provider_id) else {
        return vec![Rule::UnknownProvider];
    };
    let direction = payment.direction;
    let rule = provider.direction(direction);
    if let (Some(country), Some(sent)) = (provider.country, payment.country) {
        if country != sent && !country_binds(table, provider) {
            out.push(Rule::CountryMismatch);
        }
    }
    if let Some(currency) = table.currency_for(provider) {
        if currency.code != payment.currency && !currency_binds(table, provider) {
            out.push(Rule::CurrencyMismatch);
        }
    }
    if rule.customer_id_kind() == CustomerIdKind::Phone && !phone_binds(table, provider, direction)
    {
        if let Some(phone) = table.phone_for(provider) {
            if !phone.format.matches(&payment.customer_id) {
                out.push(Rule::PhoneFormat);
            }
        }
    }
    let amount = payment.amount;
    let limits = &rule.limits;
    let refused_min = limits.min.is_some_and(|m| amount < m);
    let refused_max = limits.max.is_some_and(|m| amount > m);
    let refused_step = limits.step.is_some_and(|s| !amount.is_multiple_of(s));
    let refused_daily = limits.daily_max.is_some_and(|d| amount > d);
    for candidate in table.candidates(limits) {
        let Some(side) = candidate.side(direction) else {
            continue;
        };
        if !refused_min && side.min.is_some_and(|m| amount < m) {
            out.push(Rule::AmountBelowMinimum);
        }
        if !refused_max && side.max.is_some_and(|m| amount > m) {
            out.push(Rule::AmountAboveMaximum);
        }
        if !refused_step && candidate.step.is_some_and(|s| !amount.is_multiple_of(s)) {
            out.push(Rule::AmountStep);
        }
        if !refused_daily && side.daily.iter().any(|&d| amount > d) {
            out.push(Rule::AmountAboveDailyMaximum);
        }
    }
    for extra in rule.extras {
        let sent = payment.extras.iter().any(|(n, _)| *n == extra.name);
        if !sent && !extra.provenance.certainty.binds() {
            out.push(Rule::MissingExtra);
        }
    }
    out.sort_by_key(|r| r.as_str());
    out.dedup();
    out
}
