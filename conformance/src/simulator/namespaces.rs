//! Namespaces: one simulator shared by many test runs, each in its own
//! world.
//!
//! Everything under `/ns/{name}/` is served by the namespace `name`: a
//! simulator of its own with the same merchants and settings as the root
//! one, but its own transactions, idempotency records, callback outbox and
//! delivery log, HUB2 intents, transfers, balances and webhooks, rate-limit
//! buckets, fault profiles and clock. A run points its clients at
//! `http://host:port/ns/run-42` (`paygate conform --base-url` included):
//! the paths below the prefix are the usual ones (`/{public_id}/payment_c2b`,
//! `/hub2/...`, `/_sim/...`), so nothing else changes. Requests without the
//! prefix reach the root simulator, as before.
//!
//! # Life of a namespace
//!
//! * **Created** by `PUT /_sim/namespaces/{name}` (admin token), or by the
//!   first request under its prefix that carries the admin token (any
//!   request when the control API is open). A request without the token to
//!   a namespace that does not exist is answered 404
//!   (`namespace-unknown`) and creates nothing: an anonymous client cannot
//!   make the simulator hold state. Only `GET /ns/{name}/_sim/health`
//!   answers for a namespace not yet created (`"exists": false`), so that
//!   a suite can recognise the simulator before it sends its token.
//! * **Deleted** by `DELETE /_sim/namespaces/{name}`: its state is dropped
//!   and its timers and deliveries stop; the other namespaces and the root
//!   are untouched. A later request with the token starts it afresh.
//! * **Expired** after [`NamespaceLimits::idle_ttl`] without a request
//!   (24 h by default, `--namespace-ttl`), checked every minute or sooner.
//! * At most [`NamespaceLimits::max`] exist at once (256 by default,
//!   `--max-namespaces`); one more is refused with 503
//!   (`namespace-limit`) until one is deleted or expires.
//!
//! Names are 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not starting with
//! a dot. Namespaces are kept in memory, also when the root simulator has
//! a database (`--db`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::json;
use tower::ServiceExt;

pub use super::config::NamespaceLimits;
use super::control::json_value;
use super::{admin, router, SimulatorError, SimulatorState};

/// The path prefix of a namespace: `/ns/{name}/...`.
pub const NAMESPACE_PREFIX: &str = "/ns/";

/// The longest namespace name.
pub const MAX_NAME_LEN: usize = 64;

/// `Err(why)` unless `name` is a valid namespace name.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "a namespace name has 1 to {MAX_NAME_LEN} characters, not {}",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return Err("a namespace name does not start with a dot".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "a namespace name is made of A-Z a-z 0-9 . _ -, and {bad:?} is none of them"
        ));
    }
    Ok(())
}

struct Entry {
    state: SimulatorState,
    router: Router,
    created: Instant,
    last_used: Instant,
}

/// The root simulator's namespaces.
pub(crate) struct Namespaces {
    limits: NamespaceLimits,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Why a namespace could not be had.
enum Refused {
    Unknown,
    Full(usize),
    Broken(SimulatorError),
}

impl Refused {
    /// The answer naming why the namespace `name` could not be had.
    fn response(self, name: &str) -> Response {
        match self {
            Refused::Unknown => refusal(
                StatusCode::NOT_FOUND,
                "namespace-unknown",
                format!("namespace {name:?} does not exist"),
            ),
            Refused::Full(max) => refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "namespace-limit",
                format!(
                    "{max} namespaces exist, the most this simulator holds (--max-namespaces): delete one with DELETE /_sim/namespaces/{{name}}"
                ),
            ),
            Refused::Broken(err) => refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "namespace-failed",
                format!("namespace {name:?} could not be started: {err}"),
            ),
        }
    }
}

