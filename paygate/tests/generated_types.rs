//! The generated gateway types: open enums keep unknown values, the provider
//! and operation tables are there.

use paygate::gateway::rules::{Direction, Flow};
use paygate::gateway::{
    Country, Currency, OperationType, PaymentCallback, ProviderId, Status, OPERATIONS,
    PROVIDER_TABLE,
};
use paygate::operation::Operation;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(json: &str) -> (T, String) {
    let value: T = serde_json::from_str(json).expect("deserializes");
    let back = serde_json::to_string(&value).expect("serializes");
    (value, back)
}

#[test]
fn unknown_status_is_kept() {
    let (status, back) = round_trip::<Status>("42");
    assert_eq!(status, Status::Unknown(42));
    assert_eq!(back, "42");
    let (status, back) = round_trip::<Status>("-1");
    assert_eq!(status, Status::Undefined);
    assert_eq!(back, "-1");
    let (status, back) = round_trip::<Status>("2");
    assert_eq!(status, Status::Success);
    assert_eq!(back, "2");
    assert_eq!(Status::from(7), Status::InTransit);
    assert_eq!(Status::InProgress.code(), 1);
    assert_eq!(Status::ALL.len(), 9);
    assert_eq!(Status::Failed.to_string(), "3");
}

#[test]
fn integer_enums_accept_numeric_strings() {
    let status: Status = serde_json::from_str("\"2\"").expect("lenient");
    assert_eq!(status, Status::Success);
    let provider: ProviderId = serde_json::from_str("\"9209\"").expect("lenient");
    assert_eq!(provider.code(), 9209);
    assert!(serde_json::from_str::<Status>("\"two\"").is_err());
    assert!(serde_json::from_str::<Status>("2.5").is_err());
}

#[test]
fn unknown_currency_and_country_are_kept() {
    let (currency, back) = round_trip::<Currency>("\"BTC\"");
    assert_eq!(currency, Currency::Unknown("BTC".to_owned()));
    assert_eq!(back, "\"BTC\"");
    let (currency, back) = round_trip::<Currency>("\"XOF\"");
    assert_eq!(currency, Currency::Xof);
    assert_eq!(back, "\"XOF\"");
    assert_eq!(Currency::from("KES"), Currency::Kes);
    assert_eq!(Currency::Cdf.as_str(), "CDF");
    let (country, back) = round_trip::<Country>("\"FR\"");
    assert_eq!(country, Country::Unknown("FR".to_owned()));
    assert_eq!(back, "\"FR\"");
    assert_eq!(Country::from("CD"), Country::Cd);
}

#[test]
fn unknown_provider_id_is_kept() {
    let (provider, back) = round_trip::<ProviderId>("123456");
    assert_eq!(provider, ProviderId::Unknown(123456));
    assert_eq!(back, "123456");
    assert!(provider.rule().is_none());
    let (provider, back) = round_trip::<ProviderId>("14");
    assert_eq!(back, "14");
    let rule = provider.rule().expect("the Simulator is in the table");
    assert_eq!(rule.name, "Simulator");
    assert!(ProviderId::ALL.contains(&provider));
    assert_eq!(ProviderId::ALL.len(), PROVIDER_TABLE.providers.len());
}

