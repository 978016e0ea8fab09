//! The `hub2-faults` group: HUB2 answers that go wrong after the simulator
//! stored what was asked, and clients that must still never pay twice.
//!
//! The run uses the demo merchant's twin for fault profiles (so no other
//! case sees a fault) with a seeded profile at 20 %. Each cart is an intent
//! and a payment attempt on it, with [`Hub2Client`]'s recovery; every
//! fourth cart also pays out a transfer. The merchant is modelled as most
//! integrations are written: when a call fails, the cart is paid again
//! (a new intent and attempt, or a new transfer) under a new reference;
//! except that [`Hub2Error::Ambiguous`] on a transfer is settled, as the
//! client documents, by the `transfer.*` webhook carrying its reference.
//!
//! The simulator is the oracle (`GET /hub2/_sim/transactions` by merchant
//! and reference): every cart must be resolved by the client, no cart may
//! hold two live payment attempts or two transfers, the intent the client
//! returned must be the one paid, and every webhook delivery must verify.
//! With recovery disabled the same run must be reported as failing (the
//! case expects that failure): proof that the check can fail.

use std::sync::Arc;
use std::time::Duration;

use paygate::hub2::client::{Hub2Recovery, Hub2Resolution, RetryPolicy};
use paygate::hub2::models::{
    AttemptPaymentRequest, CreatePaymentIntentRequest, CreateWebhookRequest, MobileMoneyDetails,
    PaymentIntent, PaymentMethod, WebhookEventType,
};
use paygate::hub2::webhook::{WebhookSecret, WebhookSecrets};
use paygate::hub2::{Environment, Hub2Client, Hub2Config, Hub2Error};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::context::Hub2Ctx;
use super::support::msisdn_for;
use super::transfers::transfer_request;
use crate::conform::fault_findings::{FaultFindings, Wording};
use crate::simulator::hub2::config::{DEMO_HUB2_FAULTS_KEY, DEMO_HUB2_FAULTS_MERCHANT_ID};

/// The seed of the run's profile (fixed: a failure is reproducible).
const SEED: u64 = 2027;
/// Carts in flight at once.
const CONCURRENCY: usize = 32;
/// A transfer with every `TRANSFER_EVERY`-th cart.
const TRANSFER_EVERY: u32 = 4;

/// What one cart came to.
struct Cart {
    reference: String,
    /// The intent the client returned with the attempt, and how it was
    /// learned; or the error.
    paid: Result<(String, Hub2Resolution), PayError>,
    /// Whether the merchant paid the cart again (new reference `-again`).
    paid_again: bool,
    /// The transfer's reference and what the client said, if any.
    transfer: Option<(String, Result<(), TransferError>)>,
}

enum PayError {
    /// The intent was not created (as far as the client knows): no
    /// attempt was made, nothing can have been debited.
    NoIntent,
    /// The attempt's outcome is not known.
    Attempt(String),
}

enum TransferError {
    /// Outcome unknown: settled by the webhook.
    Ambiguous,
    /// Anything else: the merchant paid out again.
    Other(String),
}

/// `carts` carts at `rate_percent` % faults, recovering or not.
pub(super) async fn ambiguous_faults(
    ctx: &Hub2Ctx,
    carts: u32,
    rate_percent: u32,
    recovery: bool,
) -> Result<(), String> {
    if ctx.admin_token.is_none() && !ctx.simulator {
        return Err("needs a paygate simulator's control API".into());
    }
    let profile = json!({"seed": SEED, "rate_percent": rate_percent, "slow_ms": 600});
    set_profile(ctx, &profile).await?;
    let outcome = run(ctx, carts, recovery).await;
    // The profile stays: the cases of this group run at once on the one
    // twin, all with the same profile, and removing it here would take
    // the faults away from a run still going.
    let view = fault_view(ctx).await?;
    let (carts, endpoint) = outcome?;
    let injected = view.get("injected").cloned().unwrap_or(Value::Null);
    let findings = judge(ctx, &carts).await?;
    let verdict = findings.verdict(carts.len(), &injected, &WORDING);
    let webhooks = settle_transfers(ctx, &endpoint, &carts).await;
    verdict.and(webhooks)
}

/// `PUT` the twin's profile; its view.
async fn set_profile(ctx: &Hub2Ctx, profile: &Value) -> Result<Value, String> {
    twin_faults(ctx, "PUT", Some(profile)).await
}

/// The twin's profile and the faults injected so far.
async fn fault_view(ctx: &Hub2Ctx) -> Result<Value, String> {
    twin_faults(ctx, "GET", None).await
}

