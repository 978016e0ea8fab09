//! `paygate simulate`: run the gateway simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use paygate_conformance::simulator::{self, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID};

use super::admin_token::{announce, control_access, AdminTokenArgs};
use super::fail;

/// Options of `paygate simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// YAML file of merchants: `merchants: [{public_id, merchant_id,
    /// secret_key, callback_url?}]`. Without it, the demo merchant
    /// (demo-public-id / demo-merchant / demo-secret-key-change-me) is used.
    #[arg(long, value_name = "FILE")]
    pub merchants: Option<PathBuf>,
    /// Milliseconds from acceptance to the final state.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub latency_ms: u64,
    /// Keep the gateway's transactions, idempotency records and callback
    /// outbox, and HUB2's state (intents, transfers, balances, webhooks and
    /// their secrets), in this SQLite file (WAL; created if missing) or, with
    /// a `postgres://user:password@host:port/database` URL, in that
    /// PostgreSQL database (tables created if missing). A simulator killed
    /// and started again on the same database loses no accepted transaction
    /// and resumes pending outcomes and callbacks. Without it, everything
    /// is in memory. One simulator per database, unless each is started
    /// with --replica (PostgreSQL).
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<PathBuf>,
    /// Share the PostgreSQL `--db` with other `paygate simulate --replica`
    /// processes (behind a load balancer): they serve as one gateway. An
    /// order is locked in the database while a replica handles it, so a
    /// replay sent to another replica gets the same bytes; each callback
    /// is delivered by one replica, and taken over if that one stops.
    #[arg(long, requires = "db")]
    pub replica: bool,
    /// With --replica: milliseconds without a heartbeat after which a
    /// replica is taken for dead and its pending callbacks and outcomes
    /// are taken over by the others.
    #[arg(long, value_name = "N", default_value_t = 5_000, requires = "replica",
          value_parser = clap::value_parser!(u64).range(200..=3_600_000))]
    pub replica_timeout_ms: u64,
    /// With --replica: database connections this replica opens at most to
    /// lock orders (besides its writer and its heartbeat).
    #[arg(long, value_name = "N", default_value_t = 16, requires = "replica",
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub replica_connections: u32,
    /// Callback delivery attempts in all, the first one included.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub callback_attempts: u32,
    /// Callback deliveries in flight at once (the rest wait their turn in
    /// order), so a slow merchant endpoint cannot take the simulator's
    /// sockets and memory.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub callback_concurrency: u32,
    /// Milliseconds a client has to send a request head, from connecting
    /// or from the previous answer on a kept-alive connection (so also the
    /// idle keep-alive timeout); then the connection is closed.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Milliseconds a client has to send a request body after its head;
    /// then the request is answered 408 and the connection closed.
    #[arg(long, value_name = "N", default_value_t = 30_000)]
    pub body_timeout_ms: u64,
    /// Connections served at once; further clients wait in the listen
    /// backlog until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// On SIGTERM or SIGINT (Ctrl-C): milliseconds requests in flight get
    /// to finish after the simulator stops accepting connections; then it
    /// exits 0 (pending callbacks stay in the `--db` outbox).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
    /// Milliseconds to wait after the first failed callback attempt
    /// (doubling after each failure, at most 5 s or this, whichever is
    /// larger).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub callback_backoff_ms: u64,
    /// Who may use the control API.
    #[command(flatten)]
    pub admin: AdminTokenArgs,
    /// Log level and format.
    #[command(flatten)]
    pub log: super::logging::LogArgs,
    /// `wall` (real time), or `manual`: time stands still at the start-up
    /// time and moves only with `POST /_sim/clock/advance {"seconds": N}`
    /// (outcome latency, callback retries, timestamps, daily limits).
    #[arg(long, value_name = "CLOCK", value_enum, default_value_t = ClockArg::Wall)]
    pub clock: ClockArg,
    /// HUB2's global limit: requests per client IP address per window
    /// (the merchants file's `hub2.rate_limit` otherwise; 50 per 5 s, as
    /// documented, by default). `paygate conform --base-url` sends the
    /// whole suite from one address: start it with 1000000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub hub2_rate_limit: Option<u32>,
    /// Namespaces (`/ns/{name}/...`, one world per test run) that may
    /// exist at once; one more is refused with 503 until one is deleted
    /// or expires.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_namespaces: u32,
    /// Seconds without a request after which a namespace is deleted (0:
    /// never).
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400)]
    pub namespace_ttl: u64,
}

/// `--clock`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockArg {
    /// Real time.
    Wall,
    /// Moves only when advanced through the control API.
    Manual,
}

