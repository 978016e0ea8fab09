//! Specs built to break the generator (issue 14, defect 5): each is an
//! error naming where, quickly, never a crash.

use std::time::{Duration, Instant};

use paygate_codegen::{
    generate, load_spec_file, Options, SpecSource, MAX_BLOCK_DEPTH, MAX_FLOW_DEPTH, MAX_INPUT_BYTES,
};

fn run(text: String) -> (Result<String, String>, Duration) {
    let started = Instant::now();
    let out = generate(
        &SpecSource::new("hostile.yaml", text),
        None,
        &Options::default(),
    )
    .map(|g| g.code)
    .map_err(|e| e.to_string());
    (out, started.elapsed())
}

const HEAD: &str =
    "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n";

#[test]
fn ten_thousand_ref_aliases_are_an_error_naming_the_pointer() {
    let mut text = HEAD.to_owned();
    for i in 0..10_000 {
        text.push_str(&format!(
            "    A{i}: {{$ref: '#/components/schemas/A{}'}}\n",
            i + 1
        ));
    }
    text.push_str("    A10000: {type: string}\n");
    let (out, _) = run(text);
    let e = out.expect_err("an alias chain 10 000 long is refused");
    assert!(e.contains("levels deep"), "{e}");
    assert!(e.contains("#/components/schemas/A"), "{e}");
}

#[test]
fn a_short_alias_chain_still_generates() {
    let mut text = HEAD.to_owned();
    text.push_str("    Holder:\n      type: object\n      properties:\n        v: {$ref: '#/components/schemas/A0'}\n");
    for i in 0..10 {
        text.push_str(&format!(
            "    A{i}: {{$ref: '#/components/schemas/A{}'}}\n",
            i + 1
        ));
    }
    text.push_str("    A10: {type: string}\n");
    let (out, _) = run(text);
    let code = out.expect("ten aliases generate");
    assert!(code.contains("pub struct Holder"), "{code}");
}

/// `S0.next` refers to `S1`, `S1.next` to `S2`, … : each object is
/// lowered in its own turn, so the chain's length is not a depth.
fn object_chain(length: usize) -> String {
    let mut text = HEAD.to_owned();
    for i in 0..length {
        text.push_str(&format!(
            "    S{i}:\n      type: object\n      properties:\n        next: {{$ref: '#/components/schemas/S{}'}}\n",
            i + 1
        ));
    }
    text.push_str(&format!("    S{length}: {{type: string}}\n"));
    text
}

#[test]
fn four_thousand_chained_objects_generate() {
    let (out, _) = run(object_chain(4_000));
    let code = out.expect("a chain of 4 000 objects is a valid spec");
    assert!(code.contains("pub struct S0 "), "S0 missing");
    assert!(code.contains("pub struct S3999 "), "S3999 missing");
}

#[test]
fn a_chain_of_4000_arrays_is_an_error_naming_the_pointer() {
    let mut text = HEAD.to_owned();
    for i in 0..4_000 {
        text.push_str(&format!(
            "    L{i}: {{type: array, items: {{$ref: '#/components/schemas/L{}'}}}}\n",
            i + 1
        ));
    }
    text.push_str("    L4000: {type: string}\n");
    let (out, _) = run(text);
    let e = out.expect_err("a chain of 4 000 array types is refused");
    assert!(e.contains("levels deep"), "{e}");
    assert!(e.contains("#/components/schemas/L"), "{e}");
}

