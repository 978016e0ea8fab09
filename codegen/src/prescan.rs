//! Bounds checked on the text of a spec or rules file before any parser
//! sees it: its size and how deeply its collections nest.
//!
//! Hand-written because no YAML crate checks these before parsing: the YAML
//! parser takes time quadratic in the nesting of flow collections (a list
//! nested 100 000 deep took a minute before its own limit stopped it), and
//! its limit, when reached, does not say what the limit is.

use crate::error::Error;

/// The largest spec or rules file read: 16 MiB (the committed specs are
/// about 100 KB). Bigger input is refused before parsing, so memory stays
/// bounded whatever the file.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The deepest nesting of YAML flow collections (`[...]`, `{...}`, and so
/// all of JSON) read.
pub const MAX_FLOW_DEPTH: usize = 64;

/// The deepest nesting of YAML block collections (by indentation, or
/// `- - ` on one line) read. The committed specs nest about 15 deep.
pub const MAX_BLOCK_DEPTH: usize = 64;

/// Refuses `text` if it is over [`MAX_INPUT_BYTES`], nests flow collections
/// deeper than [`MAX_FLOW_DEPTH`] or block collections deeper than
/// [`MAX_BLOCK_DEPTH`]; one pass over the bytes, errors name the line and
/// column.
///
/// Brackets inside quotes and comments do not count; outside a flow
/// collection, only a bracket that starts a value (at the start of a line,
/// after `:` or `-`) opens one, so brackets in plain text do not count.
/// Block depth is counted as the YAML scanner counts it, with a stack of
/// indentation columns; the lines of a block scalar (`|`, `>`) are skipped.
pub(crate) fn check_bounds(origin: &str, text: &str) -> Result<(), Error> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(syntax(origin, 0, 0, too_large(text.len())));
    }
    let mut scan = Scan::default();
    for (index, line) in text.split('\n').enumerate() {
        scan.line(line.strip_suffix('\r').unwrap_or(line).as_bytes())
            .map_err(|(column, message)| syntax(origin, index + 1, column, message))?;
    }
    Ok(())
}

/// The message for input of `len` bytes, over [`MAX_INPUT_BYTES`].
pub(crate) fn too_large(len: impl std::fmt::Display) -> String {
    format!("the file is {len} bytes; at most {MAX_INPUT_BYTES} are read")
}

fn syntax(origin: &str, line: usize, column: usize, message: String) -> Error {
    Error::Syntax {
        origin: origin.to_owned(),
        format: "YAML",
        line,
        column,
        message,
    }
}

/// What the scan carries from one line to the next.
#[derive(Default)]
struct Scan {
    /// Open flow collections.
    flow: usize,
    /// The quote of a quoted scalar still open.
    quote: Option<u8>,
    /// The columns of the open block nodes, increasing.
    indents: Vec<usize>,
    /// Inside a block scalar introduced on a line of this indentation:
    /// more indented (and blank) lines are its text.
    block_scalar: Option<usize>,
}

/// A 1-based column and what is wrong there.
type Fault = (usize, String);

