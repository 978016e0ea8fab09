//! `paygate conform --report DIR`: `report.json` (schema
//! `paygate-conformance-report/1`, below) and a self-contained
//! `report.html` (no script, no external asset).
//!
//! `report.json`:
//!
//! ```text
//! {
//!   "schema": "paygate-conformance-report/1",
//!   "target": "embedded simulator" | "<base URL>",
//!   "elapsed_ms": 2100,
//!   "totals": {"passed": N, "failed": N, "skipped": N},
//!   "groups": {"<group>": {"passed": N, "failed": N, "skipped": N}, ...},
//!   "cases": [{"id", "group", "outcome": "pass"|"fail"|"skip",
//!              "message": "..." (fail and skip), "duration_ms"}, ...],   // failures first
//!   "coverage": {"cells", "covered", "percent",
//!                "by_country": {"CI": {"cells", "covered"}, ...},
//!                "operations": [[{"operation", "http_status"}, passing cases], ...],
//!                "uncovered": [{"cell": {country, provider, direction, flow, outcome, code}, "reason"}],
//!                "not_derivable": ["<provider> <direction> (<name>): why", ...]}
//! }
//! ```
//!
//! Fields are only ever added within schema version 1.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::coverage::Coverage;
use super::outcome::{CaseResult, Outcome};
use super::report::Summary;

/// The JSON report's schema name.
pub const SCHEMA: &str = "paygate-conformance-report/1";

fn outcome_fields(outcome: &Outcome) -> (&'static str, Option<&str>) {
    match outcome {
        Outcome::Pass => ("pass", None),
        Outcome::Fail(message) => ("fail", Some(message)),
        Outcome::Skip(reason) => ("skip", Some(reason)),
    }
}

/// Failures first, then skips, then passes; by id within each.
fn ordered(results: &[CaseResult]) -> Vec<&CaseResult> {
    let rank = |r: &CaseResult| match r.outcome {
        Outcome::Fail(_) => 0,
        Outcome::Skip(_) => 1,
        Outcome::Pass => 2,
    };
    let mut out: Vec<&CaseResult> = results.iter().collect();
    out.sort_by(|a, b| (rank(a), &a.id).cmp(&(rank(b), &b.id)));
    out
}

