//! Log options shared by the commands that log (`paygate simulate`).
//!
//! Logs go to stderr. Colour only on a terminal and never with `NO_COLOR`
//! set (<https://no-color.org>), so a log redirected to a file or read by
//! CI has no escape codes. `--log-format json` writes one JSON object per
//! line for log collectors.

use std::io::IsTerminal;

/// How a log line looks.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    Pretty,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

/// `--log-level` and `--log-format`.
#[derive(clap::Args, Debug, Clone)]
pub struct LogArgs {
    /// The least severe events logged: `error`, `warn`, `info`, `debug`,
    /// `trace`, or a full filter (`paygate_conformance=debug,info`).
    /// Without it, `RUST_LOG`, else `info`.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// `pretty` (default) or `json` (one object per line).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

/// Installs the subscriber; an invalid `--log-level` is an error naming it.
pub fn init(args: &LogArgs) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = match &args.log_level {
        Some(level) => {
            EnvFilter::try_new(level).map_err(|e| format!("--log-level {level:?}: {e}"))?
        }
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    // Another subscriber already installed (tests calling in process):
    // keep it.
    let _ = match args.log_format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}
