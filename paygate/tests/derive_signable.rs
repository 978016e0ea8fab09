//! `#[derive(Signable)]`: the canonical string of typed payloads, and the
//! seed 002 signature from the gateway documentation.

use paygate::signing::{canonical_string, sign, SignValue, Signable as _, SigningKey};
use paygate::Signable;
use serde::Serialize;

fn canonical<T: paygate::signing::Signable>(payload: &T) -> String {
    String::from_utf8(canonical_string(payload).expect("signable")).expect("utf-8")
}

#[derive(Signable)]
struct Flat {
    zeta: String,
    alpha: u32,
    middle: i64,
}

#[test]
fn fields_are_written_in_declaration_order_not_alphabetically() {
    let p = Flat {
        zeta: "z".into(),
        alpha: 7,
        middle: -3,
    };
    assert_eq!(canonical(&p), "zetazalpha7middle-3");
}

#[derive(Serialize, Signable)]
struct Renamed {
    #[serde(rename = "merchantId")]
    merchant: String,
    #[serde(rename(serialize = "out", deserialize = "in"))]
    both: u8,
    r#type: String,
}

#[test]
fn field_renames_and_raw_identifiers() {
    let p = Renamed {
        merchant: "m".into(),
        both: 1,
        r#type: "t".into(),
    };
    assert_eq!(canonical(&p), "merchantIdmout1typet");
}

#[derive(Serialize, Signable)]
#[serde(rename_all = "camelCase")]
struct Camel {
    order_id: String,
    callback_url: String,
    #[serde(rename = "EXPLICIT")]
    explicit_wins: u8,
}

#[test]
fn rename_all_applies_to_unrenamed_fields() {
    let p = Camel {
        order_id: "o".into(),
        callback_url: "u".into(),
        explicit_wins: 2,
    };
    assert_eq!(canonical(&p), "orderIdocallbackUrluEXPLICIT2");
}

macro_rules! case_struct {
    ($name:ident, $rule:literal) => {
        #[derive(Serialize, Signable)]
        #[serde(rename_all = $rule)]
        struct $name {
            order_id: u8,
            x: u8,
        }
    };
}
case_struct!(Lower, "lowercase");
case_struct!(Upper, "UPPERCASE");
case_struct!(Pascal, "PascalCase");
case_struct!(CamelRule, "camelCase");
case_struct!(Snake, "snake_case");
case_struct!(ScreamingSnake, "SCREAMING_SNAKE_CASE");
case_struct!(Kebab, "kebab-case");
case_struct!(ScreamingKebab, "SCREAMING-KEBAB-CASE");

#[test]
fn every_serde_case_convention() {
    assert_eq!(canonical(&Lower { order_id: 1, x: 2 }), "order_id1x2");
    assert_eq!(canonical(&Upper { order_id: 1, x: 2 }), "ORDER_ID1X2");
    assert_eq!(canonical(&Pascal { order_id: 1, x: 2 }), "OrderId1X2");
    assert_eq!(canonical(&CamelRule { order_id: 1, x: 2 }), "orderId1x2");
    assert_eq!(canonical(&Snake { order_id: 1, x: 2 }), "order_id1x2");
    assert_eq!(
        canonical(&ScreamingSnake { order_id: 1, x: 2 }),
        "ORDER_ID1X2"
    );
    assert_eq!(canonical(&Kebab { order_id: 1, x: 2 }), "order-id1x2");
    assert_eq!(
        canonical(&ScreamingKebab { order_id: 1, x: 2 }),
        "ORDER-ID1X2"
    );
}

#[test]
fn keys_match_what_serde_sends() {
    // The same struct through serde_json: every key the derive signs is a key
    // serde sends, in the same order.
    let p = Camel {
        order_id: "o".into(),
        callback_url: "u".into(),
        explicit_wins: 2,
    };
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        r#"{"orderId":"o","callbackUrl":"u","EXPLICIT":2}"#
    );
}

#[derive(Serialize, Signable)]
struct WithOptions {
    a: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<u32>,
    c: String,
}

#[test]
fn none_is_skipped_and_some_is_included() {
    let none = WithOptions {
        a: None,
        b: None,
        c: "c".into(),
    };
    assert_eq!(canonical(&none), "cc");
    let some = WithOptions {
        a: Some("a".into()),
        b: Some(5),
        c: "c".into(),
    };
    assert_eq!(canonical(&some), "aab5cc");
}

