//! The gateway methods: `POST /{public_id}/{method}`.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use paygate::gateway::{
    Bank, BanksRequest, BanksResponse, DepositRequest, OperationResult, PaymentB2cRequest,
    PaymentC2bRequest, StatusRequest, WithdrawalRequest,
};
use paygate::money::Amount;
use paygate::rules::{Direction, Flow};
use paygate::signing::{canonical_string, verify_json, VerifyError};
use paygate::validate::{check_order_id, check_payment, PaymentDraft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::codes;
use super::lifecycle;
use super::outcome::{self, Outcome, WRONG_OTP};
use super::state::{
    Awaiting, BankDetails, OperationKind, StatusChange, Store, StoredReply, Transaction,
};
use super::wire;
use super::{MerchantEntry, SimulatorState};

/// The names of the fields of a value that are present and not empty.
fn present_fields<T: Serialize>(value: &T) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// A C2B or B2C request, reduced to what the simulator needs.
pub(crate) struct PaymentIn {
    merchant_id: String,
    customer_id: String,
    order_id: String,
    amount: Amount,
    currency: String,
    country: Option<String>,
    callback_url: Option<String>,
    provider_id: i64,
    otp: Option<String>,
    extras: Vec<String>,
    signature: String,
    /// The canonical string without `extra.otp` (identifies a request and
    /// its confirmation as "the same payment").
    canonical: Vec<u8>,
}

/// Builds a [`PaymentIn`] from a `PaymentC2bRequest` or `PaymentB2cRequest`.
macro_rules! payment_in {
    ($request:expr) => {{
        let request = $request;
        let extras = request
            .extra
            .as_ref()
            .map(present_fields)
            .unwrap_or_default();
        let otp = request.extra.as_ref().and_then(|e| e.otp.clone());
        let mut stripped = request.clone();
        if let Some(extra) = stripped.extra.as_mut() {
            extra.otp = None;
        }
        if stripped
            .extra
            .as_ref()
            .is_some_and(|e| present_fields(e).is_empty())
        {
            stripped.extra = None;
        }
        let canonical = canonical_string(&stripped)
            .map_err(|e| ApiError::bad_request(format!("request: {e}")))?;
        PaymentIn {
            currency: request.currency.as_str().to_owned(),
            country: request.country.as_ref().map(|c| c.as_str().to_owned()),
            merchant_id: request.merchant_id,
            customer_id: request.customer_id,
            order_id: request.order_id,
            amount: request.amount,
            callback_url: request.callback_url,
            provider_id: request.provider_id,
            otp,
            extras,
            signature: request.signature,
            canonical,
        }
    }};
}

/// A refusal: HTTP status, `result.code` and message.
#[derive(Debug)]
pub(crate) struct ApiError {
    http: StatusCode,
    code: i64,
    message: String,
}

impl ApiError {
    pub(crate) fn new(http: StatusCode, code: i64, message: impl Into<String>) -> Self {
        ApiError {
            http,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
    }

    fn authentication(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::AUTHENTICATION,
            format!("{}: {detail}", codes::AUTHENTICATION_PREFIX),
        )
    }

    fn rules(messages: Vec<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::RULE_VIOLATION,
            messages.join("; "),
        )
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    /// The database refused a write: nothing was accepted.
    pub(crate) fn storage(err: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            format!("the simulator could not save the request: {err}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.http.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "simulator error");
        } else {
            tracing::info!(http = self.http.as_u16(), code = self.code, message = %self.message, "request refused");
        }
        json_response(self.http, wire::error_body(self.code, &self.message))
    }
}

/// A JSON answer with exactly these bytes.
pub(crate) fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Any path that is not a route.
pub(crate) async fn not_found() -> Response {
    ApiError::not_found("no such endpoint; gateway methods are POST /{public_id}/{method}")
        .into_response()
}

/// A route called with the wrong HTTP method.
pub(crate) async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
    .into_response()
}

