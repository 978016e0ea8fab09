//! A replica's heartbeat thread: it keeps the replica's row in
//! `replicas` fresh, removes replicas silent past the timeout, and claims
//! the work of replicas no longer listed (see the parent module).

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use ::postgres::{Client, Config};

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{lock, Conn, Hub2Lead, Takeover, HUB2_LEAD_KEY};
use crate::simulator::persist::postgres_outbox::{outbox_entry, OUTBOX_COLUMNS};
use crate::simulator::persist::{decode, Hub2Object};

/// The heartbeat thread: keeps this replica's row fresh, removes replicas
/// silent past the timeout, claims the work of replicas no longer listed.
pub(super) struct Watcher {
    pub(super) id: String,
    pub(super) shown: String,
    pub(super) config: Config,
    pub(super) timeout: Duration,
    pub(super) conn: Conn,
    pub(super) takeovers: tokio::sync::mpsc::UnboundedSender<Takeover>,
    /// Asks the thread to stop: it then marks this replica as gone and
    /// says so on the sender it received (a dropped sender stops it too).
    pub(super) stop: Receiver<SyncSender<()>>,
    pub(super) hub2: Arc<Hub2Lead>,
}

impl Watcher {
    pub(super) fn run(mut self) {
        // Often enough that a replica that left is noticed within a second.
        let period = (self.timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        // At start: the work of replicas that died before this one came.
        let mut first = true;
        loop {
            let id = self.id.clone();
            let timeout_ms = i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX);
            let took = self
                .conn
                .run(move |client, _| watch(client, &id, timeout_ms, first));
            self.lead();
            // The start-up claim is made once it has succeeded.
            if matches!(took, Some(Ok(_))) {
                first = false;
            }
            match took {
                Some(Ok(Some(takeover))) => {
                    tracing::warn!(
                        replica = %self.id,
                        callbacks = takeover.outbox.len(),
                        waiting = takeover.waiting.len(),
                        "took over the pending work of a replica that stopped"
                    );
                    if self.takeovers.send(takeover).is_err() {
                        return;
                    }
                }
                Some(Ok(None)) => {}
                Some(Err(message)) => {
                    tracing::error!(db = %self.shown, error = %message, "replica heartbeat failed");
                }
                None => {
                    // The connection broke (the database restarted): open
                    // another and go on beating.
                    tracing::error!(db = %self.shown, "replica heartbeat connection lost");
                    // The session's HUB2 lock went with the connection.
                    self.hub2.leading.store(false, Ordering::SeqCst);
                    match Conn::open(&self.config, &self.shown) {
                        Ok(conn) => self.conn = conn,
                        Err(err) => tracing::error!(error = %err, "cannot reconnect the heartbeat"),
                    }
                }
            }
            match self.stop.recv_timeout(period) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(done) => {
                    self.leave();
                    let _ = done.send(());
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.leave();
                    return;
                }
            }
        }
    }

    /// Takes the lead of HUB2 when no replica holds it (the one that did
    /// has died): reads HUB2's objects as the database holds them, for
    /// this replica to serve from and resume.
    fn lead(&self) {
        let hub2 = Arc::clone(&self.hub2);
        let id = self.id.clone();
        let became = self.conn.run(move |client, _| {
            let became = try_to_lead_here(client, &id, &hub2)?;
            if !became {
                return Ok(None);
            }
            let mut objects = Vec::new();
            for row in client
                .query("SELECT kind, id, doc FROM hub2_objects ORDER BY seq", &[])
                .map_err(|e| e.to_string())?
            {
                objects.push(Hub2Object {
                    kind: row.try_get(0).map_err(|e| e.to_string())?,
                    id: row.try_get(1).map_err(|e| e.to_string())?,
                    doc: row.try_get(2).map_err(|e| e.to_string())?,
                });
            }
            Ok::<_, String>(Some(objects))
        });
        match became {
            Some(Ok(Some(objects))) => {
                tracing::warn!(replica = %self.id, objects = objects.len(), "now serving HUB2");
                let _ = self.takeovers.send(Takeover {
                    hub2: Some(objects),
                    ..Takeover::default()
                });
            }
            Some(Ok(None)) => {}
            Some(Err(e)) => tracing::error!(error = %e, "cannot settle who serves HUB2"),
            None => {}
        }
    }

    /// Marks this replica as gone (its heartbeat as long past), so the
    /// next heartbeat of another replica takes its pending work over at
    /// once instead of after the timeout. Runs after this thread's last
    /// heartbeat, on its connection, so no later beat undoes it.
    fn leave(&self) {
        let id = self.id.clone();
        let left = self.conn.run(move |client, _| {
            client
                .execute(
                    "UPDATE replicas SET seen = 'epoch'::timestamptz WHERE id = $1",
                    &[&id],
                )
                .map_err(|e| e.to_string())
        });
        match left {
            Some(Ok(_)) => tracing::info!(replica = %self.id, "left; the other replicas take over"),
            Some(Err(e)) => tracing::error!(replica = %self.id, error = %e, "cannot leave"),
            None => tracing::error!(replica = %self.id, "cannot leave: the connection has gone"),
        }
    }
}