#[test]
fn provider_table_lookups() {
    let simulator = PROVIDER_TABLE.provider(14).expect("provider 14");
    assert_eq!(simulator.name, "Simulator");
    assert_eq!(simulator.country, None);
    assert_eq!(simulator.direction(Direction::C2b).flow(), Flow::Standard);
    assert!(simulator.test_provider);
    assert!(PROVIDER_TABLE.provider(1).is_none());

    let ids: Vec<u32> = PROVIDER_TABLE.providers.iter().map(|p| p.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "providers sorted by id"
    );
    let codes: Vec<&str> = PROVIDER_TABLE.countries.iter().map(|c| c.code).collect();
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "countries sorted by code"
    );

    let kenya = PROVIDER_TABLE.country("KE").expect("Kenya");
    assert_eq!(kenya.currency.map(|c| c.code), Some("KES"));
    let phone = kenya.phone.expect("Kenya's phone format").format;
    assert!(phone.matches(phone.example));
    assert!(phone.matches("254700000001"));
    assert!(!phone.matches("25470000000"));
    for country in PROVIDER_TABLE.countries {
        if let Some(phone) = country.phone {
            assert!(
                phone.format.matches(phone.format.example),
                "{}",
                country.code
            );
        }
    }
    for provider in PROVIDER_TABLE.providers {
        if let Some(country) = provider.country {
            assert!(
                PROVIDER_TABLE.country(country).is_some(),
                "{} {country}",
                provider.id
            );
        }
        if let Some(phone) = &provider.phone {
            assert!(
                phone.format.matches(phone.format.example),
                "{}",
                provider.id
            );
        }
    }
}

#[test]
fn operations_table_has_the_seed_operations() {
    for (id, path) in [
        ("payment_c2b", "/{public_id}/payment_c2b"),
        ("payment_b2c", "/{public_id}/payment_b2c"),
        ("status", "/{public_id}/status"),
        ("deposit", "/{public_id}/deposit"),
        ("withdrawal", "/{public_id}/withdrawal"),
    ] {
        let op = OPERATIONS
            .iter()
            .find(|op| op.id == id)
            .unwrap_or_else(|| panic!("operation {id}"));
        assert_eq!(op.path, path);
        assert_eq!(op.method, "POST");
        assert!(op.request.is_some(), "{id} has a request");
    }
    let c2b = paygate::gateway::operations::PaymentC2b::INFO;
    assert_eq!(c2b.id, "payment_c2b");
    assert_eq!(c2b.request, Some("PaymentC2bRequest"));
    assert_eq!(c2b.response, Some("PaymentResponse"));
    assert_eq!(c2b.callback, Some("PaymentCallback"));
}

#[test]
fn callbacks_keep_unknown_values() {
    let json = r#"{"merchant_id":"m","operation_type":99,"customer_id":"c","amount":100,"order_id":"o","transaction_id":"t","transaction_ref":"r","status":12,"provider_id":2303,"destination_id":"","result":{"code":0,"message":"OK"},"signature":"s"}"#;
    let callback: PaymentCallback = serde_json::from_str(json).expect("deserializes");
    assert_eq!(callback.status, Status::Unknown(12));
    assert_eq!(callback.operation_type, OperationType::Unknown(99));
    assert_eq!(serde_json::to_string(&callback).expect("serializes"), json);
}

#[test]
fn hub2_coverage_tables_answer_by_pair() {
    use paygate::hub2::models::{Country, Currency, Provider};
    use paygate::hub2::providers::{
        currency_of, processing_only, serves_mobile_money, takes_bank_transfer, Certainty, Service,
        MOBILE_MONEY, PROCESSING_ONLY_SOURCE,
    };

    assert!(serves_mobile_money(&Country::Ci, &Provider::Wave));
    assert!(!serves_mobile_money(&Country::Ne, &Provider::Orange));
    assert!(!serves_mobile_money(
        &Country::Unknown("ZZ".into()),
        &Provider::Orange
    ));
    assert_eq!(currency_of(&Country::Cm), Some(&Currency::Xaf));
    assert_eq!(currency_of(&Country::Unknown("FR".into())), None);
    assert!(takes_bank_transfer(&Country::Sn));
    assert!(!takes_bank_transfer(&Country::Ml));
    assert_eq!(
        processing_only(&Country::Sn, &Provider::Orange),
        &[Service::Payment, Service::Transfer]
    );
    assert!(processing_only(&Country::Sn, &Provider::Mtn).is_empty());
    // Processing Only's list is the documentation's; the standard mode's is not.
    assert_eq!(PROCESSING_ONLY_SOURCE.certainty, Certainty::Documented);
    assert_eq!(MOBILE_MONEY.len(), 27);
}
