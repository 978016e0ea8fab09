//! `paygate conform --merchant URL`: the merchant suite against a
//! merchant's callback endpoint (see `paygate_conformance::merchant`).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use paygate::hub2::webhook::WebhookSecret;
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::conform::filter::CaseFilter;
use paygate_conformance::conform::report::Progress;
use paygate_conformance::merchant::faults::{parse_profile, FaultPlan, DEFAULT_ORDERS};
use paygate_conformance::merchant::hub2::Hub2WebhookTarget;
use paygate_conformance::merchant::{
    merchant_cases, run_merchant_timed, skip_reason, MerchantTarget, CALLBACK_DEADLINE,
};
use paygate_conformance::simulator::faults::FaultProfile;

use super::conform::{env_var, report, ConformArgs, SECRET_KEY_VAR};
use super::fail;

fn http_url(name: &str, url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "{name} must be an http:// or https:// URL, not {url:?}"
        ))
    }
}

/// The merchant's HUB2 webhook secret (with `--hub2-webhook`).
pub const HUB2_WEBHOOK_SECRET_VAR: &str = "PAYGATE_HUB2_WEBHOOK_SECRET";
/// The webhook's previous secret, within 24 hours of a rotation (optional).
pub const HUB2_WEBHOOK_PREVIOUS_SECRET_VAR: &str = "PAYGATE_HUB2_WEBHOOK_PREVIOUS_SECRET";
/// A webhook secret rotated out more than 24 hours ago, which the merchant
/// must no longer accept (optional; without it that case is skipped).
pub const HUB2_WEBHOOK_EXPIRED_SECRET_VAR: &str = "PAYGATE_HUB2_WEBHOOK_EXPIRED_SECRET";

/// The fault plan of `--fault-profile FILE` or `--fault-seed N
/// --fault-rate P` (and `--fault-orders N`), if one is asked for.
fn fault_plan(args: &ConformArgs) -> Result<Option<FaultPlan>, String> {
    let profile = match (&args.fault_profile, args.fault_seed, args.fault_rate) {
        (Some(path), _, _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--fault-profile {}: {e}", path.display()))?;
            parse_profile(&text).map_err(|e| format!("--fault-profile {}: {e}", path.display()))?
        }
        (None, Some(seed), Some(rate)) => FaultProfile::new(seed, rate),
        (None, None, None) => {
            if args.fault_orders.is_some() {
                return Err(
                    "--fault-orders needs a fault profile (--fault-profile FILE, or --fault-seed N --fault-rate P)"
                        .into(),
                );
            }
            return Ok(None);
        }
        (None, _, _) => return Err("--fault-seed and --fault-rate go together".into()),
    };
    let orders = match args.fault_orders {
        Some(n) => usize::try_from(n).map_err(|_| format!("--fault-orders {n} is too large"))?,
        None => DEFAULT_ORDERS,
    };
    Ok(Some(FaultPlan::new(profile, orders)))
}

/// Runs the merchant suite; exit 1 when a case fails, 2 on a usage error.
pub fn run_merchant_cli(args: &ConformArgs, url: &str) -> ExitCode {
    let cases = match CaseFilter::new(&args.filter).and_then(|f| f.apply(merchant_cases())) {
        Ok(cases) => cases,
        Err(message) => return fail(message),
    };
    for (name, value) in [
        ("--merchant", Some(url)),
        ("--merchant-pos", args.merchant_pos.as_deref()),
        ("--order-lookup", args.order_lookup.as_deref()),
        ("--hub2-webhook", args.hub2_webhook.as_deref()),
    ] {
        if let Some(Err(message)) = value.map(|v| http_url(name, v)) {
            return fail(message);
        }
    }
    let secret = match env_var(SECRET_KEY_VAR) {
        Ok(secret) => Some(secret),
        // Listing sends nothing and needs no secret.
        Err(_) if args.list => None,
        Err(message) => {
            return fail(format!(
                "--merchant needs the merchant's secret key in the environment: {message}"
            ))
        }
    };
    let key = SigningKey::new(&SecretKey::new(secret.unwrap_or_default()));
    let mut target = match MerchantTarget::new(url, key) {
        Ok(target) => target,
        Err(message) => return fail(message),
    };
    target.pos_url = args.merchant_pos.clone();
    target.order_lookup = args.order_lookup.clone();
    target.faults = match fault_plan(args) {
        Ok(plan) => plan,
        Err(message) => return fail(message),
    };
    if let Some(webhook) = &args.hub2_webhook {
        let current = match env_var(HUB2_WEBHOOK_SECRET_VAR) {
            Ok(secret) => secret,
            Err(_) if args.list => String::new(),
            Err(message) => {
                return fail(format!(
                    "--hub2-webhook needs the webhook's secret: {message}"
                ))
            }
        };
        let previous = env_var(HUB2_WEBHOOK_PREVIOUS_SECRET_VAR).ok();
        let expired = env_var(HUB2_WEBHOOK_EXPIRED_SECRET_VAR).ok();
        // An expired secret the merchant rightly still has (as its current
        // or previous one) would make the case fail for nothing.
        if let Some(expired) = &expired {
            for (name, other) in [
                (HUB2_WEBHOOK_SECRET_VAR, Some(&current)),
                (HUB2_WEBHOOK_PREVIOUS_SECRET_VAR, previous.as_ref()),
            ] {
                if other == Some(expired) {
                    return fail(format!(
                        "{HUB2_WEBHOOK_EXPIRED_SECRET_VAR} must be a secret rotated out more than 24 hours ago, not the same as {name}"
                    ));
                }
            }
        }
        target.hub2 = Some(Hub2WebhookTarget {
            url: webhook.clone(),
            current: WebhookSecret::new(current),
            previous: previous.map(WebhookSecret::new),
            expired: expired.map(WebhookSecret::new),
        });
    }
    if args.list {
        for case in &cases {
            match skip_reason(&target, case) {
                Some(reason) => println!("{}\t{}\tskip: {reason}", case.id, case.group),
                None => println!("{}\t{}", case.id, case.group),
            }
        }
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let progress = Progress::new(cases.len());
    let started = Instant::now();
    let run = runtime.block_on(run_merchant_timed(
        target,
        cases,
        usize::from(args.concurrency),
        |result| progress.record(result),
    ));
    progress.finish();
    let elapsed: Duration = started.elapsed();
    if let Some((took, case)) = &run.slowest {
        println!(
            "slowest answer: {} ms ({case}); the gateway abandons an attempt after {} s and retries it",
            took.as_millis(),
            CALLBACK_DEADLINE.as_secs()
        );
    }
    report(&run.results, elapsed, args.junit.as_deref())
}
