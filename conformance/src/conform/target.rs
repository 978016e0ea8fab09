//! What the checks talk to: the client, a raw HTTP client for bodies that
//! bypass the client, the control API and the callback receiver.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use paygate::gateway::client::{sign_body, GatewayClient};
use paygate::gateway::rules::{Direction, ProviderTable};
use paygate::gateway::{PaymentB2cRequest, PaymentC2bRequest, Status};
use paygate::signing::SigningKey;
use serde_json::{json, Map, Value};

use super::cases::PaymentSpec;
use super::hub2::context::Hub2Ctx;
use super::receiver::CallbackReceiver;
use crate::simulator::AdminToken;

/// How long the checks wait for things.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Deadline for a payment to reach a final status.
    pub final_status: Duration,
    /// Deadline for an expected callback.
    pub callback: Duration,
    /// How long to watch for a callback that must not come.
    pub no_callback: Duration,
}

/// Everything a check needs.
pub struct Ctx {
    /// Base URL of the gateway (no trailing slash).
    pub base_url: String,
    /// The merchant's public id.
    pub public_id: String,
    /// The merchant id.
    pub merchant_id: String,
    /// The merchant's signing key.
    pub key: SigningKey,
    /// The typed client under test.
    pub client: GatewayClient,
    /// A plain HTTP client for raw requests.
    pub http: reqwest::Client,
    /// The provider table the cases were derived from.
    pub table: &'static ProviderTable,
    /// The callback receiver, if the target can reach it.
    pub receiver: Option<CallbackReceiver>,
    /// Whether the target has the simulator's control API.
    pub control_api: bool,
    /// The simulator's admin token, sent with every control request.
    pub admin_token: Option<AdminToken>,
    /// Waits.
    pub timing: Timing,
    /// The HUB2 target, if there is one.
    pub hub2: Option<Hub2Ctx>,
    /// A second public id of the same merchant whose answers and callbacks
    /// the fault-profile cases disrupt (the embedded simulator has one), so
    /// the other cases never see a fault.
    pub fault_public_id: Option<String>,
    run_tag: String,
    seq: AtomicU64,
}

/// A raw HTTP answer.
#[derive(Clone, Debug)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Bytes,
}

impl RawAnswer {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `result.code`, if present.
    pub fn code(&self) -> Option<i64> {
        self.json()?.get("result")?.get("code")?.as_i64()
    }

