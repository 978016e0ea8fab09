//! Group names used in reports (the HUB2 groups are in
//! [`super::hub2::group`]).

/// Accepted payments of every provider and direction.
pub const HAPPY_PATH: &str = "happy-path";
/// Amount minimum, maximum and step.
pub const LIMITS: &str = "limits";
/// Phone-number formats.
pub const PHONE: &str = "phone";
/// Required `extra` fields.
pub const EXTRAS: &str = "extras";
/// A provider's country and currency.
pub const COUNTRY: &str = "country";
/// Facts the documentation is unsure of: accepted with a warning.
pub const WARNINGS: &str = "warnings";
/// The requests, responses and callbacks the documentation prints.
pub const EXAMPLES: &str = "examples";
/// `order_id` rules.
pub const ORDER_ID: &str = "order-id";
/// Signatures, authentication, malformed input.
pub const SECURITY: &str = "security";
/// Replays and order reuse.
pub const IDEMPOTENCY: &str = "idempotency";
/// Callback delivery and verification.
pub const CALLBACKS: &str = "callbacks";
/// OTP, redirect, bank transfer, confirmation, POS, forced outcomes.
pub const FLOWS: &str = "flows";
/// The documented behaviour of the test provider 14.
pub const PROVIDER_14: &str = "provider-14";
/// Ambiguous outcomes from a fault profile: the client pays exactly once.
pub const FAULTS: &str = "faults";
