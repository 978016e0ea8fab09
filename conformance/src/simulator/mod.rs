//! A local Payment API Gateway: the same endpoints, signature checks,
//! provider rules, idempotency, status lifecycle and signed callbacks as the
//! real gateway, in memory (or in SQLite with [`SimulatorConfig::db`]), for
//! tests and demos.
//!
//! ```no_run
//! # async fn demo() -> Result<(), paygate_conformance::simulator::SimulatorError> {
//! use paygate_conformance::simulator::{start, SimulatorConfig};
//! let sim = start(SimulatorConfig::demo(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("gateway at {}", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! `POST /{public_id}/payment_c2b`, `/payment_b2c`, `/status`, `/deposit`,
//! `/withdrawal` and `/banks`. Each request goes through, in order:
//!
//! 1. `Content-Type: application/json` (else HTTP 415) and a body of at
//!    most [`SimulatorConfig::max_body_bytes`] (else 413); a known
//!    `public_id` (else 404, code 10404);
//! 2. the signature, verified over the raw bytes in document order
//!    (malformed JSON, a repeated key or too deep nesting: 400, code 10400;
//!    missing or wrong signature: 401, code 10201 `MERCHANT AUTHENTICATION
//!    ERROR: ...`); `merchant_id` must be the merchant's (else 401, 10201);
//!    a `callback_url` anywhere in the body must not point at the
//!    simulator itself (else 422, 10422, rule `callback_not_simulator`);
//! 3. decoding into the typed request (else 400, 10400, naming the JSON
//!    path);
//! 4. the provider rules (else 422, 10422, naming each field and rule);
//! 5. idempotency by `(public_id, order_id)`: the same request again gets
//!    the very same bytes back and runs nothing; a different request under
//!    the same `order_id` gets 409, 10409 (except a B2C confirmation).
//!
//! See [`codes`] for all result codes.
//!
//! # Lifecycle
//!
//! An accepted C2B or B2C payment goes 0 (initiated) → 1 (in progress) and
//! answers status 1; after [`SimulatorConfig::latency`] it reaches the
//! outcome given by the magic-number table in [`outcome`], and the signed
//! callback is POSTed to `callback_url` (or the merchant's configured URL),
//! retried with exponential backoff until HTTP 200, at most
//! [`CallbackRetry::max_attempts`] times. Provider 14 stays in status 1
//! with `provider_result` `{-8888, "Good"}` and never calls back.
//!
//! Flows follow the provider rules:
//!
//! * **otp**: `extra.otp` (4 digits) is required; `0000` fails the payment
//!   with `provider_result.message` `invalid OTP`;
//! * **redirect**: `extra.customer_redirect` (in the synchronous answer and
//!   in `status`) is `{base_url}/_sim/redirect/{public_id}/{order_id}`; the
//!   payment waits until that page is opened;
//! * **bank_transfer**: the answer's `extra` carries `transfer_amount`,
//!   `account_name`, `account_number` and `bank_name`;
//! * **B2C with an otp flow** (the provider's B2C flow is otp; the
//!   documented tables have none, a custom table can): a first
//!   `payment_b2c` without `extra.otp`
//!   answers status 0 with `confirm_type` 1; the same request again with
//!   `extra.otp` confirms it;
//! * **POS**: `deposit` answers status 1 and calls back (operation type 20)
//!   the merchant's configured URL; `withdrawal` answers status 7 (in
//!   transit) and calls back (21) the request's `callback_url` or the
//!   merchant's.
//!
//! # Control API (JSON, under `/_sim/`)
//!
//! Every control request needs `Authorization: Bearer <admin token>`
//! ([`SimulatorConfig::control`], [`RunningSimulator::admin_token`]); without
//! it, or with another token, it gets 401 and a JSON body
//! `{"status":401,"code":"admin-token-missing"|"admin-token-wrong","message":...}`
//! naming the header, and does nothing. Two pages stay open: the liveness
//! probe `GET /_sim/health` (counts only) and the customer's redirect page,
//! which a real customer opens from the payment answer without any
//! credential. See [`admin`].
//!
//! | request | does |
//! |---|---|
//! | `GET /_sim/health` (open) | `{"status":"ok",...}` |
//! | `GET /_sim/callbacks[?order_id=X]` | every callback delivery attempt |
//! | `GET /_sim/transactions/{public_id}/{order_id}` | status and history |
//! | `POST /_sim/transactions/{public_id}/{order_id}/outcome` `{"status":2\|3\|4}` | forces the outcome now and sends the callback |
//! | `POST /_sim/reset` | forgets transactions and callback attempts |
//! | `GET /_sim/clock` | the clock: `mode` (`wall` or `manual`), `now`, `now_ms`, `pending_timers` |
//! | `POST /_sim/clock/advance` `{"seconds":N}` | moves a manual clock, firing every timer due on the way in order (409 on the wall clock); see [`sim_clock`] |
//! | `GET`/`PUT`/`DELETE /_sim/merchants/{public_id}/faults` | the merchant's seeded fault profile and the faults injected so far; see [`faults`] |
//! | `GET /_sim/redirect/{public_id}/{order_id}` (open) | the customer's redirect page; completes a redirect flow |
//! | `GET /_sim/namespaces`, `PUT`/`DELETE /_sim/namespaces/{name}` | the namespaces (one world per test run under `/ns/{name}/`); see [`namespaces`] |
//!
//! # Callbacks never reach the simulator
//!
//! A `callback_url` anywhere in a request (`payment_c2b`, `payment_b2c`,
//! `withdrawal`, bulk items) that points at the simulator itself (its port
//! on `localhost`, a loopback, unspecified or local address, or the
//! advertised base URL) is refused with 422, code 10422, naming the field
//! and the rule `callback_not_simulator`; a merchant whose configured
//! `callback_url` does so stops the start-up with an error naming it.
//! Callbacks never carry the admin token. See `self_url`.
//!
//! # Persistence
//!
//! By default the state is in memory. With [`SimulatorConfig::db`]
//! (`paygate simulate --db FILE`) the gateway's transactions, idempotency
//! records (the stored responses), the callback outbox and every delivery
//! attempt are kept in SQLite in WAL mode; see [`persist`]. An accepted
//! payment is committed (transaction, idempotency record and stored
//! response in one SQLite transaction) before its answer is sent, so a
//! simulator killed with SIGKILL and started again on the same file has
//! lost no accepted transaction: replays get the same bytes, `status`
//! finds it. On start ([`start`], or [`SimulatorState::resume`]), every
//! transaction not yet final whose outcome was waiting for the latency gets
//! its timer re-armed (it reaches its outcome one latency after the
//! restart), and every callback still pending in the outbox is sent again,
//! continuing its attempt count. Callbacks are delivered at least once: an
//! attempt that was in flight when the process died is made again.
//! HUB2's state is kept in the same database (see `hub2::persist`).
//!
//! # HUB2
//!
//! The same server also simulates HUB2 under `/hub2` (payment intents,
//! transfers, balance, Processing Only mode, webhooks, rate limits), with
//! its own accounts ([`SimulatorConfig::hub2`]) and state; see [`hub2`].

