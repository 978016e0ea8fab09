//! HUB2, simulated: payment intents, payments (mobile money and bank
//! transfer), OTP / redirection / USSD actions, transfers debiting a
//! balance, Processing Only (`/delegated/`) mode, webhooks signed with
//! `Hub2-Signature`, and HUB2's rate limits. Served under `/hub2` on the
//! same server as the gateway; state in memory ([`store`]).
//!
//! This module holds the shared state, ids, secrets, timestamps and HMAC,
//! and the router. The rest, one concern a file: [`coverage`] (what HUB2
//! serves: the generated tables of `spec/hub2/providers.yaml`, which the
//! conformance suite derives its cases from too), [`config`] (merchants,
//! keys, limits), [`fees`] (the fee model),
//! [`store`] (what is kept), `api` (the API handlers, one file per
//! resource, with the authentication extractors, the rate limits and the
//! input checks), `attempts` (the lifecycle of a payment attempt),
//! `webhooks` (signing and delivering events), `control` (the control
//! API) and `error` (the `Error` body every refusal has).
//!
//! # Authentication
//!
//! Merchant requests carry `ApiKey`, `MerchantId` and `Environment`
//! (`sandbox` or `live`):
//!
//! | request | answer |
//! |---|---|
//! | no `ApiKey`, or a key the simulator does not know | 401 `Unauthorized` |
//! | `MerchantId` missing or not the key's merchant | 401 `Unauthorized` |
//! | `Environment` missing | the key's own environment (the seeds never mention the header) |
//! | `Environment` not `sandbox` / `live` | 403 `Forbidden`, the message names the value |
//! | a sandbox key with `Environment: live` (or the reverse) | 403 `Forbidden`, the message names both |
//! | `/delegated/payments` without `Api.delegated_payment_create` (`/delegated/transfers`: `Api.delegated_transfer_create`) | 403 `Forbidden`, the message names the permission |
//!
//! `POST /payment-intents/{id}/payments` and `/authentication` take no key:
//! the intent's `token` goes in the body (see Payment-intent tokens).
//!
//! Every refusal is the spec's `Error` body `{status, code, message,
//! request_id}` with a unique `request_id`; `code` is the HTTP reason
//! phrase, or for a field at fault `invalid-<field>` (e.g.
//! `invalid-purchaseReference`), or a business code (`insufficient-funds`,
//! `provider-not-supported`, `provider-credentials-missing`). Malformed
//! input gets 400 naming the JSON path, never a 5xx.
//!
//! # Payment-intent tokens
//!
//! Documented (seed 001): the intent's `token` "is a JSON Web Token (JWT)
//! that will be used to authenticate the payment request", so that the
//! payment "could be made directly on the client side". HUB2 says neither
//! how it is signed nor how long it lasts; the simulator's model:
//!
//! - an HS256 JWT made and checked with the `jsonwebtoken` crate, signed
//!   with this run's [`TokenKey`]: 32 random bytes from the operating
//!   system for each run, unless the merchants file sets `hub2.token_key`
//!   (at least 16 bytes, for reproducible runs); the key never shows in
//!   `Debug` output or logs;
//! - its payload is `{intentId, merchantId, mode, iat, exp}`; `exp` is
//!   `iat` + [`Hub2Config::token_lifetime`] (default
//!   [`DEFAULT_TOKEN_LIFETIME`], 24 hours, inferred: HUB2 documents no
//!   lifetime; `hub2.token_lifetime_s` changes it);
//! - checking pins the algorithm to HS256 (`alg: none`, HS512, RS256 and
//!   any other header are refused), requires `exp` and refuses it once
//!   past (no leeway), and requires `intentId` to be the intent of the
//!   path and `merchantId` and `mode` to be that intent's merchant and
//!   environment.
//!
//! Any other token (expired, of another intent, merchant or mode, another
//! algorithm, an edited payload, another key) gets 401 `Unauthorized`
//! (the status the spec lists for both routes), the message saying which
//! rule failed; an unknown intent is 404.
//!
//! # Amounts
//!
//! HUB2 documents no maximum amount. The simulator takes at most
//! [`MAX_HUB2_AMOUNT`] (10^12 units of the currency) in a payment intent,
//! a delegated payment or a transfer; a larger (or non-positive) amount is
//! 400 `invalid-amount`, the message naming the field and the maximum.
//! Balances and fees use checked arithmetic (fees in `i128`): a payment
//! whose credit would overflow the collection account fails (`failed`,
//! `payment.failed`, the balance unchanged) and a failed transfer's refund
//! that would overflow is not made (logged); no balance ever wraps.
//!
//! # Outcomes
//!
//! Deterministic, chosen by the last two digits of the wallet number
//! (`mobileMoney.msisdn`, or a transfer's `destination.msisdn`):
//!
//! | msisdn ends in | payment | transfer |
//! |---|---|---|
//! | `01` | `failed` after the latency (insufficient funds) | `failed` after the latency; the amount goes back to the balance |
//! | `03` | stays `processing` until forced by the control API | `successful` |
//! | `11` | `action_required`, `nextAction` `otp`; then `POST .../authentication` with any 4-digit code: `successful` after the latency, `0000`: `failed` | `successful` |
//! | `12` | `action_required`, `nextAction` `redirection` to `{base}/hub2/_sim/redirect/{intent id}`; opening that page makes it `successful` | `successful` |
//! | `13` | `action_required`, `nextAction` `ussd`; `successful` 4× the latency (at least 500 ms) later | `successful` |
//! | anything else | `successful` after the latency | `successful` after the latency |
//!
//! A payment attempt answers 201 with the intent `processing` and the new
//! payment `pending`; the action (if any) comes after half the latency. An
//! OTP sent up front in `mobileMoney.otp` is used directly (4 digits;
//! `0000` fails; another format is refused with 400). A failed payment
//! makes the intent `failed`; a new attempt may follow (see below). With
//! `bank_transfer` the payment carries `bankTransferDetails` with a unique
//! `reference` and stays `processing` until the control API forces its
//! outcome. A successful payment credits the collection account with its
//! amount less its fee (see Fees).
//!
//! # Payment attempts
//!
//! Documented (HUB2's payment-intent guide, seed 001): after an attempt
//! "the status is now `processing` and the `payments` array contains the
//! newly created `Payment` attempt", and "The payment `id` can now be saved
//! to identify your payment attempt in the list as more than one payment
//! may be attempted for one `PaymentIntent`." The guide lists `failed`
//! among the intent statuses polling sees: "Continuously polling
//! `payment_required`, `successful` or `failed` `PaymentIntent` will result
//! in source IP address being throttled or temporarily banned."
//!
//! The simulator's own choices (HUB2 says neither when a new attempt is
//! taken nor what the intent shows between attempts):
//!
//! - `payments` keeps every attempt, oldest first; the last one is the
//!   current attempt, and the intent's status follows it (`processing`,
//!   `action_required`, `successful`, `failed`).
//! - After a failed attempt the intent shows `failed` (not
//!   `payment_required`) and `payment_intent.failed` is sent, but a new
//!   attempt is still taken (201, the intent `processing` again, a new
//!   `payment.created`). `successful` is final; `failed` is final only if
//!   no attempt follows.
//! - A new attempt is refused with 409 (the `Error` body) while the current
//!   one is `pending` / `processing` / `action_required`, and once the
//!   intent is `successful`.
//! - The OTP step, the redirection page, the USSD completion, the control
//!   API's forced outcome and the webhook events act on the current attempt
//!   only; an earlier attempt is never changed again.
//! - A new attempt resets the intent's polling throttle (the reads of the
//!   `failed` intent before it do not count against the reads of the new
//!   attempt's end); polling the final intent is then throttled as below.
//! - A new attempt on an intent made by `/delegated/payments` follows the
//!   Processing Only rules (pair, registered credentials).
//!
//! # Fees
//!
//! Documented (seed 001): the `PaymentIntent` "keeps track of fees and
//! various payment attempts throughout the processing"; the spec puts
//! `fees` (a list of `Fee` `{amount, currency}`) on each `Payment` (so in
//! the intent's `payments` and in `payment.*` webhook data) and gives the
//! intent no `fees` of its own. HUB2 publishes no rates.
//!
//! The simulator's own model ([`fees`]):
//!
//! - every attempt carries exactly one fee from its creation (in the 201
//!   answer, the intent, `payment.*` and `payment_intent.*` webhooks), in
//!   the intent's currency: `amount × rate_bps / 10 000`, rounded to the
//!   nearest unit, halves up, in integers (2 % of 1025 XOF is 21 XOF);
//! - `rate_bps` is [`DEFAULT_FEE_RATE_BPS`] (200, i.e. 2 %) unless the
//!   merchants file sets `hub2.fees: {rate_bps}` or a merchant's own
//!   `fees: {rate_bps}` (0 to 10 000);
//! - a successful attempt credits the collection account with its amount
//!   less its fee; a failed attempt moves no money, its fee staying on it
//!   as the price the attempt had;
//! - `GET /hub2/_sim/fees` tells each merchant's rate.
//!
//! Supported (country, provider) pairs are `paygate::hub2::providers::MOBILE_MONEY`;
//! bank transfers are taken in the countries of `BANK_TRANSFER`. The
//! payment's country must use the intent's currency (`CURRENCIES`).
//! Processing Only mode supports the pairs of `PROCESSING_ONLY` (Orange CI,
//! MTN CI and Orange SN, as seed 000 lists them) and needs provider
//! credentials registered through the control API for the provider and the
//! transaction type (else 400 `provider-credentials-missing`).
//!
//! Transfers debit the transfer account of the environment when created
//! (more than available: 402 `insufficient-funds`, nothing debited);
//! they answer `pending` and end after the latency. Every merchant starts
//! with its configured balance in each of XOF, XAF, GNF and CDF.
//!
//! # Rate limits
//!
//! Per client IP: at most [`Hub2Config::rate_limit`] requests (default 50
//! per 5 seconds, as HUB2 documents) to the API, and
//! [`Hub2Config::poll_limit`] reads (default 3 per 5 seconds) of one intent
//! or its status while it is not `processing` / `action_required` (of one
//! transfer while it is not `created` / `pending`). Over either: 429 `Too
//! Many Requests` with `Retry-After` (seconds); the request is not
//! processed. The control API is not limited.
//!
//! # Webhooks
//!
//! Every status change of an intent, a payment or a transfer is delivered
//! as a `WebhookEvent` to the merchant's webhooks (same environment)
//! subscribed to its type, with `Hub2-Signature: s1=<hex>[,s0=<hex>]`
//! (HMAC-SHA256 of the body with the webhook's secret; `s0` with the
//! previous secret during 24 hours after a rotation). New webhooks get the
//! merchant's configured `webhook_secret`, or a random one. Deliveries are
//! retried like gateway callbacks ([`super::CallbackRetry`]) until a 2xx.
//!
//! # Control API (under `/hub2/_sim/`, not rate limited)
//!
//! Like the gateway's, every control request needs `Authorization: Bearer
//! <admin token>` (else 401, nothing done; see [`crate::simulator::admin`]),
//! except the customer's redirection page, which stays open: a customer
//! opens it from `nextAction` without any credential.
//!
//! | request | does |
//! |---|---|
//! | `POST /hub2/_sim/provider-credentials` `{provider, country, transactionType: payment\|transfer, credentials: {...}, merchantId?, environment?}` | validates (an auth-token call: `credentials.apiKey` missing, empty or `invalid` fails; a `GET /balance` call: `apiKey` `no-balance-access` fails) and registers credentials for Processing Only mode; 400 naming what failed |
//! | `GET /hub2/_sim/provider-credentials` | the registered credentials (without secrets) |
//! | `POST /hub2/_sim/webhooks/{id}/rotate` | new secret for the webhook, returned; the old one still signs `s0` for 24 h |
//! | `GET /hub2/_sim/webhook-deliveries[?object_id=X][&webhook_id=Y]` | every delivery attempt |
//! | `GET /hub2/_sim/fees` | `{"fees": [{"merchantId", "rateBps"}], "rounding"}`: each merchant's fee rate |
//! | `GET /hub2/_sim/redirect/{intent id}` (open) | the customer's redirection page; completes the current attempt if it waits for a redirection |
//! | `POST /hub2/_sim/payment-intents/{id}/outcome` `{"status":"successful"\|"failed"}` | forces the outcome of the current attempt, if it is in progress (409 otherwise) |
//! | `POST /hub2/_sim/transfers/{id}/outcome` `{"status":"successful"\|"failed"}` | forces a transfer's outcome |
//! | `POST /hub2/_sim/reset` | forgets HUB2 objects, restores balances |
//! | `GET`, `PUT`, `DELETE /hub2/_sim/merchants/{merchant_id}/faults` | a merchant's seeded fault profile on the answers to creating calls (see `api::faults`) |
//! | `GET /hub2/_sim/transactions[?status=&merchant_id=&reference=&limit=]` | intents and transfers, newest first |

