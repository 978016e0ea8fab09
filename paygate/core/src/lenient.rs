//! Reading wire values as leniently as the documentation writes them.
//!
//! The spec says `provider_id` is an integer, but the documentation's own
//! requests send `"provider_id": "9209"` and the POS withdrawal documents it
//! as a string (`"1003"`). Generated fields that the spec declares as
//! "an integer, or a string of digits" read through these functions and are
//! always sent as JSON integers (PHP renders both the same way, so the
//! signature does not change).

use core::fmt;

use serde::de::{self, Deserializer, Visitor};

struct IntOrDigits;

impl Visitor<'_> for IntOrDigits {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, or a string of digits")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        let digits = !v.is_empty() && v.len() <= 18 && v.bytes().all(|b| b.is_ascii_digit());
        if !digits {
            return Err(E::invalid_value(de::Unexpected::Str(v), &self));
        }
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// An integer, or a string of (at most 18) digits.
pub fn int_or_digits<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    deserializer.deserialize_any(IntOrDigits)
}

/// [`int_or_digits`] for an optional field (`null` or absent is `None`).
pub fn opt_int_or_digits<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a string of digits, or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            int_or_digits(d).map(Some)
        }
    }
    deserializer.deserialize_option(Opt)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Body {
        #[serde(deserialize_with = "super::int_or_digits")]
        id: i64,
        #[serde(default, deserialize_with = "super::opt_int_or_digits")]
        other: Option<i64>,
    }

    #[test]
    fn integers_and_digit_strings_read_the_same() {
        let a: Body = serde_json::from_str(r#"{"id": 9209, "other": "1003"}"#).unwrap();
        let b: Body = serde_json::from_str(r#"{"id": "9209", "other": 1003}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.other, Some(1003));
        let c: Body = serde_json::from_str(r#"{"id": "14"}"#).unwrap();
        assert_eq!(c.other, None);
        for bad in [
            r#"{"id": "9209a"}"#,
            r#"{"id": ""}"#,
            r#"{"id": "-1"}"#,
            r#"{"id": " 1"}"#,
            r#"{"id": 1.5}"#,
            r#"{"id": "9999999999999999999"}"#,
            r#"{"id": true}"#,
        ] {
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
    }
}
