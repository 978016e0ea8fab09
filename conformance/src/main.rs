//! `paygate`: sign and verify payloads, generate bindings from a spec.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// mimalloc rather than glibc's malloc: under load, the simulator spent
/// about a fifth of its time in glibc's allocator and its arena locks. In
/// the load run (`benches/load.rs`, 1 000 000 payments with callbacks, in
/// memory) it went from 7 290 to 9 165 payments/s and from 4 658 to 3 213
/// bytes per stored transaction (`benches/README.md`).
///
/// It is built without transparent huge pages (the workspace enables
/// mimalloc's `no_thp`): a fault in a huge-page region zeroes, and may
/// first compact, 2 MiB on the spot, inside whichever request touched the
/// memory. Over 1 000 000 payments at 16 clients that took p99 from
/// 6.43 ms to 2.10 ms at the same throughput.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tools for the Payment API Gateway and HUB2: signing, code generation,
/// simulation and conformance.
#[derive(Parser, Debug)]
#[command(name = "paygate", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read one JSON object on stdin and print its gateway signature
    /// (HMAC-SHA512, lowercase hex) using the key in PAYGATE_SECRET_KEY.
    Sign,
    /// Read one JSON object with a `signature` field on stdin and check it
    /// against the key in PAYGATE_SECRET_KEY: prints `valid` (exit 0) or
    /// `invalid signature` (exit 1).
    Verify,
    /// Generate Rust bindings from an OpenAPI spec (and provider rules).
    Generate(cli::generate::GenerateArgs),
    /// Run the conformance suite against the embedded simulator, or against
    /// a sandbox with --base-url (credentials from PAYGATE_PUBLIC_ID,
    /// PAYGATE_MERCHANT_ID, PAYGATE_SECRET_KEY).
    Conform(cli::conform::ConformArgs),
    /// Run the Payment API Gateway simulator until Ctrl-C.
    Simulate(cli::simulate::SimulateArgs),
    /// Print a completion script for SHELL (bash, zsh, fish, elvish,
    /// powershell), e.g. `paygate completions bash > /etc/bash_completion.d/paygate`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Show what the documentation says about providers (each fact with
    /// its source and certainty), or check a request: refused (exit 1),
    /// warned about or accepted, and why.
    Rules(cli::rules::RulesArgs),
    /// Send one signed callback (`c2b.success`, `b2c.failed`,
    /// `pos_deposit.2`, ...) to a merchant's callback URL now, signed with
    /// PAYGATE_SECRET_KEY, and print its answer (exit 0 on HTTP 200).
    Trigger(cli::trigger::TriggerArgs),
    /// Run the simulator with every callback forwarded to a local merchant
    /// endpoint (--forward-to URL), printing each delivery and its answer.
    Listen(cli::simulate::ListenArgs),
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match args.command {
        Command::Sign => cli::sign::sign(),
        Command::Verify => cli::sign::verify(),
        Command::Generate(generate) => cli::generate::run(&generate),
        Command::Conform(conform) => match &conform.merchant {
            Some(url) => cli::conform_merchant::run_merchant_cli(&conform, url),
            None => cli::conform::run_cli(&conform),
        },
        Command::Simulate(simulate) => cli::simulate::run(&simulate),
        Command::Rules(rules) => cli::rules::run(&rules),
        Command::Trigger(trigger) => cli::trigger::run(&trigger),
        Command::Listen(listen) => cli::simulate::listen(&listen),
        Command::Completions { shell } => {
            let mut command = <Args as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "paygate", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
    }
}
