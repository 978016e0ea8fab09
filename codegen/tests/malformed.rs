//! Input the generator cannot map is an error that says where; it never panics.

use paygate_codegen::{generate, Error, Generated, Options, RulesSource, SpecSource};

const GOOD_SPEC: &str = r##"
openapi: 3.0.3
info: {title: Test, version: '1'}
paths:
  /pay:
    post:
      operationId: pay
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PayRequest'}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/PayResponse'}
components:
  schemas:
    PayRequest:
      type: object
      required: [amount]
      properties:
        amount: {type: string, format: decimal}
        provider_id: {type: integer}
    PayResponse:
      type: object
      properties:
        status: {$ref: '#/components/schemas/State'}
    State: {type: integer, enum: [1, 2], x-enum-varnames: [Pending, Done]}
"##;

const GOOD_RULES: &str = r#"
version: 2
seeds: {'002': seed.txt}
global_providers:
  - id: 14
    name: Simulator
    test_provider: true
    quotes: [{seed: '002', text: '| 14 | Simulator |'}]
countries:
  - code: KE
    name: Kenya
    sections: [{seed: '002', from: '| 700 | MTN |', to: '| 705 |'}]
    identified: {certainty: inferred, reason: 'the calling code 254'}
    currency: {value: KES, certainty: documented, quotes: [{seed: '002', text: '| KES | Kenyan shilling |'}]}
    phone: {pattern: '^254[0-9]{9}$', example: '254000000000', certainty: documented, quotes: [{seed: '002', text: '254000000000 - This is the format'}]}
    tables:
      - id: KE.1
        quotes: [{seed: '002', text: '| KES 10.00 | KES 10.00 | KES 1000.00 |'}]
        step: '5'
        c2b: {min: '10.00', max: '1000.00'}
        b2c: {min: '10.00', max: '1000.00'}
    requirements:
      - directions: [c2b]
        flow: otp
        certainty: documented
        quotes: [{seed: '002', text: 'otp'}]
      - directions: [b2c]
        extras: [customer_name]
        certainty: documented
        quotes: [{seed: '002', text: 'customer_name'}]
    providers:
      - {id: 700, name: MTN, quotes: [{seed: '002', text: '| 700 | MTN |'}]}
"#;

fn spec(text: &str) -> SpecSource {
    SpecSource::new("test.yaml", text)
}

fn run(spec_text: &str, rules_text: Option<&str>) -> Result<Generated, Error> {
    let rules = rules_text.map(|r| RulesSource::new("rules.yaml", r));
    generate(&spec(spec_text), rules.as_ref(), &Options::default())
}

