//! The provider rules YAML, read and validated at generation time.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use crate::error::{Diagnostics, Error};

/// One compiled piece of a phone pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhoneToken {
    Literal(String),
    Digits { allowed: String, min: u8, max: u8 },
}

#[derive(Debug, Clone)]
pub(crate) struct Phone {
    pub(crate) pattern: String,
    pub(crate) example: String,
    pub(crate) tokens: Vec<PhoneToken>,
}

#[derive(Debug, Clone)]
pub(crate) struct Country {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) currency: String,
    pub(crate) phone: Phone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Standard,
    Otp,
    Redirect,
    BankTransfer,
    PaymentPage,
}

impl Flow {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Flow::Standard => "Standard",
            Flow::Otp => "Otp",
            Flow::Redirect => "Redirect",
            Flow::BankTransfer => "BankTransfer",
            Flow::PaymentPage => "PaymentPage",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Direction {
    /// Amounts in minor units.
    pub(crate) min: Option<u64>,
    pub(crate) max: Option<u64>,
    pub(crate) step: Option<u64>,
    pub(crate) daily_max: Option<u64>,
    pub(crate) extras: Vec<String>,
    pub(crate) flow: Flow,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Provider {
    pub(crate) id: u32,
    pub(crate) name: String,
    pub(crate) country: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) phone: Option<Phone>,
    pub(crate) c2b: Option<Direction>,
    pub(crate) b2c: Option<Direction>,
    pub(crate) note: Option<String>,
    pub(crate) ambiguity: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// Sorted by code.
    pub(crate) countries: Vec<Country>,
    /// Sorted by id.
    pub(crate) providers: Vec<Provider>,
    /// How many entries `unassigned_tables` has.
    pub(crate) unassigned_tables: usize,
}

pub(crate) fn load(diag: &mut Diagnostics, text: &str) -> Result<Rules, Error> {
    let value = crate::load::parse_text(&diag.origin, text)?;
    let Some(root) = value.as_mapping() else {
        return Err(diag.rules_error("(root)", "the rules must be a mapping"));
    };
    let mut r = Reader { diag };
    for key in root.keys() {
        let known = [
            "version",
            "api",
            "api_version",
            "countries",
            "providers",
            "unassigned_tables",
        ];
        if !key.as_str().is_some_and(|k| known.contains(&k)) {
            r.diag.warn(key_text(key), "unknown top-level key; ignored");
        }
    }

    let mut countries = Vec::new();
    let mut seen_countries: BTreeMap<String, String> = BTreeMap::new();
    for (i, c) in r.seq(root, "countries", "countries")?.iter().enumerate() {
        let path = format!("countries[{i}]");
        let m = r.map(c, &path)?;
        let code = r.string(m, "code", &path)?;
        if let Some(first) = seen_countries.insert(code.clone(), path.clone()) {
            return Err(r.diag.rules_error(
                &path,
                format!("duplicate country code `{code}` (also at {first})"),
            ));
        }
        let name = r.string(m, "name", &path)?;
        let currency = r.string(m, "currency", &path)?;
        let phone_path = format!("{path}.phone");
        let phone = match m.get("phone") {
            Some(p @ Value::Mapping(_)) => r.phone(p, &phone_path)?,
            _ => {
                return Err(r.diag.rules_error(
                    &phone_path,
                    "missing the phone format (`pattern` and `example`)",
                ))
            }
        };
        countries.push(Country {
            code,
            name,
            currency,
            phone,
        });
    }
    countries.sort_by(|a, b| a.code.cmp(&b.code));

    let mut providers = Vec::new();
    let mut seen_ids: BTreeMap<u32, String> = BTreeMap::new();
    for (i, p) in r.seq(root, "providers", "providers")?.iter().enumerate() {
        let path = format!("providers[{i}]");
        let m = r.map(p, &path)?;
        let id_path = format!("{path}.id");
        let id = match m.get("id") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        };
        let Some(id) = id else {
            return Err(r.diag.rules_error(
                &id_path,
                "the provider id must be a non-negative integer below 2^32",
            ));
        };
        if let Some(first) = seen_ids.insert(id, path.clone()) {
            return Err(r.diag.rules_error(
                &path,
                format!("duplicate provider id {id}: defined at {first} and again at {path}"),
            ));
        }
        let name = r.string(m, "name", &path)?;
        let country = r.opt_string(m, "country", &path)?;
        if let Some(code) = &country {
            if !seen_countries.contains_key(code) {
                return Err(r.diag.rules_error(
                    format!("{path}.country"),
                    format!("unknown country `{code}`: it is not in `countries`"),
                ));
            }
        }
        let currency = r.opt_string(m, "currency", &path)?;
        let phone = match m.get("phone") {
            None | Some(Value::Null) => None,
            Some(ph) => Some(r.phone(ph, &format!("{path}.phone"))?),
        };
        let c2b = r.direction(m, "c2b", &path)?;
        let b2c = r.direction(m, "b2c", &path)?;
        let note = r.opt_string(m, "note", &path)?;
        let ambiguity = r.opt_string(m, "ambiguity", &path)?;
        providers.push(Provider {
            id,
            name,
            country,
            currency,
            phone,
            c2b,
            b2c,
            note,
            ambiguity,
        });
    }
    providers.sort_by_key(|p| p.id);

