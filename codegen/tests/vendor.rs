//! The real vendor export of the gateway spec (not valid by the letter)
//! generates, with the expected warnings.

use std::path::Path;

use paygate_codegen::{generate, load_spec_file, Generated, Options};

fn vendor() -> Option<Generated> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vendor/gateway-openapi-5.7.2.json");
    if !path.exists() {
        eprintln!(
            "note: {} is absent; skipping the vendor-spec test",
            path.display()
        );
        return None;
    }
    let spec = load_spec_file(&path).expect("readable");
    Some(generate(&spec, None, &Options::default()).expect("the vendor spec generates"))
}

fn has_warning(out: &Generated, location: &str, needle: &str) -> bool {
    out.warnings
        .iter()
        .any(|w| w.location == location && w.message.contains(needle))
}

#[test]
fn vendor_spec_generates_with_warnings() {
    let Some(out) = vendor() else { return };
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    assert!(
        has_warning(
            &out,
            "#/paths/~1{public_id}~1deposit/post",
            "no `responses`"
        ),
        "deposit without responses"
    );
    assert!(
        has_warning(
            &out,
            "#/components/schemas/responseBodyB2c/properties/provider result",
            "not a Rust identifier"
        ),
        "the `provider result` property"
    );
    assert!(has_warning(
        &out,
        "#/components/schemas/providerDef",
        "x-enum-varnames"
    ));
    assert!(has_warning(
        &out,
        "#/components/schemas/callbackBodyC2B/properties/amount/type",
        "`Number`"
    ));
    assert!(has_warning(
        &out,
        "#/components/schemas/responseBodyB2c/required",
        "`provider`"
    ));

    let file = syn::parse_file(&out.code).expect("the output is Rust");
    assert!(file.items.len() > 20);

    // providerDef is open: ids the vendor did not list (like 2303) land in Unknown.
    let provider_def = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Enum(e) if e.ident == "ProviderDef" => Some(e),
            _ => None,
        })
        .expect("an enum ProviderDef");
    let unknown = provider_def
        .variants
        .iter()
        .find(|v| v.ident == "Unknown")
        .expect("an Unknown variant");
    assert!(matches!(unknown.fields, syn::Fields::Unnamed(_)));
    assert!(provider_def
        .attrs
        .iter()
        .any(|a| a.path().is_ident("non_exhaustive")));
    assert!(out
        .code
        .contains("pub provider_result: Option<ResponseBodyB2cProviderResult>"));
    assert!(out.code.contains("rename = \"provider result\""));
    assert!(out.code.contains("V9,"));
}

#[test]
fn vendor_spec_operations() {
    let Some(out) = vendor() else { return };
    // No operationIds in the vendor spec: derived from method and path.
    for id in [
        "post_payment_c2b",
        "post_deposit",
        "post_payment_b2c_bulk_details",
    ] {
        assert!(out.code.contains(&format!("id: \"{id}\"")), "{id}");
    }
    assert!(out.code.contains("pub struct PostPaymentC2b;"));
    // deposit has neither a body nor responses: listed, but no marker type.
    assert!(!out.code.contains("pub struct PostDeposit;"));
}
