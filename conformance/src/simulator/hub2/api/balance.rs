//! `GET /balance`: the caller's collection and transfer accounts in its
//! environment, per currency; the transfer account shows what pending
//! transfers reserve.

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use paygate::hub2::models::{AccountBalance, Balance, Currency};

use super::auth::Caller;
use super::transfers::in_progress;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::iso_now;
use crate::simulator::hub2::store::CURRENCIES;
use crate::simulator::SimulatorState;

/// The query of `GET /balance`, checked: `currency` (one of
/// [`CURRENCIES`]) and `date` (ISO 8601, accepted and not used).
fn only_currency(query: &str) -> Result<Option<String>, Hub2ApiError> {
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
                let bytes = value.as_bytes();
                let ok =
                    bytes.len() >= 10 && bytes.get(4) == Some(&b'-') && bytes.get(7) == Some(&b'-');
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
    Ok(only)
}

/// `GET /balance[?currency=XOF][&date=...]`.
pub(super) async fn get_balance(
    State(state): State<SimulatorState>,
    uri: Uri,
    caller: Caller,
) -> Result<Json<Balance>, Hub2ApiError> {
    let only = only_currency(uri.query().unwrap_or(""))?;
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
                    && in_progress(&r.transfer.status)
            })
            .map(|r| r.transfer.amount)
            // Never wraps: each reserved amount was debited from the
            // account, so their sum is at most what the account held.
            .fold(0i64, i64::saturating_add);
        let accounts = *store.accounts(&caller.merchant_id, caller.env, currency);
        balance.collection_account.push(AccountBalance {
            amount: accounts.collection,
            available_balance: accounts.collection,
            reserved_balance: None,
            currency: Currency::from(currency),
            date: now.clone(),
        });
        balance.transfer_account.push(AccountBalance {
            amount: accounts.transfer.saturating_add(reserved),
            available_balance: accounts.transfer,
            reserved_balance: Some(reserved),
            currency: Currency::from(currency),
            date: now.clone(),
        });
    }
    Ok(Json(balance))
}