/// Runs the simulator.
pub fn run(args: &SimulateArgs) -> ExitCode {
    run_with(args, None)
}

/// Options of `paygate listen`.
#[derive(clap::Args, Debug)]
pub struct ListenArgs {
    /// The merchant endpoint every callback is sent to (instead of the
    /// request's or the merchant's `callback_url`); each delivery and its
    /// answer are printed.
    #[arg(long, value_name = "URL")]
    pub forward_to: String,
    /// The simulator's options.
    #[command(flatten)]
    pub simulate: SimulateArgs,
}

/// `paygate listen --forward-to URL`: the simulator, with every callback
/// forwarded to the developer's endpoint and each delivery printed.
pub fn listen(args: &ListenArgs) -> ExitCode {
    run_with(&args.simulate, Some(args.forward_to.clone()))
}

fn run_with(args: &SimulateArgs, forward_to: Option<String>) -> ExitCode {
    if let Err(message) = super::logging::init(&args.log) {
        return fail(message);
    }
    let control = match control_access(&args.admin, args.listen) {
        Ok(control) => control,
        Err(message) => return fail(message),
    };
    let mut config = match &args.merchants {
        Some(path) => match SimulatorConfig::from_yaml_file(path) {
            Ok(config) => config,
            Err(err) => return fail(err),
        },
        None => {
            tracing::info!(
                public_id = DEMO_PUBLIC_ID,
                merchant_id = DEMO_MERCHANT_ID,
                "no --merchants file: serving the demo merchant"
            );
            SimulatorConfig::demo()
        }
    };
    config.latency = Duration::from_millis(args.latency_ms);
    config.forward_callbacks_to = forward_to;
    if let Some(requests) = args.hub2_rate_limit {
        config.hub2.rate_limit.requests = requests;
    }
    config.control = control.clone();
    config.db.clone_from(&args.db);
    config.replica = args.replica.then(|| simulator::ReplicaOptions {
        timeout: Duration::from_millis(args.replica_timeout_ms),
        connections: args.replica_connections as usize,
    });
    config.connections = simulator::ConnectionLimits {
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
        max_connections: args.max_connections as usize,
    };
    config.callback_retry.max_attempts = args.callback_attempts.max(1);
    config.namespaces = simulator::namespaces::NamespaceLimits {
        max: args.max_namespaces as usize,
        idle_ttl: (args.namespace_ttl > 0).then(|| Duration::from_secs(args.namespace_ttl)),
    };
    config.callback_concurrency = args.callback_concurrency as usize;
    if args.clock == ClockArg::Manual {
        config.clock = simulator::ClockMode::Manual { start_ms: None };
    }
    config.callback_retry.initial_backoff = Duration::from_millis(args.callback_backoff_ms);
    config.callback_retry.max_backoff = config
        .callback_retry
        .max_backoff
        .max(config.callback_retry.initial_backoff);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(async {
        let sim = match simulator::start(config, args.listen).await {
            Ok(sim) => sim,
            Err(err) => return fail(err),
        };
        eprintln!(
            "paygate simulator listening on {} (Ctrl-C or SIGTERM to stop)",
            sim.base_url()
        );
        announce(&sim, &control);
        let signal = stop_signal().await;
        let grace = Duration::from_millis(args.shutdown_grace_ms);
        tracing::warn!(
            signal,
            grace_ms = args.shutdown_grace_ms,
            "shutting down: no new connections; requests in flight finish"
        );
        if sim.shutdown_within(grace).await {
            eprintln!("paygate simulator stopped ({signal}): every request in flight was answered");
        } else {
            eprintln!(
                "paygate simulator stopped ({signal}): connections still open after {} ms were dropped",
                args.shutdown_grace_ms
            );
        }
        ExitCode::SUCCESS
    })
}

/// Waits for SIGTERM (what process supervisors and container runtimes
/// send) or SIGINT (Ctrl-C); returns which. If a handler cannot be
/// installed, waits for the other one alone.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => return "SIGTERM",
                result = tokio::signal::ctrl_c() => {
                    if let Err(err) = result {
                        tracing::error!(error = %err, "cannot wait for Ctrl-C; waiting for SIGTERM");
                        term.recv().await;
                        return "SIGTERM";
                    }
                    return "SIGINT";
                }
            },
            Err(err) => tracing::error!(error = %err, "cannot wait for SIGTERM; Ctrl-C only"),
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => "SIGINT",
        Err(err) => {
            tracing::error!(error = %err, "cannot wait for Ctrl-C either: serving until killed");
            std::future::pending().await
        }
    }
}
