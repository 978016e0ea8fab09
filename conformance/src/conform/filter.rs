//! Which cases a run keeps: `paygate conform --filter PATTERN` (repeatable).
//!
//! A pattern with a glob character (`*`, `?`, `[`) must match a case's
//! whole id (`c2b/2303/*`) or its whole group name (`limit*`); any other
//! pattern is looked for as text inside the id or the group (`hub2/`,
//! `otp`). A case is kept when any pattern matches it; no pattern keeps
//! every case.

use super::cases::Case;

/// What a filter looks at: a case's id and group (gateway cases and the
/// merchant suite's cases alike).
pub trait Filtered {
    /// The case id.
    fn case_id(&self) -> &str;
    /// The case group.
    fn case_group(&self) -> &'static str;
}

impl Filtered for Case {
    fn case_id(&self) -> &str {
        &self.id
    }
    fn case_group(&self) -> &'static str {
        self.group
    }
}

/// One `--filter` pattern.
#[derive(Clone, Debug)]
enum Pattern {
    Text(String),
    Glob(glob::Pattern),
}

/// The `--filter` patterns of a run.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    patterns: Vec<(String, Pattern)>,
}

impl CaseFilter {
    /// Reads the patterns; an invalid glob (`[a`) is an error naming it.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<CaseFilter, String> {
        let mut parsed = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let text = pattern.as_ref();
            if text.is_empty() {
                return Err("--filter: an empty pattern matches nothing useful; leave it out to run every case".into());
            }
            let compiled = if text.contains(['*', '?', '[']) {
                glob::Pattern::new(text)
                    .map(Pattern::Glob)
                    .map_err(|e| format!("--filter {text:?}: not a valid glob: {e}"))?
            } else {
                Pattern::Text(text.to_owned())
            };
            parsed.push((text.to_owned(), compiled));
        }
        Ok(CaseFilter { patterns: parsed })
    }

    /// Whether there is no pattern (every case is kept).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `case` is kept.
    pub fn matches<C: Filtered>(&self, case: &C) -> bool {
        let (id, group) = (case.case_id(), case.case_group());
        self.is_empty()
            || self.patterns.iter().any(|(_, pattern)| match pattern {
                Pattern::Text(text) => id.contains(text.as_str()) || group.contains(text.as_str()),
                Pattern::Glob(glob) => glob.matches(id) || glob.matches(group),
            })
    }

    /// The cases kept, or an error naming the patterns when none is (a
    /// typo in CI must not pass as an empty, green run).
    pub fn apply<C: Filtered>(&self, cases: Vec<C>) -> Result<Vec<C>, String> {
        if self.is_empty() {
            return Ok(cases);
        }
        let mut groups: Vec<&'static str> = cases.iter().map(Filtered::case_group).collect();
        groups.sort_unstable();
        groups.dedup();
        let kept: Vec<C> = cases.into_iter().filter(|c| self.matches(c)).collect();
        if kept.is_empty() {
            let names: Vec<&str> = self
                .patterns
                .iter()
                .map(|(text, _)| text.as_str())
                .collect();
            return Err(format!(
                "no case matches --filter {}; patterns match inside case ids and group names, \
                 globs (*, ?, [..]) match them whole; the groups are: {}",
                names.join(", "),
                groups.join(", ")
            ));
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::derive_cases;

    fn ids(filter: &[&str]) -> Result<Vec<String>, String> {
        let cases = derive_cases(&paygate::gateway::PROVIDER_TABLE);
        CaseFilter::new(filter)?
            .apply(cases)
            .map(|kept| kept.into_iter().map(|c| c.id).collect())
    }

    #[test]
    fn text_globs_groups_and_repeats() {
        let all = ids(&[]).unwrap();
        let hub2 = ids(&["hub2/"]).unwrap();
        assert!(!hub2.is_empty() && hub2.len() < all.len());
        assert!(hub2.iter().all(|id| id.contains("hub2/")));
        // A glob matches the whole id.
        let glob = ids(&["hub2/*"]).unwrap();
        assert_eq!(
            glob,
            hub2.iter()
                .filter(|id| id.starts_with("hub2/"))
                .cloned()
                .collect::<Vec<_>>()
        );
        // A group name.
        let cases = derive_cases(&paygate::gateway::PROVIDER_TABLE);
        let group = cases[0].group;
        let by_group = ids(&[group]).unwrap();
        assert!(by_group.len() >= cases.iter().filter(|c| c.group == group).count());
        // Repeats add up.
        let both = ids(&["hub2/", group]).unwrap();
        assert!(both.len() >= hub2.len().max(by_group.len()));
    }

    #[test]
    fn a_group_name_is_a_filter() {
        // `hub2-happy` is a group: the example of a filter that
        // matched nothing (ids only) and passed silently.
        let happy = ids(&["hub2-happy"]).unwrap();
        assert!(happy.iter().all(|id| id.starts_with("hub2/")), "{happy:?}");
    }

    #[test]
    fn no_match_and_bad_globs_are_errors() {
        let err = ids(&["hub2-hapy"]).unwrap_err();
        assert!(err.contains("no case matches --filter hub2-hapy"), "{err}");
        assert!(err.contains("the groups are:"), "{err}");
        assert!(ids(&["[a"]).unwrap_err().contains("not a valid glob"));
        assert!(ids(&[""]).is_err());
    }
}