async fn twin_faults(
    ctx: &Hub2Ctx,
    method: &str,
    profile: Option<&Value>,
) -> Result<Value, String> {
    let path = format!("/_sim/merchants/{DEMO_HUB2_FAULTS_MERCHANT_ID}/faults");
    let raw = ctx.raw(method, &path, None, None, profile).await?;
    if raw.status != 200 {
        return Err(format!("{method} {path}: {}", raw.describe()));
    }
    Ok(raw.body)
}

/// The twin's configuration with the client's default patience.
fn twin_config(ctx: &Hub2Ctx) -> Hub2Config {
    Hub2Config::new(
        &ctx.base_url,
        DEMO_HUB2_FAULTS_KEY,
        DEMO_HUB2_FAULTS_MERCHANT_ID,
        Environment::Sandbox,
    )
}

/// The twin's client: impatient (250 ms, so slow answers count as lost),
/// quick retries, and the recovery under test.
fn twin_client(ctx: &Hub2Ctx, recovery: bool) -> Result<Hub2Client, String> {
    let mut config = twin_config(ctx);
    config.timeout = Duration::from_millis(250);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    config.recovery = if recovery {
        Hub2Recovery::Resolve
    } else {
        Hub2Recovery::Disabled
    };
    Hub2Client::new(config).map_err(|e| e.to_string())
}

/// The webhook endpoint of the run: its receiver name.
struct Endpoint {
    name: String,
}

async fn run(ctx: &Hub2Ctx, carts: u32, recovery: bool) -> Result<(Vec<Cart>, Endpoint), String> {
    let receiver = ctx.receiver.as_ref().ok_or("no webhook receiver")?;
    let client = Arc::new(twin_client(ctx, recovery)?);
    let endpoint = Endpoint {
        name: ctx.unique("faults-wh"),
    };
    // The webhook is set up, not under test: it is created with the
    // default timeout, so a busy machine (the group's cases run at once)
    // does not make the 250 ms of the client under test fail the setup.
    // Webhook calls create nothing the fault profile touches.
    let setup = Hub2Client::new(twin_config(ctx)).map_err(|e| e.to_string())?;
    let webhook = setup
        .create_webhook(&CreateWebhookRequest::new(
            receiver.url(&endpoint.name),
            vec![
                WebhookEventType::TransferSucceeded,
                WebhookEventType::TransferFailed,
            ],
        ))
        .await
        .map_err(|e| format!("createWebhook: {e}"))?;
    let secret = webhook.secret.ok_or("createWebhook answered no secret")?;
    receiver.set_secrets(
        &endpoint.name,
        WebhookSecrets::new(WebhookSecret::new(&secret)),
    );
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..carts {
        let reference = ctx.unique("fcart");
        let transfer = (n % TRANSFER_EVERY == 0).then(|| transfer_request(ctx, 100, "0500000099"));
        let client = Arc::clone(&client);
        let slots = Arc::clone(&slots);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let paid = pay(&client, &reference).await;
            let paid_again = if paid.is_err() {
                let _ = pay(&client, &format!("{reference}-again")).await;
                true
            } else {
                false
            };
            let transfer = match transfer {
                None => None,
                Some(request) => {
                    let outcome = match client.create_transfer(&request).await {
                        Ok(_) => Ok(()),
                        Err(Hub2Error::Ambiguous { .. }) => Err(TransferError::Ambiguous),
                        Err(error) => {
                            let mut again = request.clone();
                            again.reference = format!("{}-again", request.reference);
                            let _ = client.create_transfer(&again).await;
                            Err(TransferError::Other(error.to_string()))
                        }
                    };
                    Some((request.reference, outcome))
                }
            };
            Cart {
                reference,
                paid,
                paid_again,
                transfer,
            }
        });
    }
    let mut out = Vec::with_capacity(carts as usize);
    while let Some(joined) = tasks.join_next().await {
        out.push(joined.map_err(|e| format!("a cart task failed: {e}"))?);
    }
    Ok((out, endpoint))
}

/// An intent for the cart and a payment attempt on it.
async fn pay(client: &Hub2Client, reference: &str) -> Result<(String, Hub2Resolution), PayError> {
    let intent: PaymentIntent = client
        .create_payment_intent(&CreatePaymentIntentRequest::new(
            "faults-customer",
            reference,
            200,
            "XOF",
        ))
        .await
        .map_err(|_| PayError::NoIntent)?;
    let attempt =
        AttemptPaymentRequest::new(intent.token.clone(), PaymentMethod::MobileMoney, "CI")
            .with_provider("orange")
            .with_mobile_money(MobileMoneyDetails::new(msisdn_for("CI", "99")));
    let reply = client
        .attempt_payment(&intent.id, &attempt)
        .await
        .map_err(|e| PayError::Attempt(format!("attemptPayment: {e}")))?;
    Ok((reply.value.id, reply.resolution))
}