pub mod admin;
mod callback_http;
mod callbacks;
mod clock;
mod clock_control;
pub mod codes;
mod config;
mod control;
mod dashboard;
mod durability;
pub(crate) use durability::WorkError;
pub(crate) mod fault_control;
pub mod faults;
mod forward;
mod gateway;
mod group_commit;
pub mod hub2;
mod lifecycle;
pub mod namespaces;
mod operation;
pub mod outcome;
pub mod persist;
mod request_rules;
mod self_url;
mod serve;
pub mod sim_clock;
pub mod specs;
pub mod state;
mod takeover;
mod transaction;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::middleware::from_extractor_with_state;
use axum::routing::{get, post};
use axum::Router;
use paygate::SigningKey;
use tokio::sync::{oneshot, watch};

pub use admin::{AdminToken, ControlAccess, ADMIN_TOKEN_VAR};
pub use config::{
    CallbackRetry, ClockMode, ConnectionLimits, Merchant, SimulatorConfig, SimulatorError,
    DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};
pub use operation::OperationKind;
pub use persist::{OutboxEntry, ReplicaOptions, StoreError};
pub use state::Store;
pub use transaction::{CallbackAttempt, StatusChange, Transaction};

/// A merchant with its precomputed signing state.
pub(crate) struct MerchantEntry {
    pub(crate) merchant: Merchant,
    pub(crate) key: SigningKey,
}