    /// `result.message`, or empty.
    pub fn message(&self) -> String {
        self.json()
            .and_then(|v| v.get("result")?.get("message")?.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(300).collect();
        format!("HTTP {} {}", self.status, text)
    }
}

impl Ctx {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        base_url: String,
        public_id: String,
        merchant_id: String,
        key: SigningKey,
        client: GatewayClient,
        table: &'static ProviderTable,
        receiver: Option<CallbackReceiver>,
        control_api: bool,
        timing: Timing,
    ) -> Result<Ctx, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Ok(Ctx {
            base_url: base_url.trim_end_matches('/').to_owned(),
            public_id,
            merchant_id,
            key,
            client,
            http,
            table,
            receiver,
            control_api,
            admin_token: None,
            timing,
            hub2: None,
            fault_public_id: None,
            run_tag: format!("conf-{millis:x}"),
            seq: AtomicU64::new(0),
        })
    }

    /// A fresh order id, unique across runs.
    pub fn order_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:05}", self.run_tag)
    }

    /// The callback URL to send, if there is a receiver.
    pub fn callback_url(&self) -> Option<String> {
        self.receiver.as_ref().map(CallbackReceiver::url)
    }

    /// `{base}/{public_id}/{operation}`.
    pub fn url(&self, operation: &str) -> String {
        self.url_for(&self.public_id, operation)
    }

    /// `{base}/{public_id}/{operation}` for another public id.
    pub fn url_for(&self, public_id: &str, operation: &str) -> String {
        format!("{}/{public_id}/{operation}", self.base_url)
    }

    /// The typed request body (unsigned) as JSON, fields in spec order.
    pub fn payment_json(&self, payment: &PaymentSpec, order_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("merchant_id".into(), json!(self.merchant_id));
        body.insert("customer_id".into(), json!(payment.customer_id));
        body.insert("order_id".into(), json!(order_id));
        body.insert("amount".into(), json!(payment.amount.to_string()));
        body.insert("currency".into(), json!(payment.currency));
        if let Some(country) = payment.country {
            body.insert("country".into(), json!(country));
        }
        if let Some(url) = self.callback_url() {
            body.insert("callback_url".into(), json!(url));
        }
        body.insert("provider_id".into(), json!(payment.provider_id));
        if !payment.extras.is_empty() {
            let extra: Map<String, Value> = payment
                .extras
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            body.insert("extra".into(), Value::Object(extra));
        }
        body.insert("signature".into(), json!(""));
        Value::Object(body)
    }

    /// The typed C2B request.
    pub fn c2b(&self, payment: &PaymentSpec, order_id: &str) -> Result<PaymentC2bRequest, String> {
        serde_json::from_value(self.payment_json(payment, order_id))
            .map_err(|e| format!("cannot build a PaymentC2bRequest: {e}"))
    }

    /// The typed B2C request.
    pub fn b2c(&self, payment: &PaymentSpec, order_id: &str) -> Result<PaymentB2cRequest, String> {
        serde_json::from_value(self.payment_json(payment, order_id))
            .map_err(|e| format!("cannot build a PaymentB2cRequest: {e}"))
    }

    /// The payment signed with `key` as `merchant_id`, serialized as the
    /// client would send it (typed struct, `sign_body`, `serde_json`).
    pub fn signed_body_with(
        &self,
        payment: &PaymentSpec,
        order_id: &str,
        key: &SigningKey,
        merchant_id: &str,
    ) -> Result<Vec<u8>, String> {
        let bytes = match payment.direction {
            Direction::C2b => {
                let mut request = self.c2b(payment, order_id)?;
                sign_body(key, merchant_id, &mut request).map_err(|e| e.to_string())?;
                serde_json::to_vec(&request)
            }
            Direction::B2c => {
                let mut request = self.b2c(payment, order_id)?;
                sign_body(key, merchant_id, &mut request).map_err(|e| e.to_string())?;
                serde_json::to_vec(&request)
            }
        };
        bytes.map_err(|e| format!("cannot serialize the request: {e}"))
    }

    /// The payment signed with the merchant's key.
    pub fn signed_body(&self, payment: &PaymentSpec, order_id: &str) -> Result<Vec<u8>, String> {
        self.signed_body_with(payment, order_id, &self.key, &self.merchant_id)
    }

    /// POSTs raw bytes.
    pub async fn post_raw(&self, url: &str, body: Vec<u8>) -> Result<RawAnswer, String> {
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("POST {url}: reading the body: {e}"))?;
        Ok(RawAnswer { status, body })
    }

    /// GETs a URL.
    pub async fn get_raw(&self, url: &str) -> Result<RawAnswer, String> {
        self.send_raw(self.http.get(url), "GET", url).await
    }

    /// A control request: with the admin token, if there is one.
    fn control(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.admin_token {
            Some(token) => request.header(reqwest::header::AUTHORIZATION, token.bearer_header()),
            None => request,
        }
    }

    async fn send_raw(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        url: &str,
    ) -> Result<RawAnswer, String> {
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
        Ok(RawAnswer { status, body })
    }

    /// The simulator's stored transaction, or `None` if it has none (404).
    pub async fn sim_transaction(&self, order_id: &str) -> Result<Option<Value>, String> {
        self.sim_transaction_of(&self.public_id, order_id).await
    }

    /// [`Ctx::sim_transaction`] under another public id.
    pub async fn sim_transaction_of(
        &self,
        public_id: &str,
        order_id: &str,
    ) -> Result<Option<Value>, String> {
        let url = format!("{}/_sim/transactions/{public_id}/{order_id}", self.base_url);
        let answer = self
            .send_raw(self.control(self.http.get(&url)), "GET", &url)
            .await?;
        match answer.status {
            404 => Ok(None),
            200 => answer
                .json()
                .map(Some)
                .ok_or_else(|| format!("GET {url}: not JSON")),
            _ => Err(format!("GET {url}: {}", answer.describe())),
        }
    }

    /// Forces the outcome of a simulated transaction.
    pub async fn sim_force_outcome(&self, order_id: &str, status: Status) -> Result<(), String> {
        let url = format!(
            "{}/_sim/transactions/{}/{order_id}/outcome",
            self.base_url, self.public_id
        );
        let body =
            serde_json::to_vec(&json!({ "status": status.code() })).map_err(|e| e.to_string())?;
        let request = self
            .control(self.http.post(&url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let answer = self.send_raw(request, "POST", &url).await?;
        if (200..300).contains(&answer.status) {
            Ok(())
        } else {
            Err(format!("POST {url}: {}", answer.describe()))
        }
    }

    /// The simulator's view of `public_id`'s fault profile (profile and
    /// faults injected so far).
    pub async fn sim_fault_view(&self, public_id: &str) -> Result<Value, String> {
        let url = format!("{}/_sim/merchants/{public_id}/faults", self.base_url);
        let request = self.control(self.http.get(&url));
        let answer = self.send_raw(request, "GET", &url).await?;
        match (answer.status, answer.json()) {
            (200, Some(view)) => Ok(view),
            _ => Err(format!("{url}: {}", answer.describe())),
        }
    }

    /// `PUT` (or with `None`, `DELETE`) the merchant's fault profile; its
    /// view (profile and faults injected so far).
    pub async fn sim_faults(
        &self,
        public_id: &str,
        profile: Option<&Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/_sim/merchants/{public_id}/faults", self.base_url);
        let request = match profile {
            Some(profile) => self
                .control(self.http.put(&url))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(profile.to_string()),
            None => self.control(self.http.delete(&url)),
        };
        let answer = self.send_raw(request, "PUT", &url).await?;
        match (answer.status, answer.json()) {
            (200, Some(view)) => Ok(view),
            _ => Err(format!("{url}: {}", answer.describe())),
        }
    }
}