#[derive(Serialize, Signable)]
struct Extra {
    otp1234: String,
    attempts: u8,
}

#[derive(Serialize, Signable)]
struct Item {
    sku: String,
    qty: u32,
}

#[derive(Serialize, Signable)]
struct Nested {
    order_id: String,
    extra: Extra,
    items: Vec<Item>,
    tags: Vec<String>,
    empty: Vec<Item>,
    last: String,
}

#[test]
fn nested_structs_vecs_of_structs_and_vecs_of_strings() {
    let p = Nested {
        order_id: "o1".into(),
        extra: Extra {
            otp1234: "9876".into(),
            attempts: 2,
        },
        items: vec![
            Item {
                sku: "A".into(),
                qty: 1,
            },
            Item {
                sku: "B".into(),
                qty: 20,
            },
        ],
        tags: vec!["x".into(), "y".into()],
        empty: Vec::new(),
        last: "L".into(),
    };
    assert_eq!(
        canonical(&p),
        "order_ido1extra.otp12349876extra.attempts2items.0.skuAitems.0.qty1items.1.skuBitems.1.qty20tags.0xtags.1ylastL"
    );
}

#[derive(Signable)]
struct Scalars {
    yes: bool,
    no: bool,
    small: i8,
    big: u64,
    neg: i128,
    size: usize,
}

#[test]
fn bools_print_like_php_and_integers_in_decimal() {
    let p = Scalars {
        yes: true,
        no: false,
        small: -128,
        big: u64::MAX,
        neg: -1,
        size: 0,
    };
    assert_eq!(
        canonical(&p),
        "yes1nosmall-128big18446744073709551615neg-1size0"
    );
}

#[derive(Serialize, Signable)]
struct WithSignature {
    amount: u32,
    signature: String,
    currency: String,
    inner: InnerWithSignature,
}

#[derive(Serialize, Signable)]
struct InnerWithSignature {
    signature: String,
    k: String,
}

#[test]
fn signature_fields_are_skipped_at_every_level() {
    let p = WithSignature {
        amount: 1,
        signature: "deadbeef".into(),
        currency: "KES".into(),
        inner: InnerWithSignature {
            signature: "x".into(),
            k: "v".into(),
        },
    };
    assert_eq!(canonical(&p), "amount1currencyKESinner.kv");
}

#[derive(Serialize, Signable)]
struct Common {
    merchant_id: String,
    country: String,
}

#[derive(Serialize, Signable)]
#[serde(rename_all = "camelCase")]
struct Flattened {
    order_id: String,
    #[serde(flatten)]
    common: Common,
    #[serde(flatten)]
    maybe: Option<Extra>,
    #[serde(flatten)]
    absent: Option<Extra>,
    after_all: u8,
}

#[test]
fn flattened_fields_are_written_at_the_same_level() {
    let p = Flattened {
        order_id: "o".into(),
        common: Common {
            merchant_id: "m".into(),
            country: "KE".into(),
        },
        maybe: Some(Extra {
            otp1234: "1".into(),
            attempts: 0,
        }),
        absent: None,
        after_all: 9,
    };
    // The flattened struct keeps its own names (serde does not apply the
    // outer rename_all to them).
    let expected = "orderIdomerchant_idmcountryKEotp12341attempts0afterAll9";
    assert_eq!(canonical(&p), expected);
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        r#"{"orderId":"o","merchant_id":"m","country":"KE","otp1234":"1","attempts":0,"afterAll":9}"#
    );
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Serialize, Signable)]
struct Skips {
    a: String,
    #[serde(skip)]
    local_only: String,
    #[serde(skip_serializing)]
    received_only: String,
    #[signable(skip)]
    sent_unsigned: String,
    #[serde(skip_serializing_if = "is_zero")]
    fee: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(default, alias = "zz", skip_deserializing)]
    z: String,
}

#[test]
fn skipped_fields_are_not_signed() {
    let mut p = Skips {
        a: "a".into(),
        local_only: "l".into(),
        received_only: "r".into(),
        sent_unsigned: "s".into(),
        fee: 0,
        notes: Vec::new(),
        z: "z".into(),
    };
    assert_eq!(canonical(&p), "aazz");
    assert_eq!(
        (p.local_only.as_str(), p.received_only.as_str()),
        ("l", "r")
    );
    p.fee = 3;
    p.notes.push("n".into());
    assert_eq!(canonical(&p), "aafee3notes.0nzz");
}

