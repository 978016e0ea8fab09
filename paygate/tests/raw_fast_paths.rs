//! The raw-JSON walk's fast paths keep its documented behaviour: UTF-8 is
//! validated lazily but still reported first, non-ASCII text is signed as
//! sent, and a dotted prefix too long for the walk's stack buffer is still
//! written in full.

use paygate::signing::{canonical_json, JsonError};

fn canonical(body: &[u8]) -> Result<String, JsonError> {
    let (out, _) = canonical_json(body, Vec::new())?;
    Ok(String::from_utf8(out).expect("the canonical string of valid JSON is UTF-8"))
}

#[test]
fn invalid_utf8_is_reported_before_any_other_error() {
    let cases: &[(&[u8], usize)] = &[
        // Valid JSON apart from the byte.
        (b"{\"a\":\"\xff\"}", 6),
        (b"{\"\xff\":1}", 2),
        (b"{\"a\":1}\xff", 7),
        // A syntax error, a duplicate key, too deep, not an object: the
        // invalid byte (before or after the other fault) wins.
        (b"{\"a\":01,\"b\":\"\xc0\xaf\"}", 13),
        (b"{\"b\":\"\xed\xa0\x80\",\"a\":01}", 6),
        (b"{\"a\":1,\"a\":2,\"b\":\"\xe6\x97\"}", 18),
        (b"{\"x\":\"\xf0\x28\x8c\x28\",\"x\":2}", 6),
        (b"[\"\xff\"]", 2),
        (b"\xff{}", 0),
        (b"{\"a\":\xff}", 5),
        (
            b"{\"a\":[[[[[[[[[[[[[[[[[[[[\"\xff\"]]]]]]]]]]]]]]]]]]]]}",
            26,
        ),
    ];
    for &(body, offset) in cases {
        assert_eq!(
            canonical(body),
            Err(JsonError::InvalidUtf8 { offset }),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn non_ascii_text_is_signed_as_sent() {
    let body = r#"{"é":"café","名前":"日本語のテキストはここにあります","k":"x\u00e9y","n":{"ü":"ö","plain":"ascii after non-ascii \"quoted\""}}"#;
    assert_eq!(
        canonical(body.as_bytes()).unwrap(),
        "écafé名前日本語のテキストはここにありますkxéyn.üön.plainascii after non-ascii \"quoted\""
    );
    // Control characters are still rejected after non-ASCII text.
    assert!(matches!(
        canonical("{\"é\":\"ü\",\"a\":\"x\ty\"}".as_bytes()),
        Err(JsonError::Syntax { .. })
    ));
}

#[test]
fn strings_of_every_length_end_where_they_should() {
    for len in 0..80 {
        let value: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        for tail in ["", " ", ",\"z\":1"] {
            let body = format!("{{\"k\":\"{value}\"{tail}}}");
            let expected = if tail.contains('z') {
                format!("k{value}z1")
            } else {
                format!("k{value}")
            };
            assert_eq!(canonical(body.as_bytes()).unwrap(), expected, "{body}");
            // Unterminated at every length.
            let cut = format!("{{\"k\":\"{value}");
            assert!(matches!(
                canonical(cut.as_bytes()),
                Err(JsonError::Syntax { .. })
            ));
        }
    }
}

#[test]
fn long_prefixes_are_written_in_full() {
    // Five levels of 90-byte keys: the prefix outgrows the stack buffer on
    // the way down and fits again on the way up.
    let key = |c: char| c.to_string().repeat(90);
    let mut body = String::from("{");
    let mut expected = String::new();
    let mut prefix = String::new();
    for c in ['a', 'b', 'c', 'd', 'e'] {
        body.push_str(&format!("\"{}\":{{\"v\":\"{c}\",", key(c)));
        prefix.push_str(&key(c));
        prefix.push('.');
        expected.push_str(&format!("{prefix}v{c}"));
    }
    body.push_str("\"leaf\":1");
    expected.push_str(&format!("{prefix}leaf1"));
    for c in ['e', 'd', 'c', 'b', 'a'] {
        body.push_str(&format!("}},\"after_{c}\":\"{c}\""));
        prefix.truncate(prefix.len() - 91);
        expected.push_str(&format!("{prefix}after_{c}{c}"));
    }
    body.push('}');
    assert_eq!(canonical(body.as_bytes()).unwrap(), expected);

    // An escaped key in a long prefix is written decoded.
    let long = "k".repeat(300);
    let body = format!("{{\"{long}\":{{\"\\u00e9\":{{\"x\":[true,null]}}}}}}");
    assert_eq!(
        canonical(body.as_bytes()).unwrap(),
        format!("{long}.é.x.01{long}.é.x.1")
    );
}
