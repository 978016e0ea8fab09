//! `paygate conform`: run the conformance suite against the embedded
//! simulator or a sandbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use paygate::signing::SecretKey;
use paygate_conformance::conform::coverage::Coverage;
use paygate_conformance::conform::detect::{detect_simulator, DetectedSimulator};
use paygate_conformance::conform::filter::CaseFilter;
use paygate_conformance::conform::report::{summary_text, Progress, Summary};
use paygate_conformance::conform::report_files::write_reports;
use paygate_conformance::conform::{
    derive_cases, junit_xml, plan_reach, run, CaseResult, Hub2Remote, Reach, RunConfig, Target,
};
use paygate_conformance::simulator::AdminToken;

use super::admin_token::{parse_admin_token, token_from_env};
use super::fail;

/// Environment variable with the merchant's public id (with `--base-url`).
pub const PUBLIC_ID_VAR: &str = "PAYGATE_PUBLIC_ID";
/// Environment variable with the merchant id (with `--base-url`).
pub const MERCHANT_ID_VAR: &str = "PAYGATE_MERCHANT_ID";
/// Environment variable with the merchant's secret key (with `--base-url`).
pub const SECRET_KEY_VAR: &str = "PAYGATE_SECRET_KEY";

/// HUB2 API key for the HUB2 cases with `--base-url` (optional).
pub const HUB2_API_KEY_VAR: &str = "PAYGATE_HUB2_API_KEY";
/// HUB2 merchant id for the HUB2 cases with `--base-url`.
pub const HUB2_MERCHANT_ID_VAR: &str = "PAYGATE_HUB2_MERCHANT_ID";
/// HUB2 base URL (default: `{--base-url}/hub2`).
pub const HUB2_BASE_URL_VAR: &str = "PAYGATE_HUB2_BASE_URL";

/// The remote HUB2 target, if its credentials are in the environment.
fn hub2_remote(args: &ConformArgs) -> Option<Hub2Remote> {
    let base_url = args.base_url.as_ref()?;
    let api_key = env_var(HUB2_API_KEY_VAR).ok()?;
    let merchant_id = env_var(HUB2_MERCHANT_ID_VAR).ok()?;
    let hub2_url = env_var(HUB2_BASE_URL_VAR)
        .unwrap_or_else(|_| format!("{}/hub2", base_url.trim_end_matches('/')));
    Some(Hub2Remote {
        base_url: hub2_url,
        merchant_id,
        api_key,
        environment: paygate::hub2::Environment::Sandbox,
    })
}

/// Options of `paygate conform`.
#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// Run against this gateway or sandbox instead of the embedded
    /// simulator. Credentials come from PAYGATE_PUBLIC_ID,
    /// PAYGATE_MERCHANT_ID and PAYGATE_SECRET_KEY; only sandbox-safe cases
    /// run (provider 14 and client-side checks), the others are skipped.
    /// A separately started `paygate simulate` given with its admin token
    /// is recognised and gets every case it can run.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Only run the cases this matches: text found inside a case id or
    /// group name (`hub2/`, `otp`), or a glob matching a whole id or group
    /// (`c2b/2303/*`, `limit*`). Repeat it to run the cases any pattern
    /// matches. A pattern that matches nothing is an error (exit 2).
    #[arg(long, value_name = "PATTERN", action = clap::ArgAction::Append)]
    pub filter: Vec<String>,
    /// Cases run at a time.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
    /// Deadline of one case, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub case_timeout: u64,
    /// Print the cases (id, group, and skip reason) instead of running them.
    #[arg(long)]
    pub list: bool,
    /// With --base-url pointing at a separately started `paygate
    /// simulate`: its admin token (also read from PAYGATE_ADMIN_TOKEN), so
    /// that the cases needing its control API run too. Ignored without
    /// --base-url (the embedded simulator's token is read in process).
    #[arg(long, value_name = "TOKEN", value_parser = parse_admin_token)]
    pub admin_token: Option<AdminToken>,
    /// Test the merchant's own callback endpoint at this URL instead of a
    /// gateway: the merchant suite sends it signed, tampered, replayed and
    /// late callbacks and checks its answers. The secret it signs with
    /// comes from PAYGATE_SECRET_KEY.
    #[arg(long, value_name = "URL", conflicts_with = "base_url")]
    pub merchant: Option<String>,
    /// With --merchant: where POS callbacks go (default: the --merchant URL).
    #[arg(long, value_name = "URL", requires = "merchant")]
    pub merchant_pos: Option<String>,
    /// With --merchant: the merchant's order lookup, `GET {URL}/{order_id}`
    /// answering `{"credited": N, "status": S}`, so that idempotency is
    /// checked on what the merchant did, not only on its answers.
    #[arg(long, value_name = "URL", requires = "merchant")]
    pub order_lookup: Option<String>,
    /// With --merchant: the merchant's HUB2 webhook endpoint; its secret
    /// comes from PAYGATE_HUB2_WEBHOOK_SECRET, the previous one (still
    /// accepted within 24 hours of a rotation) from
    /// PAYGATE_HUB2_WEBHOOK_PREVIOUS_SECRET if set, and one rotated out
    /// more than 24 hours ago (which must be refused) from
    /// PAYGATE_HUB2_WEBHOOK_EXPIRED_SECRET if set.
    #[arg(long, value_name = "URL", requires = "merchant")]
    pub hub2_webhook: Option<String>,
    /// With --merchant: run the merchant-faults cases by this fault profile
    /// (YAML or JSON, the shape of a merchants file's `faults:`, e.g.
    /// `{seed: 7, rate_percent: 20}`): valid success callbacks, each
    /// delivered with the fault the profile draws for it.
    #[arg(long, value_name = "FILE", requires = "merchant", conflicts_with_all = ["fault_seed", "fault_rate"])]
    pub fault_profile: Option<PathBuf>,
    /// With --merchant: the seed of a fault profile with every callback
    /// fault (with --fault-rate), instead of --fault-profile.
    #[arg(long, value_name = "N", requires = "merchant", requires = "fault_rate")]
    pub fault_seed: Option<u64>,
    /// With --fault-seed: the share of callbacks with a fault, 0 to 100.
    #[arg(long, value_name = "PERCENT", requires = "fault_seed", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub fault_rate: Option<u32>,
    /// With a fault profile: how many orders the merchant-faults cases
    /// deliver (default 100).
    #[arg(long, value_name = "N", requires = "merchant", value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub fault_orders: Option<u64>,
    /// Also write `report.json` (schema `paygate-conformance-report/1`) and
    /// a self-contained `report.html` into this folder: failures first,
    /// groups, coverage of the rules matrix and what was not covered, why.
    #[arg(long, value_name = "DIR", conflicts_with = "merchant")]
    pub report: Option<PathBuf>,
    /// Fail (exit 1) when the run covers less than this share of the rules
    /// matrix's cells, in percent (0 to 100).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, conflicts_with = "merchant")]
    pub min_coverage: Option<f64>,
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a percentage between 0 and 100")),
    }
}