/// Entry point of every gateway method.
pub(crate) async fn handle(
    State(state): State<SimulatorState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Path((public_id, method))) = path else {
        return ApiError::not_found("the path is not /{public_id}/{method}").into_response();
    };
    match dispatch(&state, &public_id, &method, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

const METHODS: [&str; 6] = [
    "payment_c2b",
    "payment_b2c",
    "status",
    "deposit",
    "withdrawal",
    "banks",
];

async fn dispatch(
    state: &SimulatorState,
    public_id: &str,
    method: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !METHODS.contains(&method) {
        return Err(ApiError::not_found(format!(
            "unknown method {method:?}; the simulator serves {}",
            METHODS.join(", ")
        )));
    }
    check_content_type(headers)?;
    let bytes = read_body(headers, body, state.config().max_body_bytes).await?;
    let merchant = state
        .0
        .merchants
        .get(public_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown public_id {public_id:?}")))?;
    authenticate(merchant, &bytes)?;
    tracing::debug!(public_id, method, "authenticated request");
    match method {
        "payment_c2b" => {
            let request: PaymentC2bRequest = decode(&bytes)?;
            let payment = payment_in!(request);
            payment_op(state, merchant, OperationKind::PaymentC2b, payment)
        }
        "payment_b2c" => {
            let request: PaymentB2cRequest = decode(&bytes)?;
            let payment = payment_in!(request);
            payment_op(state, merchant, OperationKind::PaymentB2c, payment)
        }
        "status" => {
            let request: StatusRequest = decode(&bytes)?;
            status_op(state, public_id, &request)
        }
        "deposit" => {
            let request: DepositRequest = decode(&bytes)?;
            let pos = PosIn {
                customer_id: request.customer_id,
                order_id: request.order_id,
                amount: request.amount,
                provider_id: 0,
                destination_id: request.destination_id.unwrap_or_default(),
                callback_url: merchant.merchant.callback_url.clone(),
                signature: request.signature,
                merchant_id: request.merchant_id,
            };
            pos_op(state, merchant, OperationKind::Deposit, pos)
        }
        "withdrawal" => {
            let request: WithdrawalRequest = decode(&bytes)?;
            let pos = PosIn {
                customer_id: request.customer_id,
                order_id: request.order_id,
                amount: request.amount,
                provider_id: request.provider_id.unwrap_or(0),
                destination_id: String::new(),
                callback_url: request
                    .callback_url
                    .or_else(|| merchant.merchant.callback_url.clone()),
                signature: request.signature,
                merchant_id: request.merchant_id,
            };
            pos_op(state, merchant, OperationKind::Withdrawal, pos)
        }
        _ => {
            let request: BanksRequest = decode(&bytes)?;
            banks_op(state, &request)
        }
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/json, not {value:?}"),
        ))
    }
}

async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max).await.map_err(|err| {
        let err = err.into_inner();
        if err.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            // The client stopped sending (a cut connection, a short
            // Content-Length, a broken chunk): not a size problem.
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                format!("the body could not be read to its end: {err}"),
            )
        }
    })
}

