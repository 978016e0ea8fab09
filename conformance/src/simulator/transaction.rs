//! The record of one gateway transaction: its status and history, what it
//! waits for, the replies kept for idempotent replays, and the record of
//! one callback delivery attempt. The [`Store`](super::state::Store) keeps
//! them; [`persist`](super::persist) writes them to SQLite.

use bytes::Bytes;
use paygate::money::Amount;
use serde::{Deserialize, Serialize};

use super::clock::now_timestamp;
use super::operation::OperationKind;
use super::outcome::Outcome;

/// One status a transaction went through.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status code.
    pub status: i64,
    /// When (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`).
    pub at: String,
    /// Why.
    pub note: String,
}

/// What a transaction is waiting for before its outcome can happen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Awaiting {
    /// Nothing: the outcome timer runs (or the outcome never comes).
    #[default]
    Nothing,
    /// A B2C confirmation: the same request again with `extra.otp`. Holds
    /// the canonical string of the first request.
    Confirmation {
        /// Canonical string of the unconfirmed request.
        canonical: Vec<u8>,
    },
    /// The customer opening the redirect page.
    Redirect,
    /// The customer's OTP, in a `status` request with `customer_id` and
    /// `extra.otp` (an OTP flow's payment sent without one).
    Otp,
}

/// Bank details returned for bank-transfer flows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BankDetails {
    /// Account holder.
    pub account_name: String,
    /// Account to pay into.
    pub account_number: String,
    /// Bank.
    pub bank_name: String,
}

/// A reply kept for idempotent replays: same operation and same signature
/// (same fields in the same order) get the same bytes.
#[derive(Clone, Debug)]
pub struct StoredReply {
    /// The operation called.
    pub operation: OperationKind,
    /// The request's signature, lower case.
    pub signature: String,
    /// The exact response body sent.
    pub body: Bytes,
}

/// One simulated transaction.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Transaction {
    /// Unique serial (never reused, also across resets).
    pub serial: u64,
    /// The merchant's public id.
    pub public_id: String,
    /// The merchant's order id.
    pub order_id: String,
    /// The operation that created it.
    pub operation: OperationKind,
    /// `merchant_id` of the request.
    pub merchant_id: String,
    /// `customer_id` of the request.
    pub customer_id: String,
    /// `amount` of the request.
    pub amount: Amount,
    /// Provider (0 when the request named none).
    pub provider_id: i64,
    /// POS destination (empty when none).
    pub destination_id: String,
    /// Where callbacks go (none: no callback).
    pub callback_url: Option<String>,
    /// Whether a callback is sent when the transaction becomes final.
    pub sends_callback: bool,
    /// The simulator's transaction id.
    pub transaction_id: String,
    /// Reference set on success.
    pub transaction_ref: String,
    /// Current status code.
    pub status: i64,
    /// `provider_result.code`.
    pub provider_code: i64,
    /// `provider_result.message`.
    pub provider_message: String,
    /// `confirm_type` of the last answer.
    pub confirm_type: i64,
    /// Every status it went through.
    pub history: Vec<StatusChange>,
    /// The outcome that happens when the timer fires or the customer
    /// returns from the redirect (`None`: stays in progress).
    #[serde(skip)]
    pub planned: Option<Outcome>,
    /// What it waits for.
    #[serde(skip)]
    pub awaiting: Awaiting,
    /// `extra.customer_redirect` for redirect flows.
    pub redirect_url: Option<String>,
    /// `extra.customer_message`, if any.
    pub customer_message: Option<String>,
    /// Bank details for bank-transfer flows.
    pub bank_details: Option<BankDetails>,
    /// Replies kept for replays.
    #[serde(skip)]
    pub replies: Vec<StoredReply>,
    /// The number of its last database write, while that write may not be
    /// committed yet (see `durability`; 0: nothing to wait for). Never
    /// persisted.
    #[serde(skip)]
    pub(crate) durable_seq: u64,
    /// The bulk payout this payout is an item of.
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// For a bulk record: the order ids of its items, in request order.
    #[serde(default)]
    pub items: Vec<String>,
}

