//! Runs the cases against a target, a bounded number at a time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use paygate::gateway::client::{
    BrandProfile, ClientConfig, Credentials, GatewayClient, PollPolicy, RetryPolicy,
};
use paygate::gateway::rules::ProviderTable;
use paygate::signing::{SecretKey, SigningKey};
use tokio::sync::Semaphore;

use super::cases::{Case, CaseKind};
use super::checks::run_case;
use super::detect::DetectedSimulator;
use super::hub2::context::Hub2Ctx;
use super::hub2::receiver::WebhookReceiver;
use super::outcome::{CaseResult, Outcome};
use super::receiver::CallbackReceiver;
use super::target::{Ctx, Timing};
use crate::simulator::{self, AdminToken, CallbackRetry, SimulatorConfig};

/// What the suite runs against.
pub enum Target {
    /// A simulator started in process on `127.0.0.1:0` with this
    /// configuration (its first merchant is used; its callbacks reach the
    /// suite's receiver). Every case runs.
    Embedded(Box<SimulatorConfig>),
    /// A gateway or sandbox at `base_url`: only sandbox-safe cases run.
    Remote {
        /// The API's base URL.
        base_url: String,
        /// The merchant's public id.
        public_id: String,
        /// The merchant id.
        merchant_id: String,
        /// The merchant's secret key.
        secret_key: SecretKey,
    },
}

impl Target {
    /// The embedded simulator with the demo merchant, a short latency and
    /// fast callback retries: what `paygate conform` runs without
    /// `--base-url`.
    pub fn embedded_default() -> Target {
        let mut config = SimulatorConfig::demo();
        config.latency = Duration::from_millis(50);
        config.callback_retry = CallbackRetry {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
        };
        // The whole suite is one client IP: lift HUB2's global limit (the
        // polling throttle, which a case checks, stays as documented).
        config.hub2.rate_limit.requests = 1_000_000;
        Target::Embedded(Box::new(config))
    }

    fn is_remote(&self) -> bool {
        matches!(self, Target::Remote { .. })
    }
}

/// How to run.
pub struct RunConfig {
    /// The target.
    pub target: Target,
    /// Cases at a time (at least 1).
    pub concurrency: usize,
    /// Only cases whose id contains this substring (others are left out of
    /// the run entirely).
    pub filter: Option<String>,
    /// Deadline of one case.
    pub case_timeout: Duration,
    /// The provider table the client validates against (the documented
    /// one by default).
    pub providers: &'static ProviderTable,
    /// HUB2 credentials for a remote target (ignored for the embedded
    /// simulator, which brings its own); without them the HUB2 cases are
    /// skipped against a remote target.
    pub hub2: Option<Hub2Remote>,
    /// The admin token of a remote target that is a separately started
    /// simulator (`paygate conform --base-url URL --admin-token TOKEN`):
    /// the cases that need its control API run too. Ignored for the
    /// embedded simulator, whose token the suite reads in process.
    pub admin_token: Option<AdminToken>,
    /// What [`detect_simulator`](super::detect::detect_simulator) found at
    /// a remote base URL: a paygate simulator, against which the whole
    /// suite runs (see [`Reach::simulator`]).
    pub simulator: Option<DetectedSimulator>,
}

/// What a target offers the cases: each case that needs what is missing
/// is skipped, with the reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// Not the embedded simulator.
    pub remote: bool,
    /// A paygate simulator (embedded or separately started): no real
    /// provider is charged, so the cases that are not sandbox-safe run.
    pub simulator: bool,
    /// A HUB2 target.
    pub hub2: bool,
    /// The `/_sim` control API.
    pub control_api: bool,
    /// Callbacks reach the suite's receiver.
    pub callbacks: bool,
    /// A merchant twin for the fault-profile cases.
    pub faults: bool,
    /// The merchant's configured callback URL is the suite's receiver
    /// (where a POS deposit, which carries no `callback_url`, calls back):
    /// only in the embedded simulator, which the suite configures.
    pub merchant_callbacks: bool,
}

impl Reach {
    /// The embedded simulator: everything.
    pub fn embedded() -> Reach {
        Reach {
            remote: false,
            simulator: true,
            hub2: true,
            control_api: true,
            callbacks: true,
            faults: true,
            merchant_callbacks: true,
        }
    }

