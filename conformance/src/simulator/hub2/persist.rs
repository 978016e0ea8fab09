//! HUB2 state in the simulator's database (`paygate simulate --db FILE`).
//!
//! Every HUB2 object is one row of `hub2_objects` (kind, id, JSON):
//! intents (with the plan of their current attempt), transfers, webhooks
//! (with their current and previous secrets and the rotation time, so a
//! restarted simulator signs as before and the 24-hour grace period goes
//! on), balances, provider credentials, webhook delivery attempts, the
//! webhook outbox and the bank-transfer serial.
//!
//! # When a change is written
//!
//! A change is queued for the writer's next group commit while the HUB2
//! lock is still held, so the database sees changes in the order they were
//! made; the request that made it is answered only once that commit is
//! done ([`Commit::done`]): an intent, an attempt, a transfer, a webhook
//! or a rotation that was answered survives a SIGKILL. Changes made by
//! timers (an attempt or transfer reaching its outcome, a balance credited)
//! and delivery attempts are queued the same way and not waited for:
//! nobody is answered after them, and a crash before their commit leaves
//! the object as it was, with its timer re-armed on the next start.
//!
//! # On start
//!
//! The objects are read back into memory ([`restore`]), and every payment
//! attempt or transfer still in progress whose outcome waits for a timer
//! (including a USSD payment waiting for the customer's dialing) gets it
//! again (`resume`), counted from the restart.
//!
//! # Webhooks: an outbox
//!
//! Each webhook event is in an outbox (kind `outbox`) from the moment it
//! is emitted until it is delivered or its attempts are used up; each
//! failed attempt updates its count there. A restarted simulator sends
//! every event still in the outbox again, continuing the attempt count,
//! signed with the webhook's secrets as they are then. An event is queued
//! just after the change it reports: a kill in the few milliseconds
//! between the commit of the change and the commit of its outbox row loses
//! that one event (the state it reports is there; `GET` reads it).

use serde::{Deserialize, Serialize};

use super::config::Hub2Environment;
use super::store::{
    Accounts, Hub2Store, IntentRecord, PendingWebhook, ProviderCredentials, TransferRecord,
    WebhookDelivery, WebhookRecord,
};
use crate::simulator::persist::{Hub2Object, Hub2Put, StoreError, Written, HUB2_ALL};
use crate::simulator::SimulatorState;

const INTENT: &str = "intent";
const TRANSFER: &str = "transfer";
const WEBHOOK: &str = "webhook";
const BALANCE: &str = "balance";
const CREDENTIALS: &str = "credentials";
const DELIVERY: &str = "delivery";
const OUTBOX: &str = "outbox";
const META: &str = "meta";
const SERIAL: &str = "serial";

