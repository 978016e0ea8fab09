//! The HUB2 API handlers.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use paygate::hub2::models::{
    AccountBalance, AttemptPaymentRequest, AuthenticatePaymentRequest, Balance,
    CreateDelegatedPaymentRequest, CreatePaymentIntentRequest, CreateTransferRequest,
    CreateWebhookRequest, Currency, DestinationType, Mode, NextActionType, PaymentIntent,
    PaymentIntentStatus, PaymentIntentStatusResponse, PaymentMethod, PaymentStatus, Provider,
    Transfer, TransferStatus, TransferStatusResponse, Webhook, WebhookEventType,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::attempts::{schedule, start_payment, Attempt};
use super::config::{Hub2Environment, PERMISSION_DELEGATED_PAYMENT, PERMISSION_DELEGATED_TRANSFER};
use super::store::{IntentRecord, Plan, TransferRecord, WebhookRecord, CURRENCIES};
use super::webhooks::emit;
use super::{
    country_currency, iso_now, mac_bytes, Hub2ApiError, BANK_TRANSFER_COUNTRIES, DELEGATED_PAIRS,
    SUPPORTED_PAIRS,
};
use crate::simulator::SimulatorState;

type Answer = Result<Response, Hub2ApiError>;

/// The client IP, set by [`rate_limit`].
#[derive(Clone, Debug)]
pub(crate) struct ClientIp(pub(crate) String);

/// The global per-IP limit; also records the client IP for the handlers.
pub(crate) async fn rate_limit(
    State(state): State<SimulatorState>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let limit = state.config().hub2.rate_limit;
    let hit = state
        .hub2_store()
        .global
        .hit(&ip, limit.requests, limit.window);
    if let Err(retry_after) = hit {
        return Hub2ApiError::too_many(
            format!(
                "ThrottlerException: Too Many Requests (at most {} requests per {} ms per IP address)",
                limit.requests,
                limit.window.as_millis()
            ),
            retry_after,
        )
        .into_response();
    }
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Any path under `/hub2` that is not a route.
pub(crate) async fn not_found(uri: Uri) -> Response {
    Hub2ApiError::not_found(format!("Cannot find {} in the HUB2 API", uri.path())).into_response()
}

/// A route called with the wrong HTTP method.
pub(crate) async fn method_not_allowed(uri: Uri) -> Response {
    Hub2ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed on {}", uri.path()),
    )
    .into_response()
}

// ----- input -----------------------------------------------------------------

async fn read_json<T: DeserializeOwned>(
    state: &SimulatorState,
    body: Body,
) -> Result<T, Hub2ApiError> {
    let max = state.config().max_body_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        Hub2ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max} bytes"),
        )
    })?;
    if bytes.is_empty() {
        return Err(Hub2ApiError::bad_request("a JSON body is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            Hub2ApiError::bad_request(format!("malformed JSON body: {inner}"))
        } else {
            let field = path.split(['.', '[']).next().unwrap_or(&path).to_owned();
            Hub2ApiError::invalid(&field, format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| Hub2ApiError::bad_request(format!("malformed JSON body: {e}")))?;
    Ok(value)
}

/// Whether `value` is a valid merchant reference (`^[A-Za-z0-9_. -]+$`).
pub fn reference_is_valid(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b' ' | b'-'))
}

fn check_reference(field: &'static str, value: &str) -> Result<(), Hub2ApiError> {
    match paygate::hub2::client::validate_reference(field, value) {
        Ok(()) if reference_is_valid(value) => Ok(()),
        Err(paygate::hub2::Hub2Error::Invalid { message, .. }) => {
            Err(Hub2ApiError::invalid(field, format!("{field} {message}")))
        }
        _ => Err(Hub2ApiError::invalid(
            field,
            format!("{field} must match /^[A-Za-z0-9_. -]+$/: {value:?}"),
        )),
    }
}

fn check_amount(amount: i64) -> Result<(), Hub2ApiError> {
    if amount <= 0 {
        return Err(Hub2ApiError::invalid(
            "amount",
            format!("amount must be a positive integer, not {amount}"),
        ));
    }
    Ok(())
}