    /// A sandbox or gateway at `--base-url` (not a paygate simulator).
    pub fn sandbox(hub2: bool, control_api: bool) -> Reach {
        Reach {
            remote: true,
            hub2,
            control_api,
            ..Reach::default()
        }
    }

    /// A separately started paygate simulator whose admin token works:
    /// HUB2 with credentials or its demo HUB2 merchant, callbacks when it
    /// listens on loopback, faults when it has the merchant's twin.
    pub fn simulator(found: &DetectedSimulator, hub2_credentials: bool) -> Reach {
        Reach {
            remote: true,
            simulator: true,
            hub2: hub2_credentials || found.demo_hub2.is_some(),
            control_api: true,
            callbacks: found.loopback,
            faults: found.fault_public_id.is_some() && found.loopback,
            merchant_callbacks: false,
        }
    }
}

/// A remote HUB2 target.
#[derive(Clone, Debug)]
pub struct Hub2Remote {
    /// HUB2 base URL (e.g. `https://api.hub2.io`).
    pub base_url: String,
    /// `MerchantId`.
    pub merchant_id: String,
    /// `ApiKey`.
    pub api_key: String,
    /// `Environment`.
    pub environment: paygate::hub2::Environment,
}

impl RunConfig {
    /// Defaults: 16 at a time, 30 s per case, the documented provider table.
    pub fn new(target: Target) -> RunConfig {
        RunConfig {
            target,
            concurrency: 16,
            filter: None,
            case_timeout: Duration::from_secs(30),
            providers: &paygate::gateway::PROVIDER_TABLE,
            hub2: None,
            admin_token: None,
            simulator: None,
        }
    }

    /// What this configuration's target offers the cases.
    pub fn reach(&self) -> Reach {
        if !self.target.is_remote() {
            return Reach::embedded();
        }
        match (&self.simulator, &self.admin_token) {
            (Some(found), Some(_)) => Reach::simulator(found, self.hub2.is_some()),
            _ => Reach::sandbox(self.hub2.is_some(), self.admin_token.is_some()),
        }
    }
}

/// Why the suite could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The embedded simulator did not start.
    #[error("cannot start the embedded simulator: {0}")]
    Simulator(String),
    /// The embedded simulator has no merchant to use.
    #[error("the simulator configuration has no merchant")]
    NoMerchant,
    /// The callback receiver did not start.
    #[error("cannot start the callback receiver: {0}")]
    Receiver(std::io::Error),
    /// The client could not be built.
    #[error("cannot build the client: {0}")]
    Client(String),
}

/// A case and, if it will not run against this target, why.
#[derive(Clone, Debug)]
pub struct Planned {
    /// The case.
    pub case: Case,
    /// `Some(reason)` if it is skipped.
    pub skip: Option<String>,
}

/// Decides which cases run against a remote target (`remote = true`) or
/// the embedded simulator, after applying the filter.
pub fn plan(cases: Vec<Case>, remote: bool, filter: Option<&str>) -> Vec<Planned> {
    plan_with(cases, remote, false, filter)
}

/// [`plan`], saying whether a remote run has HUB2 credentials.
pub fn plan_with(
    cases: Vec<Case>,
    remote: bool,
    remote_hub2: bool,
    filter: Option<&str>,
) -> Vec<Planned> {
    plan_remote(cases, remote, remote_hub2, false, filter)
}

/// [`plan_with`], saying also whether a remote run has the control API
/// (a separately started simulator and its admin token).
pub fn plan_remote(
    cases: Vec<Case>,
    remote: bool,
    remote_hub2: bool,
    remote_control: bool,
    filter: Option<&str>,
) -> Vec<Planned> {
    let reach = if remote {
        Reach::sandbox(remote_hub2, remote_control)
    } else {
        Reach::embedded()
    };
    plan_reach(cases, reach, filter)
}

