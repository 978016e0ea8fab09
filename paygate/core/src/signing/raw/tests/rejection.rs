//! Bodies that cannot be signed: duplicate keys, invalid UTF-8, lone
//! surrogates, malformed JSON, other top levels; and what the errors say.

use super::super::VerifyError;
use super::*;

#[test]
fn duplicate_keys_are_rejected() {
    let dup = |body: &str| match canonical(body) {
        Err(JsonError::DuplicateKey { path }) => path,
        other => panic!("{body}: {other:?}"),
    };
    assert_eq!(dup(r#"{"a":"1","b":"2","a":"3"}"#), "a");
    assert_eq!(dup(r#"{"a":"1","\u0061":"3"}"#), "a");
    assert_eq!(dup(r#"{"\u0061":"1","a":"3"}"#), "a");
    assert_eq!(dup(r#"{"\u0061b":"1","a\u0062":"3"}"#), "ab");
    assert_eq!(dup(r#"{"x":{"k":"1","k":"2"},"y":"z"}"#), "x.k");
    assert_eq!(dup(r#"{"l":[{"k":1},{"k":1,"k":2}]}"#), "l.1.k");
    assert_eq!(
        dup(r#"{"signature":"x","a":"1","signature":{"s":"2"}}"#),
        "signature"
    );
    assert_eq!(dup(r#"{"a":"1","b":"2","a":{"c":"3"}}"#), "a");
    // Distinct keys that merely look alike are fine.
    assert_eq!(
        ok(r#"{"a":"1","A":"2","a ":"3","\u00e9":"4","é ":"5"}"#),
        "a1A2a 3é4é 5"
    );
    assert_eq!(ok(r#"{"x":{"k":"1"},"y":{"k":"2"}}"#), "x.k1y.k2");
}

#[test]
fn duplicate_keys_are_found_beyond_the_inline_capacity() {
    let mut body = String::from("{");
    for i in 0..100 {
        body.push_str(&format!("\"k{i}\":{i},"));
    }
    body.push_str("\"k\\u0030\":0}");
    assert_eq!(
        canonical(&body),
        Err(JsonError::DuplicateKey { path: "k0".into() })
    );
    let mut body = String::from("{");
    for i in 0..100 {
        body.push_str(&format!("\"k{i}\":{i},"));
    }
    body.push_str("\"k99\":0}");
    assert_eq!(
        canonical(&body),
        Err(JsonError::DuplicateKey { path: "k99".into() })
    );
    let mut body = String::from("{");
    for i in 0..100 {
        body.push_str(&format!("\"k\\u00e9{i}\":{i},"));
    }
    body.push_str("\"last\":0}");
    assert!(canonical(&body).is_ok());
}

#[test]
fn invalid_utf8_is_rejected() {
    assert_eq!(
        canonical_json(b"{\"a\":\"\xff\"}", Vec::new()).unwrap_err(),
        JsonError::InvalidUtf8 { offset: 6 }
    );
    // Overlong encoding, encoded surrogate, truncated sequence, in a key.
    for body in [
        &b"{\"a\":\"\xc0\xaf\"}"[..],
        b"{\"a\":\"\xed\xa0\x80\"}",
        b"{\"\xe6\x97\":1}",
        b"{\"a\":1}\xff",
    ] {
        assert!(matches!(
            canonical_json(body, Vec::new()),
            Err(JsonError::InvalidUtf8 { .. })
        ));
    }
}

#[test]
fn lone_surrogates_are_rejected() {
    assert!(syntax_error(br#"{"a":"\ud800"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"a":"\ud800x"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"a":"\ud800\u0041"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"a":"\ud800\ud800"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"a":"\udc00"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"\ude00":"1"}"#).contains("surrogate"));
    assert!(syntax_error(br#"{"a":"x\uDBFF"}"#).contains("surrogate"));
    assert_eq!(ok(r#"{"a":"\udbff\udfff"}"#), "a\u{10FFFF}");
}

#[test]
fn malformed_json_is_rejected() {
    let cases: &[&[u8]] = &[
        b"",
        b"   ",
        b"{",
        b"{\"a\":\"1\"",
        b"{\"a\":\"1\",}",
        b"{\"a\":[1,2,]}",
        b"{,}",
        b"{\"a\":}",
        b"{\"a\" \"1\"}",
        b"{\"a\":\"1\" \"b\":\"2\"}",
        b"{'a':'1'}",
        b"{a:1}",
        b"{\"a\":01}",
        b"{\"a\":-01}",
        b"{\"a\":1.}",
        b"{\"a\":.5}",
        b"{\"a\":+1}",
        b"{\"a\":1e}",
        b"{\"a\":1e+}",
        b"{\"a\":-}",
        b"{\"a\":0x10}",
        b"{\"a\":NaN}",
        b"{\"a\":Infinity}",
        b"{\"a\":-Infinity}",
        b"{\"a\":tru}",
        b"{\"a\":nul}",
        b"{\"a\":True}",
        b"{\"a\":\"1\"} x",
        b"{\"a\":\"1\"}{}",
        b"{\"a\":\"1\"}}",
        b"\xef\xbb\xbf{\"a\":\"1\"}",
        b"{\"a\":\"tab\there\"}",
        b"{\"a\":\"nl\nhere\"}",
        b"{\"a\":\"nul\x00\"}",
        b"{\"a\":\"bad \\x escape\"}",
        b"{\"a\":\"bad \\u12 escape\"}",
        b"{\"a\":\"bad \\u12G4 escape\"}",
        b"{\"a\":\"unterminated \\",
        b"{\"a\":[1 2]}",
        b"{\"a\":\"1\"]",
        b"{\"a\":[1}",
        b"{\"a\"\x0c:1}",
        b"{\"a\":1}\x00",
    ];
    for body in cases {
        let _ = syntax_error(body);
    }
}

#[test]
fn non_object_top_levels_are_rejected() {
    for body in [
        "[]", "[1,2]", "\"s\"", "42", "-1", "true", "false", "null", " [ ] ",
    ] {
        assert_eq!(canonical(body), Err(JsonError::NotAnObject), "{body}");
    }
}

#[test]
fn errors_say_where_and_why() {
    let err = canonical("{\"a\":01}").unwrap_err();
    assert_eq!(
        err,
        JsonError::Syntax {
            offset: 6,
            reason: "leading zeros are not allowed in numbers"
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid JSON at byte 6: leading zeros are not allowed in numbers"
    );
    let err = canonical("{\"a\":\"1\"").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid JSON at byte 8: unexpected end of input"
    );
    let err: Box<dyn std::error::Error> = Box::new(VerifyError::from(JsonError::NotAnObject));
    assert_eq!(err.to_string(), "the payload must be a JSON object");
}