/// The remote simulator's admin token: `--admin-token`, else
/// PAYGATE_ADMIN_TOKEN; `None` without `--base-url`.
fn admin_token(args: &ConformArgs) -> Result<Option<AdminToken>, String> {
    if args.base_url.is_none() {
        return Ok(None);
    }
    match &args.admin_token {
        Some(token) => Ok(Some(token.clone())),
        None => token_from_env(),
    }
}

pub(crate) fn env_var(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(format!("{name} is empty")),
        Err(std::env::VarError::NotPresent) => Err(format!("{name} is not set")),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}

fn target(args: &ConformArgs) -> Result<Target, String> {
    let Some(base_url) = &args.base_url else {
        return Ok(Target::embedded_default());
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(format!(
            "--base-url must be an http:// or https:// URL, not {base_url:?}"
        ));
    }
    let mut missing = Vec::new();
    let mut read = |name: &str| match env_var(name) {
        Ok(value) => value,
        Err(message) => {
            missing.push(message);
            String::new()
        }
    };
    let public_id = read(PUBLIC_ID_VAR);
    let merchant_id = read(MERCHANT_ID_VAR);
    let secret = read(SECRET_KEY_VAR);
    if !missing.is_empty() {
        return Err(format!(
            "--base-url needs the merchant's credentials in the environment: {}",
            missing.join("; ")
        ));
    }
    Ok(Target::Remote {
        base_url: base_url.clone(),
        public_id,
        merchant_id,
        secret_key: SecretKey::new(secret.as_bytes()),
    })
}

/// The line that tells what the suite will use of a detected simulator.
fn describe_detected(base_url: &str, found: &DetectedSimulator, hub2_credentials: bool) -> String {
    let callbacks = if found.loopback {
        "callbacks to a local receiver"
    } else {
        "no callbacks (it does not listen on loopback)"
    };
    let hub2 = match (hub2_credentials, &found.demo_hub2) {
        (true, _) => "HUB2 with the given credentials",
        (false, Some(_)) => "HUB2 with its demo merchant",
        (false, None) => {
            "no HUB2 (no demo merchant; set PAYGATE_HUB2_API_KEY and PAYGATE_HUB2_MERCHANT_ID)"
        }
    };
    let faults = match (&found.fault_public_id, found.loopback) {
        (Some(twin), true) => format!("fault cases through {twin}"),
        _ => "no fault cases (no `{public_id}-faults` merchant, or not on loopback)".to_owned(),
    };
    let mut line = format!(
        "{base_url} is a paygate simulator: the suite runs as against the embedded one (control API, {callbacks}, {hub2}, {faults})"
    );
    if let (true, Some((requests, window_ms))) = (found.throttles_hub2(), found.hub2_rate_limit) {
        line.push_str(&format!(
            "\nwarning: its HUB2 limit ({requests} requests per {window_ms} ms per IP address) will answer 429 to many HUB2 cases, all sent from this address: start it with --hub2-rate-limit 1000000"
        ));
    }
    line
}