/// Decides which cases run against a target offering `reach`.
pub fn plan_reach(cases: Vec<Case>, reach: Reach, filter: Option<&str>) -> Vec<Planned> {
    cases
        .into_iter()
        .filter(|c| filter.is_none_or(|f| c.id.contains(f)))
        .map(|case| {
            let skip = if !reach.remote {
                None
            } else if case.needs.hub2 && !reach.hub2 {
                Some(if reach.simulator {
                    "needs HUB2: the simulator has no demo HUB2 merchant; set PAYGATE_HUB2_API_KEY and PAYGATE_HUB2_MERCHANT_ID".to_owned()
                } else {
                    "needs HUB2 credentials (PAYGATE_HUB2_API_KEY, PAYGATE_HUB2_MERCHANT_ID)"
                        .to_owned()
                })
            } else if !case.sandbox_safe && !reach.simulator {
                Some("simulator only: it sends requests for real providers".to_owned())
            } else if case.needs.control_api && !reach.control_api {
                Some("simulator only: it needs the /_sim control API".to_owned())
            } else if case.needs.callbacks && !reach.callbacks {
                Some(if reach.simulator {
                    "needs callbacks: the simulator does not listen on loopback, so it cannot reach the local receiver".to_owned()
                } else {
                    "needs callbacks, and a remote gateway cannot reach the local receiver"
                        .to_owned()
                })
            } else if matches!(case.kind, CaseKind::PosDeposit { .. }) && !reach.merchant_callbacks {
                Some(
                    "needs the merchant's configured callback URL to be the suite's receiver (a POS deposit carries no callback_url); the embedded simulator's is"
                        .to_owned(),
                )
            } else if matches!(case.kind, CaseKind::AmbiguousFaults { .. }) && !reach.faults {
                Some(
                    "needs the merchant's twin `{public_id}-faults` on the simulator (paygate simulate's demo merchants have it)"
                        .to_owned(),
                )
            } else {
                None
            };
            Planned { case, skip }
        })
        .collect()
}

/// Runs `cases` and reports each result to `on_result` as it finishes (in
/// completion order); returns every result in case order.
pub async fn run(
    config: RunConfig,
    cases: Vec<Case>,
    on_result: impl Fn(&CaseResult),
) -> Result<Vec<CaseResult>, RunError> {
    let reach = config.reach();
    let planned = plan_reach(cases, reach, config.filter.as_deref());

    let (ctx, simulator) = match config.target {
        Target::Embedded(sim_config) => {
            let (ctx, running) = embedded(*sim_config, config.providers).await?;
            (ctx, Some(running))
        }
        Target::Remote {
            base_url,
            public_id,
            merchant_id,
            secret_key,
        } => {
            let simulator = config.simulator.as_ref().filter(|_| reach.simulator);
            let mut ctx = remote_ctx(
                config.providers,
                base_url,
                public_id,
                merchant_id,
                secret_key,
                config.hub2.as_ref(),
                simulator,
            )
            .await?;
            if let Some(token) = config.admin_token {
                ctx.control_api = true;
                if let Some(hub2) = ctx.hub2.as_mut() {
                    hub2.admin_token = Some(token.clone());
                }
                ctx.admin_token = Some(token);
            }
            (ctx, None)
        }
    };

    let ctx = Arc::new(ctx);
    let semaphore = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut results: Vec<Option<CaseResult>> = (0..planned.len()).map(|_| None).collect();
    let mut running_cases = tokio::task::JoinSet::new();
    for (index, Planned { case, skip }) in planned.into_iter().enumerate() {
        if let Some(reason) = skip {
            let result = CaseResult {
                id: case.id,
                group: case.group,
                outcome: Outcome::Skip(reason),
                duration: Duration::ZERO,
            };
            on_result(&result);
            results[index] = Some(result);
            continue;
        }
        let ctx = Arc::clone(&ctx);
        let semaphore = Arc::clone(&semaphore);
        let case_timeout = config.case_timeout;
        running_cases.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, run_one(ctx, case, case_timeout).await)
        });
    }
    while let Some(joined) = running_cases.join_next().await {
        // The outer task only awaits; it cannot panic.
        if let Ok((index, result)) = joined {
            on_result(&result);
            results[index] = Some(result);
        }
    }

    shut_down(ctx, simulator).await;
    Ok(results.into_iter().flatten().collect())
}