pub(crate) struct Shared {
    pub(crate) config: SimulatorConfig,
    pub(crate) merchants: HashMap<String, MerchantEntry>,
    pub(crate) store: Store,
    pub(crate) http: callback_http::CallbackHttp,
    /// One permit per callback or webhook delivery in flight
    /// ([`SimulatorConfig::callback_concurrency`]).
    pub(crate) deliveries: tokio::sync::Semaphore,
    /// The clock everything time-based reads.
    pub(crate) clock: sim_clock::SimClock,
    pub(crate) base_url: String,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) hub2: hub2::Hub2Shared,
    /// Whether [`SimulatorState::resume`] has run.
    pub(crate) resumed: AtomicBool,
    /// The token the control API checks (`None`: open).
    pub(crate) admin_token: Option<AdminToken>,
    /// What a callback or webhook URL must not point at.
    pub(crate) self_address: self_url::SelfAddress,
    /// The merchants' fault profiles and what they did.
    pub(crate) faults: faults::Faults,
    /// This simulator's name when it is a namespace of another.
    pub(crate) namespace: Option<String>,
    /// The root simulator's namespaces (`None` inside a namespace).
    pub(crate) namespaces: Option<namespaces::Namespaces>,
}

/// The simulator's shared state: configuration, merchants and the store.
/// Cheap to clone.
#[derive(Clone)]
pub struct SimulatorState(pub(crate) Arc<Shared>);

impl std::fmt::Debug for SimulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatorState")
            .field("base_url", &self.0.base_url)
            .field("merchants", &self.0.merchants.len())
            .finish_non_exhaustive()
    }
}

impl SimulatorState {
    /// State for a simulator reachable at `base_url` (used to build the
    /// redirect links, and the address callbacks must not point at). Fails
    /// on duplicate or empty merchant ids, on a merchant whose
    /// `callback_url` points at the simulator itself, when the admin token
    /// cannot be generated, or when [`SimulatorConfig::db`] cannot be
    /// opened. With a database, what it
    /// holds is read back; call [`SimulatorState::resume`] (as [`start`]
    /// does) inside a Tokio runtime to restart pending work.
    pub fn new(
        config: SimulatorConfig,
        base_url: impl Into<String>,
    ) -> Result<Self, SimulatorError> {
        Self::build(config, base_url.into(), None)
    }

    /// The namespace `name` of `root` (see [`namespaces`]): the root's
    /// merchants, settings and admin token, in memory, served under
    /// `{root base URL}/ns/{name}`.
    pub(crate) fn for_namespace(root: &SimulatorState, name: &str) -> Result<Self, SimulatorError> {
        let mut config = root.config().clone();
        config.db = None;
        config.replica = None;
        config.control = match root.admin_token() {
            Some(token) => ControlAccess::Token(token.clone()),
            None => ControlAccess::Open,
        };
        let base_url = format!("{}{}{name}", root.base_url(), namespaces::NAMESPACE_PREFIX);
        let store = Store::sharing_ids_with(root.store());
        Self::build(config, base_url, Some((name.to_owned(), store)))
    }