/// One HUB2 change to keep.
pub(crate) enum Change<'a> {
    Intent(&'a IntentRecord),
    Transfer(&'a TransferRecord),
    Webhook(&'a WebhookRecord),
    WebhookDeleted(&'a str),
    Balance {
        merchant_id: &'a str,
        env: Hub2Environment,
        currency: &'a str,
        accounts: Accounts,
    },
    Credentials(&'a ProviderCredentials),
    Delivery(&'a WebhookDelivery),
    /// A webhook event to deliver, or its new attempt count.
    Outbox(&'a PendingWebhook),
    /// A webhook event delivered or given up (its outbox key).
    OutboxDone(String),
    Serial(u64),
    /// Everything goes (the control API's reset); the starting balances
    /// follow as their own changes.
    Reset,
}

#[derive(Serialize, Deserialize)]
struct BalanceRow {
    merchant_id: String,
    env: Hub2Environment,
    currency: String,
    accounts: Accounts,
}

/// A commit queued; [`Commit::done`] waits for it.
#[must_use = "a request is answered only after its changes are committed: await `done`"]
pub(crate) struct Commit(
    Option<Result<tokio::sync::oneshot::Receiver<Result<Written, StoreError>>, StoreError>>,
);

impl Commit {
    /// Waits until the changes are durable (at once in memory).
    pub(crate) async fn done(self) -> Result<(), StoreError> {
        match self.0 {
            None => Ok(()),
            Some(Err(err)) => Err(err),
            Some(Ok(wait)) => match wait.await {
                Ok(result) => result.map(|_| ()),
                Err(_) => Err(StoreError {
                    path: "<writer>".into(),
                    message: "the writer thread has stopped".into(),
                }),
            },
        }
    }

    /// Not waited for: a failure is logged.
    pub(crate) fn detach(self) {
        if let Some(Ok(wait)) = self.0 {
            tokio::spawn(async move {
                if let Ok(Err(err)) = wait.await {
                    tracing::error!(error = %err, "a HUB2 change could not be saved");
                }
            });
        } else if let Some(Err(err)) = self.0 {
            tracing::error!(error = %err, "a HUB2 change could not be saved");
        }
    }
}

fn put(kind: &'static str, id: String, doc: Result<String, serde_json::Error>) -> Hub2Put {
    match doc {
        Ok(doc) => Hub2Put {
            kind,
            id,
            doc: Some(doc),
        },
        Err(err) => {
            // The records are plain data; this cannot fail short of a bug,
            // and the row is then left as it was.
            tracing::error!(error = %err, kind, "cannot encode a HUB2 object");
            Hub2Put {
                kind: META,
                id: "encoding-failed".into(),
                doc: Some("null".into()),
            }
        }
    }
}

fn encode(change: &Change<'_>) -> Hub2Put {
    match change {
        Change::Intent(record) => put(
            INTENT,
            record.intent.id.clone(),
            serde_json::to_string(record),
        ),
        Change::Transfer(record) => put(
            TRANSFER,
            record.transfer.id.clone(),
            serde_json::to_string(record),
        ),
        Change::Webhook(record) => put(
            WEBHOOK,
            record.webhook.id.clone(),
            serde_json::to_string(record),
        ),
        Change::WebhookDeleted(id) => Hub2Put {
            kind: WEBHOOK,
            id: (*id).to_owned(),
            doc: None,
        },
        Change::Balance {
            merchant_id,
            env,
            currency,
            accounts,
        } => put(
            BALANCE,
            balance_id(merchant_id, *env, currency),
            serde_json::to_string(&BalanceRow {
                merchant_id: (*merchant_id).to_owned(),
                env: *env,
                currency: (*currency).to_owned(),
                accounts: *accounts,
            }),
        ),
        Change::Credentials(c) => put(
            CREDENTIALS,
            format!(
                "{}|{:?}|{}|{}|{}",
                c.merchant_id, c.environment, c.provider, c.country, c.transaction_type
            ),
            serde_json::to_string(c),
        ),
        Change::Delivery(d) => put(
            DELIVERY,
            format!("{}|{}|{}", d.event_id, d.webhook_id, d.attempt),
            serde_json::to_string(d),
        ),
        Change::Outbox(pending) => put(OUTBOX, pending.key(), serde_json::to_string(pending)),
        Change::OutboxDone(key) => Hub2Put {
            kind: OUTBOX,
            id: key.clone(),
            doc: None,
        },
        Change::Serial(serial) => put(META, SERIAL.into(), Ok(serial.to_string())),
        Change::Reset => Hub2Put {
            kind: HUB2_ALL,
            id: String::new(),
            doc: None,
        },
    }
}

fn balance_id(merchant_id: &str, env: Hub2Environment, currency: &str) -> String {
    format!("{merchant_id}|{env:?}|{currency}")
}

/// Queues `changes` for the next group commit. Call it while holding the
/// HUB2 lock the changes were made under.
pub(crate) fn record(state: &SimulatorState, changes: &[Change<'_>]) -> Commit {
    if !state.store().is_persistent() || changes.is_empty() {
        return Commit(None);
    }
    Commit(
        state
            .store()
            .enqueue_hub2(changes.iter().map(encode).collect()),
    )
}

/// The balance change of `merchant_id`'s accounts as they are in `store`.
pub(crate) fn balance<'a>(
    store: &mut Hub2Store,
    merchant_id: &'a str,
    env: Hub2Environment,
    currency: &'a str,
) -> Change<'a> {
    Change::Balance {
        merchant_id,
        env,
        currency,
        accounts: *store.accounts(merchant_id, env, currency),
    }
}

/// Puts the objects read from the database into `store` (over the
/// starting balances). A row that does not decode is an error naming it.
pub(crate) fn restore(store: &mut Hub2Store, rows: Vec<Hub2Object>) -> Result<(), String> {
    let bad = |row: &Hub2Object, err: serde_json::Error| {
        format!(
            "HUB2 {} {:?} in the database is not valid: {err}",
            row.kind, row.id
        )
    };
    for row in rows {
        match row.kind.as_str() {
            INTENT => {
                let record: IntentRecord =
                    serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?;
                store.intents.insert(record.intent.id.clone(), record);
            }
            TRANSFER => {
                let record: TransferRecord =
                    serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?;
                store.transfers.insert(record.transfer.id.clone(), record);
            }
            WEBHOOK => {
                let record: WebhookRecord =
                    serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?;
                store.webhooks.insert(record.webhook.id.clone(), record);
            }
            BALANCE => {
                let b: BalanceRow = serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?;
                *store.accounts(&b.merchant_id, b.env, &b.currency) = b.accounts;
            }
            CREDENTIALS => store
                .credentials
                .push(serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?),
            DELIVERY => store
                .deliveries
                .push(serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?),
            OUTBOX => store
                .outbox
                .push(serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?),
            META if row.id == SERIAL => {
                store.serial = serde_json::from_str(&row.doc).map_err(|e| bad(&row, e))?;
            }
            _ => {}
        }
    }
    Ok(())
}