/// `paygate conform` against a gateway (with `--merchant`, `main` runs
/// the merchant suite instead: `conform_merchant`).
pub fn run_cli(args: &ConformArgs) -> ExitCode {
    let cases = match CaseFilter::new(&args.filter)
        .and_then(|filter| filter.apply(derive_cases(&paygate::gateway::PROVIDER_TABLE)))
    {
        Ok(cases) => cases,
        Err(message) => return fail(message),
    };
    let admin_token = match admin_token(args) {
        Ok(token) => token,
        Err(message) => return fail(message),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    // Credentials first (a run needs them; a listing does not).
    let target = match (args.list, target(args)) {
        (true, _) => None,
        (false, Ok(target)) => Some(target),
        (false, Err(message)) => return fail(message),
    };
    // A separately started paygate simulator (with its admin token) gets
    // the whole suite.
    let detected = match (&args.base_url, &admin_token) {
        (Some(base_url), Some(token)) => {
            let public_id = env_var(PUBLIC_ID_VAR).unwrap_or_default();
            match runtime.block_on(detect_simulator(base_url, &public_id, token)) {
                Ok(found) => found,
                Err(message) => return fail(message),
            }
        }
        _ => None,
    };
    if let (Some(found), Some(base_url)) = (&detected, &args.base_url) {
        eprintln!(
            "{}",
            describe_detected(base_url, found, hub2_remote(args).is_some())
        );
    }
    let reach = match (&args.base_url, &detected) {
        (None, _) => Reach::embedded(),
        (Some(_), Some(found)) => Reach::simulator(found, hub2_remote(args).is_some()),
        (Some(_), None) => Reach::sandbox(hub2_remote(args).is_some(), admin_token.is_some()),
    };
    if args.list {
        for planned in plan_reach(cases, reach, None) {
            match planned.skip {
                Some(reason) => println!(
                    "{}\t{}\tskip: {reason}",
                    planned.case.id, planned.case.group
                ),
                None => println!("{}\t{}", planned.case.id, planned.case.group),
            }
        }
        return ExitCode::SUCCESS;
    }
    let Some(target) = target else {
        return fail("no target to run against");
    };
    let mut config = RunConfig::new(target);
    config.concurrency = usize::from(args.concurrency);
    config.case_timeout = Duration::from_secs(args.case_timeout);
    config.hub2 = hub2_remote(args);
    config.admin_token = admin_token;
    config.simulator = detected;

    let total = plan_reach(cases.clone(), config.reach(), None).len();
    let progress = Progress::new(total);
    let started = Instant::now();
    let planned = cases.clone();
    let target_name = args
        .base_url
        .clone()
        .unwrap_or_else(|| "embedded simulator".to_owned());
    let results = runtime.block_on(run(config, cases, |result| progress.record(result)));
    progress.finish();
    let elapsed = started.elapsed();
    let results = match results {
        Ok(results) => results,
        Err(e) => return fail(e),
    };
    let coverage = Coverage::of(&planned, &results, &paygate::gateway::PROVIDER_TABLE);
    println!(
        "coverage: {:.1} % of the rules matrix ({} of {} cells; {} not covered, {} provider directions not derivable)",
        coverage.percent,
        coverage.covered,
        coverage.cells,
        coverage.uncovered.len(),
        coverage.not_derivable.len()
    );
    if let Some(dir) = &args.report {
        match write_reports(dir, &results, &coverage, elapsed, &target_name) {
            Ok((json, html)) => println!("reports: {} {}", json.display(), html.display()),
            Err(e) => {
                return fail(format!(
                    "cannot write the reports into {}: {e}",
                    dir.display()
                ))
            }
        }
    }
    // The tally stays the last line of the output.
    let code = report(&results, elapsed, args.junit.as_deref());
    if let Some(min) = args.min_coverage {
        if coverage.percent < min {
            eprintln!(
                "coverage {:.1} % is below --min-coverage {min} %",
                coverage.percent
            );
            return ExitCode::FAILURE;
        }
    }
    code
}

/// Prints the summary, writes the JUnit report if asked; exit 1 when a
/// case failed (both suites end this way).
pub(crate) fn report(
    results: &[CaseResult],
    elapsed: Duration,
    junit: Option<&std::path::Path>,
) -> ExitCode {
    print!("{}", summary_text(results, elapsed));
    if let Some(path) = junit {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        let written = parent
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, junit_xml(results, elapsed)));
        if let Err(e) = written {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    }
    if Summary::of(results).total.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
