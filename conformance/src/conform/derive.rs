//! The case list, derived from the provider table (and the documentation's
//! printed examples), not written one by one.
//!
//! For every provider and direction:
//!
//! * `happy-path`: a payment every reading of the documentation accepts
//!   (all extras, the documented phone example, an amount inside every
//!   candidate limits table): sent without a warning, accepted, final with
//!   a verified callback;
//! * `limits`, accepted at each binding boundary (the binding minimum and
//!   maximum exactly), with exactly the warnings the stricter candidate
//!   tables give; refused just below the binding minimum, just above the
//!   binding maximum and off the binding step;
//! * `phone`, `extras`, `country`: refused on each binding fact (the phone
//!   format, each required extra, the provider's country and currency);
//! * `warnings`: accepted, with a warning, on each fact the documentation
//!   is unsure of (an extra it may need, a phone format it contradicts, an
//!   assumed currency).
//!
//! Negative cases come only from binding facts (documented or inferred, or
//! the loosest of several readings); a refusal is checked twice: the
//! client's pre-flight refuses it without sending anything, and the target
//! refuses the same body signed and sent directly (HTTP 422 naming the rule
//! and field). The expected warnings are computed here from the table's
//! data, independently of the client's validator.

use paygate::gateway::rules::{
    CustomerIdKind, Direction, DirectionRule, Flow, Limits, ProviderRule, ProviderTable,
};
use paygate::gateway::validate::Rule;
use paygate::money::Amount;

use super::cases::{Case, CaseKind, PaymentSpec};
use super::group;

/// The position of an `extra` field in the spec's `RequestExtra`, so that
/// the fields are always sent in wire order.
pub(crate) fn extra_rank(name: &str) -> usize {
    const ORDER: [&str; 11] = [
        "otp",
        "customer_name",
        "customer_email",
        "bank_code",
        "bic",
        "return_url",
        "customer_doc_type",
        "customer_doc_number",
        "customer_ip",
        "customer_phone",
        "operator_otp",
    ];
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}

/// A plausible value for an `extra` field.
pub fn extra_value(name: &str) -> String {
    match name {
        "otp" => "1234",
        "customer_name" => "Awa Traore",
        "customer_email" => "awa.traore@example.com",
        "bank_code" => "000001",
        "bic" => "NLCBTZTX",
        "return_url" => "https://merchant.example/return",
        "customer_doc_type" => "national_id",
        "customer_doc_number" => "A123456789",
        "customer_ip" => "203.0.113.45",
        "customer_phone" => "254700000001",
        "operator_otp" => "777777",
        _ => "conformance",
    }
    .to_owned()
}

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
fn country_binds(table: &ProviderTable, provider: &ProviderRule) -> bool {
    provider
        .country
        .and_then(|c| table.country(c))
        .is_some_and(|c| c.identified.certainty.binds())
}

/// Whether the provider's currency is binding.
fn currency_binds(table: &ProviderTable, provider: &ProviderRule) -> bool {
    country_binds(table, provider)
        && table
            .currency_for(provider)
            .is_some_and(|c| c.provenance.certainty.binds())
}

