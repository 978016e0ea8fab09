//! Money without floats.
//!
//! [`Amount`] is what merchants send: a non-negative decimal held as minor
//! units, always sent as a string with two fractional digits (`"100.00"`).
//! It reads leniently, as the documentation's own examples write amounts:
//! `"100.00"`, `"1100"`, `"100.5"` or the JSON numbers `1000` and `100.5`.
//! [`Decimal`] is what the gateway sends back: a JSON number or numeric
//! string of any scale, held exactly, remembering its wire form so that it
//! signs and re-serializes as it was received.

use core::fmt;
use core::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::signing::__private::{write_php_float, ByteSink, Canonicalizer, Segment};
use crate::signing::{SignError, SignValue};

/// Why a text is not a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not digits with at most two fractional digits.
    #[error(
        "`{0}` is not an amount: digits with at most two after the point (like `100.00` or `1100`)"
    )]
    Format(String),
    /// More digits than the type holds.
    #[error("`{0}` is too large")]
    Overflow(String),
}

/// A request amount: non-negative, held as minor units, sent with two
/// decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount {
    minor: u64,
}

impl Amount {
    /// The amount `minor / 100`.
    pub const fn from_minor(minor: u64) -> Self {
        Amount { minor }
    }

    /// A whole amount (`major.00`), or `None` on overflow.
    pub const fn from_major(major: u64) -> Option<Self> {
        match major.checked_mul(100) {
            Some(minor) => Some(Amount { minor }),
            None => None,
        }
    }

    /// The amount in minor units (hundredths).
    pub const fn minor(self) -> u64 {
        self.minor
    }

    /// Whether this amount is a whole multiple of `step` (a zero step
    /// divides nothing but zero).
    pub const fn is_multiple_of(self, step: Amount) -> bool {
        // `u64::is_multiple_of` already treats a zero step that way.
        self.minor.is_multiple_of(step.minor)
    }

    /// Renders `major.minor` into a stack buffer: digits written from the
    /// right two at a time, the cents first (no formatting machinery, no
    /// copy).
    fn render(self, buf: &mut [u8; 24]) -> &[u8] {
        // `u64::MAX` has 20 digits: with the point, 21 bytes at most.
        let pair = |n: u64| {
            let i = 2 * (n % 100) as usize;
            [DIGIT_PAIRS[i], DIGIT_PAIRS[i + 1]]
        };
        buf[21..24].copy_from_slice(&[b'.', 0, 0]);
        buf[22..24].copy_from_slice(&pair(self.minor));
        let mut major = self.minor / 100;
        let mut i = 21;
        while major >= 100 {
            i -= 2;
            buf[i..i + 2].copy_from_slice(&pair(major));
            major /= 100;
        }
        if major >= 10 {
            i -= 2;
            buf[i..i + 2].copy_from_slice(&pair(major));
        } else {
            i -= 1;
            buf[i] = b'0' + major as u8;
        }
        &buf[i..]
    }
}

