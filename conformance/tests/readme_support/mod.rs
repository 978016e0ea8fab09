//! The README's shell examples as data, shared by `readme_shell.rs` (which
//! checks them and runs the ones that talk to a simulator) and
//! `readme_commands.rs` (which runs every other command as printed), so
//! both read the same blocks and the same commands: a ```sh fence opens a
//! block, continuation lines are joined, comments dropped, and in a block
//! written as a session (`$ ` prompts) only the prompted lines are commands.
#![allow(dead_code)]

pub mod merchant;
pub mod process;

use std::path::PathBuf;

/// One ```sh block: where it starts and its text.
pub struct Block {
    pub line: usize,
    pub text: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn blocks() -> Vec<Block> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (n, line) in readme.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => {
                current = Some(Block {
                    line: n + 1,
                    text: String::new(),
                })
            }
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The commands of a block: continuation lines joined, comments and
/// output lines dropped (in a block with `$ ` prompts, only those lines
/// are commands).
pub fn commands(block: &Block) -> Vec<String> {
    commands_at(block).into_iter().map(|(_, c)| c).collect()
}

/// [`commands`], each with the README line it starts on.
pub fn commands_at(block: &Block) -> Vec<(usize, String)> {
    let prompted = is_prompted(block);
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut first = 0;
    for (n, line) in block.text.lines().enumerate() {
        let line = if prompted {
            match line.strip_prefix("$ ") {
                Some(command) => command,
                None if !pending.is_empty() => line,
                None => continue,
            }
        } else {
            line
        };
        if pending.is_empty() && (line.trim_start().starts_with('#') || line.trim().is_empty()) {
            continue;
        }
        if pending.is_empty() {
            // The block's text starts on the line after its fence.
            first = block.line + 1 + n;
        }
        let line = match line.find("  #") {
            Some(at) => &line[..at],
            None => line,
        };
        match line.trim_end().strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(line.trim());
                out.push((first, std::mem::take(&mut pending)));
            }
        }
    }
    out
}

/// A block written as a terminal session: `$ ` before each command, what
/// it prints below it.
pub fn is_prompted(block: &Block) -> bool {
    block.text.lines().any(|l| l.starts_with("$ "))
}

/// A block that talks to a running simulator with `curl` (not a session):
/// `readme_shell.rs` runs it against one.
pub fn talks_to_a_simulator(block: &Block) -> bool {
    block.text.contains("curl ") && block.text.contains("127.0.0.1:8080") && !is_prompted(block)
}

/// The words of one pipeline segment, without leading `VAR=value`s;
/// synopsis brackets (`[--opt X]`, `a | b` inside them) and `...` removed.
pub fn words(segment: &str) -> Vec<String> {
    // `NAME=$(command)`: the command.
    let segment = match segment.trim().split_once("=$(") {
        Some((name, rest))
            if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && rest.ends_with(')') =>
        {
            &rest[..rest.len() - 1]
        }
        _ => segment,
    };
    let words =
        shell_words::split(segment).unwrap_or_else(|e| panic!("cannot split {segment:?}: {e}"));
    words
        .into_iter()
        .map(|w| w.trim_matches(|c| c == '[' || c == ']').to_owned())
        .filter(|w| !w.is_empty() && w != "..." && w != "|")
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
        })
        .collect()
}

/// The segments of a command: split at pipes outside quotes, synopsis
/// brackets and `$( )`.
pub fn segments(command: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut depth, mut substitution, mut quote) = (0i32, 0i32, None::<char>);
    let mut escaped = false;
    let chars: Vec<char> = command.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
        } else {
            match (quote, c) {
                (Some('\''), '\'') => quote = None,
                (Some('\''), _) => {}
                (_, '\\') => escaped = true,
                (_, '$') if chars.get(i + 1) == Some(&'(') => substitution += 1,
                (_, ')') if substitution > 0 => substitution -= 1,
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[') => depth += 1,
                (None, ']') => depth -= 1,
                (None, '|')
                    if depth == 0 && substitution == 0 && chars.get(i + 1) != Some(&'|') =>
                {
                    out.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}
