//! What one HUB2 case is: the [`Hub2Case`] kinds and their report
//! [`group`]s. Case data only; deriving the list is in `derive.rs`, running
//! a case in the modules next to it.

/// Report groups of the HUB2 cases.
pub mod group {
    /// Payments for every served pair and method, fees, transfers, balance.
    pub const HAPPY_PATH: &str = "hub2-happy-path";
    /// Refused input: unsupported pairs, references, formats.
    pub const VALIDATION: &str = "hub2-validation";
    /// Keys, environments, tokens, permissions.
    pub const SECURITY: &str = "hub2-security";
    /// OTP, redirection, USSD, bank transfer, more than one attempt.
    pub const FLOWS: &str = "hub2-flows";
    /// Processing Only mode.
    pub const DELEGATED: &str = "hub2-delegated";
    /// Polling throttle and rate limits.
    pub const THROTTLE: &str = "hub2-throttle";
    /// Webhook deliveries and signatures.
    pub const WEBHOOKS: &str = "hub2-webhooks";
    /// Answers that go wrong after HUB2 acted: never paid twice.
    pub const FAULTS: &str = "hub2-faults";
}

/// What one HUB2 case does.
#[derive(Clone, Debug)]
pub enum Hub2Case {
    /// `carts` carts (intent and attempt; a transfer with every fourth)
    /// through the faults twin at 20 % faults, the client recovering or
    /// not: every cart resolved, none paid twice (see `faults.rs`). With
    /// `expect_failure` the case passes only if the check fails.
    AmbiguousFaults {
        /// Carts.
        carts: u32,
        /// Whether the client recovers.
        recovery: bool,
        /// Whether the check must fail (recovery off).
        expect_failure: bool,
    },
    /// A mobile-money payment on a served pair ends successful.
    Pay {
        /// Country.
        country: String,
        /// Provider.
        provider: String,
    },
    /// A payment on a pair the target does not serve gets 400.
    UnsupportedPair {
        /// Country.
        country: String,
        /// Provider.
        provider: String,
    },
    /// A bank-transfer payment carries bank details with a unique reference.
    BankTransfer {
        /// Country.
        country: String,
    },
    /// OTP flow: action_required, OTP `1234`, successful.
    Otp,
    /// OTP flow with `0000`: failed.
    WrongOtp,
    /// An OTP that is not 4 digits: 400 naming `confirmationCode`.
    OtpBadFormat,
    /// OTP given up front in `mobileMoney.otp`: successful, no action.
    OtpUpFront,
    /// Redirection flow: opening the page completes it.
    Redirection,
    /// USSD flow: action_required, then successful.
    Ussd,
    /// The documented failure number: the intent ends failed.
    PaymentFails,
    /// A failed attempt then a successful one on the same intent: both in
    /// `payments`, in order; the intent ends successful; no third attempt.
    RetryAfterFailure,
    /// A wrong OTP fails the first attempt; the second one gets its own OTP
    /// step and ends successful.
    RetryAfterWrongOtp,
    /// No new attempt while one is processing (409); after it fails, one.
    NoAttemptWhilePending,
    /// Every attempt carries one fee at the rate `GET /_sim/fees` gives.
    Fees,
    /// The token of another intent, and a forged token: 401.
    WrongToken,
    /// A reference with a forbidden character: the client refuses it
    /// without sending, the target answers 400 naming the field.
    ForbiddenReference {
        /// `customerReference`, `purchaseReference` or (transfer) `reference`.
        field: &'static str,
    },
    /// An operation of the spec sent without credentials gets its
    /// documented 401 (a forged token for the token-authenticated ones).
    NoCredentials {
        /// `operationId`.
        operation: &'static str,
        /// HTTP method.
        method: &'static str,
        /// Path template.
        path: &'static str,
    },
    /// A key of one environment with the other `Environment`: 403.
    WrongEnvironment,
    /// `/delegated/...` with a key lacking the permission: 403.
    DelegatedNoPermission {
        /// `payments` or `transfers`.
        what: &'static str,
    },
    /// Credentials that fail validation, or an unsupported provider, are
    /// refused by the registration with 400.
    CredentialsValidation,
    /// Processing Only on a supported pair: register credentials, then pay
    /// or transfer.
    Delegated {
        /// Country.
        country: &'static str,
        /// Provider.
        provider: &'static str,
        /// `payment` or `transfer`.
        transaction_type: &'static str,
    },
    /// Reading a final intent again and again: 429 with Retry-After.
    PollFinalIntent,
    /// A transfer ends successful and is debited from the balance.
    Transfer,
    /// A transfer above the available balance: 402, balance unchanged.
    TransferAboveBalance,
    /// A delivery verifies with the current secret; after a rotation it
    /// carries `s1` (new) and `s0` (old), both verify; tampering fails.
    WebhookSignatures,
}