/// `"00"` to `"99"`, one after another.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0; 200];
    let mut n = 0;
    while n < 100 {
        pairs[2 * n] = b'0' + (n / 10) as u8;
        pairs[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    pairs
};

impl FromStr for Amount {
    type Err = AmountError;

    /// Reads `100.00`, `100.5` or `100`: the documentation asks for two
    /// decimals ("should be in format with two digits after point") but
    /// its own examples send `"1100"`, so fewer are accepted too.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let format_error = || AmountError::Format(text.to_owned());
        let (major, minor) = match text.split_once('.') {
            Some((major, minor)) => (major, minor),
            None => (text, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if major.is_empty() || !all_digits(major) || !all_digits(minor) {
            return Err(format_error());
        }
        let cents: u64 = match minor.as_bytes() {
            [] if !text.contains('.') => 0,
            [d] => u64::from(d - b'0') * 10,
            [d, e] => u64::from(d - b'0') * 10 + u64::from(e - b'0'),
            _ => return Err(format_error()),
        };
        let overflow = || AmountError::Overflow(text.to_owned());
        let major: u64 = major.parse().map_err(|_| overflow())?;
        major
            .checked_mul(100)
            .and_then(|m| m.checked_add(cents))
            .map(Amount::from_minor)
            .ok_or_else(overflow)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        // `render` writes only ASCII digits and a point.
        f.write_str(core::str::from_utf8(self.render(&mut buf)).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "an amount like \"100.00\" (a string or a number, at most two decimals)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Amount::from_major(v).ok_or_else(|| E::custom(AmountError::Overflow(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(AmountError::Format(v.to_string()))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // Rust prints the shortest text that reads back as `v`: the
                // decimal the sender wrote, for any amount of sane size.
                // Exponents (`1e25`) and more than two decimals are refused.
                if !v.is_finite() {
                    return Err(E::custom("the amount is out of range"));
                }
                v.to_string().parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

impl SignValue for Amount {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        let mut buf = [0u8; 24];
        out.scalar(key, self.render(&mut buf));
        Ok(())
    }
}

/// How a [`Decimal`] appeared on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireForm {
    /// A JSON integer (`100`).
    Integer,
    /// A JSON number with a fraction or exponent (`100.5`): PHP decodes it
    /// as a float, and so renders it with 14 significant digits.
    Float,
    /// A JSON string holding a decimal number (`"100.50"`).
    Text,
}

/// Why a received value is not a decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal number paygate can hold exactly")]
pub struct DecimalError(String);

/// An exact decimal received from the gateway: `mantissa * 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u8,
    form: WireForm,
}

impl Decimal {
    /// A whole number that was sent as a JSON integer.
    pub const fn from_integer(value: i64) -> Self {
        Decimal {
            mantissa: value as i128,
            scale: 0,
            form: WireForm::Integer,
        }
    }

    /// Parses decimal text (`-12.50`, `100`), remembering `form`.
    pub fn parse(text: &str, form: WireForm) -> Result<Self, DecimalError> {
        let error = || DecimalError(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) {
            return Err(error());
        }
        if unsigned.contains('.') && frac_part.is_empty() {
            return Err(error());
        }
        let scale = u8::try_from(frac_part.len()).map_err(|_| error())?;
        let mut mantissa: i128 = 0;
        for b in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or_else(error)?;
        }
        if scale > 38 {
            return Err(error());
        }
        Ok(Decimal {
            mantissa: if negative { -mantissa } else { mantissa },
            scale,
            form,
        })
    }

    /// The digits without the point.
    pub const fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// How many of the digits are after the point.
    pub const fn scale(&self) -> u8 {
        self.scale
    }

    /// How the value appeared on the wire.
    pub const fn form(&self) -> WireForm {
        self.form
    }

    /// The value in minor units (hundredths) if it is exactly representable
    /// as a non-negative amount with at most two decimals.
    pub fn to_amount(&self) -> Option<Amount> {
        if self.mantissa < 0 || self.scale > 2 {
            return None;
        }
        let factor = 10i128.pow(u32::from(2 - self.scale));
        let minor = self.mantissa.checked_mul(factor)?;
        u64::try_from(minor).ok().map(Amount::from_minor)
    }

    /// The value as an `f64`, for the PHP rendering of a float; never used
    /// for arithmetic.
    fn php_float(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(self.mantissa.unsigned_abs());
        let scale = usize::from(self.scale);
        if self.mantissa < 0 {
            f.write_str("-")?;
        }
        if scale == 0 {
            return f.write_str(digits);
        }
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{int}.{frac}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.form {
            WireForm::Integer => match i64::try_from(self.mantissa) {
                Ok(v) if self.scale == 0 => serializer.serialize_i64(v),
                _ => serializer.serialize_f64(self.php_float()),
            },
            WireForm::Float => serializer.serialize_f64(self.php_float()),
            WireForm::Text => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DecimalVisitor;
        impl Visitor<'_> for DecimalVisitor {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a decimal string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal::from_integer(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal {
                    mantissa: i128::from(v),
                    scale: 0,
                    form: WireForm::Integer,
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
                if !v.is_finite() {
                    return Err(E::custom("the number is out of range"));
                }
                // Rust prints the shortest text that reads back as `v`: the
                // decimal the sender wrote, for any amount of sane size.
                Decimal::parse(&v.to_string(), WireForm::Float).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
                Decimal::parse(v, WireForm::Text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DecimalVisitor)
    }
}

impl SignValue for Decimal {
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        match self.form {
            WireForm::Integer if self.scale == 0 => {
                let mut buf = itoa::Buffer::new();
                out.scalar(key, buf.format(self.mantissa).as_bytes());
            }
            WireForm::Integer | WireForm::Float => {
                let value = self.php_float();
                out.scalar_with(key, |sink| write_php_float(value, sink));
            }
            WireForm::Text => {
                let text = self.to_string();
                out.scalar(key, text.as_bytes());
            }
        }
        Ok(())
    }
}

/// A field the gateway sends sometimes as a string and sometimes as a number
/// (for example `service_version`: `"1.03/1.14|..."` or `11.1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TextOrNumber {
    /// Sent as a JSON string.
    Text(String),
    /// Sent as a JSON number.
    Number(Decimal),
}

