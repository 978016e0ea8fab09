//! Merchant authentication: the [`Caller`] extractor checks the `ApiKey`,
//! `MerchantId` and `Environment` headers, and [`Permitted`] also the key's
//! permission for a `/delegated/` route. Both refuse with the HUB2 error
//! (401, 403) before the body is read.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use paygate::hub2::models::Mode;

use crate::simulator::hub2::config::{
    Hub2Config, Hub2Environment, PERMISSION_DELEGATED_PAYMENT, PERMISSION_DELEGATED_TRANSFER,
};
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::SimulatorState;

/// A merchant request that passed the key checks.
pub(super) struct Caller {
    /// The key's merchant.
    pub(super) merchant_id: String,
    /// The key's environment (the `Environment` header agrees).
    pub(super) env: Hub2Environment,
    permissions: Vec<String>,
}

impl Caller {
    /// The `mode` of the objects the caller creates.
    pub(super) fn mode(&self) -> Mode {
        self.env.mode()
    }

    /// Checks the headers against the configured merchants and keys.
    fn authenticate(config: &Hub2Config, headers: &HeaderMap) -> Result<Caller, Hub2ApiError> {
        let Some(key) = header(headers, "ApiKey") else {
            return Err(Hub2ApiError::unauthorized("Missing ApiKey header"));
        };
        let found = config.merchants.iter().find_map(|m| {
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
        // HUB2's seeds never mention the header and every key belongs to
        // one environment: without it, the key's environment applies (no
        // operation lists a 400 for it on GET or DELETE). A value that
        // names no environment is refused with the 403 every
        // authenticated operation lists.
        let env = match header(headers, "Environment") {
            None => api_key.environment,
            Some(text) => Hub2Environment::parse(text).ok_or_else(|| {
                Hub2ApiError::forbidden(format!(
                    "Environment must be sandbox or live, not {text:?}"
                ))
            })?,
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

    /// 403 unless the key has `permission` (or `*`).
    fn require(&self, permission: &str) -> Result<(), Hub2ApiError> {
        if self.permissions.iter().any(|p| p == permission || p == "*") {
            Ok(())
        } else {
            Err(Hub2ApiError::forbidden(format!(
                "Missing permission {permission}: this API key cannot use /delegated/ endpoints"
            )))
        }
    }
}

impl FromRequestParts<SimulatorState> for Caller {
    type Rejection = Hub2ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SimulatorState,
    ) -> Result<Self, Self::Rejection> {
        Caller::authenticate(&state.config().hub2, &parts.headers)
    }
}

/// A permission an API key may hold.
pub(super) trait Permission {
    /// Its name, e.g. [`PERMISSION_DELEGATED_PAYMENT`].
    const NAME: &'static str;
}

/// `Api.delegated_payment_create`: `POST /delegated/payments`.
pub(super) struct DelegatedPayment;

impl Permission for DelegatedPayment {
    const NAME: &'static str = PERMISSION_DELEGATED_PAYMENT;
}

/// `Api.delegated_transfer_create`: `POST /delegated/transfers`.
pub(super) struct DelegatedTransfer;

impl Permission for DelegatedTransfer {
    const NAME: &'static str = PERMISSION_DELEGATED_TRANSFER;
}

/// A [`Caller`] whose key holds the permission `P` (else 403 naming it).
pub(super) struct Permitted<P> {
    /// The caller.
    pub(super) caller: Caller,
    permission: PhantomData<P>,
}

impl<P: Permission> FromRequestParts<SimulatorState> for Permitted<P> {
    type Rejection = Hub2ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &SimulatorState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(P::NAME)?;
        Ok(Permitted {
            caller,
            permission: PhantomData,
        })
    }
}

/// A header's trimmed value, if present, text and not empty.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Compares secrets in a time that does not depend on where they differ.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