mod api;
mod attempts;
pub mod config;
mod control;
pub mod coverage;
pub(crate) mod error;
pub mod fees;
mod persist;
mod resume;
pub mod store;
mod webhooks;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use axum::middleware::from_extractor_with_state;
use axum::routing::{any, get, post};
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use config::{
    Hub2ApiKey, Hub2Config, Hub2Environment, Hub2Merchant, RateLimit, TokenKey,
    DEFAULT_TOKEN_LIFETIME, DEMO_HUB2_LIMITED_KEY, DEMO_HUB2_LIVE_KEY, DEMO_HUB2_MERCHANT_ID,
    DEMO_HUB2_SANDBOX_BALANCE, DEMO_HUB2_SANDBOX_KEY, DEMO_HUB2_WEBHOOK_SECRET,
    PERMISSION_DELEGATED_PAYMENT, PERMISSION_DELEGATED_TRANSFER,
};
pub use fees::{FeeModel, DEFAULT_FEE_RATE_BPS};

/// The largest amount the HUB2 simulator takes in a payment intent or a
/// transfer: 10^12 units of the currency. HUB2's documentation states no
/// maximum; this is the simulator's own bound (a thousand billion XOF,
/// far above any real payment) chosen so that about nine million such
/// amounts fit in a balance before the checked arithmetic would refuse
/// one. A larger amount is refused with 400 `invalid-amount`, naming the
/// maximum.
pub const MAX_HUB2_AMOUNT: i64 = 1_000_000_000_000;
pub use store::{Hub2Store, WebhookDelivery};

