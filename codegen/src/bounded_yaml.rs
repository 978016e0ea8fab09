//! YAML text to a `serde_yaml::Value` with a bound on how many values it
//! makes, so that memory stays proportional to the text.
//!
//! An alias (`*name`) repeats its anchor's node (`&name`) wherever it
//! appears: 100 aliases to a list of 100 000 items are 200 KB of text and
//! ten million values (2.4 GB and half a minute before this bound).
//! serde_yaml's own guard only counts alias jumps, not the values they
//! copy, so the values are counted here, as they are made. Hand-written
//! because serde_yaml offers no such limit; it mirrors `Value`'s own
//! `Deserialize`.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_yaml::{Mapping, Number, Value};

/// The most values (scalars, lists and maps, each counted once wherever an
/// alias repeats it) read from a YAML text of `len` bytes: `len` plus
/// 100 000. Without aliases a text holds at most one value per two bytes, so
/// only alias expansion can reach it.
pub(crate) fn max_values(len: usize) -> usize {
    len.saturating_add(100_000)
}

/// Parses YAML text into a value, refusing it when it makes more than
/// [`max_values`] values.
pub(crate) fn from_str(text: &str) -> Result<Value, serde_yaml::Error> {
    let budget = max_values(text.len());
    let left = Cell::new(budget);
    Counted {
        left: &left,
        budget,
    }
    .deserialize(serde_yaml::Deserializer::from_str(text))
}

/// One value, counted against the values left.
#[derive(Clone, Copy)]
struct Counted<'b> {
    left: &'b Cell<usize>,
    budget: usize,
}

impl Counted<'_> {
    fn take<E: de::Error>(self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(format_args!(
                "the document makes more than {} values (aliases `*name` repeat their anchor's node); at most the text's length in bytes plus 100000 are read",
                self.budget
            ))),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Counted<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(i.into()))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(u.into()))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Number(Number::from(f)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.take()?;
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.take()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.take()?;
        let mut mapping = Mapping::new();
        while let Some(key) = map.next_key_seed(self)? {
            let value = map.next_value_seed(self)?;
            // As `serde_yaml::Value`: a repeated key is an error.
            if mapping.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate entry with key {}",
                    describe(&key)
                )));
            }
            mapping.insert(key, value);
        }
        Ok(Value::Mapping(mapping))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Value, A::Error> {
        Err(de::Error::custom(
            "a YAML tag (`!name`) is not read in a spec or rules file",
        ))
    }
}

fn describe(key: &Value) -> String {
    match key {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => "(a non-scalar key)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_yaml_reads() {
        let text =
            "a: [1, -2, 3.5, true, null, ~, 'x']\nb: &n {c: d}\ne: *n\n18446744073709551615: big\n";
        let expected: Value = serde_yaml::from_str(text).unwrap();
        assert_eq!(from_str(text).unwrap(), expected);
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let e = from_str("a: 1\na: 2\n").unwrap_err().to_string();
        assert!(e.contains("duplicate entry with key \"a\""), "{e}");
    }

    #[test]
    fn alias_expansion_past_the_budget_is_an_error() {
        let items = vec!["x"; 20_000].join(",");
        let aliases = ["*a"; 10].join(",");
        let text = format!("a: &a [{items}]\nb: [{aliases}]\n");
        let e = from_str(&text).unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
    }
}