fn round_up(minor: u64, step: u64) -> Option<u64> {
    if step == 0 || minor.is_multiple_of(step) {
        Some(minor)
    } else {
        (minor / step).checked_add(1)?.checked_mul(step)
    }
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

fn lcm(a: u64, b: u64) -> Option<u64> {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    (a / x.max(1)).checked_mul(b)
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

/// Every case: the derived ones, the hand-written ones, the documentation's
/// examples and the HUB2 cases.
pub fn derive_cases(table: &'static ProviderTable) -> Vec<Case> {
    let mut cases = Vec::new();
    for provider in table.providers {
        for direction in Direction::BOTH {
            derive_for(table, provider, direction, &mut cases);
        }
    }
    super::handwritten::cross_cutting(table, &mut cases);
    super::handwritten::flows(table, &mut cases);
    super::examples::cases(&mut cases);
    cases.extend(super::hub2::derive_cases());
    cases
}

fn accept(payment: PaymentSpec, flow: Flow, table: &ProviderTable, lifecycle: bool) -> CaseKind {
    CaseKind::Accept {
        warned: expected_warnings(table, &payment),
        payment,
        flow,
        lifecycle,
    }
}

fn derive_for(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
    out: &mut Vec<Case>,
) {
    let rule: &DirectionRule = provider.direction(direction);
    let prefix = format!("{}/{}", direction.as_str(), provider.id);
    let test_provider = provider.test_provider;
    let Some(valid) = valid_payment(table, provider, direction) else {
        out.push(Case::new(
            format!("{prefix}/no_valid_amount"),
            group::HAPPY_PATH,
            CaseKind::SpecError(format!(
                "the rules of provider {} leave no valid {} amount (minimum/step above the maximum)",
                provider.id,
                direction.as_str()
            )),
        ));
        return;
    };
    let flow = rule.flow();
    let happy = Case::new(
        format!("{prefix}/accepted"),
        if test_provider {
            group::PROVIDER_14
        } else {
            group::HAPPY_PATH
        },
        accept(valid.clone(), flow, table, true),
    );
    out.push(if test_provider {
        happy.safe()
    } else {
        happy.callbacks()
    });
    // Everything else rejected or warned is the same for provider 14 (safe
    // on a real sandbox); accepted boundaries move money elsewhere.
    let mark = |case: Case| if test_provider { case.safe() } else { case };

    // Accepted at each binding boundary.
    let limits = &rule.limits;
    if let Some(min) = smallest_valid_amount(limits).filter(|_| limits.min.is_some()) {
        if min != valid.amount {
            out.push(mark(Case::new(
                format!("{prefix}/accepted_at_minimum"),
                group::LIMITS,
                accept(valid.with_amount(min), flow, table, false),
            )));
        }
    }
    if let Some(max) = limits.max {
        let step = limits.step.map_or(1, Amount::minor).max(1);
        let top = Amount::from_minor(max.minor() / step * step);
        if top != valid.amount && limits.min.is_none_or(|m| top >= m) {
            out.push(mark(Case::new(
                format!("{prefix}/accepted_at_maximum"),
                group::LIMITS,
                accept(valid.with_amount(top), flow, table, false),
            )));
        }
    }

    let reject =
        |suffix: &str, group: &'static str, payment: PaymentSpec, rule: Rule, field: &str| {
            mark(Case::new(
                format!("{prefix}/{suffix}"),
                group,
                CaseKind::Reject {
                    payment,
                    rule,
                    field: field.to_owned(),
                },
            ))
        };
    if let Some(min) = limits.min.filter(|m| m.minor() > 0) {
        out.push(reject(
            "amount_below_minimum",
            group::LIMITS,
            valid.with_amount(Amount::from_minor(min.minor() - 1)),
            Rule::AmountBelowMinimum,
            "amount",
        ));
    }
    if let Some(max) = limits.max {
        out.push(reject(
            "amount_above_maximum",
            group::LIMITS,
            valid.with_amount(Amount::from_minor(max.minor() + 1)),
            Rule::AmountAboveMaximum,
            "amount",
        ));
    }
    if let Some(step) = limits.step.filter(|s| s.minor() > 100) {
        let off = Amount::from_minor(valid.amount.minor() + 100);
        if limits.max.is_none_or(|max| off <= max) && !off.is_multiple_of(step) {
            out.push(reject(
                "amount_step",
                group::LIMITS,
                valid.with_amount(off),
                Rule::AmountStep,
                "amount",
            ));
        }
    }
    if let Some(phone) = table.phone_for(provider) {
        if rule.customer_id_kind() == CustomerIdKind::Phone {
            if let Some(bad) = malformed_phone(&phone.format) {
                let payment = valid.with_customer(&bad);
                if phone_binds(table, provider, direction) {
                    out.push(reject(
                        "phone_format",
                        group::PHONE,
                        payment,
                        Rule::PhoneFormat,
                        "customer_id",
                    ));
                } else {
                    out.push(mark(Case::new(
                        format!("{prefix}/warned/phone_format"),
                        group::WARNINGS,
                        accept(payment, flow, table, false),
                    )));
                }
            }
        }
    }
    for extra in rule.extras {
        let payment = valid.without_extra(extra.name);
        if extra.provenance.certainty.binds() {
            out.push(reject(
                &format!("missing_extra/{}", extra.name),
                group::EXTRAS,
                payment,
                Rule::MissingExtra,
                &format!("extra.{}", extra.name),
            ));
        } else {
            out.push(mark(Case::new(
                format!("{prefix}/warned/missing_extra/{}", extra.name),
                group::WARNINGS,
                accept(payment, flow, table, false),
            )));
        }
    }
    if let Some(country) = provider.country {
        let other = table
            .countries
            .iter()
            .find(|c| c.code != country)
            .map(|c| c.code);
        if let (Some(other), true) = (other, country_binds(table, provider)) {
            let payment = PaymentSpec {
                country: Some(other),
                ..valid.clone()
            };
            out.push(reject(
                "country_mismatch",
                group::COUNTRY,
                payment,
                Rule::CountryMismatch,
                "country",
            ));
        }
        if let Some(currency) = table.currency_for(provider) {
            let other = if currency.code == "KES" { "XOF" } else { "KES" };
            let payment = PaymentSpec {
                currency: other,
                ..valid.clone()
            };
            if currency_binds(table, provider) {
                out.push(reject(
                    "currency_mismatch",
                    group::COUNTRY,
                    payment,
                    Rule::CurrencyMismatch,
                    "currency",
                ));
            } else {
                out.push(mark(Case::new(
                    format!("{prefix}/warned/currency_mismatch"),
                    group::WARNINGS,
                    accept(payment, flow, table, false),
                )));
            }
        }
    }
    if !test_provider && flow == Flow::Otp && direction == Direction::C2b {
        out.push(
            Case::new(
                format!("{prefix}/otp_wrong"),
                group::FLOWS,
                CaseKind::OtpWrong {
                    payment: valid.with_extra("otp", "0000"),
                },
            )
            .callbacks(),
        );
    }
    if !test_provider && flow == Flow::Redirect {
        out.push(Case::new(
            format!("{prefix}/redirect_required"),
            group::FLOWS,
            CaseKind::Redirect {
                payment: valid.clone(),
            },
        ));
    }
}
