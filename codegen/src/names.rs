//! Turning spec names into Rust identifiers.

use std::collections::BTreeMap;

/// Rust keywords (strict and reserved, all editions).
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Type names the generated code uses unqualified; a schema must not shadow them.
pub(crate) const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Default",
    "From",
    "Into",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "ToString",
    "ToOwned",
    "AsRef",
    "Ord",
    "PartialOrd",
    "Unpin",
];

pub(crate) fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Whether `s` is a plain (non-raw) Rust identifier that is not a keyword.
pub(crate) fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && s != "_"
        && !is_keyword(s)
}

/// Splits a name into words: on anything that is not a letter or digit, and
/// at camel-case humps (`paymentBodyB2c` -> `payment`, `Body`, `B2c`;
/// `HTTPServer` -> `HTTP`, `Server`).
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut current = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = if i > 0 {
                chars.get(i - 1).copied()
            } else {
                None
            };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if c.is_ascii_uppercase() => {
                    p.is_ascii_lowercase()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                }
                _ => false,
            };
            if boundary && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.push(c);
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// `UpperCamelCase`: each word capitalised, the rest of it lower case.
/// Never empty, never starts with a digit (prefixes `prefix` then).
pub(crate) fn pascal(name: &str, prefix: &str) -> String {
    let mut out = String::new();
    for word in words(name) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, prefix);
    }
    if out == "Self" {
        out.push('_');
    }
    out
}

/// `snake_case`, for field names; never empty, never starts with a digit.
pub(crate) fn snake(name: &str) -> String {
    let mut out = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() {
        out.push_str("field");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "field_");
    }
    out
}

/// The Rust field identifier (as written in code, possibly `r#type`) for a
/// JSON property name, and whether serde needs a `rename`.
pub(crate) fn field_ident(json: &str) -> (String, bool) {
    if is_plain_ident(json) && json.chars().all(|c| !c.is_ascii_uppercase()) {
        return (json.to_owned(), false);
    }
    if is_keyword(json) {
        if NOT_RAW.contains(&json) {
            return (format!("{json}_"), true);
        }
        return (format!("r#{json}"), false);
    }
    let s = snake(json);
    if is_keyword(&s) {
        if NOT_RAW.contains(&s.as_str()) {
            return (format!("{s}_"), true);
        }
        return (format!("r#{s}"), true);
    }
    (s, true)
}

/// Hands out unique names, remembering who took which.
#[derive(Debug, Default)]
pub(crate) struct Namer {
    taken: BTreeMap<String, String>,
}

impl Namer {
    /// Marks `name` as taken by `owner` without checking.
    pub(crate) fn reserve(&mut self, name: &str, owner: &str) {
        self.taken.insert(name.to_owned(), owner.to_owned());
    }

    /// `base`, or `base2`, `base3`, ... if taken; returns the name and, when
    /// it had to be changed, the owner of `base`.
    pub(crate) fn unique(
        &mut self,
        base: &str,
        owner: &str,
        sep: &str,
    ) -> (String, Option<String>) {
        if !self.taken.contains_key(base) {
            self.reserve(base, owner);
            return (base.to_owned(), None);
        }
        let clash = self.taken.get(base).cloned();
        let mut n = 2usize;
        loop {
            let candidate = format!("{base}{sep}{n}");
            if !self.taken.contains_key(&candidate) {
                self.reserve(&candidate, owner);
                return (candidate, clash);
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("paymentBodyB2c", "T"), "PaymentBodyB2c");
        assert_eq!(pascal("callbackBodyC2B", "T"), "CallbackBodyC2b");
        assert_eq!(pascal("XOF", "V"), "Xof");
        assert_eq!(pascal("intl_passport", "V"), "IntlPassport");
        assert_eq!(pascal("InProgress", "V"), "InProgress");
        assert_eq!(pascal("YAS (exTigo)", "V"), "YasExTigo");
        assert_eq!(pascal("9", "V"), "V9");
        assert_eq!(pascal("HTTPServer", "V"), "HttpServer");
        assert_eq!(
            field_ident("provider result"),
            ("provider_result".into(), true)
        );
        assert_eq!(field_ident("type"), ("r#type".into(), false));
        assert_eq!(field_ident("customerId"), ("customer_id".into(), true));
        assert_eq!(field_ident("merchant_id"), ("merchant_id".into(), false));
        assert_eq!(field_ident("self"), ("self_".into(), true));
        assert_eq!(field_ident("1x"), ("field_1x".into(), true));
    }
}
