//! `paygate simulate`: run the gateway simulator until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use paygate_conformance::simulator::admin::check_listen;
use paygate_conformance::simulator::{
    self, AdminToken, ControlAccess, SimulatorConfig, ADMIN_TOKEN_VAR, DEMO_MERCHANT_ID,
    DEMO_PUBLIC_ID,
};

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
    /// outbox in this SQLite file (WAL; created if missing). A simulator
    /// killed and started again on the same file loses no accepted
    /// transaction and resumes pending outcomes and callbacks. Without it,
    /// everything is in memory. HUB2 state is always in memory.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Callback delivery attempts in all, the first one included.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub callback_attempts: u32,
    /// Milliseconds to wait after the first failed callback attempt
    /// (doubling after each failure, at most 5 s or this, whichever is
    /// larger).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub callback_backoff_ms: u64,
    /// The admin token the control API (`/_sim/...`, `/hub2/_sim/...`)
    /// requires as `Authorization: Bearer <TOKEN>` (1 to 512 visible ASCII
    /// characters). Also read from PAYGATE_ADMIN_TOKEN. Without either, a
    /// random token is generated and printed once on stderr.
    #[arg(long, value_name = "TOKEN", value_parser = parse_admin_token, conflicts_with = "no_admin_token")]
    pub admin_token: Option<AdminToken>,
    /// Serve the control API without a token: anyone who reaches the port
    /// can read and reset every merchant's data. Only accepted when
    /// --listen is a loopback address; logs a warning.
    #[arg(long)]
    pub no_admin_token: bool,
}

fn parse_admin_token(text: &str) -> Result<AdminToken, String> {
    AdminToken::new(text).map_err(|e| e.to_string())
}

/// Who may use the control API, from the flags and PAYGATE_ADMIN_TOKEN.
fn control_access(args: &SimulateArgs) -> Result<ControlAccess, String> {
    let from_env = match std::env::var(ADMIN_TOKEN_VAR) {
        Ok(text) => Some(AdminToken::new(text).map_err(|e| format!("{ADMIN_TOKEN_VAR}: {e}"))?),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{ADMIN_TOKEN_VAR} is not valid UTF-8"))
        }
    };
    let access = if args.no_admin_token {
        if from_env.is_some() {
            return Err(format!(
                "--no-admin-token and {ADMIN_TOKEN_VAR} contradict each other; unset {ADMIN_TOKEN_VAR} or drop --no-admin-token"
            ));
        }
        if !args.listen.ip().is_loopback() {
            return Err(format!(
                "--no-admin-token is only accepted when --listen is a loopback address (127.0.0.0/8 or ::1), not {}: an open control API lets anyone who reaches the port read and wipe every merchant's data; give --admin-token or {ADMIN_TOKEN_VAR} instead",
                args.listen
            ));
        }
        ControlAccess::Open
    } else if let Some(token) = args.admin_token.clone().or(from_env) {
        ControlAccess::Token(token)
    } else {
        ControlAccess::GeneratedToken
    };
    check_listen(&access, args.listen).map_err(|e| e.to_string())?;
    Ok(access)
}

/// Runs the simulator.
pub fn run(args: &SimulateArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let control = match control_access(args) {
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
    let generated = matches!(control, ControlAccess::GeneratedToken);
    let open = matches!(control, ControlAccess::Open);
    config.control = control;
    config.db.clone_from(&args.db);
    config.callback_retry.max_attempts = args.callback_attempts.max(1);
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
            "paygate simulator listening on {} (Ctrl-C to stop)",
            sim.base_url()
        );
        match sim.admin_token() {
            // The only place a generated token ever appears.
            Some(token) if generated => eprintln!(
                "paygate simulator admin token: {} (send `Authorization: Bearer <token>` to /_sim/ and /hub2/_sim/; set {ADMIN_TOKEN_VAR} or --admin-token to choose it)",
                token.reveal()
            ),
            _ => {}
        }
        if open {
            tracing::warn!(
                addr = %sim.addr,
                "the control API runs without an admin token (--no-admin-token): anyone who reaches this port can read, force and reset every merchant's data"
            );
        }
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot wait for Ctrl-C");
        }
        tracing::info!("shutting down");
        sim.shutdown().await;
        ExitCode::SUCCESS
    })
}