fn err(spec_text: &str, rules_text: Option<&str>) -> String {
    match run(spec_text, rules_text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_baseline_generates() {
    let out = run(GOOD_SPEC, Some(GOOD_RULES)).expect("valid input");
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    syn::parse_file(&out.code).expect("Rust");
    assert!(
        out.code
            .contains("Some(crate::money::Amount::from_minor(500))"),
        "step '5' is 5.00"
    );
    assert!(out.code.contains("MtnKe700"));
    assert!(out.code.contains("pub struct Pay;"));
}

#[test]
fn invalid_yaml_names_the_line() {
    let e = err("openapi: 3.0.3\ninfo: {title: x\npaths: [\n", None);
    assert!(e.contains("invalid YAML at line"), "{e}");
    let e = err("{\"openapi\": \"3.0.3\",\n \"info\": }", None);
    assert!(e.contains("invalid JSON at line 2"), "{e}");
}

#[test]
fn unresolved_ref_names_the_pointer() {
    let text = GOOD_SPEC.replace(
        "schema: {$ref: '#/components/schemas/PayResponse'}",
        "schema: {$ref: '#/components/schemas/Nope'}",
    );
    let e = err(&text, None);
    assert!(
        e.contains("#/paths/~1pay/post/responses/200/content/application~1json/schema"),
        "{e}"
    );
    assert!(
        e.contains("unresolved `$ref` `#/components/schemas/Nope`"),
        "{e}"
    );
}

#[test]
fn property_without_type_names_the_pointer() {
    let text = GOOD_SPEC.replace(
        "provider_id: {type: integer}",
        "provider_id: {description: what am I}",
    );
    let e = err(&text, None);
    assert!(
        e.contains("#/components/schemas/PayRequest/properties/provider_id"),
        "{e}"
    );
    assert!(e.contains("no `type`"), "{e}");
}

#[test]
fn unsupported_constructs_name_the_pointer() {
    let text = GOOD_SPEC.replace(
        "provider_id: {type: integer}",
        "provider_id: {oneOf: [{type: object, properties: {a: {type: string}}}, {type: string}]}",
    );
    let e = err(&text, None);
    assert!(
        e.contains("#/components/schemas/PayRequest/properties/provider_id"),
        "{e}"
    );
    assert!(e.contains("oneOf"), "{e}");
    let text = GOOD_SPEC.replace(
        "provider_id: {type: integer}",
        "provider_id: {type: object}",
    );
    let e = err(&text, None);
    assert!(e.contains("#/components/schemas/PayRequest/properties/provider_id: an object without `properties`"), "{e}");
}

#[test]
fn strict_parse_errors_name_the_pointer() {
    let text = GOOD_SPEC.replace(
        "provider_id: {type: integer}",
        "provider_id: {type: integer, properties: 5}",
    );
    let e = err(&text, None);
    assert!(
        e.contains("#/components/schemas/PayRequest/properties/provider_id"),
        "{e}"
    );
}

#[test]
fn ref_cycles_without_an_object_are_errors_and_with_one_are_boxed() {
    let text = GOOD_SPEC.replace(
        "    PayResponse:",
        "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n    PayResponse:",
    );
    let e = err(&text, None);
    assert!(e.contains("`$ref` cycle"), "{e}");
    let text = GOOD_SPEC.replace(
        "        provider_id: {type: integer}",
        "        provider_id: {type: integer}\n        parent: {$ref: '#/components/schemas/PayRequest'}",
    );
    let out = run(&text, None).expect("a self-referencing struct is boxed");
    assert!(
        out.code.contains("pub parent: Option<Box<PayRequest>>"),
        "{}",
        out.code
    );
}

#[test]
fn not_openapi_3_0() {
    let e = err(
        "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n",
        None,
    );
    assert!(e.contains("#/swagger") && e.contains("OpenAPI 2.0"), "{e}");
    let e = err("info: {title: x, version: '1'}\npaths: {}\n", None);
    assert!(e.contains("#/openapi") && e.contains("missing"), "{e}");
    let e = err(
        "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
        None,
    );
    assert!(e.contains("3.1.0"), "{e}");
    let e = err("- just\n- a list\n", None);
    assert!(e.contains("not an object"), "{e}");
}

#[test]
fn duplicate_provider_id() {
    let rules = GOOD_RULES.replace("id: 700", "id: 14");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("duplicate provider id 14")
            && e.contains("global_providers[0]")
            && e.contains("countries[0].providers[0]"),
        "{e}"
    );
}

#[test]
fn bad_amount_names_the_path() {
    let rules = GOOD_RULES.replace(
        "c2b: {min: '10.00', max: '1000.00'}",
        "c2b: {min: '10.00', max: '1,000.00'}",
    );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("rules.yaml: countries[0].tables[0].c2b.max: `1,000.00` is not an amount"),
        "{e}"
    );
    let rules = GOOD_RULES.replace(
        "c2b: {min: '10.00', max: '1000.00'}",
        "c2b: {min: '10000.00', max: '1000.00'}",
    );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].tables[0].c2b: min (10000.00) is greater than max (1000.00)"),
        "{e}"
    );
    let rules = GOOD_RULES.replace("c2b: {min: '10.00', max: '1000.00'}", "c2b: {min: '10.00'}");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].tables[0].c2b: missing `max`"),
        "{e}"
    );
}

#[test]
fn unsupported_phone_pattern_names_the_path() {
    let rules = GOOD_RULES.replace("'^254[0-9]{9}$'", "'^254[0-9]+$'");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].phone.pattern") && e.contains("unsupported construct `+`"),
        "{e}"
    );
    let rules = GOOD_RULES.replace("'^254[0-9]{9}$'", "'^254\\s[0-9]{9}$'");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].phone.pattern") && e.contains("\\s"),
        "{e}"
    );
}

#[test]
fn example_must_match_its_pattern() {
    let rules = GOOD_RULES.replace("example: '254000000000'", "example: '25400000000'");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].phone.example") && e.contains("does not match"),
        "{e}"
    );
}

#[test]
fn unknown_references_and_flow() {
    let rules = GOOD_RULES.replace(
        "      - directions: [c2b]\n",
        "      - providers: [701]\n        directions: [c2b]\n",
    );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].requirements[0].providers: provider 701 is not a provider of KE"),
        "{e}"
    );
    let rules = GOOD_RULES.replace("flow: otp", "flow: carrier_pigeon");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].requirements[0].flow: expected standard, otp"),
        "{e}"
    );
}

#[test]
fn facts_need_their_provenance() {
    let rules = GOOD_RULES.replace(
        "identified: {certainty: inferred, reason: 'the calling code 254'}",
        "identified: {certainty: inferred}",
    );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].identified") && e.contains("needs a `reason`"),
        "{e}"
    );
    let rules = GOOD_RULES.replace(
        "currency: {value: KES, certainty: documented, quotes: [{seed: '002', text: '| KES | Kenyan shilling |'}]}",
        "currency: {value: KES, certainty: documented}",
    );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(
        e.contains("countries[0].currency") && e.contains("needs `quotes`"),
        "{e}"
    );
    let rules = GOOD_RULES
        .replace("text: '| 700 | MTN |'", "text: '| 700 | MTN |', seed2: x")
        .replace(
            "{seed: '002', text: '| 700 | MTN |'",
            "{seed: '009', text: '| 700 | MTN |'",
        );
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(e.contains("seed `009` is not declared"), "{e}");
    let rules = GOOD_RULES.replace("version: 2", "version: 1");
    let e = err(GOOD_SPEC, Some(&rules));
    assert!(e.contains("version 1 is not supported"), "{e}");
}

