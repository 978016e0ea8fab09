//! The simulator's dashboard: `/_sim/ui`, a page over the control API.
//!
//! The page and its script are embedded in the binary (`dashboard/`: plain
//! HTML, CSS and JavaScript, no build step). Like the rest of the control
//! plane it needs the admin token: a browser signs in once at
//! `/_sim/ui/login` (the token posted in a form), which sets an `HttpOnly`,
//! `SameSite=Strict` cookie; every control request then accepts that
//! cookie in place of `Authorization: Bearer` (see [`super::admin`], which
//! also asks cookie-authenticated requests that change state for the
//! `X-Paygate-UI` header, which a page of another site cannot set).
//!
//! This module also holds the listings the page reads and that curl users
//! get too: `GET /_sim/transactions` (newest first, filtered by merchant,
//! status and provider), `POST /_sim/transactions/{public_id}/{order_id}/callback`
//! (send a final transaction's callback again, newly signed) and
//! `GET /hub2/_sim/transactions` (HUB2 payment intents and transfers).
//! Each attempt's body comes with `GET /_sim/callbacks?order_id=`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::admin::{self, SESSION_COOKIE};
use super::callbacks;
use super::codes;
use super::control::json_value;
use super::gateway::ApiError;
use super::lifecycle::callback_for;
use super::persist::NewOutbox;
use super::{SimulatorState, WorkError};

const PAGE: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/app.css");
const LOGIN: &str = include_str!("dashboard/login.html");

/// Most rows one listing returns.
pub const MAX_LIST: usize = 1_000;
/// Rows a listing returns when `limit` is not given.
pub const DEFAULT_LIST: usize = 100;

/// Headers of every dashboard asset: nothing from elsewhere (no inline
/// script either), never framed, never cached.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// `/ns/{name}` when the dashboard is a namespace's (see `namespaces`),
/// else empty: what its links start with.
fn prefix(state: &SimulatorState) -> String {
    state
        .0
        .namespace
        .as_ref()
        .map(|name| format!("{}{name}", super::namespaces::NAMESPACE_PREFIX))
        .unwrap_or_default()
}

/// A page of the dashboard with its links under `prefix`.
fn html(page: &'static str, prefix: &str) -> Response {
    if prefix.is_empty() {
        return asset("text/html; charset=utf-8", page);
    }
    let body = page.replace("\"/_sim/", &format!("\"{prefix}/_sim/"));
    let mut response = asset("text/html; charset=utf-8", "");
    *response.body_mut() = axum::body::Body::from(body);
    response
}

fn see_other(state: &SimulatorState, to: &'static str) -> Response {
    let location = format!("{}{to}", prefix(state));
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /_sim/ui`: the page, or to the sign-in form without the token.
pub(crate) async fn page(State(state): State<SimulatorState>, headers: HeaderMap) -> Response {
    if admin::authorize(&state, &axum::http::Method::GET, &headers).is_err() {
        return see_other(&state, "/_sim/ui/login");
    }
    html(PAGE, &prefix(&state))
}

/// `GET /_sim/ui/app.js` (behind the token).
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /_sim/ui/app.css` (behind the token).
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /_sim/ui/login`: the sign-in form (open: it shows nothing).
pub(crate) async fn login_form(State(state): State<SimulatorState>) -> Response {
    html(LOGIN, &prefix(&state))
}

#[derive(Deserialize)]
pub(crate) struct Login {
    token: String,
}

/// `POST /_sim/ui/login` with `token=...`: the session cookie and the page,
/// or 401 and the form again.
pub(crate) async fn login(State(state): State<SimulatorState>, form: Form<Login>) -> Response {
    let Some(expected) = state.admin_token() else {
        return see_other(&state, "/_sim/ui");
    };
    if !expected.matches(form.token.as_bytes()) {
        tracing::info!(code = "admin-token-wrong", "dashboard sign-in refused");
        let mut refused = html(LOGIN, &prefix(&state));
        *refused.status_mut() = StatusCode::UNAUTHORIZED;
        return refused;
    }
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        admin::cookie_encode(&form.token)
    );
    let mut response = see_other(&state, "/_sim/ui");
    if let Ok(mut value) = HeaderValue::from_str(&cookie) {
        value.set_sensitive(true);
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// `POST /_sim/ui/logout`: forgets the cookie.
pub(crate) async fn logout(State(state): State<SimulatorState>) -> Response {
    let mut response = see_other(&state, "/_sim/ui/login");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "paygate_sim_admin=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

/// The filters of `GET /_sim/transactions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    public_id: Option<String>,
    status: Option<i64>,
    provider_id: Option<i64>,
    limit: Option<usize>,
}

