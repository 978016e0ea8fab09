//! Decoding the contents of JSON string literals on the fly.
//!
//! The raw-JSON reader validates every string before handing out its
//! contents, so these helpers may assume well-formed escapes; on malformed
//! input they still never panic (they write U+FFFD for a broken escape).

use super::sink::ByteSink;

/// Writes the decoded bytes of the contents of a JSON string literal.
pub(crate) fn write_unescaped<S: ByteSink + ?Sized>(raw: &[u8], sink: &mut S) {
    let mut rest = raw;
    while !rest.is_empty() {
        match rest.iter().position(|&b| b == b'\\') {
            None => {
                sink.write(rest);
                return;
            }
            Some(at) => {
                if at > 0 {
                    sink.write(&rest[..at]);
                }
                let (decoded, used) = decode_escape(&rest[at..]);
                let mut buf = [0u8; 4];
                sink.write(decoded.encode_utf8(&mut buf).as_bytes());
                rest = &rest[at + used..];
            }
        }
    }
}

/// Compares the decoded contents of a JSON string literal with `expected`,
/// without allocating.
pub(crate) fn unescaped_eq(raw: &[u8], expected: &[u8]) -> bool {
    let mut cmp = EqSink { expected, ok: true };
    write_unescaped(raw, &mut cmp);
    cmp.ok && cmp.expected.is_empty()
}

struct EqSink<'e> {
    expected: &'e [u8],
    ok: bool,
}

impl ByteSink for EqSink<'_> {
    fn write(&mut self, bytes: &[u8]) {
        if self.ok && self.expected.starts_with(bytes) {
            self.expected = &self.expected[bytes.len()..];
        } else {
            self.ok = false;
        }
    }
}

/// Decodes one escape sequence at the start of `s` (which begins with `\`);
/// returns the character and how many bytes it used.
pub(crate) fn decode_escape(s: &[u8]) -> (char, usize) {
    match s.get(1) {
        Some(b'"') => ('"', 2),
        Some(b'\\') => ('\\', 2),
        Some(b'/') => ('/', 2),
        Some(b'b') => ('\u{8}', 2),
        Some(b'f') => ('\u{c}', 2),
        Some(b'n') => ('\n', 2),
        Some(b'r') => ('\r', 2),
        Some(b't') => ('\t', 2),
        Some(b'u') => {
            let Some(high) = hex4(s.get(2..6)) else {
                return (char::REPLACEMENT_CHARACTER, s.len().min(2));
            };
            if (0xD800..0xDC00).contains(&high) {
                if s.get(6) == Some(&b'\\') && s.get(7) == Some(&b'u') {
                    if let Some(low) = hex4(s.get(8..12)) {
                        if (0xDC00..0xE000).contains(&low) {
                            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                            return (
                                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
                                12,
                            );
                        }
                    }
                }
                return (char::REPLACEMENT_CHARACTER, 6);
            }
            (
                char::from_u32(high).unwrap_or(char::REPLACEMENT_CHARACTER),
                6,
            )
        }
        _ => (char::REPLACEMENT_CHARACTER, s.len().min(2)),
    }
}

/// Parses four hex digits.
pub(crate) fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    let mut value = 0u32;
    for &d in digits {
        value = (value << 4) | (d as char).to_digit(16)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> String {
        let mut out = Vec::new();
        write_unescaped(raw.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decodes_every_escape() {
        assert_eq!(
            decode(r#"a\"b\\c\/d\n\t\u00e9\ud83d\ude00"#),
            "a\"b\\c/d\n\té😀"
        );
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode(""), "");
    }

    #[test]
    fn compares_decoded_text() {
        assert!(unescaped_eq(br"signatur\u0065", b"signature"));
        assert!(!unescaped_eq(br"signatur", b"signature"));
        assert!(!unescaped_eq(br"signatures", b"signature"));
    }
}
