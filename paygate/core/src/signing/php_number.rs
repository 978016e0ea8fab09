//! Numbers as PHP 8 prints them when a decoded JSON value is concatenated
//! into the signature string.
//!
//! `json_decode($body, true)` turns an integer token that fits in a PHP int
//! (i64) into an `int`, and every other number token (fractions, exponents,
//! integers outside the i64 range) into a `float`. Concatenation then prints
//! an `int` in plain decimal and a `float` with `zend_gcvt(value, precision,
//! '.', 'E')`, where `precision` is the ini setting (default 14):
//!
//! * 14 significant digits, correctly rounded (ties to even, as `zend_dtoa`
//!   mode 2 does), trailing zeros removed (except in one zend_dtoa corner:
//!   see [`keeps_trailing_zeros`]);
//! * with `decpt` the position of the decimal point relative to the digits
//!   (`0.d1d2... x 10^decpt`), exponential form when `decpt < -3` or
//!   `decpt > 14`, written `d.dddE+x` with at least one fractional digit
//!   (`1.0E+25`, `1.5E-7`) and an unpadded signed exponent;
//! * otherwise plain decimal (`100.1`, `0.0001`, `10000000000000`);
//! * `0.0` is `0`, `-0.0` is `-0`, infinities are `INF` / `-INF`.
//!
//! Everything is formatted on the stack; nothing allocates.

use core::fmt::Write as _;

use super::sink::ByteSink;

/// PHP's default `precision` ini setting.
const PRECISION: usize = 14;

/// A fixed-capacity `fmt::Write` target on the stack.
struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    const fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: u8) {
        if self.len < self.buf.len() {
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }
}

impl core::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let bytes = s.as_bytes();
        if self.buf.len() - self.len < bytes.len() {
            return Err(core::fmt::Error);
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

/// Writes `value` as PHP 8 prints a float with the default `precision=14`
/// (`(string)$float`, `"$float"`, `'' . $float`).
pub fn write_php_float<S: ByteSink + ?Sized>(value: f64, sink: &mut S) {
    if value.is_nan() {
        sink.write(b"NAN");
        return;
    }
    if value.is_infinite() {
        sink.write(if value < 0.0 { b"-INF" } else { b"INF" });
        return;
    }
    if value == 0.0 {
        sink.write(if value.is_sign_negative() {
            b"-0"
        } else {
            b"0"
        });
        return;
    }

    // `{:.13e}` gives 14 significant digits, correctly rounded with ties to
    // even, exactly like zend_dtoa(value, 2, 14): "d.ddddddddddddde<exp>".
    let mut sci = StackBuf::new();
    if write!(sci, "{:.*e}", PRECISION - 1, value.abs()).is_err() {
        // Cannot happen: the longest output is 1 + 1 + 13 + 1 + 4 bytes.
        sink.write(b"NAN");
        return;
    }
    let sci = sci.as_bytes();
    let e_at = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let mantissa = &sci[..e_at];
    let exponent = parse_exponent(sci.get(e_at + 1..).unwrap_or(&[]));

    // The significant digits, without the decimal point and trailing zeros.
    let mut digits = [0u8; PRECISION];
    let mut ndigits = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        if ndigits < PRECISION {
            digits[ndigits] = b;
            ndigits += 1;
        }
    }
    if !keeps_trailing_zeros(value.abs()) {
        while ndigits > 1 && digits[ndigits - 1] == b'0' {
            ndigits -= 1;
        }
    }
    let digits = &digits[..ndigits];
    // zend_dtoa's decpt: value = 0.d1d2... x 10^decpt.
    let decpt = exponent + 1;

    let mut out = StackBuf::new();
    if value < 0.0 {
        out.push(b'-');
    }
    // zend_gcvt: `if (decpt < 0 ? decpt < -3 : decpt > ndigit)`.
    if decpt < -3 || decpt > PRECISION as i32 {
        // Exponential format: d.ddd E sign exp (at least one fractional digit).
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() == 1 {
            out.push(b'0');
        } else {
            out.extend(&digits[1..]);
        }
        out.push(b'E');
        let exp = decpt - 1;
        out.push(if exp < 0 { b'-' } else { b'+' });
        let mut buf = itoa::Buffer::new();
        out.extend(buf.format(exp.unsigned_abs()).as_bytes());
    } else if decpt < 0 {
        // 0.000ddd
        out.extend(b"0.");
        for _ in decpt..0 {
            out.push(b'0');
        }
        out.extend(digits);
    } else {
        let decpt = decpt as usize;
        // Integer part, padded with zeros past the significant digits.
        for i in 0..decpt {
            out.push(digits.get(i).copied().unwrap_or(b'0'));
        }
        if digits.len() > decpt {
            if decpt == 0 {
                out.push(b'0');
            }
            out.push(b'.');
            out.extend(&digits[decpt..]);
        }
    }
    sink.write(out.as_bytes());
}

/// zend_dtoa's one exception to "trailing zeros are suppressed".
///
/// For an integer below 1e15, zend_dtoa first tries its floating-point fast
/// path, which strips trailing zeros, and falls back to its "small integer"
/// path only when the digit after the 14th is an exact tie (a 15-digit
/// integer ending in 5). That path rounds half to even and, when it rounds
/// down, returns all 14 digits unstripped: PHP prints 123456789012305.0 as
/// `1.2345678901230E+14` and 100000000000005.0 as `1.0000000000000E+14`.
/// (Rounding up never leaves a trailing zero.)
fn keeps_trailing_zeros(abs: f64) -> bool {
    if !(1e14..1e15).contains(&abs) || abs.fract() != 0.0 {
        return false;
    }
    // Exact: every integer below 2^53 converts losslessly.
    let int = abs as u64;
    int % 10 == 5 && (int / 10).is_multiple_of(2)
}