impl Scan {
    fn line(&mut self, bytes: &[u8]) -> Result<(), Fault> {
        let indent = bytes.iter().take_while(|b| **b == b' ').count();
        let blank = bytes[indent..].iter().all(|b| matches!(b, b' ' | b'\t'));
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let mut i = 0;
        if self.quote.is_none() && self.flow == 0 {
            if blank || bytes.get(indent) == Some(&b'#') {
                return Ok(());
            }
            if indent == 0 && (bytes.starts_with(b"---") || bytes.starts_with(b"...")) {
                // A document marker: a new document starts from nothing.
                self.indents.clear();
                i = 3;
            } else {
                self.node(indent)?;
                i = indent;
            }
        }
        // The last byte that was not a space on this line (b'\n' at its start).
        let mut before = b'\n';
        while i < bytes.len() {
            let b = bytes[i];
            match self.quote {
                Some(q) => {
                    if b == b'\\' && q == b'"' {
                        i += 1;
                    } else if b == q {
                        self.quote = None;
                    }
                }
                None => match b {
                    b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => return Ok(()),
                    b'"' | b'\''
                        if self.flow > 0 || matches!(before, b'\n' | b':' | b'-' | b',') =>
                    {
                        self.quote = Some(b);
                    }
                    b'[' | b'{' if self.flow > 0 || matches!(before, b'\n' | b':' | b'-') => {
                        self.flow += 1;
                        if self.flow > MAX_FLOW_DEPTH {
                            return Err((
                                i + 1,
                                format!("flow collections nested more than {MAX_FLOW_DEPTH} deep"),
                            ));
                        }
                    }
                    b']' | b'}' if self.flow > 0 => self.flow -= 1,
                    b'-' | b'?'
                        if self.flow == 0
                            && matches!(before, b'\n' | b'-' | b'?')
                            && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) =>
                    {
                        // `- x` or `? x`: x is a node nested in this one.
                        let content = i + 1 + spaces(&bytes[i + 1..]);
                        if bytes.get(content).is_some_and(|b| *b != b'#') {
                            self.node(content)?;
                        }
                    }
                    b'|' | b'>'
                        if self.flow == 0
                            && matches!(before, b'\n' | b':' | b'-' | b'?')
                            && is_block_scalar_header(&bytes[i + 1..]) =>
                    {
                        self.block_scalar = Some(indent);
                        return Ok(());
                    }
                    _ => {}
                },
            }
            if b != b' ' && b != b'\t' {
                before = b;
            }
            i += 1;
        }
        Ok(())
    }

    /// A block node starts at `column` (0-based): it closes the nodes at or
    /// right of that column and nests in the others.
    fn node(&mut self, column: usize) -> Result<(), Fault> {
        while self.indents.last().is_some_and(|open| *open >= column) {
            self.indents.pop();
        }
        self.indents.push(column);
        if self.indents.len() > MAX_BLOCK_DEPTH {
            return Err((
                column + 1,
                format!("block collections nested more than {MAX_BLOCK_DEPTH} deep"),
            ));
        }
        Ok(())
    }
}

fn spaces(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()
}

/// Whether what follows a `|` or `>` is the rest of a block scalar header:
/// chomping and indentation indicators, then nothing but a comment.
fn is_block_scalar_header(rest: &[u8]) -> bool {
    let indicators = rest
        .iter()
        .take_while(|b| matches!(b, b'-' | b'+' | b'1'..=b'9'))
        .count();
    let after = &rest[indicators..];
    let gap = spaces(after);
    match after.get(gap) {
        None => true,
        Some(b'#') => gap > 0,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(text: &str) -> Option<String> {
        check_bounds("t.yaml", text).err().map(|e| e.to_string())
    }

    #[test]
    fn ordinary_yaml_passes() {
        let text = "a:\n  b:\n    - c: |\n        text\n              deeper text\n      d: >-\n        folded\n    - [x, {y: z}]\n  e: 'it''s'\n---\nf: 1\n";
        assert_eq!(depth_error(text), None);
    }

    #[test]
    fn block_depth_counts_indentation_and_compact_sequences() {
        let mut text = String::new();
        for i in 0..=MAX_BLOCK_DEPTH {
            text.push_str(&" ".repeat(i));
            text.push_str("k:\n");
        }
        let e = depth_error(&text).expect("too deep");
        assert!(e.contains(&format!("line {}", MAX_BLOCK_DEPTH + 1)), "{e}");
        let e =
            depth_error(&format!("x:\n  {}a\n", "- ".repeat(MAX_BLOCK_DEPTH))).expect("too deep");
        assert!(e.contains("line 2"), "{e}");
        assert_eq!(
            depth_error(&format!("x:\n  {}a\n", "- ".repeat(MAX_BLOCK_DEPTH - 2))),
            None
        );
    }

    #[test]
    fn block_scalar_lines_and_quoted_lines_do_not_nest() {
        let mut text = "a: |\n".to_owned();
        let mut quoted = "a: \"start\n".to_owned();
        for i in 1..200 {
            text.push_str(&format!("{}- line\n", " ".repeat(i)));
            quoted.push_str(&format!("{}- line\n", " ".repeat(i)));
        }
        quoted.push_str("  end\"\n");
        assert_eq!(depth_error(&text), None);
        assert_eq!(depth_error(&quoted), None);
    }
}
