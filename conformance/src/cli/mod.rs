//! The subcommands of the `paygate` binary.

pub mod admin_token;
pub mod conform;
pub mod conform_merchant;
pub mod generate;
pub mod logging;
pub mod rules;
pub mod sign;
pub mod simulate;
pub mod trigger;

use std::process::ExitCode;

/// Exit status for bad input or configuration (clap uses the same).
pub const EXIT_USAGE: u8 = 2;

/// Prints one error line on stderr and returns the usage exit status.
pub fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("paygate: error: {message}");
    ExitCode::from(EXIT_USAGE)
}
