//! Phone-number formats: the compiled form of the rules' anchored patterns
//! and the one matcher that checks a number against them (the generator uses
//! it too, to check the examples the rules print).

/// One piece of a phone-number format: a literal run of digits, or a run of
/// digits drawn from a set. `S` is `&'static str` in the generated tables;
/// the generator holds owned strings while it compiles patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneToken<S = &'static str> {
    /// These exact characters.
    Literal(S),
    /// Between `min` and `max` characters, each one of `allowed`.
    Digits {
        /// The characters allowed (for example `0123456789` or `123456789`).
        allowed: S,
        /// Fewest characters.
        min: u8,
        /// Most characters.
        max: u8,
    },
}

/// A phone-number format, compiled from the rules' anchored pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneFormat {
    /// The pattern as written in the rules (for error messages).
    pub pattern: &'static str,
    /// An example number in this format.
    pub example: &'static str,
    /// The compiled pattern.
    pub tokens: &'static [PhoneToken],
}

impl PhoneFormat {
    /// Whether `number` is in this format.
    pub fn matches(&self, number: &str) -> bool {
        matches_phone(self.tokens, number.as_bytes())
    }
}

/// Whether `input` is, as a whole, a sequence matching `tokens` in order.
///
/// Iterative: it tracks the set of input positions reachable after each
/// token, so neither the pattern nor the number sets a recursion depth, and
/// the work is at most tokens × length × 255 steps.
pub fn matches_phone<S: AsRef<str>>(tokens: &[PhoneToken<S>], input: &[u8]) -> bool {
    // reachable[i]: the tokens so far can match exactly `input[..i]`.
    let mut reachable = vec![false; input.len() + 1];
    let mut next = vec![false; input.len() + 1];
    reachable[0] = true;
    for token in tokens {
        next.iter_mut().for_each(|n| *n = false);
        let mut any = false;
        for start in (0..=input.len()).filter(|&i| reachable[i]) {
            let tail = &input[start..];
            match token {
                PhoneToken::Literal(lit) => {
                    let lit = lit.as_ref().as_bytes();
                    if tail.starts_with(lit) {
                        next[start + lit.len()] = true;
                        any = true;
                    }
                }
                PhoneToken::Digits { allowed, min, max } => {
                    let allowed = allowed.as_ref().as_bytes();
                    let run = tail
                        .iter()
                        .take(usize::from(*max))
                        .take_while(|c| allowed.contains(c))
                        .count();
                    for n in usize::from(*min)..=run {
                        next[start + n] = true;
                        any = true;
                    }
                }
            }
        }
        if !any {
            return false;
        }
        std::mem::swap(&mut reachable, &mut next);
    }
    reachable[input.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_tokens_match_whole_numbers_only() {
        const CI: PhoneFormat = PhoneFormat {
            pattern: "^225[0-9]{10}$",
            example: "2250000000000",
            tokens: &[
                PhoneToken::Literal("225"),
                PhoneToken::Digits {
                    allowed: "0123456789",
                    min: 10,
                    max: 10,
                },
            ],
        };
        assert!(CI.matches("2250705145655"));
        assert!(!CI.matches("225070514565"));
        assert!(!CI.matches("22507051456551"));
        assert!(!CI.matches("2240705145655"));
        assert!(!CI.matches("225070514565a"));
        const NO_LEADING_ZERO: PhoneFormat = PhoneFormat {
            pattern: "^[1-9][0-9]{8}$",
            example: "999000000",
            tokens: &[
                PhoneToken::Digits {
                    allowed: "123456789",
                    min: 1,
                    max: 1,
                },
                PhoneToken::Digits {
                    allowed: "0123456789",
                    min: 8,
                    max: 8,
                },
            ],
        };
        assert!(NO_LEADING_ZERO.matches("999000000"));
        assert!(!NO_LEADING_ZERO.matches("099000000"));
    }

    #[test]
    fn runs_give_back_what_the_next_token_needs() {
        // `[0-9]{1,3}` must leave the last digit to the literal `7`.
        let tokens = [
            PhoneToken::Digits {
                allowed: "0123456789",
                min: 1,
                max: 3,
            },
            PhoneToken::Literal("7"),
        ];
        assert!(matches_phone(&tokens, b"127"));
        assert!(matches_phone(&tokens, b"17"));
        assert!(matches_phone(&tokens, b"7777"));
        assert!(!matches_phone(&tokens, b"7"));
        assert!(!matches_phone(&tokens, b"12347"));
        let owned = [PhoneToken::Literal(String::from("225"))];
        assert!(matches_phone(&owned, b"225"));
        assert!(!matches_phone(&owned, b"2250"));
        assert!(matches_phone::<&str>(&[], b""));
        assert!(!matches_phone::<&str>(&[], b"1"));
    }
}