#[derive(Serialize, Signable)]
#[serde(tag = "kind", rename = "Pay")]
struct Tagged {
    amount: u32,
}

#[test]
fn an_internal_tag_is_signed_as_sent() {
    let p = Tagged { amount: 1 };
    assert_eq!(
        serde_json::to_string(&p).unwrap(),
        r#"{"kind":"Pay","amount":1}"#
    );
    assert_eq!(canonical(&p), "kindPayamount1");
}

#[derive(Signable)]
struct Generic<'a, T, U>
where
    U: Clone,
{
    borrowed: &'a str,
    value: T,
    list: Vec<U>,
}

#[derive(Signable)]
struct FlattenGeneric<T> {
    head: u8,
    #[serde(flatten)]
    inner: T,
}

#[derive(Signable)]
struct Empty {}

#[test]
fn generics_lifetimes_and_empty_structs() {
    let p = Generic {
        borrowed: "b",
        value: 5u16,
        list: vec![true, false],
    };
    assert_eq!(canonical(&p), "borrowedbvalue5list.01list.1");
    let f = FlattenGeneric {
        head: 1,
        inner: Common {
            merchant_id: "m".into(),
            country: "KE".into(),
        },
    };
    assert_eq!(canonical(&f), "head1merchant_idmcountryKE");
    assert_eq!(canonical(&Empty {}), "");
}

#[test]
fn sign_value_nests_a_struct_under_its_key() {
    // The generated `SignValue` opens the key as an object.
    let mut out = paygate::signing::__private::Canonicalizer::new(Vec::new());
    let item = Item {
        sku: "S".into(),
        qty: 2,
    };
    item.write_value(paygate::signing::__private::Segment::Name("item"), &mut out)
        .unwrap();
    assert_eq!(out.into_sink(), b"item.skuSitem.qty2");
    // and `write_fields` writes them bare.
    let mut out = paygate::signing::__private::Canonicalizer::new(Vec::new());
    item.write_fields(&mut out).unwrap();
    assert_eq!(out.into_sink(), b"skuSqty2");
}

/// Seed 002: the payment request example from the gateway documentation.
#[derive(Serialize, Signable)]
struct Seed002 {
    merchant_id: String,
    provider_id: u32,
    client_id: String,
    country: String,
    order_id: String,
    amount: u64,
    currency: String,
    callback_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
}

const SEED_002_KEY: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";

/// `printf '%s' '<canonical>' | openssl dgst -sha512 -hmac '<key>'`
const SEED_002_SIGNATURE: &str = "a724c9ebe2b15fca52cf5ad427164db7acef0f7c3f4ea1b3c8a3d07706ac4c2e6d0125a452d86e220f5c21686f6239434a490279e61641d33de5fb213e4ef8f2";

fn seed_002(signature: Option<String>) -> Seed002 {
    Seed002 {
        merchant_id: "fffed61be9780b97c5e4c65e4e07bb6b".into(),
        provider_id: 10,
        client_id: "254000000000".into(),
        country: "KE".into(),
        order_id: "order_3444298767545".into(),
        amount: 1000,
        currency: "KES".into(),
        callback_url: "https://my.callback.url".into(),
        signature,
    }
}

#[test]
fn seed_002_signs_like_openssl() {
    let payload = seed_002(None);
    assert_eq!(
        canonical(&payload),
        "merchant_idfffed61be9780b97c5e4c65e4e07bb6bprovider_id10client_id254000000000countryKEorder_idorder_3444298767545amount1000currencyKEScallback_urlhttps://my.callback.url"
    );
    let key = SigningKey::from_bytes(SEED_002_KEY.as_bytes());
    let sig = sign(&key, &payload).unwrap();
    assert_eq!(sig.to_string(), SEED_002_SIGNATURE);

    // A payload that already carries its signature signs the same.
    let signed = seed_002(Some(SEED_002_SIGNATURE.into()));
    assert_eq!(sign(&key, &signed).unwrap(), sig);
    assert!(sig.matches_hex(SEED_002_SIGNATURE.as_bytes()));
}
