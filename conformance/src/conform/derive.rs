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
    CustomerIdKind, Direction, DirectionRule, Flow, ProviderRule, ProviderTable,
};
use paygate::gateway::validate::Rule;
use paygate::money::Amount;

use super::binding::{country_binds, currency_binds, expected_warnings, phone_binds};
use super::cases::{Case, CaseKind, PaymentSpec};
use super::group;
use super::hub2::derive::derive_cases as hub2_cases;
use super::payment_builders::{malformed_phone, smallest_valid_amount, valid_payment};
use super::{examples, handwritten};

/// Every case: the derived ones, the hand-written ones, the documentation's
/// examples and the HUB2 cases.
pub fn derive_cases(table: &'static ProviderTable) -> Vec<Case> {
    let mut cases = Vec::new();
    for provider in table.providers {
        for direction in Direction::BOTH {
            derive_for(table, provider, direction, &mut cases);
        }
    }
    handwritten::cross_cutting(table, &mut cases);
    handwritten::flows(table, &mut cases);
    handwritten::faults(table, &mut cases);
    examples::cases(&mut cases);
    cases.extend(hub2_cases());
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

/// What the cases of one provider and direction are derived from.
struct Deriving<'a> {
    table: &'a ProviderTable,
    provider: &'a ProviderRule,
    direction: Direction,
    rule: &'a DirectionRule,
    /// `{direction}/{provider id}`, the prefix of every case id.
    prefix: String,
    /// The payment every reading of the documentation accepts.
    valid: PaymentSpec,
    flow: Flow,
    out: &'a mut Vec<Case>,
}

fn derive_for(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
    out: &mut Vec<Case>,
) {
    let rule: &DirectionRule = provider.direction(direction);
    let prefix = format!("{}/{}", direction.as_str(), provider.id);
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
    let mut d = Deriving {
        table,
        provider,
        direction,
        rule,
        prefix,
        valid,
        flow: rule.flow(),
        out,
    };
    d.happy_path();
    d.boundaries();
    d.amount_refusals();
    d.phone();
    d.extras();
    d.country_and_currency();
    d.flows();
}

