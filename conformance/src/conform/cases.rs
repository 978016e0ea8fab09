//! The case list, derived from the provider table.
//!
//! For every provider and every direction it supports:
//!
//! * `happy-path`: the smallest valid amount, the documented example phone
//!   number and every required `extra` field; the payment must be accepted
//!   and (except for provider 14) reach a final state with a verified
//!   callback;
//! * `limits`: just below the minimum, just above the maximum, off the step;
//! * `phone`: the example number with its last digit removed;
//! * `extras`: each required `extra` field left out.
//!
//! Each rejected payment is checked twice: the client's pre-flight
//! validation must refuse it without sending anything, and the target must
//! refuse the same body when it is signed and sent directly.
//!
//! The cross-cutting and flow cases below are written by hand, but still
//! pick their providers from the table (the first one with the flow they
//! need), so a spec change moves them along.

use paygate::money::Amount;
use paygate::rules::{Direction, DirectionRule, Flow, PhoneFormat, ProviderRule, ProviderTable};
use paygate::validate::Rule;

use super::group;

/// The provider the gateway documents as its test simulator.
pub const TEST_PROVIDER: u32 = 14;

/// What a case needs from the target beyond the payment API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The simulator's `/_sim/...` control API.
    pub control_api: bool,
    /// Callbacks from the target reaching the suite's receiver.
    pub callbacks: bool,
    /// A HUB2 target (the embedded simulator's, or HUB2 credentials with
    /// `--base-url`).
    pub hub2: bool,
}

/// A payment's business fields, before the order id, callback URL,
/// merchant id and signature are added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSpec {
    /// C2B or B2C.
    pub direction: Direction,
    /// `provider_id`.
    pub provider_id: u32,
    /// `country`, if sent.
    pub country: Option<&'static str>,
    /// `currency`.
    pub currency: &'static str,
    /// `amount`.
    pub amount: Amount,
    /// `customer_id` (the phone number).
    pub customer_id: String,
    /// `extra` fields, in the order of the spec's `RequestExtra`.
    pub extras: Vec<(&'static str, String)>,
}

impl PaymentSpec {
    /// The same payment without the `extra.<name>` field.
    pub fn without_extra(&self, name: &str) -> PaymentSpec {
        let mut spec = self.clone();
        spec.extras.retain(|(n, _)| *n != name);
        spec
    }

    /// The same payment with `extra.<name>` set to `value`.
    pub fn with_extra(&self, name: &'static str, value: &str) -> PaymentSpec {
        let mut spec = self.clone();
        match spec.extras.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value.to_owned(),
            None => spec.extras.push((name, value.to_owned())),
        }
        spec.extras.sort_by_key(|(n, _)| extra_rank(n));
        spec
    }

    /// The same payment for another customer.
    pub fn with_customer(&self, customer_id: &str) -> PaymentSpec {
        PaymentSpec {
            customer_id: customer_id.to_owned(),
            ..self.clone()
        }
    }

    /// The same payment for another amount.
    pub fn with_amount(&self, amount: Amount) -> PaymentSpec {
        PaymentSpec {
            amount,
            ..self.clone()
        }
    }

    /// The `operationId` this payment is sent to.
    pub fn operation(&self) -> &'static str {
        match self.direction {
            Direction::C2b => "payment_c2b",
            Direction::B2c => "payment_b2c",
        }
    }
}