impl Serialize for TextOrNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TextOrNumber::Text(text) => serializer.serialize_str(text),
            TextOrNumber::Number(number) => number.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for TextOrNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrNumberVisitor;
        impl Visitor<'_> for TextOrNumberVisitor {
            type Value = TextOrNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TextOrNumber, E> {
                Ok(TextOrNumber::Number(Decimal::from_integer(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TextOrNumber, E> {
                DecimalVisitorProxy.visit_u64(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TextOrNumber, E> {
                DecimalVisitorProxy.visit_f64(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TextOrNumber, E> {
                Ok(TextOrNumber::Text(v.to_owned()))
            }
        }
        /// Reuses `Decimal`'s number handling for the numeric cases.
        struct DecimalVisitorProxy;
        impl DecimalVisitorProxy {
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TextOrNumber, E> {
                Decimal::deserialize(de::value::U64Deserializer::<E>::new(v))
                    .map(TextOrNumber::Number)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TextOrNumber, E> {
                Decimal::deserialize(de::value::F64Deserializer::<E>::new(v))
                    .map(TextOrNumber::Number)
            }
        }
        deserializer.deserialize_any(TextOrNumberVisitor)
    }
}

impl SignValue for TextOrNumber {
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        match self {
            TextOrNumber::Text(text) => text.write_value(key, out),
            TextOrNumber::Number(number) => number.write_value(key, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_up_to_two_decimals() {
        assert_eq!("100.00".parse::<Amount>().unwrap().minor(), 10000);
        assert_eq!("0.05".parse::<Amount>().unwrap().to_string(), "0.05");
        // The documentation's own examples send "1100" (seed 002).
        assert_eq!("1100".parse::<Amount>().unwrap().minor(), 110_000);
        assert_eq!("100.5".parse::<Amount>().unwrap().minor(), 10_050);
        for bad in [
            "100.000", ".50", "100.", "1e3", "-1.00", "1,00", "", "1.0a", " 1", "+1",
        ] {
            assert!(bad.parse::<Amount>().is_err(), "{bad}");
        }
        assert!(matches!(
            "99999999999999999999.00".parse::<Amount>(),
            Err(AmountError::Overflow(_))
        ));
    }

    #[test]
    fn amounts_render_with_two_decimals() {
        for (minor, text) in [
            (0, "0.00"),
            (5, "0.05"),
            (100, "1.00"),
            (999, "9.99"),
            (1_000, "10.00"),
            (110_000, "1100.00"),
            (1_234_567, "12345.67"),
            (u64::MAX, "184467440737095516.15"),
        ] {
            assert_eq!(Amount::from_minor(minor).to_string(), text);
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let minor = seed >> (seed % 64);
            let expected = format!("{}.{:02}", minor / 100, minor % 100);
            assert_eq!(Amount::from_minor(minor).to_string(), expected);
        }
    }

    #[test]
    fn amounts_serialize_as_strings() {
        let a = Amount::from_minor(123456);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"1234.56\"");
        assert_eq!(serde_json::from_str::<Amount>("\"1234.56\"").unwrap(), a);
        // Numbers are read too: the PHP signing sample sends `1000`.
        assert_eq!(serde_json::from_str::<Amount>("1234.56").unwrap(), a);
        assert_eq!(
            serde_json::from_str::<Amount>("1000").unwrap().minor(),
            100_000
        );
        for bad in [
            "-1",
            "1e25",
            "1.234",
            "null",
            "true",
            "18446744073709551615",
        ] {
            assert!(serde_json::from_str::<Amount>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn multiples_of_a_step() {
        let five = Amount::from_major(5).unwrap();
        assert!(Amount::from_major(1100).unwrap().is_multiple_of(five));
        assert!(!Amount::from_minor(110050).is_multiple_of(five));
    }

    #[test]
    fn decimals_keep_their_wire_form() {
        let int: Decimal = serde_json::from_str("100").unwrap();
        assert_eq!(
            (int.to_string().as_str(), int.form()),
            ("100", WireForm::Integer)
        );
        let float: Decimal = serde_json::from_str("100.10").unwrap();
        assert_eq!(
            (float.to_string().as_str(), float.form()),
            ("100.1", WireForm::Float)
        );
        let text: Decimal = serde_json::from_str("\"100.10\"").unwrap();
        assert_eq!(
            (text.to_string().as_str(), text.form()),
            ("100.10", WireForm::Text)
        );
        assert_eq!(serde_json::to_string(&text).unwrap(), "\"100.10\"");
        assert_eq!(serde_json::to_string(&int).unwrap(), "100");
        assert_eq!(text.to_amount(), Some(Amount::from_minor(10010)));
        assert!(serde_json::from_str::<Decimal>("\"abc\"").is_err());
        assert_eq!(
            Decimal::parse("-0.05", WireForm::Text).unwrap().to_string(),
            "-0.05"
        );
    }
}
