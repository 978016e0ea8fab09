//! Spec descriptions as doc comments.

/// Descriptions longer than this are worth a warning.
const LONG: usize = 600;

pub(crate) fn is_long(text: &str) -> bool {
    text.len() > LONG
}

/// The first paragraph, with lines joined, HTML tags removed and brackets
/// escaped so rustdoc does not read them as links; `None` if empty.
pub(crate) fn first_paragraph(text: &str) -> Option<String> {
    let mut lines = Vec::new();
    for line in text.trim().lines() {
        let line = line.trim();
        // A blank line ends the paragraph; so do a list or a heading.
        if line.is_empty() || (!lines.is_empty() && starts_block(line)) {
            break;
        }
        lines.push(line);
    }
    let joined = lines.join(" ");
    let cleaned = clean(&joined);
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        None
    } else {
        Some(cleaned.to_owned())
    }
}

/// Whether a line (or a word, when wrapping) would start a Markdown block
/// (a list item, heading, quote, table row or setext underline).
pub(crate) fn starts_block(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    matches!(first, "-" | "*" | "+" | ">" | "|")
        || first.starts_with('#')
        || first.starts_with("```")
        || first.chars().all(|c| c == '=' || c == '-') && !first.is_empty()
        || first
            .strip_suffix('.')
            .or_else(|| first.strip_suffix(')'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The first line of the first paragraph.
pub(crate) fn first_line(text: &str) -> Option<String> {
    let line = text.trim().lines().next()?.trim();
    let cleaned = clean(line);
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        None
    } else {
        Some(cleaned.to_owned())
    }
}

/// Strips HTML tags and escapes `[`, `]`, `<`, `>` outside code spans.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => {
                // A tag like <a href="..."> or </a>: drop it.
                let rest: String = chars.clone().take(200).collect();
                let looks_like_tag = rest
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_alphabetic() || n == '/')
                    && rest.contains('>');
                if looks_like_tag {
                    for n in chars.by_ref() {
                        if n == '>' {
                            break;
                        }
                    }
                } else {
                    out.push_str("&lt;");
                }
            }
            '>' if !in_code => out.push_str("&gt;"),
            '[' | ']' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if in_code {
        // An unbalanced backtick would swallow the rest of the docs.
        out = out.replace('`', "'");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs() {
        assert_eq!(first_paragraph("  A b\n c\n\nD").as_deref(), Some("A b c"));
        assert_eq!(
            first_paragraph("see <a href=\"#x\">this list</a>.").as_deref(),
            Some("see this list.")
        );
        assert_eq!(
            first_paragraph("[a-z] `[0-9]`").as_deref(),
            Some("\\[a-z\\] `[0-9]`")
        );
        assert_eq!(first_paragraph("\n \n"), None);
        assert_eq!(
            first_paragraph("Codes\n- 0 - OK\n- 1 - bad").as_deref(),
            Some("Codes")
        );
        assert!(starts_block("- 0"));
        assert!(starts_block("12. x"));
        assert!(!starts_block("12.5 x"));
    }
}