impl Namespaces {
    pub(crate) fn new(limits: NamespaceLimits) -> Self {
        Namespaces {
            limits,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The map; a panic while it was held cannot leave it half-changed
    /// (every change is one insert or remove), so a poisoned lock is used
    /// as is.
    fn entries(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The namespace's state and router, marked as used now; created from
    /// `root` when `create` and it does not exist.
    fn get(
        &self,
        root: &SimulatorState,
        name: &str,
        create: bool,
    ) -> Result<(SimulatorState, Router, bool), Refused> {
        let mut entries = self.entries();
        if let Some(entry) = entries.get_mut(name) {
            entry.last_used = Instant::now();
            return Ok((entry.state.clone(), entry.router.clone(), false));
        }
        if !create {
            return Err(Refused::Unknown);
        }
        if entries.len() >= self.limits.max {
            return Err(Refused::Full(self.limits.max));
        }
        let state = SimulatorState::for_namespace(root, name).map_err(Refused::Broken)?;
        let app = router(state.clone());
        let now = Instant::now();
        entries.insert(
            name.to_owned(),
            Entry {
                state: state.clone(),
                router: app.clone(),
                created: now,
                last_used: now,
            },
        );
        tracing::info!(namespace = name, "namespace created");
        Ok((state, app, true))
    }

    /// Removes the namespace and stops its background work; its
    /// transaction count, or `None` if it did not exist.
    fn delete(&self, name: &str) -> Option<usize> {
        let entry = self.entries().remove(name)?;
        entry.state.stop_background();
        let transactions = entry.state.store().transaction_count();
        tracing::info!(namespace = name, transactions, "namespace deleted");
        Some(transactions)
    }

    /// Deletes every namespace idle for longer than the limit.
    fn expire(&self) {
        let Some(ttl) = self.limits.idle_ttl else {
            return;
        };
        let expired: Vec<(String, SimulatorState)> = {
            let mut entries = self.entries();
            let names: Vec<String> = entries
                .iter()
                .filter(|(_, entry)| entry.last_used.elapsed() > ttl)
                .map(|(name, _)| name.clone())
                .collect();
            names
                .into_iter()
                .filter_map(|name| entries.remove(&name).map(|entry| (name, entry.state)))
                .collect()
        };
        for (name, state) in expired {
            state.stop_background();
            tracing::info!(namespace = %name, "namespace expired");
        }
    }

    /// Stops the background work of every namespace (the root is
    /// stopping).
    pub(crate) fn stop_all(&self) {
        for entry in self.entries().values() {
            entry.state.stop_background();
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.entries().len()
    }
}

/// Deletes idle namespaces until the root simulator stops: every minute,
/// or every quarter of the idle limit when that is shorter.
pub(crate) fn spawn_expiry(root: &SimulatorState) {
    let Some(namespaces) = root.0.namespaces.as_ref() else {
        return;
    };
    let Some(ttl) = namespaces.limits.idle_ttl else {
        return;
    };
    let period = (ttl / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
    let root = root.clone();
    let mut stop = root.0.shutdown.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            if let Some(namespaces) = root.0.namespaces.as_ref() {
                namespaces.expire();
            }
        }
    });
}

fn refusal(status: StatusCode, code: &str, message: String) -> Response {
    json_value(
        status,
        &json!({"status": status.as_u16(), "code": code, "message": message}),
    )
}

/// The root's middleware: a request under `/ns/{name}/` is served by that
/// namespace, with the prefix taken off its path; the rest go on to the
/// root's routes.
pub(crate) async fn route(
    State(root): State<SimulatorState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(namespaces) = root.0.namespaces.as_ref() else {
        return next.run(request).await;
    };
    // Behind replicas, the namespaces (and their management) live on the
    // replica that serves HUB2: the others forward to it.
    let path = request.uri().path();
    if (path.starts_with(NAMESPACE_PREFIX) || path.starts_with("/_sim/namespaces"))
        && super::forward::forwards(&root)
    {
        let full = request
            .uri()
            .path_and_query()
            .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
        return super::forward::forward(&root, request, full, |status, message| {
            refusal(status, "namespace-unavailable", message.to_owned())
        })
        .await;
    }
    let Some(after) = request.uri().path().strip_prefix(NAMESPACE_PREFIX) else {
        return next.run(request).await;
    };
    let (name, rest) = match after.find('/') {
        Some(at) => (&after[..at], &after[at..]),
        None => (after, "/"),
    };
    if let Err(why) = check_name(name) {
        return refusal(StatusCode::BAD_REQUEST, "namespace-invalid", why);
    }
    let name = name.to_owned();
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let create = admin::authorize(&root, request.method(), request.headers()).is_ok();
    let (_, app, _) = match namespaces.get(&root, &name, create) {
        Ok(found) => found,
        Err(Refused::Unknown) => {
            if request.method() == Method::GET && rest == "/_sim/health" {
                let mut body = super::control::health_body(&root);
                body["transactions"] = json!(0);
                if let Some(fields) = body.as_object_mut() {
                    fields.remove("namespaces");
                }
                body["namespace"] = json!({"name": name, "exists": false});
                return json_value(StatusCode::OK, &body);
            }
            return refusal(
                StatusCode::NOT_FOUND,
                "namespace-unknown",
                format!(
                    "namespace {name:?} does not exist: create it with PUT /_sim/namespaces/{name}, or send its first request with the admin token (Authorization: Bearer <admin token>)"
                ),
            );
        }
        Err(refused) => return refused.response(&name),
    };
    let (mut parts, body) = request.into_parts();
    match path_and_query.parse::<Uri>() {
        Ok(uri) => parts.uri = uri,
        Err(_) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "namespace-invalid",
                "the path under the namespace is not a valid URI path".into(),
            )
        }
    }
    match app.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The answer inside a namespace to the calls that manage namespaces.
fn nested() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "namespace-nested",
        "namespaces are managed on the root simulator, not inside a namespace".into(),
    )
}