impl Deriving<'_> {
    /// Everything but the happy path is the same for provider 14 (safe on
    /// a real sandbox); accepted boundaries move money elsewhere.
    fn mark(&self, case: Case) -> Case {
        if self.provider.test_provider {
            case.safe()
        } else {
            case
        }
    }

    fn accept(&self, payment: PaymentSpec, lifecycle: bool) -> CaseKind {
        accept(payment, self.flow, self.table, lifecycle)
    }

    /// `{prefix}/{suffix}`: `payment` is refused for `rule` on `field`.
    fn reject(
        &mut self,
        suffix: &str,
        group: &'static str,
        payment: PaymentSpec,
        rule: Rule,
        field: &str,
    ) {
        let case = Case::new(
            format!("{}/{suffix}", self.prefix),
            group,
            CaseKind::Reject {
                payment,
                rule,
                field: field.to_owned(),
            },
        );
        let case = self.mark(case);
        self.out.push(case);
    }

    /// `{prefix}/{suffix}`: `payment` is accepted with the warnings it gives.
    fn accepted(&mut self, suffix: &str, group: &'static str, payment: PaymentSpec) {
        let kind = self.accept(payment, false);
        let case = self.mark(Case::new(format!("{}/{suffix}", self.prefix), group, kind));
        self.out.push(case);
    }

    /// The valid payment: accepted, final, with a verified callback
    /// (provider 14: its documented test behaviour).
    fn happy_path(&mut self) {
        let test_provider = self.provider.test_provider;
        let happy = Case::new(
            format!("{}/accepted", self.prefix),
            if test_provider {
                group::PROVIDER_14
            } else {
                group::HAPPY_PATH
            },
            self.accept(self.valid.clone(), true),
        );
        self.out.push(if test_provider {
            happy.safe()
        } else {
            happy.callbacks()
        });
    }

    /// Accepted at each binding boundary: the binding minimum and the
    /// largest multiple of the step up to the binding maximum.
    fn boundaries(&mut self) {
        let limits = &self.rule.limits;
        if let Some(min) = smallest_valid_amount(limits).filter(|_| limits.min.is_some()) {
            if min != self.valid.amount {
                self.accepted(
                    "accepted_at_minimum",
                    group::LIMITS,
                    self.valid.with_amount(min),
                );
            }
        }
        if let Some(max) = limits.max {
            let step = limits.step.map_or(1, Amount::minor).max(1);
            let top = Amount::from_minor(max.minor() / step * step);
            if top != self.valid.amount && limits.min.is_none_or(|m| top >= m) {
                self.accepted(
                    "accepted_at_maximum",
                    group::LIMITS,
                    self.valid.with_amount(top),
                );
            }
        }
    }

    /// Refused just below the binding minimum, just above the binding
    /// maximum and off the binding step.
    fn amount_refusals(&mut self) {
        let limits = &self.rule.limits;
        let (min, max, step) = (limits.min, limits.max, limits.step);
        if let Some(min) = min.filter(|m| m.minor() > 0) {
            let payment = self.valid.with_amount(Amount::from_minor(min.minor() - 1));
            self.reject(
                "amount_below_minimum",
                group::LIMITS,
                payment,
                Rule::AmountBelowMinimum,
                "amount",
            );
        }
        // No amount lies above a maximum of `u64::MAX` minor units.
        if let Some(above) = max.and_then(|max| max.minor().checked_add(1)) {
            let payment = self.valid.with_amount(Amount::from_minor(above));
            self.reject(
                "amount_above_maximum",
                group::LIMITS,
                payment,
                Rule::AmountAboveMaximum,
                "amount",
            );
        }
        if let Some(step) = step.filter(|s| s.minor() > 100) {
            let off = self
                .valid
                .amount
                .minor()
                .checked_add(100)
                .map(Amount::from_minor);
            if let Some(off) =
                off.filter(|off| max.is_none_or(|max| *off <= max) && !off.is_multiple_of(step))
            {
                let payment = self.valid.with_amount(off);
                self.reject(
                    "amount_step",
                    group::LIMITS,
                    payment,
                    Rule::AmountStep,
                    "amount",
                );
            }
        }
    }

    /// A number outside the phone format: refused where the format binds,
    /// accepted with a warning where it does not.
    fn phone(&mut self) {
        let Some(phone) = self.table.phone_for(self.provider) else {
            return;
        };
        if self.rule.customer_id_kind() != CustomerIdKind::Phone {
            return;
        }
        let Some(bad) = malformed_phone(&phone.format) else {
            return;
        };
        let payment = self.valid.with_customer(&bad);
        if phone_binds(self.table, self.provider, self.direction) {
            self.reject(
                "phone_format",
                group::PHONE,
                payment,
                Rule::PhoneFormat,
                "customer_id",
            );
        } else {
            self.accepted("warned/phone_format", group::WARNINGS, payment);
        }
    }

    /// Each required extra left out: refused where it binds, accepted with
    /// a warning where it does not.
    fn extras(&mut self) {
        for extra in self.rule.extras {
            let payment = self.valid.without_extra(extra.name);
            if extra.provenance.certainty.binds() {
                self.reject(
                    &format!("missing_extra/{}", extra.name),
                    group::EXTRAS,
                    payment,
                    Rule::MissingExtra,
                    &format!("extra.{}", extra.name),
                );
            } else {
                self.accepted(
                    &format!("warned/missing_extra/{}", extra.name),
                    group::WARNINGS,
                    payment,
                );
            }
        }
    }

    /// Another country (refused where the provider's country binds) and
    /// another currency (refused, or accepted with a warning).
    fn country_and_currency(&mut self) {
        let Some(country) = self.provider.country else {
            return;
        };
        let other = self
            .table
            .countries
            .iter()
            .find(|c| c.code != country)
            .map(|c| c.code);
        if let (Some(other), true) = (other, country_binds(self.table, self.provider)) {
            let payment = PaymentSpec {
                country: Some(other),
                ..self.valid.clone()
            };
            self.reject(
                "country_mismatch",
                group::COUNTRY,
                payment,
                Rule::CountryMismatch,
                "country",
            );
        }
        if let Some(currency) = self.table.currency_for(self.provider) {
            let other = if currency.code == "KES" { "XOF" } else { "KES" };
            let payment = PaymentSpec {
                currency: other,
                ..self.valid.clone()
            };
            if currency_binds(self.table, self.provider) {
                self.reject(
                    "currency_mismatch",
                    group::COUNTRY,
                    payment,
                    Rule::CurrencyMismatch,
                    "currency",
                );
            } else {
                self.accepted("warned/currency_mismatch", group::WARNINGS, payment);
            }
        }
    }

    /// The provider's flow: a wrong OTP fails, a redirect waits for the
    /// customer.
    fn flows(&mut self) {
        if self.provider.test_provider {
            return;
        }
        let prefix = &self.prefix;
        if self.flow == Flow::Otp && self.direction == Direction::C2b {
            self.out.push(
                Case::new(
                    format!("{prefix}/otp_wrong"),
                    group::FLOWS,
                    CaseKind::OtpWrong {
                        payment: self.valid.with_extra("otp", "0000"),
                    },
                )
                .callbacks(),
            );
        }
        if self.flow == Flow::Redirect {
            self.out.push(Case::new(
                format!("{prefix}/redirect_required"),
                group::FLOWS,
                CaseKind::Redirect {
                    payment: self.valid.clone(),
                },
            ));
        }
    }
}