use super::admin::RequireAdmin;
use super::SimulatorState;

/// The HUB2 part of the simulator's shared state.
pub(crate) struct Hub2Shared {
    pub(crate) store: Mutex<Hub2Store>,
    random: RandomState,
    counter: AtomicU64,
}

impl Hub2Shared {
    /// HUB2 state with what the database held put back (see
    /// [`persist::restore`]); `Err` names a row that does not decode.
    pub(crate) fn restored(
        config: &Hub2Config,
        rows: Vec<super::persist::Hub2Object>,
    ) -> Result<Self, String> {
        let mut store = Hub2Store::new(config);
        persist::restore(&mut store, rows)?;
        Ok(Hub2Shared {
            store: Mutex::new(store),
            random: RandomState::new(),
            counter: AtomicU64::new(0),
        })
    }
}

/// A replica that has just become the one serving HUB2 (the one before
/// it stopped): its HUB2 state becomes what the database holds, and the
/// work in it resumes (attempts, transfers, the webhook outbox).
pub(crate) fn take_lead(state: &SimulatorState, rows: Vec<super::persist::Hub2Object>) {
    let mut fresh = Hub2Store::new(&state.config().hub2);
    if let Err(message) = persist::restore(&mut fresh, rows) {
        tracing::error!(error = %message, "cannot read HUB2's state to serve it");
        return;
    }
    *state.hub2_store() = fresh;
    resume::resume(state);
}

