//! HUB2 webhook signatures across a secret rotation: a delivery verifies
//! with the current secret; after a rotation it carries `s1` (new) and
//! `s0` (old), each verifies alone, a wrong secret or a tampered body does
//! not (verified by the suite's own receiver with `WebhookSecrets {current,
//! previous}`).

use std::time::Duration;

use paygate::hub2::models::{CreateWebhookRequest, PaymentIntent, WebhookEventType};
use paygate::hub2::webhook::{verify_webhook, WebhookSecret, WebhookSecrets};
use serde_json::json;

use super::context::Hub2Ctx;
use super::receiver::{Delivery, WebhookReceiver};
use super::support::{ensure, msisdn_for};

/// How long a delivery may take.
const DELIVERY_WAIT: Duration = Duration::from_secs(10);

/// The endpoint the case registered: its receiver name and secrets.
struct Endpoint<'r> {
    receiver: &'r WebhookReceiver,
    name: String,
}

impl Endpoint<'_> {
    /// Waits for the `event` delivery about `intent`.
    async fn delivery(&self, event: WebhookEventType, intent: &PaymentIntent) -> Option<Delivery> {
        self.receiver
            .wait_for(&self.name, DELIVERY_WAIT, |e| {
                e["type"] == event.as_str() && e["data"]["id"] == intent.id.as_str()
            })
            .await
    }
}

/// Registers a webhook for the created and succeeded events, runs the
/// checks, and deletes it whatever they found.
pub(super) async fn webhook_signatures(ctx: &Hub2Ctx) -> Result<(), String> {
    let receiver = ctx.receiver.as_ref().ok_or("no webhook receiver")?;
    let endpoint = Endpoint {
        receiver,
        name: ctx.unique("wh"),
    };
    let webhook = ctx
        .client
        .create_webhook(
            &CreateWebhookRequest::new(
                receiver.url(&endpoint.name),
                vec![
                    WebhookEventType::PaymentIntentCreated,
                    WebhookEventType::PaymentIntentSucceeded,
                ],
            )
            .with_description("conformance"),
        )
        .await
        .map_err(|e| format!("createWebhook: {e}"))?;
    let first = webhook
        .secret
        .clone()
        .ok_or("createWebhook answered no secret")?;
    receiver.set_secrets(
        &endpoint.name,
        WebhookSecrets::new(WebhookSecret::new(&first)),
    );
    let result = across_rotation(ctx, &endpoint, &webhook.id, &first).await;
    let _ = ctx.client.delete_webhook(&webhook.id).await;
    result
}

/// The created delivery verifies with the first secret (no `s0` yet); the
/// succeeded one, after a rotation, verifies with both.
async fn across_rotation(
    ctx: &Hub2Ctx,
    endpoint: &Endpoint<'_>,
    webhook_id: &str,
    first: &str,
) -> Result<(), String> {
    let intent = ctx.intent(300, "XOF").await?;
    let created = endpoint
        .delivery(WebhookEventType::PaymentIntentCreated, &intent)
        .await
        .ok_or("no payment_intent.created delivery")?;
    created
        .verified
        .clone()
        .map_err(|e| format!("payment_intent.created: {e}"))?;
    ensure(
        !created.signature.contains("s0="),
        format!("s0 before any rotation: {}", created.signature),
    )?;

    let second = rotate(ctx, webhook_id).await?;
    let both =
        WebhookSecrets::new(WebhookSecret::new(&second)).with_previous(WebhookSecret::new(first));
    endpoint.receiver.set_secrets(&endpoint.name, both.clone());
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "99"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let succeeded = endpoint
        .delivery(WebhookEventType::PaymentIntentSucceeded, &intent)
        .await
        .ok_or("no payment_intent.succeeded delivery")?;
    succeeded
        .verified
        .clone()
        .map_err(|e| format!("after the rotation: {e}"))?;
    ensure(
        succeeded.signature.starts_with("s1=") && succeeded.signature.contains(",s0="),
        format!(
            "after a rotation the header is not s1=..,s0=..: {}",
            succeeded.signature
        ),
    )?;
    each_secret_alone(&succeeded, &second, first)?;
    nothing_else_verifies(&succeeded, &both)
}

/// Rotates the webhook's secret through the control API; the new secret.
async fn rotate(ctx: &Hub2Ctx, webhook_id: &str) -> Result<String, String> {
    let rotated = ctx
        .control(&format!("/webhooks/{webhook_id}/rotate"), &json!({}))
        .await?;
    rotated.body["secret"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("rotation answered no secret: {}", rotated.describe()))
}

/// Each secret alone verifies the delivery (`s1` with the new, `s0` with
/// the old).
fn each_secret_alone(delivery: &Delivery, new: &str, previous: &str) -> Result<(), String> {
    for (label, secret) in [("new", new), ("previous", previous)] {
        verify_webhook(
            &WebhookSecrets::new(WebhookSecret::new(secret)),
            &delivery.signature,
            &delivery.body,
        )
        .map_err(|e| format!("the {label} secret alone: {e}"))?;
    }
    Ok(())
}

/// A wrong secret does not verify the delivery, and its secrets do not
/// verify a tampered body.
fn nothing_else_verifies(delivery: &Delivery, secrets: &WebhookSecrets) -> Result<(), String> {
    ensure(
        verify_webhook(
            &WebhookSecrets::new(WebhookSecret::new("not-the-secret")),
            &delivery.signature,
            &delivery.body,
        )
        .is_err(),
        "a wrong secret verifies".into(),
    )?;
    let mut tampered = delivery.body.to_vec();
    if let Some(b) = tampered.iter_mut().find(|b| **b == b'3') {
        *b = b'4';
    } else {
        tampered.push(b' ');
    }
    ensure(
        verify_webhook(secrets, &delivery.signature, &tampered).is_err(),
        "a tampered body verifies".into(),
    )
}