/// What a case does; see `checks.rs` for how each is run.
#[derive(Clone, Debug)]
pub enum CaseKind {
    /// The spec data itself is inconsistent; the case fails with this text.
    SpecError(String),
    /// A valid payment: accepted, then final with a verified callback
    /// (provider 14: stays in progress with provider result -8888 "Good").
    Accept {
        /// The payment.
        payment: PaymentSpec,
        /// The provider's flow in this direction.
        flow: Flow,
    },
    /// An invalid payment: refused by the client's pre-flight and, sent
    /// signed and raw, by the target with HTTP 422 / code 10422.
    Reject {
        /// The payment.
        payment: PaymentSpec,
        /// The rule it breaks.
        rule: Rule,
        /// The field the violation must name.
        field: String,
    },
    /// The client refuses an order id before sending (length or charset).
    BadOrderId {
        /// The order id.
        order_id: String,
        /// The rule it breaks.
        rule: Rule,
    },
    /// An OTP payment with the wrong OTP `0000` ends failed (status 3).
    OtpWrong {
        /// The payment (with `extra.otp` = `0000`).
        payment: PaymentSpec,
    },
    /// The magic customer numbers: the payment ends in `status`.
    MagicOutcome {
        /// The payment (customer ending in 001, 002 or 003).
        payment: PaymentSpec,
        /// The status expected (3, 4, or 1 = never final).
        status: i64,
    },
    /// Provider 14: status 1, provider result -8888 "Good", status query
    /// stays 1, and no callback arrives.
    Provider14NoCallback {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A signed body changed after signing is refused with 10201.
    SignatureTampered {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A body without `signature` is refused with 10201.
    SignatureMissing {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A body signed with another key is refused with 10201.
    SignatureWrongKey {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A correctly signed body with another merchant id is refused with 10201.
    WrongMerchantId {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A signed body to an unknown public id is refused with 10404.
    UnknownPublicId {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A malformed body is refused with HTTP 400 / code 10400, never 5xx.
    Malformed {
        /// What is wrong with it.
        variant: MalformedBody,
        /// The payment the body is built from.
        payment: PaymentSpec,
    },
    /// The same body twice gives byte-identical answers.
    IdempotentReplay {
        /// The payment.
        payment: PaymentSpec,
    },
    /// The same order id with another body is refused with 10409.
    OrderIdReuse {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A received callback verifies; a tampered copy does not.
    CallbackSignature {
        /// The payment.
        payment: PaymentSpec,
    },
    /// The redirect flow: the status response has `extra.customer_redirect`,
    /// the payment stays open until the customer visits it.
    Redirect {
        /// The payment.
        payment: PaymentSpec,
    },
    /// A B2C payout whose provider wants an OTP, sent without one:
    /// status 0 with `confirm_type` 1, then confirmed by the same request
    /// with `extra.otp`.
    B2cConfirm {
        /// The payout (without `extra.otp`).
        payment: PaymentSpec,
        /// The provider table has no B2C OTP flow: the case starts its own
        /// simulator whose table gives this provider's B2C an OTP flow.
        own_simulator: bool,
    },
    /// A POS deposit: a callback with operation type 20.
    PosDeposit {
        /// Amount, currency, country and customer.
        payment: PaymentSpec,
    },
    /// A POS withdrawal: status 7, then a callback with operation type 21.
    PosWithdrawal {
        /// Amount, currency, country, customer and provider.
        payment: PaymentSpec,
    },
    /// The control API forces an outcome; status and callback follow it.
    ForcedOutcome {
        /// The payment (customer ending in 003, so it never ends alone).
        payment: PaymentSpec,
        /// The status forced.
        status: i64,
    },
    /// A HUB2 case; see [`super::hub2`].
    Hub2(super::hub2::Hub2Case),
}

/// The kinds of malformed body the target must refuse cleanly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MalformedBody {
    /// The JSON ends in the middle.
    Truncated,
    /// Not JSON at all.
    NotJson,
    /// A JSON array instead of an object.
    NotAnObject,
    /// `amount` as a JSON number (the spec says string), correctly signed.
    AmountAsNumber,
    /// `amount` with one decimal, correctly signed.
    AmountOneDecimal,
    /// No `order_id`, correctly signed.
    MissingOrderId,
}

impl MalformedBody {
    /// Every variant.
    pub const ALL: [MalformedBody; 6] = [
        MalformedBody::Truncated,
        MalformedBody::NotJson,
        MalformedBody::NotAnObject,
        MalformedBody::AmountAsNumber,
        MalformedBody::AmountOneDecimal,
        MalformedBody::MissingOrderId,
    ];

    /// Short name for the case id.
    pub fn name(self) -> &'static str {
        match self {
            MalformedBody::Truncated => "truncated_json",
            MalformedBody::NotJson => "not_json",
            MalformedBody::NotAnObject => "not_an_object",
            MalformedBody::AmountAsNumber => "amount_as_number",
            MalformedBody::AmountOneDecimal => "amount_one_decimal",
            MalformedBody::MissingOrderId => "missing_order_id",
        }
    }

    /// The JSON path the error message must name, if the body parses.
    pub fn path(self) -> Option<&'static str> {
        match self {
            MalformedBody::AmountAsNumber | MalformedBody::AmountOneDecimal => Some("amount"),
            MalformedBody::MissingOrderId => Some("order_id"),
            _ => None,
        }
    }
}

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Stable id, e.g. `c2b/2303/amount_below_minimum`.
    pub id: String,
    /// Report group, e.g. `limits` (see [`super::group`]).
    pub group: &'static str,
    /// Whether it may run against a real sandbox: it only uses provider 14
    /// or never sends anything.
    pub sandbox_safe: bool,
    /// What it needs beyond the payment API.
    pub needs: Needs,
    /// What it does.
    pub kind: CaseKind,
}

impl Case {
    fn new(id: impl Into<String>, group: &'static str, kind: CaseKind) -> Case {
        Case {
            id: id.into(),
            group,
            sandbox_safe: false,
            needs: Needs::default(),
            kind,
        }
    }

    fn safe(mut self) -> Case {
        self.sandbox_safe = true;
        self
    }

    fn callbacks(mut self) -> Case {
        self.needs.callbacks = true;
        self
    }

    fn control(mut self) -> Case {
        self.needs.control_api = true;
        self
    }
}

/// The position of an `extra` field in the spec's `RequestExtra`, so that
/// the fields are always sent in wire order.
fn extra_rank(name: &str) -> usize {
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

/// A plausible value for a required `extra` field.
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

/// The phone format that applies to a provider (its own, else its
/// country's).
pub fn phone_format(table: &ProviderTable, provider: &ProviderRule) -> Option<PhoneFormat> {
    provider.phone.or_else(|| {
        provider
            .country
            .and_then(|c| table.country(c))
            .map(|c| c.phone)
    })
}

/// The smallest amount the rule accepts: the larger of the minimum and the
/// step, rounded up to a multiple of the step; `100.00` when neither is
/// set. `None` if that is above the maximum.
pub fn smallest_valid_amount(rule: &DirectionRule) -> Option<Amount> {
    let min = rule.min.map_or(0, Amount::minor);
    let step = rule.step.map_or(0, Amount::minor);
    let mut minor = min.max(step);
    if minor == 0 {
        minor = 10_000;
    }
    if step > 0 && !minor.is_multiple_of(step) {
        minor = (minor / step + 1) * step;
    }
    let amount = Amount::from_minor(minor);
    match rule.max {
        Some(max) if amount > max => None,
        _ => Some(amount),
    }
}

/// A number in `format` that it does not accept: the example with its last
/// digit removed (or, if that still matches, with one digit added).
pub fn malformed_phone(format: &PhoneFormat) -> Option<String> {
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
/// (the simulator's magic customer numbers), if it stays in the format.
pub fn magic_phone(format: Option<&PhoneFormat>, base: &str, suffix: &str) -> Option<String> {
    if base.len() < suffix.len() {
        return None;
    }
    let number = format!("{}{suffix}", &base[..base.len() - suffix.len()]);
    match format {
        Some(f) if !f.matches(&number) => None,
        _ => Some(number),
    }
}

/// The valid payment for one provider and direction, or `None` if the rules
/// leave no valid amount.
pub fn valid_payment(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
) -> Option<PaymentSpec> {
    let rule = provider.direction(direction)?;
    let amount = smallest_valid_amount(rule)?;
    let (country, currency) = if provider.id == TEST_PROVIDER && provider.country.is_none() {
        (Some("CI"), provider.currency.unwrap_or("XOF"))
    } else {
        let currency = provider
            .currency
            .or_else(|| {
                provider
                    .country
                    .and_then(|c| table.country(c))
                    .map(|c| c.currency)
            })
            .unwrap_or("XOF");
        (provider.country, currency)
    };
    let customer_id = match phone_format(table, provider) {
        Some(format) => format.example.to_owned(),
        None => country.and_then(|c| table.country(c)).map_or_else(
            || "2250000000000".to_owned(),
            |c| c.phone.example.to_owned(),
        ),
    };
    let mut extras: Vec<(&'static str, String)> = rule
        .extras
        .iter()
        .map(|name| (*name, extra_value(name)))
        .collect();
    extras.sort_by_key(|(n, _)| extra_rank(n));
    Some(PaymentSpec {
        direction,
        provider_id: provider.id,
        country,
        currency,
        amount,
        customer_id,
        extras,
    })
}

const DIRECTIONS: [Direction; 2] = [Direction::C2b, Direction::B2c];

/// Every case, derived from `table`.
pub fn derive_cases(table: &ProviderTable) -> Vec<Case> {
    let mut cases = Vec::new();
    for provider in table.providers {
        for direction in DIRECTIONS {
            derive_for(table, provider, direction, &mut cases);
        }
    }
    cross_cutting(table, &mut cases);
    flows(table, &mut cases);
    cases.extend(super::hub2::derive_cases());
    cases
}

fn derive_for(
    table: &ProviderTable,
    provider: &ProviderRule,
    direction: Direction,
    out: &mut Vec<Case>,
) {
    let Some(rule) = provider.direction(direction) else {
        return;
    };
    let prefix = format!("{}/{}", direction.as_str(), provider.id);
    let test_provider = provider.id == TEST_PROVIDER;
    let Some(valid) = valid_payment(table, provider, direction) else {
        // No amount satisfies the rules: still worth a visible case.
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
    let accept = Case::new(
        format!("{prefix}/accepted"),
        if test_provider {
            group::PROVIDER_14
        } else {
            group::HAPPY_PATH
        },
        CaseKind::Accept {
            payment: valid.clone(),
            flow: rule.flow,
        },
    );
    out.push(if test_provider {
        accept.safe()
    } else {
        accept.callbacks()
    });

    let reject =
        |suffix: &str, group: &'static str, payment: PaymentSpec, rule: Rule, field: &str| {
            let case = Case::new(
                format!("{prefix}/{suffix}"),
                group,
                CaseKind::Reject {
                    payment,
                    rule,
                    field: field.to_owned(),
                },
            );
            // The suite checks that the client sent nothing through the
            // control API when it has it; it is not required.
            if test_provider {
                case.safe()
            } else {
                case
            }
        };

    if let Some(min) = rule.min.filter(|m| m.minor() > 0) {
        let below = Amount::from_minor(min.minor() - 1);
        out.push(reject(
            "amount_below_minimum",
            group::LIMITS,
            valid.with_amount(below),
            Rule::AmountBelowMinimum,
            "amount",
        ));
    }
    if let Some(max) = rule.max {
        let above = Amount::from_minor(max.minor() + 1);
        out.push(reject(
            "amount_above_maximum",
            group::LIMITS,
            valid.with_amount(above),
            Rule::AmountAboveMaximum,
            "amount",
        ));
    }
    if let Some(step) = rule.step.filter(|s| s.minor() > 0) {
        let one = Amount::from_minor(100);
        let off = Amount::from_minor(valid.amount.minor() + one.minor());
        let within = rule.max.is_none_or(|max| off <= max);
        if !one.is_multiple_of(step) && within {
            out.push(reject(
                "amount_step",
                group::LIMITS,
                valid.with_amount(off),
                Rule::AmountStep,
                "amount",
            ));
        }
    }
    if let Some(format) = phone_format(table, provider) {
        if let Some(bad) = malformed_phone(&format) {
            out.push(reject(
                "phone_format",
                group::PHONE,
                valid.with_customer(&bad),
                Rule::PhoneFormat,
                "customer_id",
            ));
        }
    }
    for extra in rule.extras {
        out.push(reject(
            &format!("missing_extra/{extra}"),
            group::EXTRAS,
            valid.without_extra(extra),
            Rule::MissingExtra,
            &format!("extra.{extra}"),
        ));
    }
    if !test_provider && rule.flow == Flow::Otp && rule.extras.contains(&"otp") {
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
    if !test_provider && rule.flow == Flow::Redirect {
        out.push(Case::new(
            format!("{prefix}/redirect_required"),
            group::FLOWS,
            CaseKind::Redirect {
                payment: valid.clone(),
            },
        ));
    }
}

/// The first provider (other than 14) whose rule in `direction` satisfies `pred`.
fn pick(
    table: &ProviderTable,
    direction: Direction,
    pred: impl Fn(&DirectionRule) -> bool,
) -> Option<&'static ProviderRule> {
    table
        .providers
        .iter()
        .find(|p| p.id != TEST_PROVIDER && p.direction(direction).is_some_and(&pred))
}

fn standard_no_extras(rule: &DirectionRule) -> bool {
    rule.flow == Flow::Standard && rule.extras.is_empty()
}

fn cross_cutting(table: &ProviderTable, out: &mut Vec<Case>) {
    // Order ids: client-side only.
    out.push(
        Case::new(
            "order_id/too_long",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: "a".repeat(129),
                rule: Rule::OrderIdLength,
            },
        )
        .safe(),
    );
    out.push(
        Case::new(
            "order_id/charset_hash",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: "order#1".into(),
                rule: Rule::OrderIdCharset,
            },
        )
        .safe(),
    );
    out.push(
        Case::new(
            "order_id/empty",
            group::ORDER_ID,
            CaseKind::BadOrderId {
                order_id: String::new(),
                rule: Rule::OrderIdLength,
            },
        )
        .safe(),
    );

    // Everything that can go through provider 14 does, so it is safe on a
    // real sandbox.
    let test = table.provider(TEST_PROVIDER);
    for direction in DIRECTIONS {
        let Some(payment) = test.and_then(|p| valid_payment(table, p, direction)) else {
            continue;
        };
        let d = direction.as_str();
        out.push(
            Case::new(
                format!("provider-14/{d}/no_callback"),
                group::PROVIDER_14,
                CaseKind::Provider14NoCallback {
                    payment: payment.clone(),
                },
            )
            .safe()
            .callbacks(),
        );
        out.push(
            Case::new(
                format!("security/{d}/signature_tampered"),
                group::SECURITY,
                CaseKind::SignatureTampered {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        out.push(
            Case::new(
                format!("idempotency/{d}/replay_identical"),
                group::IDEMPOTENCY,
                CaseKind::IdempotentReplay {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        out.push(
            Case::new(
                format!("idempotency/{d}/order_id_reuse"),
                group::IDEMPOTENCY,
                CaseKind::OrderIdReuse {
                    payment: payment.clone(),
                },
            )
            .safe(),
        );
        if direction == Direction::C2b {
            out.push(
                Case::new(
                    "security/signature_missing",
                    group::SECURITY,
                    CaseKind::SignatureMissing {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/signature_wrong_key",
                    group::SECURITY,
                    CaseKind::SignatureWrongKey {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/wrong_merchant_id",
                    group::SECURITY,
                    CaseKind::WrongMerchantId {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            out.push(
                Case::new(
                    "security/unknown_public_id",
                    group::SECURITY,
                    CaseKind::UnknownPublicId {
                        payment: payment.clone(),
                    },
                )
                .safe(),
            );
            for variant in MalformedBody::ALL {
                out.push(
                    Case::new(
                        format!("security/malformed/{}", variant.name()),
                        group::SECURITY,
                        CaseKind::Malformed {
                            variant,
                            payment: payment.clone(),
                        },
                    )
                    .safe(),
                );
            }
        }
    }

    // Callbacks and final states need a provider that completes.
    for direction in DIRECTIONS {
        let d = direction.as_str();
        let Some(provider) = pick(table, direction, standard_no_extras) else {
            continue;
        };
        let Some(payment) = valid_payment(table, provider, direction) else {
            continue;
        };
        out.push(
            Case::new(
                format!("callbacks/{d}/{}/signature_verifies", provider.id),
                group::CALLBACKS,
                CaseKind::CallbackSignature {
                    payment: payment.clone(),
                },
            )
            .callbacks(),
        );
        let format = phone_format(table, provider);
        for (suffix, status, name) in [
            ("001", 3, "failed"),
            ("002", 4, "cancelled"),
            ("003", 1, "stays_in_progress"),
        ] {
            if let Some(phone) = magic_phone(format.as_ref(), &payment.customer_id, suffix) {
                let case = Case::new(
                    format!("flows/{d}/{}/customer_{suffix}_{name}", provider.id),
                    group::FLOWS,
                    CaseKind::MagicOutcome {
                        payment: payment.with_customer(&phone),
                        status,
                    },
                );
                out.push(if status == 1 { case } else { case.callbacks() });
            }
        }
        if let Some(phone) = magic_phone(format.as_ref(), &payment.customer_id, "003") {
            for (status, name) in [(2, "success"), (3, "failed")] {
                out.push(
                    Case::new(
                        format!("flows/{d}/{}/forced_outcome_{name}", provider.id),
                        group::FLOWS,
                        CaseKind::ForcedOutcome {
                            payment: payment.with_customer(&phone),
                            status,
                        },
                    )
                    .control()
                    .callbacks(),
                );
            }
        }
    }
}

fn flows(table: &ProviderTable, out: &mut Vec<Case>) {
    // B2C confirmation: the first B2C provider whose flow is OTP. The
    // documented tables have none, so then the case takes the first
    // provider whose C2B flow is OTP and runs against a simulator of its
    // own in which that provider's payouts use the OTP flow too.
    let documented = pick(table, Direction::B2c, |r| r.flow == Flow::Otp);
    let chosen = documented.or_else(|| {
        pick(table, Direction::C2b, |r| r.flow == Flow::Otp).filter(|p| p.b2c.is_some())
    });
    if let Some(provider) = chosen {
        if let Some(payment) = valid_payment(table, provider, Direction::B2c) {
            let case = Case::new(
                format!("flows/b2c/{}/confirm_type_otp", provider.id),
                group::FLOWS,
                CaseKind::B2cConfirm {
                    payment: payment.without_extra("otp"),
                    own_simulator: documented.is_none(),
                },
            )
            .callbacks();
            out.push(if documented.is_none() {
                case.control()
            } else {
                case
            });
        }
    }
    // POS: deposits and withdrawals in the currency of a standard provider.
    if let Some(provider) = pick(table, Direction::C2b, standard_no_extras) {
        if let Some(payment) = valid_payment(table, provider, Direction::C2b) {
            out.push(
                Case::new(
                    "flows/pos/deposit",
                    group::FLOWS,
                    CaseKind::PosDeposit {
                        payment: payment.clone(),
                    },
                )
                .callbacks(),
            );
            out.push(
                Case::new(
                    "flows/pos/withdrawal",
                    group::FLOWS,
                    CaseKind::PosWithdrawal { payment },
                )
                .callbacks(),
            );
        }
    }
}
