//! The summary table, the failure list, the final count line and JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::outcome::{CaseResult, Outcome};

/// Counts of one group (or of the whole run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases skipped.
    pub skipped: usize,
    /// Time spent in the group's cases.
    pub time: Duration,
}

impl Counts {
    fn add(&mut self, result: &CaseResult) {
        match result.outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail(_) => self.failed += 1,
            Outcome::Skip(_) => self.skipped += 1,
        }
        self.time += result.duration;
    }

    /// All cases counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// Per-group and total counts of a run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Counts by group, sorted by group name.
    pub groups: BTreeMap<&'static str, Counts>,
    /// Counts of the whole run.
    pub total: Counts,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[CaseResult]) -> Summary {
        let mut summary = Summary::default();
        for result in results {
            summary.groups.entry(result.group).or_default().add(result);
            summary.total.add(result);
        }
        summary
    }

    /// The line CI reads: `N passed, M failed, K skipped`.
    pub fn count_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.total.passed, self.total.failed, self.total.skipped
        )
    }
}

/// The report printed on stdout: the table per group, the failures, and
/// last the count line.
pub fn summary_text(results: &[CaseResult], elapsed: Duration) -> String {
    let summary = Summary::of(results);
    let width = summary
        .groups
        .keys()
        .map(|g| g.len())
        .max()
        .unwrap_or(5)
        .max("total".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>7}  {:>7}",
        "group", "passed", "failed", "skipped"
    );
    let _ = writeln!(out, "{}", "-".repeat(width + 27));
    for (group, counts) in &summary.groups {
        let _ = writeln!(
            out,
            "{group:<width$}  {:>7}  {:>7}  {:>7}",
            counts.passed, counts.failed, counts.skipped
        );
    }
    let _ = writeln!(out, "{}", "-".repeat(width + 27));
    let _ = writeln!(
        out,
        "{:<width$}  {:>7}  {:>7}  {:>7}   ({} cases in {:.1}s)",
        "total",
        summary.total.passed,
        summary.total.failed,
        summary.total.skipped,
        summary.total.total(),
        elapsed.as_secs_f64()
    );
    let failures: Vec<&CaseResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for result in failures {
            if let Outcome::Fail(message) = &result.outcome {
                let _ = writeln!(
                    out,
                    "  {} [{}]\n      {}",
                    result.id,
                    result.group,
                    message.replace('\n', "\n      ")
                );
            }
        }
    }
    let _ = writeln!(out, "\n{}", summary.count_line());
    out
}

/// Escapes text for an XML attribute or element; drops characters XML 1.0
/// cannot carry.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` per group, one `<testcase>` per case.
pub fn junit_xml(results: &[CaseResult], elapsed: Duration) -> String {
    let summary = Summary::of(results);
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<testsuites name="paygate conform" tests="{}" failures="{}" skipped="{}" errors="0" time="{:.3}">"#,
        summary.total.total(),
        summary.total.failed,
        summary.total.skipped,
        elapsed.as_secs_f64()
    );
    for (group, counts) in &summary.groups {
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" skipped="{}" errors="0" time="{:.3}">"#,
            xml_escape(group),
            counts.total(),
            counts.failed,
            counts.skipped,
            counts.time.as_secs_f64()
        );
        for result in results.iter().filter(|r| r.group == *group) {
            let open = format!(
                r#"    <testcase name="{}" classname="conform.{}" time="{:.3}""#,
                xml_escape(&result.id),
                xml_escape(group),
                result.duration.as_secs_f64()
            );
            match &result.outcome {
                Outcome::Pass => {
                    let _ = writeln!(out, "{open}/>");
                }
                Outcome::Fail(message) => {
                    let first_line = message.lines().next().unwrap_or("");
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure message=\"{}\" type=\"conformance\">{}</failure>\n    </testcase>",
                        xml_escape(first_line),
                        xml_escape(message)
                    );
                }
                Outcome::Skip(reason) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml_escape(reason)
                    );
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    let _ = writeln!(out, "</testsuites>");
    out
}

/// Progress on stderr: a bar on a terminal; elsewhere (CI logs, files) a
/// plain line at each tenth of the run, and each failure as it happens.
pub struct Progress {
    bar: indicatif::ProgressBar,
    /// Set when stderr is not a terminal.
    plain: Option<PlainProgress>,
}

struct PlainProgress {
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
    started: std::time::Instant,
}

impl Progress {
    /// Progress of `total` cases.
    pub fn new(total: usize) -> Progress {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        let bar = if terminal {
            indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        let plain = (!terminal).then(|| PlainProgress {
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
            failed: std::sync::atomic::AtomicUsize::new(0),
            started: std::time::Instant::now(),
        });
        Progress { bar, plain }
    }

    /// Records one finished case.
    pub fn record(&self, result: &CaseResult) {
        use std::sync::atomic::Ordering;
        let failed = matches!(result.outcome, Outcome::Fail(_));
        if let Some(plain) = &self.plain {
            if failed {
                plain.failed.fetch_add(1, Ordering::Relaxed);
                eprintln!("FAIL {}", result.id);
            }
            let done = plain.done.fetch_add(1, Ordering::Relaxed) + 1;
            let total = plain.total.max(1);
            // A line when the run crosses a tenth (and at the end).
            if done * 10 / total != (done - 1) * 10 / total || done == total {
                eprintln!(
                    "progress: {done}/{} cases ({}%), {} failed, {:.1} s",
                    plain.total,
                    done * 100 / total,
                    plain.failed.load(Ordering::Relaxed),
                    plain.started.elapsed().as_secs_f64()
                );
            }
            return;
        }
        if failed {
            self.bar.println(format!("FAIL {}", result.id));
        }
        self.bar.set_message(result.id.clone());
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(xml_escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
