//! The admin-token options of `paygate simulate` and `paygate conform`:
//! `--admin-token` / `PAYGATE_ADMIN_TOKEN`, `--no-admin-token` (simulate,
//! loopback only), and the one start-up line that shows a generated token.

use std::net::SocketAddr;

use paygate_conformance::simulator::admin::check_listen;
use paygate_conformance::simulator::{
    AdminToken, ControlAccess, RunningSimulator, ADMIN_TOKEN_VAR,
};

/// `--admin-token` and `--no-admin-token` of `paygate simulate`.
#[derive(clap::Args, Debug)]
pub struct AdminTokenArgs {
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

/// clap's parser of a token (its `Debug` is redacted).
pub fn parse_admin_token(text: &str) -> Result<AdminToken, String> {
    AdminToken::new(text).map_err(|e| e.to_string())
}

/// `PAYGATE_ADMIN_TOKEN`, if set.
pub fn token_from_env() -> Result<Option<AdminToken>, String> {
    match std::env::var(ADMIN_TOKEN_VAR) {
        Ok(text) => AdminToken::new(text)
            .map(Some)
            .map_err(|e| format!("{ADMIN_TOKEN_VAR}: {e}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("{ADMIN_TOKEN_VAR} is not valid UTF-8"))
        }
    }
}

/// Who may use the control API of a simulator listening on `listen`.
pub fn control_access(args: &AdminTokenArgs, listen: SocketAddr) -> Result<ControlAccess, String> {
    let from_env = token_from_env()?;
    let access = if args.no_admin_token {
        if from_env.is_some() {
            return Err(format!(
                "--no-admin-token and {ADMIN_TOKEN_VAR} contradict each other; unset {ADMIN_TOKEN_VAR} or drop --no-admin-token"
            ));
        }
        if !listen.ip().is_loopback() {
            return Err(format!(
                "--no-admin-token is only accepted when --listen is a loopback address (127.0.0.0/8 or ::1), not {listen}: an open control API lets anyone who reaches the port read and wipe every merchant's data; give --admin-token or {ADMIN_TOKEN_VAR} instead"
            ));
        }
        ControlAccess::Open
    } else if let Some(token) = args.admin_token.clone().or(from_env) {
        ControlAccess::Token(token)
    } else {
        ControlAccess::GeneratedToken
    };
    check_listen(&access, listen).map_err(|e| e.to_string())?;
    Ok(access)
}

/// After start-up: prints a generated token (the only place it ever
/// appears), or warns that the control API is open.
pub fn announce(sim: &RunningSimulator, access: &ControlAccess) {
    match (access, sim.admin_token()) {
        (ControlAccess::GeneratedToken, Some(token)) => eprintln!(
            "paygate simulator admin token: {} (send `Authorization: Bearer <token>` to /_sim/ and /hub2/_sim/; set {ADMIN_TOKEN_VAR} or --admin-token to choose it)",
            token.reveal()
        ),
        (ControlAccess::Open, _) => tracing::warn!(
            addr = %sim.addr,
            "the control API runs without an admin token (--no-admin-token): anyone who reaches this port can read, force and reset every merchant's data"
        ),
        _ => {}
    }
}