/// Re-arms the HUB2 timers of a state read back from the database.
pub(crate) fn resume(state: &SimulatorState) {
    resume::resume(state);
}

impl SimulatorState {
    /// The HUB2 store, locked. Never hold it across an `.await`.
    pub fn hub2_store(&self) -> MutexGuard<'_, Hub2Store> {
        match self.0.hub2.store.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Every HUB2 webhook delivery attempt so far.
    pub fn hub2_deliveries(&self) -> Vec<WebhookDelivery> {
        self.hub2_store().deliveries.clone()
    }

    /// `{base_url}/hub2`.
    pub fn hub2_base_url(&self) -> String {
        format!("{}/hub2", self.base_url())
    }

    pub(crate) fn hub2_random(&self) -> u64 {
        let n = self.0.hub2.counter.fetch_add(1, Ordering::Relaxed);
        self.0.hub2.random.hash_one(n)
    }

    /// A fresh id: `prefix` + 21 base62 characters.
    pub(crate) fn hub2_id(&self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(prefix.len() + 21);
        out.push_str(prefix);
        let mut bits = self.hub2_random();
        for i in 0..21 {
            if i == 10 {
                bits = self.hub2_random();
            }
            out.push(ALPHABET[(bits % 62) as usize] as char);
            bits /= 62;
        }
        out
    }