fn check_currency(currency: &Currency) -> Result<(), Hub2ApiError> {
    if matches!(currency, Currency::Unknown(_)) {
        return Err(Hub2ApiError::invalid(
            "currency",
            format!("currency {currency} is not supported (XOF, XAF, GNF, CDF)"),
        ));
    }
    Ok(())
}

fn check_msisdn(field: &str, msisdn: &str) -> Result<(), Hub2ApiError> {
    let digits = msisdn.strip_prefix('+').unwrap_or(msisdn);
    if digits.len() < 6 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Hub2ApiError::invalid(
            field,
            format!("{field} must be a phone number of 6 to 15 digits, not {msisdn:?}"),
        ));
    }
    Ok(())
}

fn is_otp(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the pair is served, and the country uses `currency`.
fn check_pair(
    country: &str,
    provider: &str,
    currency: &str,
    pairs: &[(&str, &str)],
) -> Result<(), Hub2ApiError> {
    if !pairs.iter().any(|(c, p)| *c == country && *p == provider) {
        return Err(Hub2ApiError::bad_request(format!(
            "provider {provider} is not available in country {country}"
        ))
        .with_code("provider-not-supported"));
    }
    check_country_currency(country, currency)
}

fn check_country_currency(country: &str, currency: &str) -> Result<(), Hub2ApiError> {
    match country_currency(country) {
        Some(c) if c == currency => Ok(()),
        Some(c) => Err(Hub2ApiError::invalid(
            "currency",
            format!("payments in {country} are in {c}, not {currency}"),
        )),
        None => Err(Hub2ApiError::invalid(
            "country",
            format!("country {country} is not supported"),
        )),
    }
}

// ----- authentication --------------------------------------------------------

/// A merchant request that passed the key checks.
pub(crate) struct Caller {
    pub(crate) merchant_id: String,
    pub(crate) env: Hub2Environment,
    permissions: Vec<String>,
}

impl Caller {
    fn require(&self, permission: &str) -> Result<(), Hub2ApiError> {
        if self.permissions.iter().any(|p| p == permission || p == "*") {
            Ok(())
        } else {
            Err(Hub2ApiError::forbidden(format!(
                "Missing permission {permission}: this API key cannot use /delegated/ endpoints"
            )))
        }
    }

    fn mode(&self) -> Mode {
        self.env.mode()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub(crate) fn authenticate(
    state: &SimulatorState,
    headers: &HeaderMap,
) -> Result<Caller, Hub2ApiError> {
    let Some(key) = header(headers, "ApiKey") else {
        return Err(Hub2ApiError::unauthorized("Missing ApiKey header"));
    };
    let found = state.config().hub2.merchants.iter().find_map(|m| {
        m.api_keys
            .iter()
            .find(|k| constant_time_eq(k.key.as_bytes(), key.as_bytes()))
            .map(|k| (m, k))
    });
    let Some((merchant, api_key)) = found else {
        return Err(Hub2ApiError::unauthorized("Invalid API key"));
    };
    match header(headers, "MerchantId") {
        None => return Err(Hub2ApiError::unauthorized("Missing MerchantId header")),
        Some(id) if id != merchant.merchant_id => {
            return Err(Hub2ApiError::unauthorized(
                "MerchantId does not match the API key",
            ))
        }
        Some(_) => {}
    }
    let env = match header(headers, "Environment") {
        None => {
            return Err(Hub2ApiError::invalid(
                "Environment",
                "Missing Environment header (sandbox or live)",
            ))
        }
        Some(text) => Hub2ApiError::ok_or_invalid(
            Hub2Environment::parse(text),
            "Environment",
            format!("Environment must be sandbox or live, not {text:?}"),
        )?,
    };
    if env != api_key.environment {
        return Err(Hub2ApiError::forbidden(format!(
            "This API key belongs to the {} environment; the Environment header says {}",
            api_key.environment.as_str(),
            env.as_str()
        )));
    }
    Ok(Caller {
        merchant_id: merchant.merchant_id.clone(),
        env,
        permissions: api_key.permissions.clone(),
    })
}

impl Hub2ApiError {
    fn ok_or_invalid<T>(value: Option<T>, field: &str, message: String) -> Result<T, Hub2ApiError> {
        value.ok_or_else(|| Hub2ApiError::invalid(field, message))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ----- tokens ------------------------------------------------------------------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A payment-intent token: an HS256 JWT keyed with the simulator's secret.
pub(crate) fn make_token(
    state: &SimulatorState,
    intent_id: &str,
    merchant_id: &str,
    env: Hub2Environment,
) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let payload = json!({
        "intentId": intent_id,
        "merchantId": merchant_id,
        "mode": env.as_str(),
        "iat": iat,
    });
    let payload = b64url(payload.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = mac_bytes(
        state.config().hub2.token_secret.as_bytes(),
        signing_input.as_bytes(),
    );
    format!("{signing_input}.{}", b64url(&signature))
}

/// Checks a token for intent `intent_id`: 401 if it is not a valid token,
/// 403 if it is one of another intent.
pub(crate) fn check_token(
    state: &SimulatorState,
    token: &str,
    intent_id: &str,
) -> Result<(), Hub2ApiError> {
    let invalid = || Hub2ApiError::unauthorized("Invalid payment intent token");
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let expected = mac_bytes(
        state.config().hub2.token_secret.as_bytes(),
        format!("{header}.{payload}").as_bytes(),
    );
    let given = b64url_decode(signature).ok_or_else(invalid)?;
    if !constant_time_eq(&expected, &given) {
        return Err(invalid());
    }
    let payload: serde_json::Value = b64url_decode(payload)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    let token_intent = payload
        .get("intentId")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(invalid)?;
    if token_intent != intent_id {
        return Err(Hub2ApiError::forbidden(
            "This token was issued for another payment intent",
        ));
    }
    Ok(())
}

// ----- payment intents ---------------------------------------------------------

fn created<T: serde::Serialize>(value: &T) -> Answer {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn ok<T: serde::Serialize>(value: &T) -> Answer {
    Ok((StatusCode::OK, Json(value)).into_response())
}

fn respond(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /payment-intents`.
pub(crate) async fn create_intent(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(create_intent_inner(&state, &headers, body).await)
}

async fn create_intent_inner(state: &SimulatorState, headers: &HeaderMap, body: Body) -> Answer {
    let caller = authenticate(state, headers)?;
    let request: CreatePaymentIntentRequest = read_json(state, body).await?;
    check_reference("customerReference", &request.customer_reference)?;
    check_reference("purchaseReference", &request.purchase_reference)?;
    check_amount(request.amount)?;
    check_currency(&request.currency)?;
    let intent = new_intent(
        state,
        &caller,
        request.customer_reference,
        request.purchase_reference,
        request.amount,
        request.currency,
    );
    insert_intent(state, &caller, intent.clone(), false);
    created(&intent)
}

fn new_intent(
    state: &SimulatorState,
    caller: &Caller,
    customer_reference: String,
    purchase_reference: String,
    amount: i64,
    currency: Currency,
) -> PaymentIntent {
    let id = state.hub2_id("pi_");
    let now = iso_now();
    PaymentIntent {
        token: make_token(state, &id, &caller.merchant_id, caller.env),
        id,
        created_at: now.clone(),
        updated_at: now,
        merchant_id: caller.merchant_id.clone(),
        purchase_reference,
        customer_reference,
        amount,
        currency,
        status: PaymentIntentStatus::PaymentRequired,
        payments: Vec::new(),
        mode: caller.mode(),
    }
}

fn insert_intent(state: &SimulatorState, caller: &Caller, intent: PaymentIntent, delegated: bool) {
    state.hub2_store().intents.insert(
        intent.id.clone(),
        IntentRecord {
            intent: intent.clone(),
            env: caller.env,
            delegated,
            plan: None,
        },
    );
    emit(
        state,
        &caller.merchant_id,
        caller.env,
        WebhookEventType::PaymentIntentCreated,
        super::webhooks::intent_data(&intent),
    );
}

/// Looks up an intent of the caller and applies the polling throttle.
fn read_intent(
    state: &SimulatorState,
    caller: &Caller,
    ip: &str,
    id: &str,
) -> Result<PaymentIntent, Hub2ApiError> {
    let limit = state.config().hub2.poll_limit;
    let mut store = state.hub2_store();
    let intent = store
        .intents
        .get(id)
        .filter(|r| r.intent.merchant_id == caller.merchant_id && r.env == caller.env)
        .map(|r| r.intent.clone())
        .ok_or_else(|| Hub2ApiError::not_found(format!("Payment intent {id} not found")))?;
    if !matches!(
        intent.status,
        PaymentIntentStatus::Processing | PaymentIntentStatus::ActionRequired
    ) {
        store
            .polls
            .hit(&format!("{ip}|{id}"), limit.requests, limit.window)
            .map_err(|retry| {
                Hub2ApiError::too_many(
                    format!(
                        "ThrottlerException: Too Many Requests (payment intent {id} is {}; poll only while it is processing or action_required, or use webhooks)",
                        intent.status
                    ),
                    retry,
                )
            })?;
    }
    Ok(intent)
}

/// `GET /payment-intents/{id}`.
pub(crate) async fn get_intent(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        ok(&read_intent(&state, &caller, &ip.0, &id)?)
    })())
}

/// `GET /payment-intents/{id}/status`.
pub(crate) async fn get_intent_status(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        let intent = read_intent(&state, &caller, &ip.0, &id)?;
        ok(&PaymentIntentStatusResponse {
            id: intent.id,
            status: intent.status,
        })
    })())
}

/// The plan for a mobile-money payment, from the msisdn and the OTP given
/// up front.
fn plan_for(msisdn: &str, otp: Option<&str>) -> Result<Plan, Hub2ApiError> {
    if let Some(otp) = otp {
        if !is_otp(otp) {
            return Err(Hub2ApiError::invalid(
                "mobileMoney.otp",
                format!("mobileMoney.otp must be 4 digits, not {otp:?}"),
            ));
        }
    }
    let suffix = &msisdn[msisdn.len().saturating_sub(2)..];
    let otp_plan = |otp: &str| {
        if otp == "0000" {
            Plan::Fail("invalid OTP".into())
        } else {
            Plan::Succeed
        }
    };
    Ok(match suffix {
        "01" => Plan::Fail("insufficient funds on the customer's wallet".into()),
        "03" => Plan::Stay,
        "11" => otp.map_or(Plan::Otp, otp_plan),
        "12" => Plan::Redirection,
        "13" => Plan::Ussd,
        _ => otp.map_or(Plan::Succeed, otp_plan),
    })
}

fn validate_attempt(attempt: &Attempt, currency: &str) -> Result<Plan, Hub2ApiError> {
    match &attempt.method {
        PaymentMethod::MobileMoney => {
            let provider = attempt.provider.as_ref().ok_or_else(|| {
                Hub2ApiError::invalid("provider", "provider is required for mobile_money")
            })?;
            let mm = attempt.mobile_money.as_ref().ok_or_else(|| {
                Hub2ApiError::invalid("mobileMoney", "mobileMoney is required for mobile_money")
            })?;
            check_msisdn("mobileMoney.msisdn", &mm.msisdn)?;
            check_pair(
                attempt.country.as_str(),
                provider.as_str(),
                currency,
                SUPPORTED_PAIRS,
            )?;
            plan_for(&mm.msisdn, mm.otp.as_deref())
        }
        PaymentMethod::BankTransfer => {
            let country = attempt.country.as_str();
            if !BANK_TRANSFER_COUNTRIES.contains(&country) {
                return Err(Hub2ApiError::invalid(
                    "country",
                    format!(
                        "bank_transfer is not available in {country} (only {})",
                        BANK_TRANSFER_COUNTRIES.join(", ")
                    ),
                ));
            }
            check_country_currency(country, currency)?;
            Ok(Plan::Stay)
        }
        other => Err(Hub2ApiError::invalid(
            "paymentMethod",
            format!("paymentMethod must be mobile_money or bank_transfer, not {other}"),
        )),
    }
}

/// `POST /payment-intents/{id}/payments` (token in the body, no key).
pub(crate) async fn attempt_payment(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    respond(
        async {
            let request: AttemptPaymentRequest = read_json(&state, body).await?;
            check_token(&state, &request.token, &id)?;
            let (currency, delegated, merchant_id, env) = {
                let store = state.hub2_store();
                let record = store.intents.get(&id).ok_or_else(|| {
                    Hub2ApiError::not_found(format!("Payment intent {id} not found"))
                })?;
                (
                    record.intent.currency.as_str().to_owned(),
                    record.delegated,
                    record.intent.merchant_id.clone(),
                    record.env,
                )
            };
            let attempt = Attempt {
                method: request.payment_method,
                country: request.country,
                provider: request.provider,
                mobile_money: request.mobile_money,
            };
            // A new attempt on a Processing Only intent stays in that mode.
            let plan = if delegated {
                processing_only_attempt(&state, (&merchant_id, env), &attempt, &currency)?
            } else {
                validate_attempt(&attempt, &currency)?
            };
            created(&start_payment(&state, &id, attempt, plan)?)
        }
        .await,
    )
}

/// `POST /payment-intents/{id}/authentication` (token in the body).
pub(crate) async fn authenticate_payment(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    respond(
        async {
            let request: AuthenticatePaymentRequest = read_json(&state, body).await?;
            check_token(&state, &request.token, &id)?;
            if !is_otp(&request.confirmation_code) {
                return Err(Hub2ApiError::invalid(
                    "confirmationCode",
                    format!(
                        "confirmationCode must be 4 digits, not {:?}",
                        request.confirmation_code
                    ),
                ));
            }
            let success = request.confirmation_code != "0000";
            let (intent, payment_id) = {
                let mut store = state.hub2_store();
                let record = store.intents.get_mut(&id).ok_or_else(|| {
                    Hub2ApiError::not_found(format!("Payment intent {id} not found"))
                })?;
                let waiting = record.intent.status == PaymentIntentStatus::ActionRequired
                    && record.intent.payments.last().is_some_and(|p| {
                        p.next_action
                            .as_ref()
                            .is_some_and(|a| a.r#type == NextActionType::Otp)
                    });
                if !waiting {
                    return Err(Hub2ApiError::conflict(format!(
                        "payment intent {id} is {} and waits for no OTP",
                        record.intent.status
                    )));
                }
                let now = iso_now();
                let mut payment_id = String::new();
                if let Some(payment) = record.intent.payments.last_mut() {
                    payment.status = PaymentStatus::Processing;
                    payment.next_action = None;
                    payment.updated_at = now.clone();
                    payment_id = payment.id.clone();
                }
                record.intent.status = PaymentIntentStatus::Processing;
                record.intent.updated_at = now;
                (record.intent.clone(), payment_id)
            };
            let plan = if success {
                Plan::Succeed
            } else {
                Plan::Fail("invalid OTP".into())
            };
            schedule(&state, &id, &payment_id, plan);
            created(&intent)
        }
        .await,
    )
}

// ----- transfers -----------------------------------------------------------------

fn credentials_registered(
    state: &SimulatorState,
    (merchant_id, env): (&str, Hub2Environment),
    provider: &str,
    country: &str,
    transaction_type: &str,
) -> Result<(), Hub2ApiError> {
    let registered = state.hub2_store().credentials.iter().any(|c| {
        c.merchant_id == merchant_id
            && c.environment == env
            && c.provider == provider
            && c.country == country
            && c.transaction_type == transaction_type
    });
    if registered {
        Ok(())
    } else {
        Err(Hub2ApiError::bad_request(format!(
            "No {transaction_type} credentials registered for provider {provider} in {country}: register them first (Management > Connectors credentials; in the simulator POST /hub2/_sim/provider-credentials)"
        ))
        .with_code("provider-credentials-missing"))
    }
}

async fn transfer_inner(
    state: &SimulatorState,
    headers: &HeaderMap,
    body: Body,
    delegated: bool,
) -> Answer {
    let caller = authenticate(state, headers)?;
    if delegated {
        caller.require(PERMISSION_DELEGATED_TRANSFER)?;
    }
    let request: CreateTransferRequest = read_json(state, body).await?;
    check_reference("reference", &request.reference)?;
    check_amount(request.amount)?;
    check_currency(&request.currency)?;
    let destination = &request.destination;
    if destination.r#type != DestinationType::MobileMoney {
        return Err(Hub2ApiError::invalid(
            "destination.type",
            format!(
                "destination.type must be mobile_money, not {}",
                destination.r#type
            ),
        ));
    }
    check_msisdn("destination.msisdn", &destination.msisdn)?;
    if destination.recipient_name.trim().is_empty() {
        return Err(Hub2ApiError::invalid(
            "destination.recipientName",
            "destination.recipientName must not be empty",
        ));
    }
    let country = destination.country.as_str();
    let provider = destination.provider.as_str();
    let currency = request.currency.as_str().to_owned();
    check_pair(
        country,
        provider,
        &currency,
        if delegated {
            DELEGATED_PAIRS
        } else {
            SUPPORTED_PAIRS
        },
    )?;
    if delegated {
        credentials_registered(
            state,
            (&caller.merchant_id, caller.env),
            provider,
            country,
            "transfer",
        )?;
    }
    let now = iso_now();
    let transfer = Transfer {
        id: state.hub2_id("tr_"),
        merchant_id: caller.merchant_id.clone(),
        created_at: now.clone(),
        updated_at: now,
        reference: request.reference,
        description: request.description,
        status: TransferStatus::Pending,
        amount: request.amount,
        currency: request.currency,
        destination: request.destination,
        mode: Some(caller.mode()),
    };
    let fails = transfer.destination.msisdn.ends_with("01");
    {
        let mut store = state.hub2_store();
        if !delegated {
            let accounts = store.accounts(&caller.merchant_id, caller.env, &currency);
            if accounts.transfer < transfer.amount {
                let available = accounts.transfer;
                return Err(Hub2ApiError::new(
                    StatusCode::PAYMENT_REQUIRED,
                    format!(
                        "The account does not have enough funds to transfer {} {currency} (available: {available} {currency}).",
                        transfer.amount
                    ),
                )
                .with_code("insufficient-funds"));
            }
            accounts.transfer -= transfer.amount;
        }
        store.transfers.insert(
            transfer.id.clone(),
            TransferRecord {
                transfer: transfer.clone(),
                env: caller.env,
                delegated,
                fails,
            },
        );
    }
    emit(
        state,
        &caller.merchant_id,
        caller.env,
        WebhookEventType::TransferCreated,
        super::webhooks::transfer_data(&transfer),
    );
    let task_state = state.clone();
    let id = transfer.id.clone();
    tokio::spawn(async move {
        if task_state.sleep(task_state.config().latency).await {
            let _ = finish_transfer(&task_state, &id, !fails);
        }
    });
    created(&transfer)
}

/// Ends a pending transfer; a failed one gives the amount back.
pub(crate) fn finish_transfer(
    state: &SimulatorState,
    id: &str,
    success: bool,
) -> Result<Transfer, Hub2ApiError> {
    let (transfer, env) = {
        let mut store = state.hub2_store();
        let record = store
            .transfers
            .get_mut(id)
            .ok_or_else(|| Hub2ApiError::not_found(format!("Transfer {id} not found")))?;
        if !matches!(
            record.transfer.status,
            TransferStatus::Created | TransferStatus::Pending
        ) {
            return Err(Hub2ApiError::conflict(format!(
                "transfer {id} is already {}",
                record.transfer.status
            )));
        }
        record.transfer.status = if success {
            TransferStatus::Successful
        } else {
            TransferStatus::Failed
        };
        record.transfer.updated_at = iso_now();
        let transfer = record.transfer.clone();
        let (env, delegated) = (record.env, record.delegated);
        if !success && !delegated {
            store
                .accounts(&transfer.merchant_id, env, transfer.currency.as_str())
                .transfer += transfer.amount;
        }
        (transfer, env)
    };
    emit(
        state,
        &transfer.merchant_id,
        env,
        if success {
            WebhookEventType::TransferSucceeded
        } else {
            WebhookEventType::TransferFailed
        },
        super::webhooks::transfer_data(&transfer),
    );
    Ok(transfer)
}

/// `POST /transfers`.
pub(crate) async fn create_transfer(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(transfer_inner(&state, &headers, body, false).await)
}

/// `POST /delegated/transfers`.
pub(crate) async fn delegated_transfer(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(transfer_inner(&state, &headers, body, true).await)
}

fn read_transfer(
    state: &SimulatorState,
    caller: &Caller,
    ip: &str,
    id: &str,
) -> Result<Transfer, Hub2ApiError> {
    let limit = state.config().hub2.poll_limit;
    let mut store = state.hub2_store();
    let transfer = store
        .transfers
        .get(id)
        .filter(|r| r.transfer.merchant_id == caller.merchant_id && r.env == caller.env)
        .map(|r| r.transfer.clone())
        .ok_or_else(|| Hub2ApiError::not_found(format!("Transfer {id} not found")))?;
    if !matches!(
        transfer.status,
        TransferStatus::Created | TransferStatus::Pending
    ) {
        store
            .polls
            .hit(&format!("{ip}|{id}"), limit.requests, limit.window)
            .map_err(|retry| {
                Hub2ApiError::too_many(
                    format!(
                        "ThrottlerException: Too Many Requests (transfer {id} is {}; poll only while it is created or pending, or use webhooks)",
                        transfer.status
                    ),
                    retry,
                )
            })?;
    }
    Ok(transfer)
}

/// `GET /transfers/{id}`.
pub(crate) async fn get_transfer(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        ok(&read_transfer(&state, &caller, &ip.0, &id)?)
    })())
}

/// `GET /transfers/{id}/status`.
pub(crate) async fn get_transfer_status(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        let transfer = read_transfer(&state, &caller, &ip.0, &id)?;
        ok(&TransferStatusResponse {
            id: transfer.id,
            status: transfer.status,
        })
    })())
}

/// `GET /balance[?currency=XOF][&date=...]`.
pub(crate) async fn get_balance(
    State(state): State<SimulatorState>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        let query = uri.query().unwrap_or("");
        let mut only: Option<String> = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "currency" => {
                    if !CURRENCIES.contains(&value) {
                        return Err(Hub2ApiError::invalid(
                            "currency",
                            format!(
                                "currency must be one of {}, not {value:?}",
                                CURRENCIES.join(", ")
                            ),
                        ));
                    }
                    only = Some(value.to_owned());
                }
                "date" => {
                    let ok = value.len() >= 10
                        && value.as_bytes()[4] == b'-'
                        && value.as_bytes()[7] == b'-';
                    if !ok {
                        return Err(Hub2ApiError::invalid(
                            "date",
                            format!("date must be an ISO 8601 date-time, not {value:?}"),
                        ));
                    }
                }
                _ => {}
            }
        }
        let now = iso_now();
        let mut store = state.hub2_store();
        let mut balance = Balance {
            collection_account: Vec::new(),
            transfer_account: Vec::new(),
        };
        for currency in CURRENCIES {
            if only.as_deref().is_some_and(|c| c != currency) {
                continue;
            }
            let reserved: i64 = store
                .transfers
                .values()
                .filter(|r| {
                    !r.delegated
                        && r.env == caller.env
                        && r.transfer.merchant_id == caller.merchant_id
                        && r.transfer.currency.as_str() == currency
                        && matches!(
                            r.transfer.status,
                            TransferStatus::Created | TransferStatus::Pending
                        )
                })
                .map(|r| r.transfer.amount)
                .sum();
            let accounts = *store.accounts(&caller.merchant_id, caller.env, currency);
            balance.collection_account.push(AccountBalance {
                amount: accounts.collection,
                available_balance: accounts.collection,
                reserved_balance: None,
                currency: Currency::from(currency),
                date: now.clone(),
            });
            balance.transfer_account.push(AccountBalance {
                amount: accounts.transfer + reserved,
                available_balance: accounts.transfer,
                reserved_balance: Some(reserved),
                currency: Currency::from(currency),
                date: now.clone(),
            });
        }
        ok(&balance)
    })())
}

/// Checks a Processing Only payment attempt (`/delegated/payments`, or a
/// new attempt on an intent it created): mobile money on a Processing Only
/// pair, with the merchant's provider credentials registered.
fn processing_only_attempt(
    state: &SimulatorState,
    owner: (&str, Hub2Environment),
    attempt: &Attempt,
    currency: &str,
) -> Result<Plan, Hub2ApiError> {
    if attempt.method != PaymentMethod::MobileMoney {
        return Err(Hub2ApiError::invalid(
            "paymentMethod",
            "Processing Only mode takes mobile_money payments only",
        ));
    }
    let provider = attempt.provider.as_ref().map_or("", Provider::as_str);
    check_pair(
        attempt.country.as_str(),
        provider,
        currency,
        DELEGATED_PAIRS,
    )?;
    let plan = validate_attempt(attempt, currency)?;
    credentials_registered(state, owner, provider, attempt.country.as_str(), "payment")?;
    Ok(plan)
}

/// `POST /delegated/payments`.
pub(crate) async fn delegated_payment(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = authenticate(&state, &headers)?;
            caller.require(PERMISSION_DELEGATED_PAYMENT)?;
            let request: CreateDelegatedPaymentRequest = read_json(&state, body).await?;
            check_reference("customerReference", &request.customer_reference)?;
            check_reference("purchaseReference", &request.purchase_reference)?;
            check_amount(request.amount)?;
            check_currency(&request.currency)?;
            let currency = request.currency.as_str().to_owned();
            let attempt = Attempt {
                method: request.payment_method,
                country: request.country,
                provider: Some(request.provider),
                mobile_money: request.mobile_money,
            };
            let plan = processing_only_attempt(
                &state,
                (&caller.merchant_id, caller.env),
                &attempt,
                &currency,
            )?;
            let intent = new_intent(
                &state,
                &caller,
                request.customer_reference,
                request.purchase_reference,
                request.amount,
                request.currency,
            );
            let id = intent.id.clone();
            insert_intent(&state, &caller, intent, true);
            created(&start_payment(&state, &id, attempt, plan)?)
        }
        .await,
    )
}

// ----- webhooks --------------------------------------------------------------------

/// `POST /webhooks`.
pub(crate) async fn create_webhook(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = authenticate(&state, &headers)?;
            let request: CreateWebhookRequest = read_json(&state, body).await?;
            if !(request.url.starts_with("http://") || request.url.starts_with("https://"))
                || request.url.len() < 10
            {
                return Err(Hub2ApiError::invalid(
                    "url",
                    format!("url must be an http(s) URL, not {:?}", request.url),
                ));
            }
            if request.events.is_empty() {
                return Err(Hub2ApiError::invalid("events", "events must not be empty"));
            }
            if let Some(unknown) = request
                .events
                .iter()
                .find(|e| matches!(e, WebhookEventType::Unknown(_)))
            {
                return Err(Hub2ApiError::invalid(
                    "events",
                    format!("unknown event type {unknown}"),
                ));
            }
            let secret = state
                .config()
                .hub2
                .merchants
                .iter()
                .find(|m| m.merchant_id == caller.merchant_id)
                .and_then(|m| m.webhook_secret.clone())
                .unwrap_or_else(|| state.hub2_secret());
            let now = iso_now();
            let webhook = Webhook {
                id: state.hub2_id("wh_"),
                url: request.url,
                events: request.events,
                description: request.description,
                secret: None,
                created_at: Some(now.clone()),
                updated_at: Some(now),
            };
            state.hub2_store().webhooks.insert(
                webhook.id.clone(),
                WebhookRecord {
                    webhook: webhook.clone(),
                    merchant_id: caller.merchant_id.clone(),
                    env: caller.env,
                    secret: secret.clone(),
                    previous: None,
                },
            );
            created(&Webhook {
                secret: Some(secret),
                ..webhook
            })
        }
        .await,
    )
}

/// `GET /webhooks`.
pub(crate) async fn list_webhooks(
    State(state): State<SimulatorState>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        let mut list: Vec<Webhook> = state
            .hub2_store()
            .webhooks
            .values()
            .filter(|w| w.merchant_id == caller.merchant_id && w.env == caller.env)
            .map(|w| w.webhook.clone())
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        ok(&list)
    })())
}

/// `DELETE /webhooks/{id}`.
pub(crate) async fn delete_webhook(
    State(state): State<SimulatorState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond((|| {
        let caller = authenticate(&state, &headers)?;
        let mut store = state.hub2_store();
        let owned = store
            .webhooks
            .get(&id)
            .is_some_and(|w| w.merchant_id == caller.merchant_id && w.env == caller.env);
        if !owned {
            return Err(Hub2ApiError::not_found(format!("Webhook {id} not found")));
        }
        store.webhooks.remove(&id);
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}
