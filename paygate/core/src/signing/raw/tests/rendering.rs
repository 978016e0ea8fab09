//! The canonical string of valid bodies: PHP's renderings, decoded strings
//! and keys, dotted prefixes, skipped `signature` scalars.

use super::*;

#[test]
fn seed_002_example_matches_openssl() {
    let body = br#"{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url"}"#;
    let (canon, sig) = canonical_json(body, Vec::new()).unwrap();
    assert_eq!(
        String::from_utf8(canon).unwrap(),
        "merchant_idfffed61be9780b97c5e4c65e4e07bb6bprovider_id10client_id254000000000countryKEorder_idorder_3444298767545amount1000currencyKEScallback_urlhttps://my.callback.url"
    );
    assert_eq!(sig, None);
    // printf '%s' "<canonical>" | openssl dgst -sha512 -hmac "<secret>"
    assert_eq!(
        sign_json(&key(), body).unwrap().to_string(),
        "a724c9ebe2b15fca52cf5ad427164db7acef0f7c3f4ea1b3c8a3d07706ac4c2e6d0125a452d86e220f5c21686f6239434a490279e61641d33de5fb213e4ef8f2"
    );
}

#[test]
fn scalars_render_like_php() {
    assert_eq!(
        ok(r#"{"s":"x","t":true,"f":false,"n":null,"i":-12}"#),
        "sxt1fni-12"
    );
    assert_eq!(ok(r#"{"z":-0,"zf":-0.0,"e":-0e0}"#), "z0zf-0e-0");
    assert_eq!(
        ok(r#"{"a":100.10,"b":"100.10","c":100.0,"d":1e3}"#),
        "a100.1b100.10c100d1000"
    );
    assert_eq!(
        ok(r#"{"a":1e25,"b":1.5e-7,"c":0.0001,"d":0.00001}"#),
        "a1.0E+25b1.5E-7c0.0001d1.0E-5"
    );
    assert_eq!(ok(r#"{"a":1e400,"b":-1e400,"c":2e-400}"#), "aINFb-INFc0");
    assert_eq!(
        ok(r#"{"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,"under":-9223372036854775809}"#),
        "max9223372036854775807min-9223372036854775808over9.2233720368548E+18under-9.2233720368548E+18"
    );
    assert_eq!(
        ok(r#"{"big":123456789012345678901234567890}"#),
        "big1.2345678901235E+29"
    );
    assert_eq!(
        ok(r#"{"a":0,"b":123456789012345678}"#),
        "a0b123456789012345678"
    );
}

#[test]
fn strings_and_keys_are_decoded() {
    assert_eq!(
        ok(r#"{"e":"caf\u00e9","q":"say \"hi\"","sl":"a\/b","emoji":"\uD83D\uDE00","raw":"日本"}"#),
        "ecaféqsay \"hi\"sla/bemoji😀raw日本"
    );
    assert_eq!(ok(r#"{"a\"b":"1","\u00e9":{"t\tk":"2"}}"#), "a\"b1é.t\tk2");
    assert_eq!(ok(r#"{"":"v","x":{"":"w"}}"#), "vx.w");
}

#[test]
fn nesting_uses_dotted_prefixes_and_indexes() {
    assert_eq!(
        ok(
            r#"{"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"m":[[1,2],[3,[4]]],"e":{},"l":[]}"#
        ),
        "items.0.skuA1items.0.qty2items.1.skuB2items.1.qty1m.0.01m.0.12m.1.03m.1.1.04"
    );
}

#[test]
fn whitespace_around_tokens_is_ignored() {
    assert_eq!(
        ok(" \t\r\n{ \"a\" :\"1\" ,\r\n\"n\":{ \"x\" : 1 , \"y\" : [ true , null ] } , \"f\" : 1.5 }\n "),
        "a1n.x1n.y.01n.y.1f1.5"
    );
}

#[test]
fn signature_scalars_are_skipped_but_signature_containers_are_not() {
    assert_eq!(
        ok(r#"{"signature":"abc","a":"1","extra":{"signature":"z","o":"1"}}"#),
        "a1extra.o1"
    );
    assert_eq!(
        ok(r#"{"a":"1","signature":{"x":"1","signature":"s"}}"#),
        "a1signature.x1"
    );
    assert_eq!(
        ok(r#"{"a":"1","signature":["p","q"]}"#),
        "a1signature.0psignature.1q"
    );
    assert_eq!(
        ok(r#"{"a":"1","signature":12,"Signature":"k"}"#),
        "a1Signaturek"
    );
    assert_eq!(ok(r#"{"signatur\u0065":"x","a":"1"}"#), "a1");
}

#[test]
fn top_level_signature_location_is_reported() {
    let body = br#"{"a":"1","signature":"ab\u0063d"}"#;
    let (_, sig) = canonical_json(body, Vec::new()).unwrap();
    assert_eq!(sig, Some(&br"ab\u0063d"[..]));
    let (_, sig) = canonical_json(br#"{"x":{"signature":"n"}}"#, Vec::new()).unwrap();
    assert_eq!(sig, None);
    let (_, sig) = canonical_json(br#"{"signature":7}"#, Vec::new()).unwrap();
    assert_eq!(sig, None);
}