/// The context of a remote target: the gateway's client and the HUB2
/// target if there are credentials for it. Against a sandbox: remote
/// timings, no receiver. Against a detected paygate simulator: the
/// embedded run's timings, receivers when it listens on loopback, the
/// fault twin, and its demo HUB2 merchant when no credentials are given.
async fn remote_ctx(
    providers: &'static ProviderTable,
    base_url: String,
    public_id: String,
    merchant_id: String,
    secret_key: SecretKey,
    hub2: Option<&Hub2Remote>,
    simulator: Option<&DetectedSimulator>,
) -> Result<Ctx, RunError> {
    let key = SigningKey::new(&secret_key);
    let client = build_client(
        providers,
        &base_url,
        &public_id,
        &merchant_id,
        secret_key,
        simulator.is_some(),
    )?;
    let timing = if simulator.is_some() {
        Timing {
            final_status: Duration::from_secs(20),
            callback: Duration::from_secs(20),
            no_callback: Duration::from_millis(400),
        }
    } else {
        Timing {
            final_status: Duration::from_secs(60),
            callback: Duration::from_secs(60),
            no_callback: Duration::from_secs(2),
        }
    };
    let receiver = match simulator {
        Some(found) if found.loopback => Some(
            CallbackReceiver::start(key.clone())
                .await
                .map_err(RunError::Receiver)?,
        ),
        _ => None,
    };
    let mut ctx = Ctx::new(
        base_url,
        public_id,
        merchant_id,
        key,
        client,
        providers,
        receiver,
        false,
        timing,
    )
    .map_err(RunError::Client)?;
    if let Some(found) = simulator {
        ctx.fault_public_id = found.fault_public_id.clone().filter(|_| found.loopback);
        if let (None, Some(demo)) = (hub2, &found.demo_hub2) {
            let mut hub2 = Hub2Ctx::new(
                &demo.base_url,
                &demo.merchant_id,
                &demo.api_key,
                paygate::hub2::Environment::Sandbox,
                Some(demo.limited_key.clone()),
                true,
            )
            .map_err(RunError::Client)?;
            if found.loopback {
                hub2.receiver = Some(WebhookReceiver::start().await.map_err(RunError::Receiver)?);
            }
            ctx.hub2 = Some(hub2);
            return Ok(ctx);
        }
    }
    if let Some(hub2) = hub2 {
        let mut hub2 = Hub2Ctx::new(
            &hub2.base_url,
            &hub2.merchant_id,
            &hub2.api_key,
            hub2.environment,
            None,
            simulator.is_some(),
        )
        .map_err(RunError::Client)?;
        if simulator.is_some_and(|found| found.loopback) {
            hub2.receiver = Some(WebhookReceiver::start().await.map_err(RunError::Receiver)?);
        }
        ctx.hub2 = Some(hub2);
    }
    Ok(ctx)
}

/// Runs one case with its deadline. The check runs in its own task so
/// that a panic fails this case, not the run.
async fn run_one(ctx: Arc<Ctx>, case: Case, case_timeout: Duration) -> CaseResult {
    let case_timeout = if case.long {
        case_timeout.saturating_mul(super::cases::LONG_CASE_FACTOR)
    } else {
        case_timeout
    };
    let started = Instant::now();
    let kind = case.kind.clone();
    let handle = tokio::spawn(async move { run_case(&ctx, &kind).await });
    let abort = handle.abort_handle();
    let outcome = match tokio::time::timeout(case_timeout, handle).await {
        Ok(Ok(Ok(()))) => Outcome::Pass,
        Ok(Ok(Err(message))) => Outcome::Fail(message),
        Ok(Err(join)) => Outcome::Fail(format!("the check panicked: {join}")),
        Err(_) => {
            abort.abort();
            Outcome::Fail(format!("timed out after {case_timeout:?}"))
        }
    };
    CaseResult {
        id: case.id,
        group: case.group,
        outcome,
        duration: started.elapsed(),
    }
}

/// Stops the embedded simulator and the receivers (once no check holds
/// the context any more).
async fn shut_down(ctx: Arc<Ctx>, simulator: Option<simulator::RunningSimulator>) {
    if let Some(running) = simulator {
        running.shutdown().await;
    }
    if let Ok(ctx) = Arc::try_unwrap(ctx) {
        if let Some(receiver) = ctx.receiver {
            receiver.shutdown().await;
        }
        if let Some(receiver) = ctx.hub2.and_then(|h| h.receiver) {
            receiver.shutdown();
        }
    }
}