/// `GET /_sim/namespaces`: every namespace, its transactions, age and
/// idle time.
pub(crate) async fn list(State(state): State<SimulatorState>) -> Response {
    let Some(namespaces) = state.0.namespaces.as_ref() else {
        return nested();
    };
    let mut rows: Vec<serde_json::Value> = namespaces
        .entries()
        .iter()
        .map(|(name, entry)| {
            json!({
                "name": name,
                "transactions": entry.state.store().transaction_count(),
                "age_seconds": entry.created.elapsed().as_secs(),
                "idle_seconds": entry.last_used.elapsed().as_secs(),
            })
        })
        .collect();
    rows.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json_value(
        StatusCode::OK,
        &json!({
            "namespaces": rows,
            "max": namespaces.limits.max,
            "idle_ttl_seconds": namespaces.limits.idle_ttl.map(|ttl| ttl.as_secs()),
        }),
    )
}

/// `PUT /_sim/namespaces/{name}`: creates it (201) or finds it (200);
/// answers its base URL.
pub(crate) async fn create(
    State(state): State<SimulatorState>,
    Path(name): Path<String>,
) -> Response {
    let Some(namespaces) = state.0.namespaces.as_ref() else {
        return nested();
    };
    if let Err(why) = check_name(&name) {
        return refusal(StatusCode::BAD_REQUEST, "namespace-invalid", why);
    }
    match namespaces.get(&state, &name, true) {
        Ok((namespace, _, created)) => json_value(
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            &json!({"name": name, "base_url": namespace.base_url(), "created": created}),
        ),
        Err(refused) => refused.response(&name),
    }
}

/// `DELETE /_sim/namespaces/{name}`: drops its state (200), or 404.
pub(crate) async fn delete(
    State(state): State<SimulatorState>,
    Path(name): Path<String>,
) -> Response {
    let Some(namespaces) = state.0.namespaces.as_ref() else {
        return nested();
    };
    match namespaces.delete(&name) {
        Some(transactions) => json_value(
            StatusCode::OK,
            &json!({"deleted": name, "transactions": transactions}),
        ),
        None => refusal(
            StatusCode::NOT_FOUND,
            "namespace-unknown",
            format!("namespace {name:?} does not exist"),
        ),
    }
}

/// Whether `name` exists (for the tests).
#[cfg(test)]
fn exists(namespaces: &Namespaces, name: &str) -> bool {
    namespaces.entries().contains_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("run-42").is_ok());
        assert!(check_name("ci.build_7").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(".hidden").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("é").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn an_idle_namespace_expires_and_a_used_one_stays() {
        let root = SimulatorState::new(
            super::super::SimulatorConfig {
                control: super::super::ControlAccess::Open,
                namespaces: NamespaceLimits {
                    max: 4,
                    idle_ttl: Some(Duration::from_millis(50)),
                },
                ..super::super::SimulatorConfig::demo()
            },
            "http://127.0.0.1:9",
        )
        .expect("demo config");
        let namespaces = root.0.namespaces.as_ref().expect("root has namespaces");
        assert!(namespaces.get(&root, "idle", true).is_ok());
        std::thread::sleep(Duration::from_millis(40));
        assert!(namespaces.get(&root, "busy", true).is_ok());
        std::thread::sleep(Duration::from_millis(20));
        namespaces.expire();
        assert!(!exists(namespaces, "idle"));
        assert!(exists(namespaces, "busy"));
    }

    #[test]
    fn the_limit_holds_and_deleting_frees_a_place() {
        let root = SimulatorState::new(
            super::super::SimulatorConfig {
                control: super::super::ControlAccess::Open,
                namespaces: NamespaceLimits {
                    max: 2,
                    idle_ttl: None,
                },
                ..super::super::SimulatorConfig::demo()
            },
            "http://127.0.0.1:9",
        )
        .expect("demo config");
        let namespaces = root.0.namespaces.as_ref().expect("root has namespaces");
        assert!(namespaces.get(&root, "a", true).is_ok());
        assert!(namespaces.get(&root, "b", true).is_ok());
        assert!(matches!(
            namespaces.get(&root, "c", true),
            Err(Refused::Full(2))
        ));
        assert!(matches!(
            namespaces.get(&root, "d", false),
            Err(Refused::Unknown)
        ));
        assert_eq!(namespaces.delete("a"), Some(0));
        assert!(namespaces.get(&root, "c", true).is_ok());
        assert_eq!(namespaces.delete("a"), None);
    }
}