    fn build(
        config: SimulatorConfig,
        base_url: String,
        namespace: Option<(String, Store)>,
    ) -> Result<Self, SimulatorError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let self_address = self_url::SelfAddress::from_base_url(&base_url);
        let admin_token = config.control.resolve()?;
        let mut merchants = HashMap::new();
        for (i, merchant) in config.merchants.iter().enumerate() {
            if let Some(url) = &merchant.callback_url {
                if let Err(why) = self_address.check(url) {
                    return Err(SimulatorError::Config {
                        file: "<config>".into(),
                        path: format!("merchants[{i}].callback_url"),
                        message: format!(
                            "merchant {:?}: callback_url {url:?} {why}",
                            merchant.public_id
                        ),
                    });
                }
            }
            let invalid = |message: &str| SimulatorError::Config {
                file: "<config>".into(),
                path: format!("merchants[{i}].public_id"),
                message: message.into(),
            };
            if merchant.public_id.is_empty() || merchant.public_id.contains('/') {
                return Err(invalid("must be non-empty and contain no `/`"));
            }
            let entry = MerchantEntry {
                key: SigningKey::new(&merchant.secret_key),
                merchant: merchant.clone(),
            };
            if merchants
                .insert(merchant.public_id.clone(), entry)
                .is_some()
            {
                return Err(invalid("is used by an earlier merchant"));
            }
        }
        let http = callback_http::CallbackHttp::new(config.callback_timeout).map_err(|e| {
            SimulatorError::Config {
                file: "<config>".into(),
                path: "callback_timeout".into(),
                message: format!("cannot build the callback HTTP client: {e}"),
            }
        })?;
        let (shutdown, _) = watch::channel(false);
        let (namespace, store) = match namespace {
            Some((name, store)) => (Some(name), Some(store)),
            None => (None, None),
        };
        let store = match (store, &config.db) {
            (Some(store), _) => store,
            (None, Some(path)) => {
                let joining = config.replica.map(|options| persist::replica::Joining {
                    options,
                    url: base_url.clone(),
                });
                let store = Store::open(path, joining)?;
                tracing::info!(
                    db = %persist::display_target(path),
                    transactions = store.transaction_count(),
                    storage = store.storage(),
                    "gateway and HUB2 state kept in the database"
                );
                store
            }
            (None, None) => Store::new(),
        };
        let hub2 =
            hub2::Hub2Shared::restored(&config.hub2, store.take_hub2()).map_err(|message| {
                SimulatorError::Storage(StoreError {
                    path: config
                        .db
                        .as_ref()
                        .map_or_else(String::new, |p| persist::display_target(p)),
                    message,
                })
            })?;
        for (public_id, profile) in &config.faults {
            let path = format!("faults.{public_id}");
            if !merchants.contains_key(public_id) {
                return Err(SimulatorError::Config {
                    file: "<config>".into(),
                    path,
                    message: "no merchant has this public_id".into(),
                });
            }
            profile
                .check()
                .map_err(|(field, message)| SimulatorError::Config {
                    file: "<config>".into(),
                    path: format!("{path}.{field}"),
                    message,
                })?;
        }
        if let Some(url) = &config.forward_callbacks_to {
            let refused = if url.starts_with("http://") || url.starts_with("https://") {
                self_address
                    .check(url)
                    .err()
                    .map(|why| format!("{url:?} {why}"))
            } else {
                Some(format!("{url:?} is not an http:// or https:// URL"))
            };
            if let Some(message) = refused {
                return Err(SimulatorError::Config {
                    file: "<config>".into(),
                    path: "forward_callbacks_to".into(),
                    message,
                });
            }
        }
        let hub2_faults = config.hub2.merchants.iter().filter_map(|m| {
            let key = fault_control::hub2_fault_key(&m.merchant_id);
            m.faults.clone().map(|profile| (key, profile))
        });
        let faults = faults::Faults::new(config.faults.clone().into_iter().chain(hub2_faults));
        let deliveries = tokio::sync::Semaphore::new(config.callback_concurrency.max(1));
        let config_namespaces = config.namespaces;
        let clock = match config.clock {
            ClockMode::Wall => sim_clock::SimClock::wall(),
            ClockMode::Manual { start_ms } => sim_clock::SimClock::manual(start_ms),
        };
        Ok(SimulatorState(Arc::new(Shared {
            hub2,
            config,
            merchants,
            store,
            resumed: AtomicBool::new(false),
            http,
            deliveries,
            clock,
            base_url,
            shutdown,
            admin_token,
            self_address,
            faults,
            namespaces: namespace
                .is_none()
                .then(|| namespaces::Namespaces::new(config_namespaces)),
            namespace,
        })))
    }

    /// The configuration in use.
    pub fn config(&self) -> &SimulatorConfig {
        &self.0.config
    }

    /// The base URL the simulator advertises.
    pub fn base_url(&self) -> &str {
        &self.0.base_url
    }

    /// The admin token the control API checks, or `None` when it is open
    /// ([`ControlAccess::Open`]). Send it with
    /// [`AdminToken::bearer_header`].
    pub fn admin_token(&self) -> Option<&AdminToken> {
        self.0.admin_token.as_ref()
    }

    /// `Err(why)` when `url` points at the simulator itself (see
    /// `self_url`).
    pub(crate) fn check_not_self(&self, url: &str) -> Result<(), String> {
        self.0.self_address.check(url)
    }

    /// The store (sharded: lock one order's shard with
    /// [`Store::lock_order`]; keep guards short, never across an
    /// `.await`).
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// A copy of one transaction.
    pub fn transaction(&self, public_id: &str, order_id: &str) -> Option<Transaction> {
        self.store().get_cloned(public_id, order_id)
    }

    /// Every callback delivery attempt, optionally for one order.
    ///
    /// Ordered by time, then by merchant, order, attempt and outcome (a
    /// stable sort: one order's callbacks at one instant keep the order
    /// they were sent in): on the manual clock the same requests and
    /// advances give the same list byte for byte, however the deliveries of
    /// different orders due at one instant raced.
    pub fn callback_attempts(&self, order_id: Option<&str>) -> Vec<CallbackAttempt> {
        let mut attempts = self.store().attempts(order_id);
        attempts.sort_by(|a, b| {
            (&a.at, &a.public_id, &a.order_id, a.attempt, a.delivered).cmp(&(
                &b.at,
                &b.public_id,
                &b.order_id,
                b.attempt,
                b.delivered,
            ))
        });
        attempts
    }

    /// Forgets all transactions and callback attempts.
    pub fn reset(&self) {
        self.store().reset();
        self.0.faults.reset();
    }

    /// Restarts the work a persistent store holds (once; later calls do
    /// nothing): re-arms the outcome timer of every transaction not yet
    /// final that waits only for the latency, and resumes every pending
    /// callback delivery where it stopped. Needs a Tokio runtime. In memory
    /// there is nothing to resume.
    pub fn resume(&self) {
        if self.0.resumed.swap(true, Ordering::SeqCst) {
            return;
        }
        let (timers, pending) = {
            let store = self.store();
            if !store.is_persistent() {
                return;
            }
            let timers: Vec<(String, String, u64)> = store.collect(|tx| {
                lifecycle::waits_for_timer(tx)
                    .then(|| (tx.public_id.clone(), tx.order_id.clone(), tx.serial))
            });
            let pending = match store.pending_callbacks() {
                Ok(pending) => pending,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read pending callbacks");
                    Vec::new()
                }
            };
            (timers, pending)
        };
        if !timers.is_empty() || !pending.is_empty() {
            tracing::info!(
                timers = timers.len(),
                callbacks = pending.len(),
                "resuming pending work from the database"
            );
        }
        for (public_id, order_id, serial) in timers {
            lifecycle::schedule(self, &public_id, &order_id, serial);
        }
        for entry in pending {
            callbacks::resume_delivery(self, entry);
        }
        if let Some(mut takeovers) = self.store().takeovers() {
            // Not a clock task: it waits for as long as the simulator runs.
            let state = self.clone();
            let mut stop = self.0.shutdown.subscribe();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        takeover = takeovers.recv() => match takeover {
                            Some(takeover) => takeover::take_over(&state, takeover),
                            None => return,
                        },
                        _ = stop.changed() => return,
                    }
                }
            });
        }
        // Behind replicas, only the one serving HUB2 runs its work.
        if self
            .store()
            .hub2_lead()
            .is_none_or(|lead| lead.is_leading())
        {
            hub2::resume(self);
        }
    }

    /// Stops background work (outcome timers, callback retries).
    pub fn stop_background(&self) {
        self.0.shutdown.send_replace(true);
        if let Some(namespaces) = &self.0.namespaces {
            namespaces.stop_all();
        }
    }

    /// Sleeps `duration`; returns false if the simulator is shutting down.
    pub(crate) async fn sleep(&self, duration: Duration) -> bool {
        let mut stop = self.0.shutdown.subscribe();
        if *stop.borrow() {
            return false;
        }
        tokio::select! {
            () = self.0.clock.sleep(duration) => true,
            _ = stop.changed() => false,
        }
    }

    /// The simulator's clock (the wall clock unless
    /// [`SimulatorConfig::clock`] is manual).
    pub fn clock(&self) -> &sim_clock::SimClock {
        &self.0.clock
    }

    /// Spawns a background task of the simulator (a timer, a delivery):
    /// on its clock, and counted by a manual clock's advance.
    pub(crate) fn spawn<F>(&self, future: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(self.0.clock.task(future));
    }
}

