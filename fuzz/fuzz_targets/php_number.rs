//! PHP number rendering.
//!
//! * the first 8 bytes as f64 bits: `write_php_float` never panics, writes
//!   non-empty ASCII, and (NAN and infinities aside) the text parses back to
//!   a value within 1e-13 relative of the input (14 significant digits);
//! * the rest as a number token, both raw and mapped onto the JSON number
//!   alphabet: `write_php_json_number` never panics; for a valid JSON number
//!   it writes non-empty ASCII: the i64 in decimal for an integer token in
//!   range, else the PHP float of the parsed value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paygate::signing::__private::{write_php_float, write_php_json_number};

fn check_float(value: f64) {
    let mut out = Vec::new();
    write_php_float(value, &mut out);
    assert!(!out.is_empty(), "empty output for {value:e}");
    assert!(out.is_ascii(), "non-ASCII output for {value:e}: {out:?}");
    let text = std::str::from_utf8(&out).expect("ASCII");
    if value.is_nan() {
        assert_eq!(text, "NAN");
        return;
    }
    if value.is_infinite() {
        assert_eq!(text, if value < 0.0 { "-INF" } else { "INF" });
        return;
    }
    let back: f64 = text
        .parse()
        .unwrap_or_else(|e| panic!("{value:e} printed as {text:?}, which does not parse: {e}"));
    assert_eq!(
        back.is_sign_negative(),
        value.is_sign_negative(),
        "{value:e} -> {text}"
    );
    if value == 0.0 {
        assert_eq!(back, 0.0, "{value:e} -> {text}");
    } else {
        let relative = ((back - value) / value).abs();
        assert!(
            relative <= 1e-13,
            "{value:e} printed as {text} ({relative:e} off)"
        );
    }
}

/// RFC 8259 number grammar.
fn is_json_number(raw: &[u8]) -> bool {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while raw.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if raw.get(i) == Some(&b'-') {
        i += 1;
    }
    match raw.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if raw.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if let Some(b'e' | b'E') = raw.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = raw.get(i) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == raw.len()
}

fn check_number(raw: &[u8]) {
    let mut out = Vec::new();
    write_php_json_number(raw, &mut out);
    if !is_json_number(raw) {
        return;
    }
    assert!(!out.is_empty() && out.is_ascii(), "{raw:?} -> {out:?}");
    let text = std::str::from_utf8(raw).expect("ASCII");
    let integer = !raw.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if let (true, Ok(int)) = (integer, text.parse::<i64>()) {
        assert_eq!(out, int.to_string().into_bytes(), "{text}");
    } else {
        let value: f64 = text.parse().expect("a JSON number parses as f64");
        let mut want = Vec::new();
        write_php_float(value, &mut want);
        assert_eq!(out, want, "{text}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bits = [0u8; 8];
    let n = data.len().min(8);
    bits[..n].copy_from_slice(&data[..n]);
    check_float(f64::from_bits(u64::from_le_bytes(bits)));

    let rest = &data[n..];
    check_number(rest);
    const ALPHABET: &[u8; 16] = b"0123456789.-+eE9";
    let mapped: Vec<u8> = rest.iter().map(|b| ALPHABET[usize::from(b & 15)]).collect();
    check_number(&mapped);
});
