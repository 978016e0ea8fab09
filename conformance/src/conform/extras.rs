//! The `extra` fields of a payment request: their wire order (the spec's
//! `RequestExtra`) and a plausible value for each.

/// The position of an `extra` field in the spec's `RequestExtra`, so that
/// the fields are always sent in wire order.
pub fn extra_rank(name: &str) -> usize {
    const ORDER: [&str; 11] = [
        "otp",
        "customer_name",
        "customer_email",
        "bank_code",
        "bic",
        "return_url",
        "customer_doc_type",
        "customer_doc_number",
        "customer_ip",
        "customer_phone",
        "operator_otp",
    ];
    ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len())
}

/// A plausible value for an `extra` field.
pub fn extra_value(name: &str) -> String {
    match name {
        "otp" => "1234",
        "customer_name" => "Awa Traore",
        "customer_email" => "awa.traore@example.com",
        "bank_code" => "000001",
        "bic" => "NLCBTZTX",
        "return_url" => "https://merchant.example/return",
        "customer_doc_type" => "national_id",
        "customer_doc_number" => "A123456789",
        "customer_ip" => "203.0.113.45",
        "customer_phone" => "254700000001",
        "operator_otp" => "777777",
        _ => "conformance",
    }
    .to_owned()
}