/// One row of `GET /_sim/transactions`.
#[derive(Debug, serde::Serialize)]
struct Row {
    serial: u64,
    public_id: String,
    order_id: String,
    operation: super::operation::OperationKind,
    status: i64,
    provider_id: i64,
    amount: String,
    customer_id: String,
    created: String,
    updated: String,
}

/// A row ordered by its serial alone.
struct BySerial(Row);

impl PartialEq for BySerial {
    fn eq(&self, other: &Self) -> bool {
        self.0.serial == other.0.serial
    }
}
impl Eq for BySerial {}
impl PartialOrd for BySerial {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for BySerial {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.serial.cmp(&other.0.serial)
    }
}

/// `GET /_sim/transactions[?public_id=&status=&provider_id=&limit=]`: the
/// newest transactions first (by serial), at most `limit` (100 by default,
/// 1 000 at most). One pass over the store keeping the best `limit` in a
/// heap: the listing costs no memory proportional to the store.
pub(crate) async fn list(
    State(state): State<SimulatorState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return bad_request(
            "the query takes public_id, status (a number), provider_id (a number) and limit (a number)",
        );
    };
    // A replica reads the database: off the connection threads.
    let listed = state
        .blocking(move |state| newest_rows(state, &query))
        .await
        .unwrap_or_default();
    json_value(StatusCode::OK, &listed)
}

/// The body of the list: the `limit` newest matching rows and the total.
fn newest_rows(state: &SimulatorState, query: &ListQuery) -> serde_json::Value {
    let limit = query.limit.unwrap_or(DEFAULT_LIST).min(MAX_LIST);
    // The `limit` newest so far, the oldest of them on top.
    let mut newest: BinaryHeap<Reverse<BySerial>> = BinaryHeap::with_capacity(limit + 1);
    state.store().collect(|tx| {
        let wanted = query.public_id.as_ref().is_none_or(|p| *p == tx.public_id)
            && query.status.is_none_or(|s| s == tx.status)
            && query.provider_id.is_none_or(|p| p == tx.provider_id);
        let newer = newest.len() < limit
            || newest
                .peek()
                .is_some_and(|Reverse(oldest)| oldest.0.serial < tx.serial);
        if wanted && newer && limit > 0 {
            newest.push(Reverse(BySerial(Row {
                serial: tx.serial,
                public_id: tx.public_id.clone(),
                order_id: tx.order_id.clone(),
                operation: tx.operation,
                status: tx.status,
                provider_id: tx.provider_id,
                amount: tx.amount.to_string(),
                customer_id: tx.customer_id.clone(),
                created: tx.history.first().map(|h| h.at.clone()).unwrap_or_default(),
                updated: tx.history.last().map(|h| h.at.clone()).unwrap_or_default(),
            })));
            if newest.len() > limit {
                newest.pop();
            }
        }
        None::<()>
    });
    // Ascending `Reverse` = descending serial: the newest first.
    let rows: Vec<Row> = newest
        .into_sorted_vec()
        .into_iter()
        .map(|Reverse(BySerial(row))| row)
        .collect();
    json!({ "transactions": rows, "total": state.store().transaction_count() })
}

type TxPath = Result<Path<(String, String)>, axum::extract::rejection::PathRejection>;

