//! What a conformance case is: its id, group, needs and kind. The list
//! itself is derived from the provider table in [`super::derive`].

use paygate::gateway::rules::{Direction, Flow};
use paygate::gateway::validate::Rule;
use paygate::gateway::Status;
use paygate::money::Amount;

use super::extras::extra_rank;
use super::hub2::case::Hub2Case;

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

/// What a case does; see `checks/` for how each is run.
#[derive(Clone, Debug)]
pub enum CaseKind {
    /// The spec data itself is inconsistent; the case fails with this text.
    SpecError(String),
    /// A valid payment: the client sends it (raising exactly the
    /// `warned` rules as warnings), the target accepts it, and it ends
    /// final with a verified callback (provider 14: stays in progress with
    /// provider result -8888 "Good").
    Accept {
        /// The payment.
        payment: PaymentSpec,
        /// The provider's flow in this direction.
        flow: Flow,
        /// The warnings the client must raise (rules some reading of the
        /// documentation enforces), as a sorted set of rules.
        warned: Vec<Rule>,
        /// Follow it to its final state and callback (else: accepted is
        /// enough).
        lifecycle: bool,
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
        /// The payment (customer ending in 001, 002, 003 or 004).
        payment: PaymentSpec,
        /// The status expected (failed, cancelled, undefined, or in
        /// progress = never final).
        status: Status,
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
    /// The confirmation round: a payout whose first answer has a non-zero
    /// `confirm_type` (the simulator's customer numbers ending in `007`)
    /// is confirmed by the same request with `extra.otp`.
    B2cConfirm {
        /// The payout (without `extra.otp`).
        payment: PaymentSpec,
    },
    /// An OTP provider's payment sent without the OTP stays in progress
    /// until a `status` request carries `customer_id` and `extra.otp`
    /// (seed 002's status example), then completes.
    OtpViaStatus {
        /// The payment (without `extra.otp`).
        payment: PaymentSpec,
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
    /// A POS withdrawal whose first answer asks for a confirmation
    /// (`confirm_type` 1), confirmed with `extra.otp`.
    PosWithdrawalConfirm {
        /// Amount, currency, country, customer (ending in `007`).
        payment: PaymentSpec,
    },
    /// The withdrawal pre-authorisation: a C2B payment held (status 6,
    /// success_hold) until a POS withdrawal for the same customer consumes
    /// it (then the hold becomes 2).
    PreAuthorisedWithdrawal {
        /// The C2B pre-authorisation (customer ending in `006`).
        payment: PaymentSpec,
    },
    /// A POS deposit that ends in 5 (cancelled partially, "related to POS
    /// payments") sends no callback.
    PosPartiallyCancelled {
        /// Amount, currency, country, customer (ending in `005`).
        payment: PaymentSpec,
    },
    /// A POS operation that does not succeed sends no callback (POS
    /// callbacks come "after every successful operation").
    PosFailedNoCallback {
        /// Amount, currency, country, customer (ending in `001`).
        payment: PaymentSpec,
    },
    /// Daily cumulative limits: payments up to the binding daily maximum
    /// are accepted, the one that passes it is refused (HTTP 422).
    DailyLimit {
        /// One payment of the series.
        payment: PaymentSpec,
        /// The binding daily maximum.
        daily_max: Amount,
    },
    /// A bulk payout of two items: created, listed in its details, then
    /// cancelled.
    BulkPayout {
        /// The payout each item is built from.
        payment: PaymentSpec,
    },
    /// A request example printed in the documentation: it passes the
    /// client's pre-flight and the target accepts it as printed.
    SeedExample {
        /// The example's id in `spec/gateway/examples.yaml`.
        example: String,
    },
    /// The control API forces an outcome; status and callback follow it.
    ForcedOutcome {
        /// The payment (customer ending in 003, so it never ends alone).
        payment: PaymentSpec,
        /// The status forced.
        status: Status,
    },
    /// Payments through a merchant whose fault profile disrupts answers
    /// after they are stored and callbacks: every cart is resolved by the
    /// client, none is debited twice, every callback verifies. With
    /// `expect_failure` the case passes only if that check fails (the proof,
    /// run with `recovery` off, that it can).
    AmbiguousFaults {
        /// The payment each cart is built from.
        payment: PaymentSpec,
        /// How many carts.
        payments: u32,
        /// The fault rate.
        rate_percent: u32,
        /// Whether the client recovers from ambiguous outcomes.
        recovery: bool,
        /// Whether the check is expected to fail.
        expect_failure: bool,
    },
    /// A HUB2 case; see [`super::hub2`].
    Hub2(Hub2Case),
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
    /// `amount` with three decimals, correctly signed.
    AmountThreeDecimals,
    /// `amount` negative, correctly signed.
    AmountNegative,
    /// No `order_id`, correctly signed.
    MissingOrderId,
}

impl MalformedBody {
    /// Every variant.
    pub const ALL: [MalformedBody; 6] = [
        MalformedBody::Truncated,
        MalformedBody::NotJson,
        MalformedBody::NotAnObject,
        MalformedBody::AmountThreeDecimals,
        MalformedBody::AmountNegative,
        MalformedBody::MissingOrderId,
    ];

    /// Short name for the case id.
    pub fn name(self) -> &'static str {
        match self {
            MalformedBody::Truncated => "truncated_json",
            MalformedBody::NotJson => "not_json",
            MalformedBody::NotAnObject => "not_an_object",
            MalformedBody::AmountThreeDecimals => "amount_three_decimals",
            MalformedBody::AmountNegative => "amount_negative",
            MalformedBody::MissingOrderId => "missing_order_id",
        }
    }

    /// The JSON path the error message must name, if the body parses.
    pub fn path(self) -> Option<&'static str> {
        match self {
            MalformedBody::AmountThreeDecimals | MalformedBody::AmountNegative => Some("amount"),
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
    /// A load run (thousands of payments): its deadline is
    /// [`LONG_CASE_FACTOR`] times the run's case timeout, so a slow
    /// machine or a debug build does not fail it for being slow.
    pub long: bool,
}

/// How many case timeouts a case marked `long` (see [`Case`]) may take.
pub const LONG_CASE_FACTOR: u32 = 10;

impl Case {
    pub(crate) fn new(id: impl Into<String>, group: &'static str, kind: CaseKind) -> Case {
        Case {
            id: id.into(),
            group,
            sandbox_safe: false,
            needs: Needs::default(),
            kind,
            long: false,
        }
    }

    pub(crate) fn long(mut self) -> Case {
        self.long = true;
        self
    }

    pub(crate) fn safe(mut self) -> Case {
        self.sandbox_safe = true;
        self
    }

    pub(crate) fn callbacks(mut self) -> Case {
        self.needs.callbacks = true;
        self
    }

    pub(crate) fn control(mut self) -> Case {
        self.needs.control_api = true;
        self
    }
}