impl Transaction {
    /// Whether the status is final (2, 3, 4 or 5): a hold (6) can still be
    /// consumed, an undefined status (-1) settled, a withdrawal in transit
    /// (7) handed over.
    pub fn is_final(&self) -> bool {
        paygate::gateway::Status::from(self.status).is_final()
    }

    /// The UTC day it was accepted (`YYYY-MM-DD`).
    pub fn day(&self) -> &str {
        self.history
            .first()
            .and_then(|h| h.at.get(..10))
            .unwrap_or("")
    }

    /// Moves to `status`, recording it in the history.
    pub fn set_status(&mut self, status: i64, note: impl Into<String>) {
        self.status = status;
        self.history.push(StatusChange {
            status,
            at: now_timestamp(),
            note: note.into(),
        });
    }

    /// `awaiting` as a word for the control API.
    pub fn awaiting_label(&self) -> Option<&'static str> {
        match self.awaiting {
            Awaiting::Nothing => None,
            Awaiting::Confirmation { .. } => Some("confirmation"),
            Awaiting::Redirect => Some("redirect"),
            Awaiting::Otp => Some("otp"),
        }
    }
}

/// One callback delivery attempt. Neither the key nor the signature is kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallbackAttempt {
    /// The merchant's public id.
    pub public_id: String,
    /// The order the callback is about.
    pub order_id: String,
    /// The callback's `operation_type`.
    pub operation_type: i64,
    /// The callback's `status`.
    pub status: i64,
    /// Where it was sent.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The merchant's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// The transport error, if it did not.
    pub error: Option<String>,
    /// Whether this attempt counted as delivered (HTTP 200).
    pub delivered: bool,
    /// When (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`).
    pub at: String,
    /// How long the merchant took to answer, in milliseconds on the
    /// simulator's clock (0 on a manual clock); `None` when not sent.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// When the next attempt is due (UTC, as `at`), after a failed attempt
    /// that has one left.
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    /// The body sent (the signed callback), for the most recent attempts
    /// only (see `CHUNKS_WITH_BODIES` in the store); neither persisted nor
    /// part of this record's JSON.
    #[serde(skip)]
    pub body: Option<Bytes>,
}

/// What a daily cumulative limit counts: one merchant's payments (or
/// payouts) through one provider to one customer on one UTC day. Per
/// customer is the loosest reading of the documentation's "daily
/// cumulative limit" (a per-merchant total would refuse more).
///
/// The daily totals are kept in ordered maps, which grow a node at a time,
/// where a hash map would rehash a whole shard now and then (a p99 bump
/// each time the totals of about half a million customers doubled their
/// tables). The store orders them by their hash first; this type's `Ord`
/// only breaks ties.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DailyKey {
    /// The merchant.
    pub public_id: String,
    /// The provider.
    pub provider_id: i64,
    /// `payment_c2b` or `payment_b2c`.
    pub operation: OperationKind,
    /// The customer.
    pub customer_id: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
}

impl DailyKey {
    /// The key a transaction counts under.
    pub fn of(tx: &Transaction) -> DailyKey {
        DailyKey {
            public_id: tx.public_id.clone(),
            provider_id: tx.provider_id,
            operation: tx.operation,
            customer_id: tx.customer_id.clone(),
            day: tx.day().to_owned(),
        }
    }

    /// The key as the database keeps it (PostgreSQL's `daily_amounts`,
    /// shared by replicas): the parts as a JSON array.
    pub fn text(&self) -> String {
        serde_json::json!([
            self.public_id,
            self.provider_id,
            self.operation.as_str(),
            self.customer_id,
            self.day
        ])
        .to_string()
    }

    /// Whether a transaction counts towards a daily total.
    pub(crate) fn counts(tx: &Transaction) -> bool {
        matches!(
            tx.operation,
            OperationKind::PaymentC2b | OperationKind::PaymentB2c
        )
    }
}