/// Runs every request on its simulator's clock.
async fn on_clock(
    axum::extract::State(state): axum::extract::State<SimulatorState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let clock = state.0.clock.clone();
    clock.scope(next.run(request)).await
}

/// The simulator's routes: the gateway methods, the `/_sim/` control API
/// (behind the admin token, see [`admin`]) and HUB2 under `/hub2`. HUB2's
/// per-IP limits need the peer address: serve with
/// `into_make_service_with_connect_info::<SocketAddr>()` (as [`start`]
/// does); without it every client counts as one.
pub fn router(state: SimulatorState) -> Router {
    let control = Router::new()
        .route("/_sim/callbacks", get(control::callbacks))
        .route("/_sim/reset", post(control::reset))
        .route("/_sim/clock", get(clock_control::clock))
        .route("/_sim/clock/advance", post(clock_control::advance_clock))
        .route(
            "/_sim/merchants/{public_id}/faults",
            get(fault_control::get_faults)
                .put(fault_control::put_faults)
                .delete(fault_control::delete_faults),
        )
        .route(
            "/_sim/transactions/{public_id}/{order_id}",
            get(control::transaction),
        )
        .route(
            "/_sim/transactions/{public_id}/{order_id}/outcome",
            post(control::force_outcome),
        )
        .route("/_sim/transactions", get(dashboard::list))
        .route("/_sim/namespaces", get(namespaces::list))
        .route(
            "/_sim/namespaces/{name}",
            axum::routing::put(namespaces::create).delete(namespaces::delete),
        )
        .route(
            "/_sim/transactions/{public_id}/{order_id}/callback",
            post(dashboard::resend_callback),
        )
        .route("/_sim/ui/app.js", get(dashboard::script))
        .route("/_sim/ui/app.css", get(dashboard::style))
        .route_layer(from_extractor_with_state::<admin::RequireAdmin, _>(
            state.clone(),
        ));
    Router::new()
        .nest("/hub2", hub2::router(state.clone()))
        .merge(control)
        // Open: the liveness probe and the customer's page.
        .route("/_sim/health", get(control::health))
        // The dashboard checks the token itself (to send a browser without
        // it to the sign-in form); signing in and out need no token.
        .route("/_sim/ui", get(dashboard::page))
        .route(
            "/_sim/ui/login",
            get(dashboard::login_form).post(dashboard::login),
        )
        .route("/_sim/ui/logout", post(dashboard::logout))
        .route("/openapi.yaml", get(specs::gateway))
        .route(
            "/_sim/redirect/{public_id}/{order_id}",
            get(control::redirect_page),
        )
        .route("/{public_id}/{method}", post(gateway::handle))
        .route(
            "/{public_id}/payment_b2c/{what}",
            post(gateway::handle_bulk),
        )
        .route(
            "/{public_id}/payment_b2c/bulk/{what}",
            post(gateway::handle_bulk),
        )
        .fallback(gateway::not_found)
        .method_not_allowed_fallback(gateway::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            on_clock,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            namespaces::route,
        ))
        .with_state(state)
}