/// Starts a callback receiver and a simulator that calls it back, and the
/// context to test it with (the client validates against `providers`).
pub(crate) async fn embedded(
    mut sim_config: SimulatorConfig,
    providers: &'static ProviderTable,
) -> Result<(Ctx, simulator::RunningSimulator), RunError> {
    let merchant = sim_config
        .merchants
        .first()
        .cloned()
        .ok_or(RunError::NoMerchant)?;
    let secret = merchant.secret_key.clone();
    let key = SigningKey::new(&secret);
    let receiver = CallbackReceiver::start(key.clone())
        .await
        .map_err(RunError::Receiver)?;
    // The same merchant under a second public id, for the fault-profile
    // cases (no other case sees a fault).
    let fault_public_id = format!("{}-faults", merchant.public_id);
    if sim_config
        .merchants
        .iter()
        .all(|m| m.public_id != fault_public_id)
    {
        sim_config.merchants.push(simulator::Merchant {
            public_id: fault_public_id.clone(),
            ..merchant.clone()
        });
    }
    for m in &mut sim_config.merchants {
        m.callback_url = Some(receiver.url());
    }
    let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let running = simulator::start(sim_config, addr)
        .await
        .map_err(|e| RunError::Simulator(e.to_string()))?;
    let base_url = running.base_url();
    let timing = Timing {
        final_status: Duration::from_secs(10),
        callback: Duration::from_secs(10),
        no_callback: Duration::from_millis(400),
    };
    let client = build_client(
        providers,
        &base_url,
        &merchant.public_id,
        &merchant.merchant_id,
        secret,
        true,
    )?;
    let mut ctx = Ctx::new(
        base_url,
        merchant.public_id.clone(),
        merchant.merchant_id.clone(),
        key,
        client,
        providers,
        Some(receiver),
        true,
        timing,
    )
    .map_err(RunError::Client)?;
    ctx.admin_token = running.admin_token().cloned();
    ctx.fault_public_id = Some(fault_public_id);
    ctx.hub2 = embedded_hub2(&running).await?;
    Ok((ctx, running))
}

/// The HUB2 context of the embedded simulator: its first HUB2 merchant,
/// a sandbox key with every permission, one without the `/delegated/` ones,
/// and the suite's webhook receiver.
async fn embedded_hub2(running: &simulator::RunningSimulator) -> Result<Option<Hub2Ctx>, RunError> {
    use crate::simulator::hub2::{
        Hub2Environment, PERMISSION_DELEGATED_PAYMENT, PERMISSION_DELEGATED_TRANSFER,
    };
    let Some(merchant) = running.state().config().hub2.merchants.first().cloned() else {
        return Ok(None);
    };
    let sandbox = || {
        merchant
            .api_keys
            .iter()
            .filter(|k| k.environment == Hub2Environment::Sandbox)
    };
    let full = sandbox()
        .find(|k| k.has(PERMISSION_DELEGATED_PAYMENT) && k.has(PERMISSION_DELEGATED_TRANSFER))
        .or_else(|| sandbox().next());
    let Some(full) = full else {
        return Ok(None);
    };
    let limited = sandbox()
        .find(|k| !k.has(PERMISSION_DELEGATED_PAYMENT) && !k.has(PERMISSION_DELEGATED_TRANSFER))
        .map(|k| k.key.clone());
    let mut ctx = Hub2Ctx::new(
        &running.state().hub2_base_url(),
        &merchant.merchant_id,
        &full.key,
        paygate::hub2::Environment::Sandbox,
        limited,
        true,
    )
    .map_err(RunError::Client)?;
    ctx.admin_token = running.admin_token().cloned();
    ctx.receiver = Some(WebhookReceiver::start().await.map_err(RunError::Receiver)?);
    Ok(Some(ctx))
}

fn build_client(
    providers: &'static ProviderTable,
    base_url: &str,
    public_id: &str,
    merchant_id: &str,
    secret_key: SecretKey,
    fast: bool,
) -> Result<GatewayClient, RunError> {
    let brand = BrandProfile::new("conformance target", base_url).with_providers(providers);
    let credentials = Credentials {
        public_id: public_id.to_owned(),
        merchant_id: merchant_id.to_owned(),
        secret_key,
    };
    let mut config = ClientConfig::new(brand, credentials);
    config.timeout = Duration::from_secs(15);
    config.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
    };
    config.poll = if fast {
        PollPolicy {
            initial_delay: Duration::from_millis(40),
            factor: 1,
            max_delay: Duration::from_millis(100),
        }
    } else {
        PollPolicy {
            initial_delay: Duration::from_millis(500),
            factor: 2,
            max_delay: Duration::from_secs(5),
        }
    };
    GatewayClient::new(config).map_err(|e| RunError::Client(e.to_string()))
}
