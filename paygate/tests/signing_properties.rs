//! Property tests holding the two signing paths together: a typed value
//! signed through `#[derive(Signable)]` and the same value's JSON bytes
//! signed through the raw-JSON path must give the same signature.

use paygate::money::Amount;
use paygate::signing::{canonical_json, canonical_string, sign, sign_json, SigningKey};
use paygate::Signable;
use proptest::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, Signable)]
struct Item {
    sku: String,
    qty: i64,
    gift: bool,
}

#[derive(Debug, Clone, Serialize, Signable)]
struct Extra {
    #[serde(skip_serializing_if = "Option::is_none")]
    otp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_name: Option<String>,
    tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Signable)]
struct Payment {
    merchant_id: String,
    customer_id: String,
    order_id: String,
    amount: Amount,
    currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    provider_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra: Option<Extra>,
    items: Vec<Item>,
    signature: String,
}

/// The flat twin of `Payment`'s nested `extra`: keys carry the prefix.
#[derive(Debug, Clone, Serialize, Signable)]
struct FlatExtraTwin {
    #[serde(rename = "extra.otp")]
    otp: String,
    #[serde(rename = "extra.customer_name")]
    customer_name: String,
}

#[derive(Debug, Clone, Serialize, Signable)]
struct NestedExtraTwin {
    extra: NestedExtra,
}

#[derive(Debug, Clone, Serialize, Signable)]
struct NestedExtra {
    otp: String,
    customer_name: String,
}

fn text() -> impl Strategy<Value = String> {
    // Any Unicode scalar values, escapes and empty strings included.
    prop::collection::vec(any::<char>(), 0..24).prop_map(|chars| chars.into_iter().collect())
}

prop_compose! {
    fn item()(sku in text(), qty in any::<i64>(), gift in any::<bool>()) -> Item {
        Item { sku, qty, gift }
    }
}

prop_compose! {
    fn extra()(
        otp in prop::option::of("[0-9]{4}"),
        customer_name in prop::option::of(text()),
        tags in prop::collection::vec(text(), 0..4),
    ) -> Extra {
        Extra { otp, customer_name, tags }
    }
}

prop_compose! {
    fn payment()(
        merchant_id in "[0-9a-f]{8,40}",
        customer_id in "[0-9]{9,13}",
        order_id in "[A-Za-z0-9_:.-]{1,128}",
        minor in any::<u64>(),
        currency in "[A-Z]{3}",
        country in prop::option::of("[A-Z]{2}"),
        provider_id in any::<i64>(),
        extra in prop::option::of(extra()),
        items in prop::collection::vec(item(), 0..4),
        signature in "[0-9a-f]{0,128}",
    ) -> Payment {
        Payment {
            merchant_id, customer_id, order_id,
            amount: Amount::from_minor(minor),
            currency, country, provider_id, extra, items, signature,
        }
    }
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn derive_and_raw_paths_agree(value in payment(), secret in key()) {
        let key = SigningKey::from_bytes(&secret);
        let body = serde_json::to_vec(&value).expect("serializable");
        let typed = sign(&key, &value).expect("signable");
        let raw = sign_json(&key, &body).expect("valid JSON object");
        prop_assert_eq!(typed, raw);
        let (raw_canonical, _) = canonical_json(&body, Vec::new()).expect("valid JSON object");
        prop_assert_eq!(canonical_string(&value).expect("signable"), raw_canonical);
    }

    #[test]
    fn signing_is_deterministic(value in payment(), secret in key()) {
        let key = SigningKey::from_bytes(&secret);
        prop_assert_eq!(sign(&key, &value).unwrap(), sign(&key, &value.clone()).unwrap());
    }

    #[test]
    fn the_signature_field_never_changes_the_signature(value in payment(), other in "[0-9a-f]{0,128}") {
        let key = SigningKey::from_bytes(b"k");
        let mut changed = value.clone();
        changed.signature = other;
        prop_assert_eq!(sign(&key, &value).unwrap(), sign(&key, &changed).unwrap());
    }

    #[test]
    fn nesting_equals_its_prefixed_flat_twin(otp in text(), customer_name in text()) {
        let nested = NestedExtraTwin { extra: NestedExtra { otp: otp.clone(), customer_name: customer_name.clone() } };
        let flat = FlatExtraTwin { otp, customer_name };
        prop_assert_eq!(canonical_string(&nested).unwrap(), canonical_string(&flat).unwrap());
        let key = SigningKey::from_bytes(b"secret");
        prop_assert_eq!(sign(&key, &nested).unwrap(), sign(&key, &flat).unwrap());
    }

    #[test]
    fn any_changed_field_changes_the_signature(value in payment(), suffix in "[a-z]{1,4}") {
        let key = SigningKey::from_bytes(b"k");
        let mut changed = value.clone();
        changed.order_id.push_str(&suffix);
        prop_assert_ne!(sign(&key, &value).unwrap(), sign(&key, &changed).unwrap());
    }
}

mod generated_requests {
    //! The same agreement for the generated request models.

    use super::*;
    use paygate::gateway::{Country, CustomerDocType, PaymentC2bRequest, RequestExtra};

    fn code(len: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::char::range('A', 'Z'), len)
            .prop_map(|c| c.into_iter().collect())
    }

    prop_compose! {
        fn request_extra()(
            otp in prop::option::of("[0-9]{4}"),
            customer_name in prop::option::of(text()),
            customer_email in prop::option::of(text()),
            bank_code in prop::option::of("[0-9]{6}"),
            doc in prop::option::of(prop_oneof![
                Just(CustomerDocType::from("national_id")),
                Just(CustomerDocType::from("intl_passport")),
                text().prop_map(|t| CustomerDocType::from(t.as_str())),
            ]),
        ) -> RequestExtra {
            let mut extra: RequestExtra = serde_json::from_str("{}").expect("all extras are optional");
            extra.otp = otp;
            extra.customer_name = customer_name;
            extra.customer_email = customer_email;
            extra.bank_code = bank_code;
            extra.customer_doc_type = doc;
            extra
        }
    }

    prop_compose! {
        fn c2b()(
            merchant_id in "[0-9a-f]{8,40}",
            customer_id in "[0-9]{9,13}",
            customer_user_id in prop::option::of(text()),
            order_id in "[A-Za-z0-9_:.-]{1,128}",
            minor in any::<u64>(),
            currency in code(3),
            country in prop::option::of(code(2)),
            callback_url in prop::option::of(text()),
            provider_id in any::<i64>(),
            extra in prop::option::of(request_extra()),
        ) -> PaymentC2bRequest {
            let mut request = PaymentC2bRequest::new(
                merchant_id,
                customer_id,
                order_id,
                Amount::from_minor(minor),
                currency.as_str(),
                provider_id,
            );
            request.customer_user_id = customer_user_id;
            request.country = country.map(|c| Country::from(c.as_str()));
            request.callback_url = callback_url;
            request.extra = extra;
            request
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_c2b_requests_sign_the_same_on_both_paths(value in c2b(), secret in key()) {
            let key = SigningKey::from_bytes(&secret);
            let body = serde_json::to_vec(&value).expect("serializable");
            prop_assert_eq!(sign(&key, &value).unwrap(), sign_json(&key, &body).unwrap());
            let back: PaymentC2bRequest = serde_json::from_slice(&body).expect("round trip");
            prop_assert_eq!(sign(&key, &back).unwrap(), sign(&key, &value).unwrap());
        }
    }
}