/// The twin's intents and transfers with `reference`, as stored.
async fn stored(ctx: &Hub2Ctx, reference: &str) -> Result<Vec<Value>, String> {
    let path = format!(
        "/_sim/transactions?merchant_id={DEMO_HUB2_FAULTS_MERCHANT_ID}&reference={reference}&limit=1000"
    );
    let raw = ctx.raw("GET", &path, None, None, None).await?;
    if raw.status != 200 {
        return Err(format!("GET {path}: {}", raw.describe()));
    }
    Ok(raw.body["transactions"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The payment attempts that can still debit (not failed), by intent id.
fn live_attempts(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter(|row| row["kind"] == "payment_intent")
        .flat_map(|row| {
            let id = row["id"].as_str().unwrap_or("").to_owned();
            row["payments"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p["status"] != "failed")
                .map(move |_| id.clone())
        })
        .collect()
}

fn transfers(rows: &[Value]) -> usize {
    rows.iter().filter(|row| row["kind"] == "transfer").count()
}

async fn judge(ctx: &Hub2Ctx, carts: &[Cart]) -> Result<FaultFindings, String> {
    let mut findings = FaultFindings::default();
    for cart in carts {
        let mut live = live_attempts(&stored(ctx, &cart.reference).await?);
        if cart.paid_again {
            live.extend(live_attempts(
                &stored(ctx, &format!("{}-again", cart.reference)).await?,
            ));
        }
        match &cart.paid {
            Ok((intent_id, resolution)) => {
                findings.resolved(resolution_name(*resolution));
                if !live.contains(intent_id) {
                    findings.mismatched.push(format!(
                        "{}: client intent {intent_id}, paid {live:?}",
                        cart.reference
                    ));
                }
            }
            Err(PayError::NoIntent) => {
                findings.resolved("intent_not_created");
            }
            Err(PayError::Attempt(error)) => findings
                .unresolved
                .push(format!("{}: {error}", cart.reference)),
        }
        if live.len() > 1 {
            findings.duplicate_debits.push(cart.reference.clone());
        }
        if let Some((reference, outcome)) = &cart.transfer {
            let mut count = transfers(&stored(ctx, reference).await?);
            if let Err(TransferError::Other(error)) = outcome {
                count += transfers(&stored(ctx, &format!("{reference}-again")).await?);
                findings
                    .unresolved
                    .push(format!("transfer {reference}: {error}"));
            }
            if count > 1 {
                findings
                    .duplicate_debits
                    .push(format!("transfer {reference}"));
            }
        }
    }
    Ok(findings)
}

fn resolution_name(resolution: Hub2Resolution) -> &'static str {
    match resolution {
        Hub2Resolution::Answered => "answered",
        Hub2Resolution::Replayed { .. } => "replayed",
        Hub2Resolution::ByIntent { .. } => "by_intent",
        _ => "other",
    }
}

/// Every transfer the client left ambiguous is settled by a verified
/// `transfer.*` webhook carrying its reference.
async fn settle_transfers(
    ctx: &Hub2Ctx,
    endpoint: &Endpoint,
    carts: &[Cart],
) -> Result<(), String> {
    let receiver = ctx.receiver.as_ref().ok_or("no webhook receiver")?;
    let ambiguous = carts.iter().filter_map(|cart| match &cart.transfer {
        Some((reference, Err(TransferError::Ambiguous))) => Some(reference),
        _ => None,
    });
    for reference in ambiguous {
        let delivery = receiver
            .wait_for(&endpoint.name, ctx.final_status, |event| {
                event["data"]["reference"] == json!(reference)
            })
            .await;
        let Some(delivery) = delivery else {
            // A request the client gave up on before the simulator read
            // it (a loaded machine, the 250 ms timeout) created nothing:
            // no transfer, no debit, no webhook to wait for.
            if transfers(&stored(ctx, reference).await?) == 0 {
                continue;
            }
            return Err(format!("transfer {reference}: no webhook settled it"));
        };
        delivery
            .verified
            .map_err(|e| format!("transfer {reference}: its webhook did not verify: {e}"))?;
    }
    Ok(())
}

/// How this group's verdict names a double debit and a mismatch.
const WORDING: Wording = Wording {
    twice: "paid twice",
    mismatched: "answered with another intent than paid",
};