    /// A random secret: 32 lower-case hex digits.
    pub(crate) fn hub2_secret(&self) -> String {
        format!("{:016x}{:016x}", self.hub2_random(), self.hub2_random())
    }
}

/// Now, UTC, ISO 8601 with milliseconds: `2022-07-18T06:35:25.932Z`.
pub fn iso_now() -> String {
    let us = super::sim_clock::SimClock::current().now_us();
    let text = super::clock::format_timestamp(us / 1_000_000, (us % 1_000_000) as u32);
    // `YYYY-MM-DD hh:mm:ss.ffffff` -> `YYYY-MM-DDThh:mm:ss.fffZ`
    format!("{}T{}Z", &text[..10], &text[11..23])
}

/// Lower-case hex HMAC-SHA256 of `body` keyed with `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mac = mac_bytes(secret, body);
    let mut out = String::with_capacity(64);
    for byte in mac {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

pub(crate) fn mac_bytes(secret: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The HUB2 routes, to be nested under `/hub2`: the API (rate limited,
/// see [`api`]) and the control API (not limited).
pub(crate) fn router(state: SimulatorState) -> Router<SimulatorState> {
    let control = Router::new()
        .route(
            "/_sim/provider-credentials",
            post(control::register_credentials).get(control::list_credentials),
        )
        .route("/_sim/webhooks/{id}/rotate", post(control::rotate_secret))
        .route("/_sim/webhook-deliveries", get(control::deliveries))
        .route("/_sim/fees", get(control::fees))
        .route(
            "/_sim/payment-intents/{id}/outcome",
            post(control::force_intent),
        )
        .route(
            "/_sim/transfers/{id}/outcome",
            post(control::force_transfer),
        )
        .route("/_sim/reset", post(control::reset))
        .route("/_sim/transactions", get(super::dashboard::hub2_list))
        .route(
            "/_sim/merchants/{merchant_id}/faults",
            get(super::fault_control::get_hub2_faults)
                .put(super::fault_control::put_hub2_faults)
                .delete(super::fault_control::delete_hub2_faults),
        )
        .route_layer(from_extractor_with_state::<RequireAdmin, _>(state.clone()))
        // Open: the customer's page, opened from `nextAction` by a
        // customer who has no credential.
        .route("/_sim/redirect/{id}", get(control::redirect_page))
        // Open: the spec the simulator serves.
        .route("/openapi.yaml", get(super::specs::hub2))
        // Without it, unknown `/hub2/...` paths would reach the gateway's
        // `/{public_id}/{method}` route.
        .route("/{*rest}", any(api::not_found));
    api::routes(state.clone())
        .merge(control)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        // Behind replicas, one serves HUB2 and the others forward to it.
        .layer(axum::middleware::from_fn_with_state(
            state,
            super::forward::to_leader,
        ))
}