/// `POST /_sim/transactions/{public_id}/{order_id}/callback`: sends the
/// callback of a final transaction again, with its retries (recorded in
/// the outbox first when there is a database, like the first one). The
/// callback is signed anew: its `service_date_time` is now.
pub(crate) async fn resend_callback(State(state): State<SimulatorState>, path: TxPath) -> Response {
    let Ok(Path((public_id, order_id))) = path else {
        return ApiError::not_found(
            "the path is not /_sim/transactions/{public_id}/{order_id}/callback",
        )
        .into_response();
    };
    let work = {
        let (public_id, order_id) = (public_id.clone(), order_id.clone());
        move |state: &SimulatorState| {
            let mut store = state.store().lock_order(&public_id, &order_id);
            let Some(tx) = store.get(&public_id, &order_id).cloned() else {
                return Err(no_transaction(&public_id, &order_id));
            };
            if !tx.is_final() {
                return Err(no_callback(&order_id, "the transaction is not final yet"));
            }
            let Some(mut delivery) = callback_for(state, &tx) else {
                return Err(no_callback(&order_id, "the transaction sends no callback (no callback URL, or a POS operation that did not succeed)"));
            };
            let outbox = NewOutbox {
                operation_type: delivery.operation_type,
                status: delivery.status,
                url: &delivery.url,
                body: &delivery.body,
            };
            match store.persist_with_callback(&tx, Some(outbox)) {
                Ok(id) => delivery.outbox_id = id,
                Err(err) => return Err(ApiError::storage(err)),
            }
            drop(store);
            let url = delivery.url.clone();
            callbacks::spawn_delivery(state, delivery);
            Ok(url)
        }
    };
    match state.blocking(work).await {
        Ok(Ok(url)) => {
            tracing::info!(%public_id, %order_id, "callback sent again from the control API");
            json_value(StatusCode::ACCEPTED, &json!({ "resent": true, "url": url }))
        }
        Ok(Err(err)) => err.into_response(),
        Err(WorkError::Storage(err)) => ApiError::storage(err).into_response(),
        Err(WorkError::Stopped) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the resend failed unexpectedly",
        )
        .into_response(),
    }
}

/// The filters of `GET /hub2/_sim/transactions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Hub2ListQuery {
    status: Option<String>,
    limit: Option<usize>,
    /// Only this merchant's.
    merchant_id: Option<String>,
    /// Only those whose `purchaseReference` (intents) or `reference`
    /// (transfers) is this.
    reference: Option<String>,
}

/// `GET /hub2/_sim/transactions[?status=&merchant_id=&reference=&limit=]`: HUB2 payment intents
/// and transfers, newest first, each as the API returns it with its
/// `kind` (`payment_intent` or `transfer`).
pub(crate) async fn hub2_list(
    State(state): State<SimulatorState>,
    query: Result<Query<Hub2ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return bad_request("the query takes status and limit (a number)");
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIST).min(MAX_LIST);
    let mut rows: Vec<(String, serde_json::Value)> = {
        let store = state.hub2_store();
        // Merchant and reference are checked before anything is
        // serialised: the suite's oracle asks by reference, one order at a
        // time, of a store holding thousands.
        let wanted = |merchant_id: &str, reference: &str| {
            query.merchant_id.as_ref().is_none_or(|m| m == merchant_id)
                && query.reference.as_ref().is_none_or(|r| r == reference)
        };
        let intents = store
            .intents
            .values()
            .filter(|r| wanted(&r.intent.merchant_id, &r.intent.purchase_reference))
            .map(|r| ("payment_intent", serde_json::to_value(&r.intent)));
        let transfers = store
            .transfers
            .values()
            .filter(|r| wanted(&r.transfer.merchant_id, &r.transfer.reference))
            .map(|r| ("transfer", serde_json::to_value(&r.transfer)));
        intents
            .chain(transfers)
            .filter_map(|(kind, value)| {
                let mut value = value.ok()?;
                let text = |name: &str| value.get(name).and_then(|s| s.as_str()).unwrap_or("");
                if query
                    .status
                    .as_ref()
                    .is_some_and(|wanted| wanted != text("status"))
                {
                    return None;
                }
                let created = value
                    .get("createdAt")
                    .and_then(|c| c.as_str())
                    .unwrap_or("")
                    .to_owned();
                if let Some(object) = value.as_object_mut() {
                    object.insert("kind".to_owned(), json!(kind));
                }
                Some((created, value))
            })
            .collect()
    };
    // Newest first; the id breaks ties (the store is a hash map).
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap_or("").to_owned();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| id(&a.1).cmp(&id(&b.1))));
    rows.truncate(limit);
    let rows: Vec<serde_json::Value> = rows.into_iter().map(|(_, v)| v).collect();
    json_value(StatusCode::OK, &json!({ "transactions": rows }))
}

fn bad_request(message: &str) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message).into_response()
}

fn no_transaction(public_id: &str, order_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no transaction {order_id:?} for public_id {public_id:?}"
    ))
}

fn no_callback(order_id: &str, why: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::CONFLICT,
        format!("no callback for {order_id:?}: {why}"),
    )
}