#[derive(Deserialize)]
struct MerchantProbe {
    #[serde(default)]
    merchant_id: Option<Loose>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Text(String),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

/// Verifies the signature over the raw bytes, then the merchant id.
fn authenticate(merchant: &MerchantEntry, bytes: &[u8]) -> Result<(), ApiError> {
    match verify_json(&merchant.key, bytes) {
        Ok(()) => {}
        Err(VerifyError::Json(err)) => {
            return Err(ApiError::bad_request(format!("malformed body: {err}")))
        }
        Err(err) => return Err(ApiError::authentication(err)),
    }
    if let Ok(MerchantProbe {
        merchant_id: Some(Loose::Text(id)),
    }) = serde_json::from_slice(bytes)
    {
        if id != merchant.merchant.merchant_id {
            return Err(ApiError::authentication(format!(
                "merchant_id {id:?} is unknown for this public_id"
            )));
        }
    }
    Ok(())
}

/// Decodes the typed request; errors name the JSON path.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(format!("request: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

fn is_four_digits(otp: &str) -> bool {
    otp.len() == 4 && otp.bytes().all(|b| b.is_ascii_digit())
}

/// Provider rules plus the flow's own checks; returns the flow.
fn check_rules(
    state: &SimulatorState,
    direction: Direction,
    p: &PaymentIn,
) -> Result<Flow, ApiError> {
    let table = &state.config().providers;
    let extras: Vec<&str> = p.extras.iter().map(String::as_str).collect();
    let draft = PaymentDraft {
        direction,
        provider_id: p.provider_id,
        country: p.country.as_deref(),
        currency: &p.currency,
        amount: p.amount,
        customer_id: &p.customer_id,
        order_id: &p.order_id,
        extras: &extras,
    };
    let mut violations = match check_payment(table, &draft) {
        Ok(()) => Vec::new(),
        Err(found) => found.0,
    };
    let provider = u32::try_from(p.provider_id)
        .ok()
        .and_then(|id| table.provider(id));
    let flow = provider
        .and_then(|provider| provider.direction(direction))
        .map_or(Flow::Standard, |rule| rule.flow);
    if direction == Direction::B2c && flow == Flow::Otp {
        // A B2C OTP payout is confirmed by a second request carrying the OTP.
        violations.retain(|v| v.field != "extra.otp");
    }
    let mut messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
    if flow == Flow::Otp {
        if let Some(otp) = &p.otp {
            if !is_four_digits(otp) {
                messages.push(format!(
                    "extra.otp: {otp:?} is not a 4-digit one-time password [otp_format]"
                ));
            }
        }
    }
    if messages.is_empty() {
        Ok(flow)
    } else {
        Err(ApiError::rules(messages))
    }
}

fn otp_outcome(otp: Option<&str>, customer_id: &str) -> Outcome {
    if otp == Some(WRONG_OTP) {
        Outcome::invalid_otp()
    } else {
        outcome::for_customer(customer_id)
    }
}

/// The provider id of the Simulator provider.
const SIMULATOR_PROVIDER: i64 = 14;

fn payment_op(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    op: OperationKind,
    p: PaymentIn,
) -> Result<Response, ApiError> {
    let direction = if op == OperationKind::PaymentC2b {
        Direction::C2b
    } else {
        Direction::B2c
    };
    let flow = check_rules(state, direction, &p)?;
    let public_id = merchant.merchant.public_id.as_str();
    let signature = p.signature.to_ascii_lowercase();
    let mut store = state.store();
    if let Some(tx) = store.get_mut(public_id, &p.order_id) {
        if let Some(reply) = tx
            .replies
            .iter()
            .find(|r| r.operation == op && r.signature == signature)
        {
            tracing::info!(public_id, order_id = %p.order_id, "idempotent replay");
            return Ok(json_response(StatusCode::OK, reply.body.clone()));
        }
        let confirms = op == OperationKind::PaymentB2c
            && tx.operation == op
            && p.otp.is_some()
            && matches!(&tx.awaiting, Awaiting::Confirmation { canonical } if *canonical == p.canonical);
        if !confirms {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::CONFLICT,
                format!(
                    "order_id already used with a different request (order_id {:?})",
                    p.order_id
                ),
            ));
        }
        let before = tx.clone();
        tx.awaiting = Awaiting::Nothing;
        tx.confirm_type = 0;
        tx.customer_message = None;
        tx.planned = Some(otp_outcome(p.otp.as_deref(), &p.customer_id));
        tx.set_status(1, "confirmed with extra.otp");
        let body = wire::to_body(&wire::payment_response(tx));
        tx.replies.push(StoredReply {
            operation: op,
            signature,
            body: body.clone(),
        });
        let serial = tx.serial;
        let snapshot = tx.clone();
        if let Err(err) = store.persist(&snapshot) {
            if let Some(tx) = store.get_mut(public_id, &p.order_id) {
                *tx = before;
            }
            return Err(ApiError::storage(err));
        }
        drop(store);
        tracing::info!(public_id, order_id = %p.order_id, "b2c payout confirmed");
        lifecycle::schedule(state, public_id, &p.order_id, serial);
        return Ok(json_response(StatusCode::OK, body));
    }

    let (serial, transaction_id) = store.next_ids();
    let simulator = p.provider_id == SIMULATOR_PROVIDER;
    let now = super::state::now_timestamp();
    let mut tx = Transaction {
        serial,
        public_id: public_id.to_owned(),
        order_id: p.order_id.clone(),
        operation: op,
        merchant_id: p.merchant_id,
        customer_id: p.customer_id.clone(),
        amount: p.amount,
        provider_id: p.provider_id,
        destination_id: String::new(),
        callback_url: p
            .callback_url
            .or_else(|| merchant.merchant.callback_url.clone()),
        sends_callback: !simulator,
        transaction_id,
        transaction_ref: String::new(),
        status: 0,
        provider_code: 0,
        provider_message: "OK".into(),
        confirm_type: 0,
        history: vec![StatusChange {
            status: 0,
            at: now,
            note: format!("{} accepted", op.as_str()),
        }],
        planned: None,
        awaiting: Awaiting::Nothing,
        redirect_url: None,
        customer_message: None,
        bank_details: None,
        replies: Vec::new(),
    };
    let mut run_timer = false;
    if simulator {
        tx.provider_code = -8888;
        tx.provider_message = "Good".into();
        tx.set_status(1, "provider 14 (Simulator): stays in progress, no callback");
    } else if direction == Direction::B2c && flow == Flow::Otp && p.otp.is_none() {
        tx.confirm_type = 1;
        tx.awaiting = Awaiting::Confirmation {
            canonical: p.canonical,
        };
        tx.customer_message =
            Some("Send the same payment_b2c again with extra.otp to confirm the payout".into());
    } else {
        tx.planned = Some(otp_outcome(p.otp.as_deref(), &p.customer_id));
        match flow {
            Flow::Redirect => {
                tx.awaiting = Awaiting::Redirect;
                tx.redirect_url = Some(format!(
                    "{}/_sim/redirect/{}/{}",
                    state.base_url(),
                    public_id,
                    p.order_id
                ));
            }
            Flow::BankTransfer => {
                tx.bank_details = Some(BankDetails {
                    account_name: "Paygate Simulator Ltd".into(),
                    account_number: format!("40{:08}", serial % 100_000_000),
                    bank_name: "Premium Trust Bank".into(),
                });
                run_timer = true;
            }
            _ => run_timer = true,
        }
        tx.set_status(1, "in progress");
    }
    let (order_id, body) = commit_accepted(&mut store, tx, op, signature)?;
    drop(store);
    tracing::info!(public_id, order_id = %order_id, operation = op.as_str(), provider_id = p.provider_id, "operation accepted");
    if run_timer {
        lifecycle::schedule(state, public_id, &order_id, serial);
    }
    Ok(json_response(StatusCode::OK, body))
}

