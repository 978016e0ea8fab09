//! The `faults` group: payments whose answers go wrong after the simulator
//! stored them, and a client that must still pay exactly once.
//!
//! The merchant is modelled as most integrations are written: one order id
//! per cart, and when the payment call fails, the cart is paid again under
//! a new order id. The simulator is the oracle (it knows what it stored):
//! every cart must be resolved by the client on its first order id, no cart
//! may be debited twice, the client's transaction must be the stored one,
//! and every callback (duplicated, stale, delayed or for an unknown order
//! as the profile draws them) must verify. With recovery disabled the same
//! run must be reported as failing: proof that the check can fail (the
//! case `recovery_disabled_is_reported` expects that failure).

use std::sync::Arc;
use std::time::Duration;

use paygate::gateway::client::{GatewayClient, Recovery, Resolution, RetryPolicy};
use paygate::gateway::Status;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::check::Check;
use super::support::unique_customer;
use crate::conform::cases::PaymentSpec;
use crate::conform::fault_findings::{FaultFindings, Wording};
use crate::conform::target::Ctx;

/// The seed of the suite's fault profile (fixed: a failure is reproducible).
pub(crate) const SEED: u64 = 2026;
/// Payment calls in flight at once.
const CONCURRENCY: usize = 64;

/// What one cart came to.
struct Cart {
    order_id: String,
    /// The client's answer on the first order id: transaction id and how
    /// it was resolved, or the error.
    first: Result<(String, Resolution), String>,
    /// The order id of a second payment, if the merchant paid again.
    second: Option<String>,
}

/// `payments` carts at `rate_percent` % faults, the client recovering or
/// not: passes when every cart is paid exactly once and every callback
/// verifies.
pub(crate) async fn ambiguous_faults(
    ctx: &Ctx,
    payment: &PaymentSpec,
    payments: u32,
    rate_percent: u32,
    recovery: bool,
) -> Check {
    let policy = if recovery {
        Recovery::ReplayThenStatus
    } else {
        Recovery::Disabled
    };
    run(ctx, payment, payments, rate_percent, policy).await
}

async fn run(
    ctx: &Ctx,
    payment: &PaymentSpec,
    payments: u32,
    rate_percent: u32,
    recovery: Recovery,
) -> Check {
    let public_id = ctx
        .fault_public_id
        .clone()
        .ok_or("the target has no merchant for fault profiles")?;
    let profile = json!({
        "seed": SEED,
        "rate_percent": rate_percent,
        "slow_ms": 600,
        "callback_delay_ms": 300,
    });
    ctx.sim_faults(&public_id, Some(&profile)).await?;
    let client = Arc::new(fault_client(ctx, &public_id, recovery)?);
    let carts = pay_all(ctx, &client, payment, payments).await?;
    // The profile stays: the cases of this group run at once on the one
    // twin merchant, all with the same profile, and removing it here
    // would take the faults away from a run still going.
    let view = ctx.sim_fault_view(&public_id).await?;
    let injected = view.get("injected").cloned().unwrap_or(Value::Null);
    let findings = judge(ctx, &public_id, &carts).await?;
    findings.verdict(carts.len(), &injected, &WORDING)?;
    callbacks_verify(ctx, &carts).await
}

/// The suite's client, as the fault merchant, impatient (250 ms) so that
/// slow answers count as lost.
fn fault_client(ctx: &Ctx, public_id: &str, recovery: Recovery) -> Result<GatewayClient, String> {
    let mut config = ctx.client.config().clone();
    public_id.clone_into(&mut config.credentials.public_id);
    config.timeout = Duration::from_millis(250);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    config.recovery = recovery;
    GatewayClient::new(config).map_err(|e| e.to_string())
}