#[test]
fn a_flow_list_nested_100_000_deep_fails_fast_naming_the_place() {
    let text = format!("openapi: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let (out, took) = run(text);
    let e = out.expect_err("refused");
    assert!(
        e.contains(&format!("nested more than {MAX_FLOW_DEPTH} deep")),
        "{e}"
    );
    assert!(e.contains("line 1"), "{e}");
    // Unbounded, the YAML parser took about a minute on this input.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn brackets_in_quotes_comments_and_plain_text_do_not_count() {
    let deep = "[".repeat(200);
    let text = format!(
        "openapi: 3.0.3\ninfo: {{title: 't {deep}', version: '1', description: \"{deep}\"}}\n# {deep}\npaths: {{}}\ncomponents:\n  schemas:\n    S:\n      type: string\n      description: see {deep} here\n"
    );
    let (out, _) = run(text);
    out.expect("a valid spec with brackets in text generates");
}

#[test]
fn a_spec_over_the_size_limit_is_refused_before_parsing() {
    let mut text = HEAD.to_owned();
    let line = "    # padding padding padding padding padding padding padding padding\n";
    while text.len() <= MAX_INPUT_BYTES {
        text.push_str(line);
    }
    let (out, took) = run(text);
    let e = out.expect_err("refused");
    assert!(e.contains(&format!("at most {MAX_INPUT_BYTES}")), "{e}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_block_list_nested_100_000_deep_fails_fast_naming_the_place() {
    // `- - - … a`: each `- ` opens a sequence inside the one before.
    let text = format!("openapi: 3.0.3\nx:\n  {}a\n", "- ".repeat(100_000));
    let (out, took) = run(text);
    let e = out.expect_err("refused");
    assert!(
        e.contains(&format!("nested more than {MAX_BLOCK_DEPTH} deep")),
        "{e}"
    );
    assert!(e.contains("line 3"), "{e}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn block_mappings_indented_deeper_than_the_limit_fail_naming_the_line() {
    let mut text = "openapi: 3.0.3\nx:\n".to_owned();
    for i in 0..3_000 {
        text.push_str(&" ".repeat(i + 1));
        text.push_str(&format!("k{i}:\n"));
    }
    let (out, _) = run(text);
    let e = out.expect_err("refused");
    assert!(
        e.contains(&format!(
            "block collections nested more than {MAX_BLOCK_DEPTH} deep"
        )),
        "{e}"
    );
    // Line 2 is `x:` (depth 1); line n is at depth n - 1.
    assert!(e.contains(&format!("line {}", MAX_BLOCK_DEPTH + 2)), "{e}");
}

#[test]
fn json_nested_deeper_than_the_limit_is_refused_naming_the_place() {
    let text = format!(
        "{{\"openapi\": {}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (out, _) = run(text);
    let e = out.expect_err("refused");
    assert!(e.contains("nested more than"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_without_reading_it() {
    let path = std::env::temp_dir().join(format!("paygate-oversize-{}.yaml", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: nothing is written, the file only claims the size.
    file.set_len(MAX_INPUT_BYTES as u64 * 4).unwrap();
    drop(file);
    let started = Instant::now();
    let out = load_spec_file(&path);
    let took = started.elapsed();
    let _ = std::fs::remove_file(&path);
    let e = match out {
        Ok(spec) => panic!("read {} bytes", spec.text.len()),
        Err(e) => e.to_string(),
    };
    assert!(e.contains(&format!("at most {MAX_INPUT_BYTES}")), "{e}");
    assert!(e.contains("paygate-oversize"), "names the file: {e}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn aliases_repeating_a_big_anchor_are_refused_fast_with_bounded_memory() {
    // 200 KB of text that expanded to ten million values: 2.4 GB, 30 s.
    let items = vec!["x"; 100_000].join(",");
    let aliases = ["*a"; 100].join(",");
    let text = format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\nx-a: &a [{items}]\nx-b: [{aliases}]\n"
    );
    let (out, took) = run(text);
    let e = out.expect_err("refused");
    assert!(e.contains("aliases `*name` repeat"), "{e}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_few_aliases_still_read() {
    let text = format!(
        "{HEAD}    Money: &money\n      type: object\n      properties:\n        amount: {{type: string}}\n    Price: *money\n"
    );
    let (out, _) = run(text);
    let code = out.expect("aliases within the budget are read");
    assert!(code.contains("pub struct Price"), "{code}");
}