/// Records the answer to an accepted operation as its idempotency record
/// and stores the transaction; with a database, the transaction, the record
/// and the answer are committed here, before the answer is sent. Returns
/// the order id and the answer's bytes.
fn commit_accepted(
    store: &mut Store,
    mut tx: Transaction,
    operation: OperationKind,
    signature: String,
) -> Result<(String, Bytes), ApiError> {
    let body = wire::to_body(&wire::payment_response(&tx));
    tx.replies.push(StoredReply {
        operation,
        signature,
        body: body.clone(),
    });
    let order_id = tx.order_id.clone();
    store.insert(tx).map_err(ApiError::storage)?;
    Ok((order_id, body))
}

/// A POS deposit or withdrawal, reduced to what the simulator needs.
struct PosIn {
    merchant_id: String,
    customer_id: String,
    order_id: String,
    amount: Amount,
    provider_id: i64,
    destination_id: String,
    callback_url: Option<String>,
    signature: String,
}

fn pos_op(
    state: &SimulatorState,
    merchant: &MerchantEntry,
    op: OperationKind,
    p: PosIn,
) -> Result<Response, ApiError> {
    check_order_id(&p.order_id).map_err(|v| ApiError::rules(vec![v.to_string()]))?;
    let public_id = merchant.merchant.public_id.as_str();
    let signature = p.signature.to_ascii_lowercase();
    let mut store = state.store();
    if let Some(tx) = store.get(public_id, &p.order_id) {
        if let Some(reply) = tx
            .replies
            .iter()
            .find(|r| r.operation == op && r.signature == signature)
        {
            return Ok(json_response(StatusCode::OK, reply.body.clone()));
        }
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            format!(
                "order_id already used with a different request (order_id {:?})",
                p.order_id
            ),
        ));
    }
    let (serial, transaction_id) = store.next_ids();
    let mut tx = Transaction {
        serial,
        public_id: public_id.to_owned(),
        order_id: p.order_id.clone(),
        operation: op,
        merchant_id: p.merchant_id,
        customer_id: p.customer_id.clone(),
        amount: p.amount,
        provider_id: p.provider_id,
        destination_id: p.destination_id,
        callback_url: p.callback_url,
        sends_callback: true,
        transaction_id,
        transaction_ref: String::new(),
        status: 0,
        provider_code: 0,
        provider_message: "OK".into(),
        confirm_type: 0,
        history: vec![StatusChange {
            status: 0,
            at: super::state::now_timestamp(),
            note: format!("{} accepted", op.as_str()),
        }],
        planned: Some(outcome::for_customer(&p.customer_id)),
        awaiting: Awaiting::Nothing,
        redirect_url: None,
        customer_message: None,
        bank_details: None,
        replies: Vec::new(),
    };
    if op == OperationKind::Withdrawal {
        tx.set_status(7, "cash held at the POS, in transit");
    } else {
        tx.set_status(1, "in progress");
    }
    let (order_id, body) = commit_accepted(&mut store, tx, op, signature)?;
    drop(store);
    tracing::info!(public_id, order_id = %order_id, operation = op.as_str(), "POS operation accepted");
    lifecycle::schedule(state, public_id, &order_id, serial);
    Ok(json_response(StatusCode::OK, body))
}