    let unassigned_tables = match root.get("unassigned_tables") {
        Some(Value::Sequence(s)) => s.len(),
        _ => 0,
    };
    Ok(Rules {
        countries,
        providers,
        unassigned_tables,
    })
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

struct Reader<'d> {
    diag: &'d mut Diagnostics,
}

impl Reader<'_> {
    fn map<'v>(&self, v: &'v Value, path: &str) -> Result<&'v Mapping, Error> {
        v.as_mapping()
            .ok_or_else(|| self.diag.rules_error(path, "expected a mapping"))
    }

    fn seq<'v>(&self, m: &'v Mapping, key: &str, path: &str) -> Result<&'v [Value], Error> {
        match m.get(key) {
            Some(Value::Sequence(s)) => Ok(s),
            None => Err(self.diag.rules_error(path, format!("missing `{key}`"))),
            Some(_) => Err(self.diag.rules_error(path, "expected a list")),
        }
    }

    fn string(&self, m: &Mapping, key: &str, path: &str) -> Result<String, Error> {
        self.opt_string(m, key, path)?.ok_or_else(|| {
            self.diag
                .rules_error(format!("{path}.{key}"), format!("missing `{key}`"))
        })
    }

    fn opt_string(&self, m: &Mapping, key: &str, path: &str) -> Result<Option<String>, Error> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self
                .diag
                .rules_error(format!("{path}.{key}"), "expected a string")),
        }
    }

    fn amount(&self, m: &Mapping, key: &str, path: &str) -> Result<Option<u64>, Error> {
        let at = format!("{path}.{key}");
        match m.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_amount(s)
                .map(Some)
                .ok_or_else(|| self.diag.rules_error(&at, format!("`{s}` is not an amount (digits, optionally with exactly two decimals, like `100.00`)"))),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|major| major.checked_mul(100))
                .map(Some)
                .ok_or_else(|| self.diag.rules_error(&at, format!("`{n}` is not an amount: write amounts as strings like '100.00'"))),
            Some(_) => Err(self.diag.rules_error(&at, "expected an amount string like '100.00'")),
        }
    }

    fn direction(
        &mut self,
        m: &Mapping,
        key: &str,
        path: &str,
    ) -> Result<Option<Direction>, Error> {
        let path = format!("{path}.{key}");
        let d = match m.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => self.map(v, &path)?,
        };
        let min = self.amount(d, "min", &path)?;
        let max = self.amount(d, "max", &path)?;
        let step = self.amount(d, "step", &path)?;
        let daily_max = self.amount(d, "daily_max", &path)?;
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return Err(self.diag.rules_error(
                    &path,
                    format!("min ({}) is greater than max ({})", show(lo), show(hi)),
                ));
            }
        }
        if step == Some(0) {
            return Err(self
                .diag
                .rules_error(format!("{path}.step"), "a step of zero divides nothing"));
        }
        let mut extras = Vec::new();
        match d.get("extras") {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(s)) => {
                for (i, e) in s.iter().enumerate() {
                    match e.as_str() {
                        Some(e) => extras.push(e.to_owned()),
                        None => {
                            return Err(self.diag.rules_error(
                                format!("{path}.extras[{i}]"),
                                "expected a field name",
                            ))
                        }
                    }
                }
            }
            Some(_) => {
                return Err(self
                    .diag
                    .rules_error(format!("{path}.extras"), "expected a list of field names"))
            }
        }
        let flow_path = format!("{path}.flow");
        let flow = match d.get("flow").and_then(Value::as_str) {
            Some("standard") => Flow::Standard,
            Some("otp") => Flow::Otp,
            Some("redirect") => Flow::Redirect,
            Some("bank_transfer") => Flow::BankTransfer,
            Some("payment_page") => Flow::PaymentPage,
            Some(other) => return Err(self.diag.rules_error(
                &flow_path,
                format!("unknown flow `{other}` (expected standard, otp, redirect, bank_transfer or payment_page)"),
            )),
            None => return Err(self.diag.rules_error(&flow_path, "missing `flow`")),
        };
        let note = self.opt_string(d, "note", &path)?;
        Ok(Some(Direction {
            min,
            max,
            step,
            daily_max,
            extras,
            flow,
            note,
        }))
    }

    fn phone(&self, v: &Value, path: &str) -> Result<Phone, Error> {
        let m = self.map(v, path)?;
        let pattern = self.string(m, "pattern", path)?;
        let example = self.string(m, "example", path)?;
        let tokens = compile_phone(&pattern).map_err(|e| {
            self.diag.rules_error(
                format!("{path}.pattern"),
                format!("pattern `{pattern}`: {e}"),
            )
        })?;
        if !matches_tokens(&tokens, example.as_bytes()) {
            return Err(self.diag.rules_error(
                format!("{path}.example"),
                format!("example `{example}` does not match the pattern `{pattern}`"),
            ));
        }
        Ok(Phone {
            pattern,
            example,
            tokens,
        })
    }
}

