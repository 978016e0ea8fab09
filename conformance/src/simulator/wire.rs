//! The simulator's side of the wire format: typed responses and callbacks
//! built from the generated models, in spec field order.
//!
//! Every use of a generated type's constructor is here, so a change in the
//! generator touches one file.

use bytes::Bytes;
use paygate::gateway::{
    ErrorResponse, OperationResult, OperationType, PaymentCallback, PaymentResponse, PosCallback,
    ResponseExtra, Status,
};
use paygate::money::{Amount, Decimal, TextOrNumber, WireForm};
use paygate::signing::{sign, SigningKey};

use super::clock::now_timestamp;
use super::transaction::Transaction;

/// `service_id` of every answer.
pub const SERVICE_ID: i64 = 1;
/// `service_version` of every answer.
pub const SERVICE_VERSION: &str = "1.03/1.14|1.0/1.26|1.0/1.0|1.01/1.01|1.01/1.01||1.01/1.27-sim";

/// The generated open enum for a status code.
pub fn status(code: i64) -> Status {
    Status::from(code)
}

/// The generated open enum for an operation type code.
pub fn operation_type(code: i64) -> OperationType {
    OperationType::from(code)
}

fn result(code: i64, message: &str) -> OperationResult {
    OperationResult {
        code,
        message: message.to_owned(),
    }
}

/// `service_id` as every answer carries it.
pub fn service_id() -> TextOrNumber {
    TextOrNumber::Number(Decimal::from_integer(SERVICE_ID))
}

/// `service_version` as every answer carries it.
pub fn service_version() -> TextOrNumber {
    TextOrNumber::Text(SERVICE_VERSION.to_owned())
}

/// An amount as a JSON number, the way callbacks and `transfer_amount`
/// carry it: `100.00` → `100`, `100.50` → `100.5`.
pub fn amount_number(amount: Amount) -> Decimal {
    let minor = amount.minor();
    if minor.is_multiple_of(100) {
        if let Ok(major) = i64::try_from(minor / 100) {
            return Decimal::from_integer(major);
        }
    }
    Decimal::parse(&amount.to_string(), WireForm::Float).unwrap_or(Decimal::from_integer(0))
}

/// The `{"result":{...}}` body of a refusal.
pub fn error_body(code: i64, message: &str) -> Bytes {
    let body = ErrorResponse {
        result: result(code, message),
    };
    // Serializing a struct of strings and integers cannot fail.
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

/// The `PaymentResponse` describing a transaction as it is now (used for
/// the synchronous answer and for `status`).
pub fn payment_response(tx: &Transaction) -> PaymentResponse {
    let extra = response_extra(tx);
    PaymentResponse {
        order_id: tx.order_id.clone(),
        transaction_id: tx.transaction_id.clone(),
        transaction_ref: tx.transaction_ref.clone(),
        status: status(tx.status),
        result: result(0, "OK"),
        provider_result: Some(result(tx.provider_code, &tx.provider_message)),
        service_id: service_id(),
        service_version: service_version(),
        service_date_time: now_timestamp(),
        extra,
        confirm_type: Some(tx.confirm_type),
    }
}

/// Serializes a response.
pub fn to_body<T: serde::Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn response_extra(tx: &Transaction) -> Option<ResponseExtra> {
    if tx.redirect_url.is_none() && tx.bank_details.is_none() && tx.customer_message.is_none() {
        return None;
    }
    let bank = tx.bank_details.as_ref();
    Some(ResponseExtra {
        customer_redirect: tx.redirect_url.clone(),
        customer_message: tx.customer_message.clone(),
        transfer_amount: bank.map(|_| amount_number(tx.amount)),
        account_name: bank.map(|b| b.account_name.clone()),
        account_number: bank.map(|b| b.account_number.clone()),
        bank_name: bank.map(|b| b.bank_name.clone()),
    })
}

/// The signed callback body for a transaction in its current (final)
/// state: a `PaymentCallback` (16/17) or a `PosCallback` (20/21), signed
/// through the derive path, then serialized with the signature set.
pub fn callback_body(tx: &Transaction, key: &SigningKey) -> Result<Bytes, String> {
    let amount = amount_number(tx.amount);
    let op = operation_type(tx.operation.operation_type());
    let status = status(tx.status);
    let ok = result(0, "OK");
    let body = if tx.operation.is_pos() {
        let mut callback = PosCallback {
            merchant_id: tx.merchant_id.clone(),
            operation_type: op,
            customer_id: tx.customer_id.clone(),
            amount,
            order_id: tx.order_id.clone(),
            transaction_id: tx.transaction_id.clone(),
            transaction_ref: tx.transaction_ref.clone(),
            status,
            provider_id: tx.provider_id,
            destination_id: tx.destination_id.clone(),
            result: ok,
            service_id: Some(service_id()),
            service_version: Some(service_version()),
            service_date_time: Some(now_timestamp()),
            signature: String::new(),
        };
        callback.signature = sign(key, &callback).map_err(|e| e.to_string())?.to_string();
        serde_json::to_vec(&callback)
    } else {
        let mut callback = PaymentCallback {
            merchant_id: tx.merchant_id.clone(),
            operation_type: op,
            customer_id: tx.customer_id.clone(),
            amount,
            init_amount: Some(amount),
            order_id: tx.order_id.clone(),
            transaction_id: tx.transaction_id.clone(),
            transaction_ref: tx.transaction_ref.clone(),
            status,
            provider_id: tx.provider_id,
            destination_id: tx.destination_id.clone(),
            result: ok,
            provider_result: Some(result(tx.provider_code, &tx.provider_message)),
            service_id: Some(service_id()),
            service_version: Some(service_version()),
            service_date_time: Some(now_timestamp()),
            signature: String::new(),
        };
        callback.signature = sign(key, &callback).map_err(|e| e.to_string())?.to_string();
        serde_json::to_vec(&callback)
    };
    body.map(Bytes::from).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_become_numbers() {
        let json = |a| serde_json::to_string(&amount_number(a)).unwrap();
        assert_eq!(json(Amount::from_minor(10_000)), "100");
        assert_eq!(json(Amount::from_minor(10_050)), "100.5");
        assert_eq!(json(Amount::from_minor(5)), "0.05");
    }
}
