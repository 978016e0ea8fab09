//! Transfers: `POST /transfers` (debits the transfer account),
//! `POST /delegated/transfers` (Processing Only mode, no HUB2 balance
//! moves), their end after the latency ([`finish_transfer`], also used by
//! the control API), and reading one under the polling throttle.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use paygate::hub2::models::{
    CreateTransferRequest, DestinationType, Transfer, TransferStatus, TransferStatusResponse,
    WebhookEventType,
};

use super::auth::{Caller, DelegatedTransfer, Permitted};
use super::input::{check_amount, check_currency, check_msisdn, check_reference, Hub2Json};
use super::limit::{throttle_poll, ClientIp};
use super::rules::{check_pair, credentials_registered};
use crate::simulator::hub2::coverage::{serves_mobile_money, serves_processing_only};
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::iso_now;
use crate::simulator::hub2::persist::{self, Change};
use crate::simulator::hub2::store::TransferRecord;
use crate::simulator::hub2::webhooks::{emit, transfer_data};
use crate::simulator::SimulatorState;
use paygate::hub2::providers::Service;

/// `POST /transfers`.
pub(super) async fn create_transfer(
    State(state): State<SimulatorState>,
    caller: Caller,
    Hub2Json(request): Hub2Json<CreateTransferRequest>,
) -> Result<(StatusCode, Json<Transfer>), Hub2ApiError> {
    start_transfer(&state, &caller, request, false).await
}

/// `POST /delegated/transfers`: needs `Api.delegated_transfer_create`.
pub(super) async fn delegated_transfer(
    State(state): State<SimulatorState>,
    Permitted { caller, .. }: Permitted<DelegatedTransfer>,
    Hub2Json(request): Hub2Json<CreateTransferRequest>,
) -> Result<(StatusCode, Json<Transfer>), Hub2ApiError> {
    start_transfer(&state, &caller, request, true).await
}

/// Checks a transfer request, debits the transfer account (not for a
/// `delegated` one), stores the transfer `pending` and ends it after the
/// latency. Answered once the transfer and the debit are committed.
async fn start_transfer(
    state: &SimulatorState,
    caller: &Caller,
    request: CreateTransferRequest,
    delegated: bool,
) -> Result<(StatusCode, Json<Transfer>), Hub2ApiError> {
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
    check_pair(country, provider, &currency, |country, provider| {
        if delegated {
            serves_processing_only(country, provider, Service::Transfer)
        } else {
            serves_mobile_money(country, provider)
        }
    })?;
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
    let commit = {
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
        let record = TransferRecord {
            transfer: transfer.clone(),
            env: caller.env,
            delegated,
            fails,
        };
        let balance = persist::balance(&mut store, &caller.merchant_id, caller.env, &currency);
        let mut changes = vec![Change::Transfer(&record)];
        if !delegated {
            changes.push(balance);
        }
        let commit = persist::record(state, &changes);
        store.transfers.insert(transfer.id.clone(), record);
        commit
    };
    commit.done().await.map_err(Hub2ApiError::storage)?;
    emit(
        state,
        &caller.merchant_id,
        caller.env,
        WebhookEventType::TransferCreated,
        transfer_data(&transfer),
    );
    schedule_transfer(state, &transfer.id);
    Ok((StatusCode::CREATED, Json(transfer)))
}

/// Ends the transfer after the latency (also for one read back from the
/// database at start).
pub(crate) fn schedule_transfer(state: &SimulatorState, id: &str) {
    let Some(fails) = state.hub2_store().transfers.get(id).map(|r| r.fails) else {
        return;
    };
    let task_state = state.clone();
    let id = id.to_owned();
    state.spawn(async move {
        if task_state.sleep(task_state.config().latency).await {
            let _ = finish_transfer(&task_state, &id, !fails);
        }
    });
}

/// Whether a transfer in `status` has not ended yet (`created` or
/// `pending`): its amount is still reserved.
pub(super) fn in_progress(status: &TransferStatus) -> bool {
    matches!(status, TransferStatus::Created | TransferStatus::Pending)
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
        if !in_progress(&record.transfer.status) {
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
            let account = store.accounts(&transfer.merchant_id, env, transfer.currency.as_str());
            // Gives back what was debited when the transfer was accepted;
            // checked all the same (credits may have come in since).
            match account.transfer.checked_add(transfer.amount) {
                Some(balance) => account.transfer = balance,
                None => tracing::error!(
                    transfer_id = %transfer.id,
                    amount = transfer.amount,
                    "HUB2 transfer account not refunded: the balance would overflow"
                ),
            }
        }
        let accounts = *store.accounts(&transfer.merchant_id, env, transfer.currency.as_str());
        let mut changes = Vec::new();
        if let Some(record) = store.transfers.get(id) {
            changes.push(Change::Transfer(record));
        }
        if !success && !delegated {
            changes.push(Change::Balance {
                merchant_id: &transfer.merchant_id,
                env,
                currency: transfer.currency.as_str(),
                accounts,
            });
        }
        // Nobody is answered after it but the control API: see
        // `persist` for what a crash before the commit leaves.
        persist::record(state, &changes).detach();
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
        transfer_data(&transfer),
    );
    Ok(transfer)
}

/// Looks up a transfer of the caller and applies the polling throttle.
fn read_transfer(
    state: &SimulatorState,
    caller: &Caller,
    ip: &ClientIp,
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
    if !in_progress(&transfer.status) {
        throttle_poll(&mut store.polls, limit, ip, id, || {
            format!(
                "ThrottlerException: Too Many Requests (transfer {id} is {}; poll only while it is created or pending, or use webhooks)",
                transfer.status
            )
        })?;
    }
    Ok(transfer)
}

/// `GET /transfers/{id}`.
pub(super) async fn get_transfer(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    caller: Caller,
) -> Result<Json<Transfer>, Hub2ApiError> {
    read_transfer(&state, &caller, &ip, &id).map(Json)
}

/// `GET /transfers/{id}/status`.
pub(super) async fn get_transfer_status(
    State(state): State<SimulatorState>,
    Extension(ip): Extension<ClientIp>,
    Path(id): Path<String>,
    caller: Caller,
) -> Result<Json<TransferStatusResponse>, Hub2ApiError> {
    let transfer = read_transfer(&state, &caller, &ip, &id)?;
    Ok(Json(TransferStatusResponse {
        id: transfer.id,
        status: transfer.status,
    }))
}
