//! Receiving the gateway's callbacks: verify the raw bytes, then decode.
//!
//! The signature is checked over the body exactly as received, in document
//! order, before anything is decoded; the comparison is constant time. A
//! callback whose `(order_id, status)` was already processed is reported as
//! a duplicate so that the merchant's code runs once per state change.

use std::collections::HashSet;
use std::sync::Mutex;

use serde::de::DeserializeOwned;

use crate::gateway::{PaymentCallback, PosCallback};
use crate::signing::{verify_json, SigningKey, VerifyError};

/// Why a callback was refused.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The body is not a validly signed JSON object.
    #[error("callback signature: {0}")]
    Signature(#[from] VerifyError),
    /// Signed correctly but not shaped as the spec says.
    #[error("callback does not match the spec at `{path}`: {message}")]
    Decode {
        /// Where the mismatch is.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Verifies a callback's signature over its raw bytes, then decodes it.
pub fn verify_callback<T: DeserializeOwned>(
    key: &SigningKey,
    body: &[u8],
) -> Result<T, CallbackError> {
    verify_json(key, body)?;
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| CallbackError::Decode {
        path: err.path().to_string(),
        message: err.into_inner().to_string(),
    })
}

/// What identifies a state change of a transaction.
pub trait CallbackIdentity {
    /// The order the callback is about.
    fn order_id(&self) -> &str;
    /// Its status code.
    fn status_code(&self) -> i64;
}

impl CallbackIdentity for PaymentCallback {
    fn order_id(&self) -> &str {
        &self.order_id
    }
    fn status_code(&self) -> i64 {
        self.status.code()
    }
}

impl CallbackIdentity for PosCallback {
    fn order_id(&self) -> &str {
        &self.order_id
    }
    fn status_code(&self) -> i64 {
        self.status.code()
    }
}

/// Whether a verified callback is new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// First delivery of this `(order_id, status)`.
    First,
    /// This `(order_id, status)` was seen before: a retry or a replay.
    Duplicate,
}

/// Remembers which `(order_id, status)` pairs were processed (in memory).
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<HashSet<(String, i64)>>,
}

impl ReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        ReplayGuard::default()
    }

    /// Records a callback; says whether it is the first of its kind.
    pub fn observe<T: CallbackIdentity>(&self, callback: &T) -> Delivery {
        let key = (callback.order_id().to_owned(), callback.status_code());
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        if seen.insert(key) {
            Delivery::First
        } else {
            Delivery::Duplicate
        }
    }

    /// Forgets a pair, so that a delivery whose processing failed can be
    /// processed again when the gateway retries it.
    pub fn forget<T: CallbackIdentity>(&self, callback: &T) {
        let key = (callback.order_id().to_owned(), callback.status_code());
        let mut seen = match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        seen.remove(&key);
    }
}

#[cfg(feature = "axum")]
pub mod axum_handler {
    //! A ready callback endpoint for axum servers.
    //!
    //! It answers HTTP 200 only once the signature is verified and the
    //! merchant's handler has accepted the callback; the gateway retries
    //! anything else. Duplicates are answered 200 without calling the
    //! handler again.

    use std::future::Future;
    use std::sync::Arc;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::Router;
    use serde::de::DeserializeOwned;

    use super::{verify_callback, CallbackError, CallbackIdentity, Delivery, ReplayGuard};
    use crate::signing::SigningKey;

    struct Endpoint<F> {
        key: SigningKey,
        guard: Arc<ReplayGuard>,
        handler: F,
    }

    /// A router with one `POST {path}` route that verifies callbacks of type
    /// `T` and hands first deliveries to `handler`. The handler returns
    /// `Err` to have the gateway retry later.
    pub fn callback_router<T, F, Fut, E>(
        path: &str,
        key: SigningKey,
        guard: Arc<ReplayGuard>,
        handler: F,
    ) -> Router
    where
        T: DeserializeOwned + CallbackIdentity + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let endpoint = Arc::new(Endpoint {
            key,
            guard,
            handler,
        });
        Router::new()
            .route(path, post(receive::<T, F, Fut, E>))
            .with_state(endpoint)
    }

    async fn receive<T, F, Fut, E>(
        State(endpoint): State<Arc<Endpoint<F>>>,
        body: Bytes,
    ) -> (StatusCode, String)
    where
        T: DeserializeOwned + CallbackIdentity + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let callback: T = match verify_callback(&endpoint.key, &body) {
            Ok(callback) => callback,
            Err(err @ CallbackError::Signature(_)) => {
                return (StatusCode::UNAUTHORIZED, err.to_string())
            }
            Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()),
        };
        if endpoint.guard.observe(&callback) == Delivery::Duplicate {
            return (StatusCode::OK, "duplicate".into());
        }
        let retry_key = (callback.order_id().to_owned(), callback.status_code());
        match (endpoint.handler)(callback).await {
            Ok(()) => (StatusCode::OK, "ok".into()),
            Err(err) => {
                endpoint.guard.forget(&Key(retry_key));
                (StatusCode::SERVICE_UNAVAILABLE, err.to_string())
            }
        }
    }

    struct Key((String, i64));

    impl CallbackIdentity for Key {
        fn order_id(&self) -> &str {
            &(self.0).0
        }
        fn status_code(&self) -> i64 {
            (self.0).1
        }
    }
}