/// The JSON report.
pub fn report_json(
    results: &[CaseResult],
    coverage: &Coverage,
    elapsed: Duration,
    target: &str,
) -> Value {
    let summary = Summary::of(results);
    let counts = |c: &super::report::Counts| json!({"passed": c.passed, "failed": c.failed, "skipped": c.skipped});
    let groups: serde_json::Map<String, Value> = summary
        .groups
        .iter()
        .map(|(g, c)| ((*g).to_owned(), counts(c)))
        .collect();
    let cases: Vec<Value> = ordered(results)
        .into_iter()
        .map(|r| {
            let (outcome, message) = outcome_fields(&r.outcome);
            let mut case = json!({
                "id": r.id,
                "group": r.group,
                "outcome": outcome,
                "duration_ms": r.duration.as_millis() as u64,
            });
            if let (Some(message), Some(map)) = (message, case.as_object_mut()) {
                map.insert("message".into(), json!(message));
            }
            case
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "target": target,
        "elapsed_ms": elapsed.as_millis() as u64,
        "totals": counts(&summary.total),
        "groups": groups,
        "cases": cases,
        "coverage": coverage,
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Green at 100 %, red at 0 %: the heat of a coverage cell.
fn heat(percent: f64) -> String {
    let hue = (percent.clamp(0.0, 100.0) * 1.2).round();
    format!("hsl({hue}, 70%, 85%)")
}

/// The HTML report: summary, failures first, coverage tables.
pub fn report_html(
    results: &[CaseResult],
    coverage: &Coverage,
    elapsed: Duration,
    target: &str,
) -> String {
    let summary = Summary::of(results);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>paygate conformance report</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}th{{background:#f3f3f3}}.fail{{color:#a00}}\
         .skip{{color:#777}}code{{font-size:12px}}</style></head><body>\
         <h1>paygate conformance report</h1><p>Target: {} · {} cases in {:.1} s · \
         <b>{} passed</b>, <b class=\"{}\">{} failed</b>, <span class=\"skip\">{} skipped</span> · \
         coverage <b>{:.1} %</b> ({} of {} cells of the rules matrix)</p>",
        escape(target),
        summary.total.total(),
        elapsed.as_secs_f64(),
        summary.total.passed,
        // Red only when something failed.
        if summary.total.failed > 0 { "fail" } else { "none" },
        summary.total.failed,
        summary.total.skipped,
        coverage.percent,
        coverage.covered,
        coverage.cells
    );
    let failures: Vec<&CaseResult> = ordered(results)
        .into_iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    let _ = write!(h, "<h2 id=\"failures\">Failures ({})</h2>", failures.len());
    if !failures.is_empty() {
        h.push_str("<table><tr><th>case</th><th>group</th><th>what went wrong</th></tr>");
        for r in failures {
            let (_, message) = outcome_fields(&r.outcome);
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"fail\">{}</td></tr>",
                escape(&r.id),
                escape(r.group),
                escape(message.unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Groups</h2><table><tr><th>group</th><th>passed</th><th>failed</th><th>skipped</th></tr>");
    for (group, c) in &summary.groups {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(group),
            c.passed,
            c.failed,
            c.skipped
        );
    }
    h.push_str("</table><h2>Coverage by country</h2><table><tr><th>country</th><th>cells covered</th><th>%</th></tr>");
    for (country, row) in &coverage.by_country {
        let percent = if row.cells == 0 {
            100.0
        } else {
            row.covered as f64 * 100.0 / row.cells as f64
        };
        let _ = write!(
            h,
            "<tr style=\"background:{}\"><td>{}</td><td>{} / {}</td><td>{percent:.1}</td></tr>",
            heat(percent),
            escape(country),
            row.covered,
            row.cells
        );
    }
    h.push_str("</table><h2>Spec operation × HTTP status (passing cases)</h2><table><tr><th>operation</th><th>HTTP</th><th>cases</th></tr>");
    for (op, n) in &coverage.operations {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{n}</td></tr>",
            escape(op.operation),
            op.http_status
        );
    }
    let _ = write!(
        h,
        "</table><h2>Not covered ({})</h2>",
        coverage.uncovered.len()
    );
    if !coverage.uncovered.is_empty() {
        h.push_str("<table><tr><th>country</th><th>provider</th><th>direction</th><th>flow</th><th>outcome</th><th>why</th></tr>");
        for u in &coverage.uncovered {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"skip\">{}</td></tr>",
                escape(&u.cell.country),
                u.cell.provider,
                u.cell.direction,
                u.cell.flow,
                escape(&u.cell.outcome),
                escape(&u.reason)
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<h2>Not derivable ({})</h2><ul>",
        coverage.not_derivable.len()
    );
    for line in &coverage.not_derivable {
        let _ = write!(h, "<li>{}</li>", escape(line));
    }
    h.push_str("</ul></body></html>\n");
    h
}

/// Writes `report.json` and `report.html` into `dir` (created if needed);
/// returns their paths.
pub fn write_reports(
    dir: &Path,
    results: &[CaseResult],
    coverage: &Coverage,
    elapsed: Duration,
    target: &str,
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let json_path = dir.join("report.json");
    let html_path = dir.join("report.html");
    let json = serde_json::to_string_pretty(&report_json(results, coverage, elapsed, target))
        .map_err(std::io::Error::other)?;
    std::fs::write(&json_path, json)?;
    std::fs::write(&html_path, report_html(results, coverage, elapsed, target))?;
    Ok((json_path, html_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_everything_a_case_can_say() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
