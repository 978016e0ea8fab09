//! `paygate trigger EVENT --url URL`: one signed callback of the chosen
//! operation and status, sent now, with the merchant's answer printed
//! (for building a callback handler against real deliveries).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use paygate::gateway::{OperationType, Status};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::merchant::bodies::{draft, Shape};

use super::conform::{env_var, SECRET_KEY_VAR};
use super::fail;

/// Options of `paygate trigger`.
#[derive(clap::Args, Debug)]
pub struct TriggerArgs {
    /// `OPERATION.STATUS`: OPERATION is c2b, b2c, pos_deposit or
    /// pos_withdrawal; STATUS a status name (success, failed, cancelled,
    /// in_progress, initiated, undefined, cancelled_partially,
    /// success_hold, in_transit) or code (`c2b.success`, `b2c.3`).
    pub event: String,
    /// The merchant's callback URL.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The order id the callback is about (default: a new one).
    #[arg(long, value_name = "ID")]
    pub order_id: Option<String>,
    /// Print the body sent.
    #[arg(long)]
    pub show_body: bool,
}

fn operation(name: &str) -> Option<OperationType> {
    Some(match name {
        "c2b" => OperationType::PaymentC2b,
        "b2c" => OperationType::PaymentB2c,
        "pos_deposit" => OperationType::Deposit,
        "pos_withdrawal" => OperationType::Withdrawal,
        _ => return None,
    })
}

/// `Status::InProgress` is `in_progress`.
fn status_name(status: Status) -> String {
    let mut out = String::new();
    for (i, c) in format!("{status:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn status(text: &str) -> Option<Status> {
    if let Ok(code) = text.parse::<i64>() {
        return Status::ALL.iter().copied().find(|s| s.code() == code);
    }
    Status::ALL
        .iter()
        .copied()
        .find(|s| status_name(*s) == text)
}

fn parse_event(event: &str) -> Result<(OperationType, Status), String> {
    let names: Vec<String> = Status::ALL.iter().map(|s| status_name(*s)).collect();
    let usage = || {
        format!(
            "EVENT is OPERATION.STATUS: OPERATION one of c2b, b2c, pos_deposit, pos_withdrawal; STATUS one of {} or its code; not {event:?}",
            names.join(", ")
        )
    };
    let (op, st) = event.split_once('.').ok_or_else(usage)?;
    Ok((
        operation(op).ok_or_else(usage)?,
        status(st).ok_or_else(usage)?,
    ))
}

/// Sends it; exit 0 when the merchant answered 200, 1 otherwise, 2 on a
/// usage error.
pub fn run(args: &TriggerArgs) -> ExitCode {
    let (operation, status) = match parse_event(&args.event) {
        Ok(parsed) => parsed,
        Err(message) => return fail(message),
    };
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        return fail(format!(
            "--url must be an http:// or https:// URL, not {:?}",
            args.url
        ));
    }
    let secret = match env_var(SECRET_KEY_VAR) {
        Ok(secret) => secret,
        Err(message) => return fail(format!("trigger signs with the merchant's key: {message}")),
    };
    let order_id = args.order_id.clone().unwrap_or_else(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("trigger-{ms}")
    });
    let key = SigningKey::new(&SecretKey::new(secret));
    let body = match draft(operation, status, &order_id, Shape::Plain).signed(&key) {
        Ok(body) => body,
        Err(message) => return fail(message),
    };
    if args.show_body {
        println!("{body}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(e) => return fail(format!("cannot build the HTTP client: {e}")),
    };
    let started = Instant::now();
    let sent = runtime.block_on(async {
        let response = client
            .post(&args.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let http = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((http, text))
    });
    match sent {
        Ok((http, text)) => {
            let shown: String = text.chars().take(200).collect();
            println!(
                "{} {} order {order_id} -> HTTP {http} in {} ms: {shown}",
                args.event,
                args.url,
                started.elapsed().as_millis()
            );
            if http == 200 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            println!(
                "{} {} order {order_id} -> no answer: {err}",
                args.event, args.url
            );
            ExitCode::FAILURE
        }
    }
}