fn status_op(
    state: &SimulatorState,
    public_id: &str,
    request: &StatusRequest,
) -> Result<Response, ApiError> {
    let store = state.store();
    let tx = store.get(public_id, &request.order_id).ok_or_else(|| {
        ApiError::not_found(format!("order_id {:?} is unknown", request.order_id))
    })?;
    let body = wire::to_body(&wire::payment_response(tx));
    Ok(json_response(StatusCode::OK, body))
}

fn banks_op(state: &SimulatorState, request: &BanksRequest) -> Result<Response, ApiError> {
    let known = u32::try_from(request.provider_id)
        .ok()
        .and_then(|id| state.config().providers.provider(id))
        .is_some();
    if !known {
        return Err(ApiError::rules(vec![format!(
            "provider_id: {} is not a provider of this gateway [unknown_provider]",
            request.provider_id
        )]));
    }
    let bank = |code: &str, name: &str| Bank {
        code: code.into(),
        name: name.into(),
    };
    let response = BanksResponse {
        banks: vec![
            bank("000001", "Premium Trust Bank"),
            bank("000002", "Simulator Savings Bank"),
            bank("000003", "Loopback Commercial Bank"),
        ],
        result: OperationResult {
            code: codes::OK,
            message: "OK".into(),
        },
    };
    Ok(json_response(StatusCode::OK, wire::to_body(&response)))
}