#[test]
fn warnings_for_letter_violations() {
    let text = GOOD_SPEC
        .replace("x-enum-varnames: [Pending, Done]", "x-note: hi")
        .replace("amount: {type: string, format: decimal}", "amount: {type: string, format: decimal}\n        \"a b\": {type: string, format: weird}\n        a_b: {type: string}");
    let out = run(&text, None).expect("warnings only");
    let messages: Vec<String> = out.warnings.iter().map(ToString::to_string).collect();
    let has = |needle: &str| messages.iter().any(|m| m.contains(needle));
    assert!(
        has("#/components/schemas/State: integer enum without `x-enum-varnames`"),
        "{messages:#?}"
    );
    assert!(has("extension `x-note` is ignored"), "{messages:#?}");
    assert!(has("unknown string format `weird`"), "{messages:#?}");
    assert!(
        has("property name `a b` is not a Rust identifier"),
        "{messages:#?}"
    );
    assert!(has("field name `a_b` is already used"), "{messages:#?}");
    assert!(
        out.code.contains("pub a_b_2: Option<String>"),
        "{}",
        out.code
    );
    let denied = generate(&spec(&text), None, &Options::default().deny_warnings(true));
    assert!(matches!(denied, Err(Error::DeniedWarnings(_))));
}

#[test]
fn garbage_never_panics() {
    let cases = [
        "",
        "null",
        "openapi: 3.0.0",
        "openapi: 3.0.0\ninfo: 5\npaths: {}",
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths: {/x: {post: {responses: {'200': {description: d, content: {application/json: {schema: {type: array}}}}}}}}",
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths: {}\ncomponents: {schemas: {A: {type: integer, enum: [1, 1]}, B: {allOf: []}, C: {type: string, enum: [a, A, 'a ']}}}",
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths: {}\ncomponents: {schemas: {A: {$ref: 'other.yaml#/A'}}}",
        "openapi: 3.0.0\ninfo: {title: t, version: v}\npaths: {}\ncomponents: {schemas: {Option: {type: object, properties: {self: {type: string}, type: {type: integer, enum: [-1, 99999999999]}}}}}",
    ];
    for case in cases {
        let _ = run(case, None);
        let _ = run(GOOD_SPEC, Some(case));
    }
}

/// `count` object components `Link0`..: each has a field `next` of the
/// following one; listed first to last or last to first.
fn chain_of_components(count: usize, last_first: bool) -> String {
    let mut components: Vec<String> = (0..count)
        .map(|i| {
            if i + 1 == count {
                format!("    Link{i}:\n      type: object\n      properties:\n        end: {{type: string}}\n")
            } else {
                format!(
                    "    Link{i}:\n      type: object\n      properties:\n        next: {{$ref: '#/components/schemas/Link{}'}}\n",
                    i + 1
                )
            }
        })
        .collect();
    if last_first {
        components.reverse();
    }
    GOOD_SPEC.replace(
        "    PayResponse:",
        &format!("{}    PayResponse:", components.concat()),
    )
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error_not_a_stack_overflow() {
    // Each array component's type waits on the next one's: 2 000 levels.
    let arrays: String = (0..2_000)
        .map(|i| {
            format!(
                "    Link{i}: {{type: array, items: {{$ref: '#/components/schemas/Link{}'}}}}\n",
                i + 1
            )
        })
        .collect();
    let text = GOOD_SPEC.replace(
        "    PayResponse:",
        &format!("{arrays}    Link2000: {{type: string}}\n    PayResponse:"),
    );
    let e = err(&text, None);
    assert!(e.contains("more than 64 levels deep"), "{e}");
    assert!(e.contains("#/components/schemas/Link"), "{e}");
}

#[test]
fn a_chain_of_structs_first_to_last_generates() {
    // Each struct refers to the next, not yet lowered: its type is its
    // name, so the chain is lowered one component at a time.
    let out = run(&chain_of_components(2_000, false), None).expect("a long chain generates");
    assert!(out.code.contains("pub struct Link1999"));
}

#[test]
fn a_long_chain_of_structs_is_walked_without_recursion() {
    // Lowered last to first, every reference is already known: a chain of
    // 20 000 structs reaches the cycle check, which walks it iteratively.
    let out = run(&chain_of_components(20_000, true), None).expect("a long chain generates");
    assert!(out.code.contains("pub struct Link19999"));
    assert!(
        out.code.contains("pub next: Option<Link1>"),
        "not boxed: no cycle"
    );
}