fn show(minor: u64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// `100`, `100.00` -> minor units; anything else -> `None`.
pub(crate) fn parse_amount(text: &str) -> Option<u64> {
    let (major, minor) = match text.split_once('.') {
        Some((major, minor)) if minor.len() == 2 => (major, minor),
        Some(_) => return None,
        None => (text, "00"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    major
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(minor.parse::<u64>().ok()?)
}

/// Compiles the supported regex subset: `^`, `$`, literal digits, digit
/// classes like `[0-9]` or `[1-9]`, `\d`, each optionally followed by `{n}`
/// or `{n,m}`.
pub(crate) fn compile_phone(pattern: &str) -> Result<Vec<PhoneToken>, String> {
    let Some(body) = pattern.strip_prefix('^') else {
        return Err("must start with `^` (patterns are anchored)".to_owned());
    };
    let Some(body) = body.strip_suffix('$') else {
        return Err("must end with `$` (patterns are anchored)".to_owned());
    };
    let chars: Vec<char> = body.chars().collect();
    let mut tokens: Vec<PhoneToken> = Vec::new();
    let mut i = 0usize;
    while let Some(&c) = chars.get(i) {
        let offset = i + 1;
        let (allowed, literal) = match c {
            '0'..='9' => {
                i += 1;
                (c.to_string(), true)
            }
            '\\' => match chars.get(i + 1) {
                Some('d') => {
                    i += 2;
                    ("0123456789".to_owned(), false)
                }
                Some(other) => {
                    return Err(format!(
                        "unsupported construct `\\{other}` at offset {offset}"
                    ))
                }
                None => return Err("a trailing `\\`".to_owned()),
            },
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| format!("unclosed `[` at offset {offset}"))?;
                let class: String = chars[i + 1..i + close].iter().collect();
                i += close + 1;
                (digit_class(&class).ok_or_else(|| format!("unsupported construct `[{class}]` at offset {offset}: only digit classes like `[0-9]` are supported"))?, false)
            }
            other => {
                return Err(format!(
                    "unsupported construct `{other}` at offset {offset}"
                ))
            }
        };
        let (min, max, quantified) = if chars.get(i) == Some(&'{') {
            let close = chars[i..]
                .iter()
                .position(|&c| c == '}')
                .ok_or_else(|| format!("unclosed `{{` at offset {}", i + 1))?;
            let inner: String = chars[i + 1..i + close].iter().collect();
            let q_offset = i + 1;
            i += close + 1;
            let bad = || format!("unsupported quantifier `{{{inner}}}` at offset {q_offset}");
            let (lo, hi) = match inner.split_once(',') {
                Some((lo, hi)) => (
                    lo.parse::<u8>().map_err(|_| bad())?,
                    hi.parse::<u8>().map_err(|_| bad())?,
                ),
                None => {
                    let n = inner.parse::<u8>().map_err(|_| bad())?;
                    (n, n)
                }
            };
            if lo > hi {
                return Err(bad());
            }
            (lo, hi, true)
        } else {
            (1, 1, false)
        };
        if let Some(&q) = chars.get(i) {
            if matches!(q, '*' | '+' | '?') {
                return Err(format!("unsupported construct `{q}` at offset {}", i + 1));
            }
        }
        if literal && !quantified {
            if let Some(PhoneToken::Literal(prev)) = tokens.last_mut() {
                prev.push_str(&allowed);
            } else {
                tokens.push(PhoneToken::Literal(allowed));
            }
        } else {
            tokens.push(PhoneToken::Digits { allowed, min, max });
        }
    }
    Ok(tokens)
}

/// `0-9` -> `0123456789`, `79` -> `79`, `1-35` -> `1235`.
fn digit_class(class: &str) -> Option<String> {
    let chars: Vec<char> = class.chars().collect();
    let mut set = [false; 10];
    let mut i = 0;
    if chars.is_empty() {
        return None;
    }
    while let Some(&c) = chars.get(i) {
        let lo = c.to_digit(10)?;
        if chars.get(i + 1) == Some(&'-') {
            let hi = chars.get(i + 2)?.to_digit(10)?;
            if lo > hi {
                return None;
            }
            for d in lo..=hi {
                set[d as usize] = true;
            }
            i += 3;
        } else {
            set[lo as usize] = true;
            i += 1;
        }
    }
    Some(
        (0u8..10)
            .filter(|d| set[usize::from(*d)])
            .map(|d| char::from(b'0' + d))
            .collect(),
    )
}

/// The same matcher as `paygate::rules`, to check examples at generation time.
pub(crate) fn matches_tokens(tokens: &[PhoneToken], input: &[u8]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return input.is_empty();
    };
    match first {
        PhoneToken::Literal(lit) => input
            .strip_prefix(lit.as_bytes())
            .is_some_and(|tail| matches_tokens(rest, tail)),
        PhoneToken::Digits { allowed, min, max } => {
            let run = input
                .iter()
                .take(usize::from(*max))
                .take_while(|c| allowed.as_bytes().contains(c))
                .count();
            (usize::from(*min)..=run).rev().any(|n| {
                input
                    .get(n..)
                    .is_some_and(|tail| matches_tokens(rest, tail))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_patterns() {
        let t = compile_phone("^225[0-9]{10}$").unwrap();
        assert_eq!(
            t,
            vec![
                PhoneToken::Literal("225".into()),
                PhoneToken::Digits {
                    allowed: "0123456789".into(),
                    min: 10,
                    max: 10
                }
            ]
        );
        assert!(matches_tokens(&t, b"2250000000000"));
        assert!(!matches_tokens(&t, b"225000000000"));
        let t = compile_phone("^[1-9]\\d{2,3}$").unwrap();
        assert!(matches_tokens(&t, b"123"));
        assert!(matches_tokens(&t, b"1234"));
        assert!(!matches_tokens(&t, b"0123"));
        assert!(compile_phone("^2[0-9]+$").unwrap_err().contains("`+`"));
        assert!(compile_phone("^(22)[0-9]$").unwrap_err().contains("`(`"));
        assert!(compile_phone("225[0-9]$").is_err());
        assert!(compile_phone("^[a-z]$").unwrap_err().contains("[a-z]"));
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("100.00"), Some(10000));
        assert_eq!(parse_amount("5"), Some(500));
        assert_eq!(parse_amount("0.05"), Some(5));
        for bad in ["1.5", "abc", "-1.00", "", ".50", "1.000", "1e3"] {
            assert_eq!(parse_amount(bad), None, "{bad}");
        }
    }
}
