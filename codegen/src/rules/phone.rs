//! The phone-number patterns of the rules: an anchored regex subset
//! (literal digits, digit classes, `\\d`, `{n}` and `{n,m}`), compiled into
//! the runtime's tokens, which it matches without a regex engine.

/// One compiled piece of a phone pattern: the runtime's token, holding
/// owned strings while the generator works.
pub(crate) type PhoneToken = paygate_core::rules::PhoneToken<String>;

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

/// The runtime's matcher (`paygate::gateway::rules::matches_phone`), to
/// check the rules' examples at generation time.
pub(crate) fn matches_tokens(tokens: &[PhoneToken], input: &[u8]) -> bool {
    paygate_core::rules::matches_phone(tokens, input)
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
}
