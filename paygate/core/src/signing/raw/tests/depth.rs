//! The nesting limit: the deepest bodies accepted (on a small stack too),
//! the first level refused, and bodies far deeper than that.

use super::*;
use crate::signing::prefix::MAX_DEPTH;

/// The walk recurses once per nesting level, up to [`MAX_DEPTH`]; its
/// frames must fit the 2 MiB stack that std and tokio give spawned
/// threads, in debug builds too (where inlined helpers do not share
/// stack slots: the fast loop's frame alone is tens of KiB there, which
/// is why it never recurses).
#[test]
fn the_deepest_bodies_fit_a_small_stack() {
    let levels = MAX_DEPTH - 1;
    let bodies = [
        format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels)),
        format!(
            "{}{}{}",
            r#"{"a":"#.repeat(levels),
            r#"{"b":1}"#,
            "}".repeat(levels)
        ),
        format!(
            r#"{{"a":{}1{}}}"#,
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        ),
        format!(
            "{}{{}}{}",
            r#"{"a":"#.repeat(levels + 1),
            "}".repeat(levels + 1)
        ),
    ];
    let outcomes = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            bodies.map(|body| {
                // Through the MAC too: its sink inlines into the walk.
                let signed = sign_json(&key(), body.as_bytes()).map_err(|e| e.to_string());
                let canonical = canonical(&body).map_err(|e| e.to_string());
                assert_eq!(signed.is_ok(), canonical.is_ok(), "{body}");
                canonical
            })
        })
        .expect("a thread")
        .join()
        .expect("no stack overflow");
    assert_eq!(
        outcomes[0].as_deref(),
        Ok(format!("{}a1", "a.".repeat(levels - 1)).as_str())
    );
    assert_eq!(
        outcomes[1].as_deref(),
        Ok(format!("{}b1", "a.".repeat(levels)).as_str())
    );
    assert_eq!(
        outcomes[2].as_deref(),
        Ok(format!("a.{}01", "0.".repeat(levels - 2)).as_str())
    );
    assert!(
        outcomes[3]
            .as_ref()
            .is_err_and(|e| e.contains("levels deep")),
        "{outcomes:?}"
    );
}

fn nested(levels: usize, open: &str, inner: &str, close: &str) -> String {
    format!(
        "{{\"top\":\"t\",\"a\":{}{}{}}}",
        open.repeat(levels),
        inner,
        close.repeat(levels)
    )
}

#[test]
fn depth_fifteen_is_accepted_and_sixteen_rejected() {
    // "a" is level 1; 14 more objects put the leaf's object at level 15.
    let mut body = String::from("{\"top\":\"t\"");
    body.push_str(",\"a\":{");
    for _ in 0..14 {
        body.push_str("\"a\":{");
    }
    body.push_str("\"leaf\":\"v\"");
    body.push_str(&"}".repeat(15));
    body.push('}');
    assert_eq!(ok(&body), format!("topt{}leafv", "a.".repeat(15)));

    let mut deep = String::from("{\"top\":\"t\",\"a\":{");
    for _ in 0..15 {
        deep.push_str("\"a\":{");
    }
    deep.push_str("\"leaf\":\"v\"");
    deep.push_str(&"}".repeat(17));
    match canonical(&deep) {
        Err(JsonError::TooDeep { path, depth }) => {
            assert_eq!(depth, 16);
            assert_eq!(path, format!("a{}", ".a".repeat(15)));
        }
        other => panic!("{other:?}"),
    }

    // An empty container at level 16 is rejected too, like the PHP does.
    assert!(ok(&nested(14, "[", "[]", "]")).starts_with("topt"));
    assert!(matches!(
        canonical(&nested(15, "[", "[]", "]")),
        Err(JsonError::TooDeep { depth: 16, .. })
    ));
    assert_eq!(
        ok(&nested(14, "[", "[\"v\"]", "]")),
        format!("topta.{}0v", "0.".repeat(14))
    );
}

#[test]
fn a_hundred_thousand_brackets_fail_at_level_sixteen() {
    let mut body = String::from("{\"a\":");
    body.push_str(&"[".repeat(100_000));
    assert!(matches!(
        canonical(&body),
        Err(JsonError::TooDeep { depth: 16, .. })
    ));
    let body = "{".repeat(100_000);
    assert!(canonical(&body).is_err());
    let body = "[".repeat(100_000);
    assert_eq!(canonical(&body), Err(JsonError::NotAnObject));
    let mut body = String::from("{\"a\":");
    body.push_str(&"{\"a\":".repeat(100_000));
    assert!(matches!(
        canonical(&body),
        Err(JsonError::TooDeep { depth: 16, .. })
    ));
}