fn parse_exponent(s: &[u8]) -> i32 {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let mut value = 0i32;
    for &d in digits {
        value = value * 10 + i32::from(d - b'0');
    }
    if negative {
        -value
    } else {
        value
    }
}

/// Writes a validated JSON number token as PHP prints it after
/// `json_decode($body, true)`: an integer token within the i64 range as a
/// PHP int (so `-0` prints `0`), anything else as a PHP float (integers
/// outside the i64 range included; `1e400` overflows to `INF`).
///
/// The token must already match the JSON number grammar; on anything else
/// this still writes something and never panics.
pub fn write_php_json_number<S: ByteSink + ?Sized>(raw: &[u8], sink: &mut S) {
    let is_integer = !raw.iter().any(|&b| matches!(b, b'.' | b'e' | b'E'));
    let Ok(text) = core::str::from_utf8(raw) else {
        sink.write(raw);
        return;
    };
    if is_integer {
        // Printing the parsed value normalises "-0" to "0", as PHP's strtol does.
        if let Ok(int) = text.parse::<i64>() {
            let mut buf = itoa::Buffer::new();
            sink.write(buf.format(int).as_bytes());
            return;
        }
    }
    match text.parse::<f64>() {
        Ok(value) => write_php_float(value, sink),
        Err(_) => sink.write(raw),
    }
}

#[cfg(test)]
// The literals are written as a PHP payload would send them.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut out = Vec::new();
        write_php_float(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn number(raw: &str) -> String {
        let mut out = Vec::new();
        write_php_json_number(raw.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_print_like_php_precision_14() {
        let cases: &[(f64, &str)] = &[
            (100.10, "100.1"),
            (1e3, "1000"),
            (1e25, "1.0E+25"),
            (0.1, "0.1"),
            (0.30000000000000004, "0.3"),
            (1e15, "1.0E+15"),
            (1e14, "1.0E+14"),
            (1e13, "10000000000000"),
            (99999999999999.9, "1.0E+14"),
            (123456789012345.678, "1.2345678901235E+14"),
            (1.5e-7, "1.5E-7"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (0.00012345, "0.00012345"),
            (-0.0, "-0"),
            (0.0, "0"),
            (f64::INFINITY, "INF"),
            (f64::NEG_INFINITY, "-INF"),
            (2.5, "2.5"),
            (-1.5e300, "-1.5E+300"),
            (1e-300, "1.0E-300"),
            (5e-324, "4.9406564584125E-324"),
            (f64::MAX, "1.7976931348623E+308"),
            (-100.0, "-100"),
            (1.0, "1"),
            (0.5, "0.5"),
            (123.456, "123.456"),
            (9.223372036854776e18, "9.2233720368548E+18"),
        ];
        for &(v, want) in cases {
            assert_eq!(float(v), want, "{v:e}");
        }
    }

    #[test]
    fn fifteen_digit_integer_ties_keep_their_zeros_like_zend_dtoa() {
        // PHP 8.2 output, zend_dtoa's "small integer" path.
        assert_eq!(float(713427812991805.0), "7.1342781299180E+14");
        assert_eq!(float(-713427812991805.0), "-7.1342781299180E+14");
        assert_eq!(float(123456789012305.0), "1.2345678901230E+14");
        assert_eq!(float(100000000000005.0), "1.0000000000000E+14");
        assert_eq!(float(500000000000005.0), "5.0000000000000E+14");
        assert_eq!(float(120000000000005.0), "1.2000000000000E+14");
        // Ties that round up, non-ties and non-integers are stripped as usual.
        assert_eq!(float(100000000000015.0), "1.0000000000002E+14");
        assert_eq!(float(999999999999995.0), "1.0E+15");
        assert_eq!(float(100000000000001.0), "1.0E+14");
        assert_eq!(float(120000000000001.0), "1.2E+14");
        assert_eq!(float(100000000000005.25), "1.0000000000001E+14");
        assert_eq!(float(713427812991804.875), "7.134278129918E+14");
        assert_eq!(float(1000000000000005.0), "1.0E+15");
        assert_eq!(number("935072035079805.00005"), "9.3507203507980E+14");
    }

    #[test]
    fn ties_round_to_even_like_zend_dtoa() {
        // PHP 8.2: echo 123456789012345.0; echo 123456789012335.0;
        assert_eq!(float(123456789012345.0), "1.2345678901234E+14");
        assert_eq!(float(123456789012335.0), "1.2345678901234E+14");
    }

    #[test]
    fn json_number_tokens_follow_json_decode_types() {
        assert_eq!(number("0"), "0");
        assert_eq!(number("-0"), "0");
        assert_eq!(number("-0.0"), "-0");
        assert_eq!(number("1000"), "1000");
        assert_eq!(number("-17"), "-17");
        assert_eq!(number("9223372036854775807"), "9223372036854775807");
        assert_eq!(number("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(number("9223372036854775808"), "9.2233720368548E+18");
        assert_eq!(number("-9223372036854775809"), "-9.2233720368548E+18");
        assert_eq!(number("100.10"), "100.1");
        assert_eq!(number("100.00"), "100");
        assert_eq!(number("1e3"), "1000");
        assert_eq!(number("1E+25"), "1.0E+25");
        assert_eq!(number("1e400"), "INF");
        assert_eq!(number("-1e400"), "-INF");
        assert_eq!(number("1e-400"), "0");
        assert_eq!(number("-1e-400"), "-0");
        assert_eq!(number("0.00001"), "1.0E-5");
    }
}