/// A simulator serving HTTP in the background.
#[derive(Debug)]
pub struct RunningSimulator {
    /// The address it listens on.
    pub addr: SocketAddr,
    state: SimulatorState,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl RunningSimulator {
    /// `http://{addr}` (with 127.0.0.1 for an unspecified address).
    pub fn base_url(&self) -> String {
        self.state.base_url().to_owned()
    }

    /// The state, for in-process inspection.
    pub fn state(&self) -> &SimulatorState {
        &self.state
    }

    /// The admin token control requests must carry (`None` when the
    /// control API is open): `Authorization: Bearer <token>`, e.g.
    /// `.header(AUTHORIZATION, token.bearer_header())`. Its `Debug` output
    /// is redacted.
    pub fn admin_token(&self) -> Option<&AdminToken> {
        self.state.admin_token()
    }

    /// Stops serving and stops background work, giving requests in flight
    /// up to 5 s to finish ([`RunningSimulator::shutdown_within`]).
    pub async fn shutdown(self) {
        self.shutdown_within(Duration::from_secs(5)).await;
    }

    /// Graceful shutdown: stops accepting connections, lets the requests
    /// in flight finish (each answered after its commit, as always) for at
    /// most `grace`, then stops background work (outcome timers, callback
    /// deliveries; with a database, pending callbacks stay in the outbox
    /// and resume on the next start, or, for a replica, are taken over by
    /// the others at once). Returns whether every connection
    /// ended within `grace` (else the rest are dropped).
    pub async fn shutdown_within(mut self, grace: Duration) -> bool {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let finished = tokio::time::timeout(grace, &mut self.server).await.is_ok();
        if !finished {
            self.server.abort();
        }
        self.state.stop_background();
        let state = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || state.store().leave_replicas()).await;
        // Background tasks see the stop at their next await and drop
        // their handle on the state (and so on the database): wait for
        // that, briefly, so a simulator started next on the same file
        // finds it free.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while Arc::strong_count(&self.state.0) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        finished
    }
}

/// Binds `listen` (port 0 picks a free port) and serves the simulator on a
/// background task. [`ControlAccess::Open`] is refused unless `listen` is
/// a loopback address.
pub async fn start(
    config: SimulatorConfig,
    listen: SocketAddr,
) -> Result<RunningSimulator, SimulatorError> {
    admin::check_listen(&config.control, listen)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SimulatorError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SimulatorError::Bind {
            addr: listen,
            source,
        })?;
    let mut advertised = addr;
    if advertised.ip().is_unspecified() {
        advertised.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let state = SimulatorState::new(config, format!("http://{advertised}"))?;
    state.resume();
    namespaces::spawn_expiry(&state);
    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let limits = state.config().connections;
    let server = tokio::spawn(serve::serve(listener, app, limits, stopped));
    tracing::info!(%addr, "gateway simulator listening");
    Ok(RunningSimulator {
        addr,
        state,
        stop: Some(stop),
        server,
    })
}
