//! Arbitrary text as an OpenAPI spec, and as provider rules beside a small
//! valid spec: `paygate_codegen::generate` never panics (it documents that a
//! spec it cannot map is an `Error`, never a panic).
//!
//! The first byte picks the mode (even: spec text; odd: rules text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use paygate_codegen::{generate, Options, RulesSource, SpecSource};

const SMALL_SPEC: &str = r##"
openapi: 3.0.3
info: {title: Fuzz, version: '1'}
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

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode % 2 == 0 {
        let _ = generate(&SpecSource::new("fuzz", text), None, &Options::default());
    } else {
        let spec = SpecSource::new("fuzz-spec", SMALL_SPEC);
        let rules = RulesSource::new("fuzz-rules", text);
        let _ = generate(&spec, Some(&rules), &Options::default());
    }
});