/// One heartbeat: this replica is alive; replicas silent past the timeout
/// are removed; if any was (or at start), the outbox rows of replicas no
/// longer listed are claimed and every transaction still waiting is read.
fn watch(
    client: &mut Client,
    id: &str,
    timeout_ms: i64,
    first: bool,
) -> Result<Option<Takeover>, String> {
    let err = |e: ::postgres::Error| e.to_string();
    client
        .execute(
            "INSERT INTO replicas (id, seen) VALUES ($1, now())
             ON CONFLICT (id) DO UPDATE SET seen = now()",
            &[&id],
        )
        .map_err(err)?;
    let removed = client
        .query(
            "DELETE FROM replicas WHERE seen < now() - $1::bigint * interval '1 millisecond'
             RETURNING id",
            &[&timeout_ms],
        )
        .map_err(err)?;
    if removed.is_empty() && !first {
        return Ok(None);
    }
    let mut takeover = Takeover::default();
    let claimed = client
        .query(
            &format!(
                "UPDATE outbox SET owner = $1 WHERE id IN (
                    SELECT id FROM outbox o WHERE o.state = 'pending'
                      AND (o.owner IS NULL OR NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = o.owner))
                    ORDER BY id FOR UPDATE SKIP LOCKED)
                 RETURNING {OUTBOX_COLUMNS}"
            ),
            &[&id],
        )
        .map_err(err)?;
    for row in &claimed {
        takeover.outbox.push(outbox_entry(row).map_err(err)?);
    }
    takeover.outbox.sort_by_key(|entry| entry.id);
    // Only a replica that removed another re-arms timers (at start-up,
    // `resume` arms every waiting one, read from the database).
    if !removed.is_empty() {
        for row in client
            .query("SELECT data FROM transactions ORDER BY serial", &[])
            .map_err(err)?
        {
            let data: String = row.try_get(0).map_err(err)?;
            let tx = decode(&data).map_err(|e| format!("a transaction row: {e}"))?;
            if !tx.is_final() {
                takeover.waiting.push(tx);
            }
        }
    }
    if takeover.outbox.is_empty() && takeover.waiting.is_empty() {
        return Ok(None);
    }
    Ok(Some(takeover))
}

/// Tries to become the replica serving HUB2 (on `conn`, which must stay
/// open for as long as it does), and notes who does.
pub(super) fn try_to_lead(conn: &Conn, id: &str, lead: &Arc<Hub2Lead>) -> Result<bool, String> {
    let id = id.to_owned();
    let lead = Arc::clone(lead);
    conn.run(move |client, _| try_to_lead_here(client, &id, &lead))
        .unwrap_or_else(|| Err("the connection has gone".into()))
}

/// [`try_to_lead`] on the connection's thread: `true` when this replica
/// has just become the one serving HUB2.
fn try_to_lead_here(client: &mut Client, id: &str, lead: &Hub2Lead) -> Result<bool, String> {
    let err = |e: ::postgres::Error| e.to_string();
    let mut became = false;
    if !lead.leading.load(Ordering::SeqCst) {
        let locked: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&HUB2_LEAD_KEY])
            .and_then(|row| row.try_get(0))
            .map_err(err)?;
        if locked {
            client
                .execute("UPDATE replicas SET hub2 = (id = $1)", &[&id])
                .map_err(err)?;
            lead.leading.store(true, Ordering::SeqCst);
            became = true;
        }
    }
    let url: Option<String> = client
        .query_opt(
            "SELECT url FROM replicas WHERE hub2 ORDER BY seen DESC LIMIT 1",
            &[],
        )
        .map_err(err)?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(err)?
        .flatten();
    *lock(&lead.leader_url) = url;
    Ok(became)
}