/// Pays every cart; a cart whose payment call fails is paid again under a
/// new order id, as a naive merchant would.
async fn pay_all(
    ctx: &Ctx,
    client: &Arc<GatewayClient>,
    payment: &PaymentSpec,
    payments: u32,
) -> Result<Vec<Cart>, String> {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..payments {
        let order_id = ctx.order_id();
        // A customer per cart: no daily cumulative limit is reached.
        let payment = payment.with_customer(&unique_customer(ctx, &payment.customer_id));
        let payment = &payment;
        let first = ctx.c2b(payment, &order_id)?;
        let again = ctx.c2b(payment, &format!("{order_id}-again"))?;
        let client = Arc::clone(client);
        let slots = Arc::clone(&slots);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let first = client
                .payment_c2b(first)
                .await
                .map(|reply| (reply.transaction_id.clone(), reply.resolution))
                .map_err(|e| e.to_string());
            let second = match &first {
                Ok(_) => None,
                Err(_) => {
                    let id = again.order_id.clone();
                    let _ = client.payment_c2b(again).await;
                    Some(id)
                }
            };
            Cart {
                order_id,
                first,
                second,
            }
        });
    }
    let mut carts = Vec::with_capacity(payments as usize);
    while let Some(joined) = tasks.join_next().await {
        carts.push(joined.map_err(|e| format!("a payment task failed: {e}"))?);
    }
    Ok(carts)
}

/// Compares each cart with what the simulator stored.
async fn judge(ctx: &Ctx, public_id: &str, carts: &[Cart]) -> Result<FaultFindings, String> {
    let mut findings = FaultFindings::default();
    for cart in carts {
        let stored = ctx.sim_transaction_of(public_id, &cart.order_id).await?;
        let stored_id = stored
            .as_ref()
            .and_then(|tx| tx.get("transaction_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        match &cart.first {
            Ok((transaction_id, resolution)) => {
                findings.resolved(resolution_name(*resolution));
                if stored_id.as_deref() != Some(transaction_id.as_str()) {
                    findings.mismatched.push(format!(
                        "{}: client {transaction_id}, stored {stored_id:?}",
                        cart.order_id
                    ));
                }
            }
            Err(error) => findings
                .unresolved
                .push(format!("{}: {error}", cart.order_id)),
        }
        if let Some(second) = &cart.second {
            let again = ctx.sim_transaction_of(public_id, second).await?;
            if stored.is_some() && again.is_some() {
                findings.duplicate_debits.push(cart.order_id.clone());
            }
        }
    }
    Ok(findings)
}

fn resolution_name(resolution: Resolution) -> &'static str {
    match resolution {
        Resolution::Answered => "answered",
        Resolution::Replayed { .. } => "replayed",
        Resolution::ByStatus { .. } => "by_status",
        _ => "other",
    }
}

/// Every resolved cart gets its final callback, and every callback the
/// receiver got for the run (duplicates, stale and unknown ones included)
/// verifies.
async fn callbacks_verify(ctx: &Ctx, carts: &[Cart]) -> Check {
    let receiver = ctx
        .receiver
        .as_ref()
        .ok_or("no callback receiver to check the callbacks with")?;
    for cart in carts.iter().filter(|c| c.first.is_ok()) {
        let got = receiver
            .wait_for(&cart.order_id, ctx.timing.callback, |r| {
                r.verified.is_ok() && r.int("status").is_some_and(|s| Status::from(s).is_final())
            })
            .await;
        if got.is_none() {
            return Err(format!(
                "{}: no verified final callback within {:?}",
                cart.order_id, ctx.timing.callback
            ));
        }
    }
    let ours: std::collections::BTreeSet<String> = carts
        .iter()
        .flat_map(|c| {
            [
                c.order_id.clone(),
                format!("{}-again", c.order_id),
                format!("never-sent-{}", c.order_id),
            ]
        })
        .collect();
    for order in receiver.orders().into_iter().filter(|o| ours.contains(o)) {
        if let Some(bad) = receiver
            .received(&order)
            .iter()
            .find(|r| r.verified.is_err())
        {
            return Err(format!(
                "a callback for {order} did not verify: {:?}",
                bad.verified
            ));
        }
    }
    Ok(())
}

/// How this group's verdict names a double debit and a mismatch.
const WORDING: Wording = Wording {
    twice: "debited twice",
    mismatched: "answered with another transaction than stored",
};
