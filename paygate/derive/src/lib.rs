//! `#[derive(Signable)]` for paygate.
//!
//! The gateway signs a payload by walking it *in the order it is sent* and
//! appending `prefix + key + value` for every scalar (see the
//! `paygate::signing` documentation). For a typed payload, "the order it is
//! sent" is the order serde serializes it: fields in declaration order, under
//! their serde names, minus the fields serde does not send. This derive
//! generates exactly that walk, so what is signed is what is sent.
//!
//! For a struct with named fields it implements
//!
//! * `paygate::signing::Signable`: `write_fields` writes every sent field, in
//!   declaration order, through `SignValue::write_value(&self.field,
//!   Segment::Name("serde_name"), out)` (`Segment` and the other types of
//!   the trait methods' signatures are in `paygate::signing::__private`: not
//!   public API);
//! * `paygate::signing::SignValue`: `write_value` opens the nested object
//!   `key` and writes the fields inside it, so a signable struct nests in
//!   another under the prefix `field.`.
//!
//! # Attributes
//!
//! The derive reads the serde attributes that change what is sent:
//!
//! | attribute | where | effect on the signature |
//! |---|---|---|
//! | `#[serde(rename = "x")]`, `#[serde(rename(serialize = "x"))]` | field | the key is `x` |
//! | `#[serde(rename_all = "...")]`, `#[serde(rename_all(serialize = "..."))]` | struct | keys follow the case convention (`lowercase`, `UPPERCASE`, `PascalCase`, `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `SCREAMING-KEBAB-CASE`) |
//! | `#[serde(skip)]`, `#[serde(skip_serializing)]` | field | not signed (not sent) |
//! | `#[serde(skip_serializing_if = "path")]` | field | signed only when `!path(&self.field)` |
//! | `#[serde(flatten)]` | field | the inner value's fields are written at this level (an `Option` only when `Some`) |
//! | `#[serde(tag = "t")]` | struct | `t` + the struct's serde name is written first, as serde sends it |
//!
//! Serde attributes that only affect deserialization (`default`, `alias`,
//! `deserialize_with`, `deny_unknown_fields`, ...) are ignored. Attributes
//! that make serde send something this derive cannot see (`with`,
//! `serialize_with`, `getter`, `transparent`, `into`) are compile errors: the
//! signature would not match the body.
//!
//! One attribute of its own: `#[signable(skip)]` on a field leaves it out of
//! the signature while serde still sends it.
//!
//! Raw identifiers lose their `r#` (`r#type` is signed as `type`), as in
//! serde. A field named `signature` needs no attribute: the canonicalizer
//! skips scalars keyed `signature` at every level.
//!
//! Type parameters get a `SignValue` bound (flattened ones `Signable`); the
//! struct's own where clause is kept. Enums, tuple structs, unit structs and
//! unions are rejected with a compile error pointing at the item.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, parse_quote, Attribute, Data, DeriveInput, Error, Expr, ExprPath, Field,
    Fields, FieldsNamed, GenericArgument, LitStr, PathArguments, Result, Token, Type,
};

/// Derives `paygate::signing::Signable` and `paygate::signing::SignValue` for
/// a struct with named fields; see the [crate documentation](crate).
#[proc_macro_derive(Signable, attributes(signable, serde))]
pub fn derive_signable(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

// ---------------------------------------------------------------------------
// Parsed attributes
// ---------------------------------------------------------------------------

/// What the derive needs to know about the struct.
struct Container {
    /// `rename_all` (serialize side), if any.
    rename_all: Option<RenameRule>,
    /// The struct's serialized name (its `rename`, else its identifier); only
    /// used as the value of an internal `tag`.
    name: String,
    /// `#[serde(tag = "...")]`: serde writes `tag: name` before the fields.
    tag: Option<LitStr>,
}

/// What the derive needs to know about one field.
struct FieldAttrs {
    /// `rename` (serialize side), if any.
    rename: Option<String>,
    /// `serde(skip)`, `serde(skip_serializing)` or `signable(skip)`.
    skip: bool,
    /// `serde(flatten)`.
    flatten: bool,
    /// `serde(skip_serializing_if = "path")`.
    skip_if: Option<ExprPath>,
}

/// One field as it will be emitted.
struct SignedField<'f> {
    field: &'f Field,
    member: &'f syn::Ident,
    /// The key it is signed under (its serde name).
    key: String,
    flatten: bool,
    skip_if: Option<ExprPath>,
}

/// serde's case conventions for `rename_all`.
#[derive(Clone, Copy)]
enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    const ALL: [(&'static str, RenameRule); 8] = [
        ("lowercase", RenameRule::Lower),
        ("UPPERCASE", RenameRule::Upper),
        ("PascalCase", RenameRule::Pascal),
        ("camelCase", RenameRule::Camel),
        ("snake_case", RenameRule::Snake),
        ("SCREAMING_SNAKE_CASE", RenameRule::ScreamingSnake),
        ("kebab-case", RenameRule::Kebab),
        ("SCREAMING-KEBAB-CASE", RenameRule::ScreamingKebab),
    ];

    fn from_lit(lit: &LitStr) -> Result<Self> {
        let value = lit.value();
        RenameRule::ALL
            .iter()
            .find(|(name, _)| *name == value)
            .map(|&(_, rule)| rule)
            .ok_or_else(|| {
                let names: Vec<_> = RenameRule::ALL
                    .iter()
                    .map(|(n, _)| format!("\"{n}\""))
                    .collect();
                Error::new_spanned(
                    lit,
                    format!(
                        "unknown rename_all rule `{value}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    /// Applies the rule to a `snake_case` field name, exactly as serde does.
    fn apply_to_field(self, field: &str) -> String {
        match self {
            RenameRule::Lower | RenameRule::Snake => field.to_owned(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => {
                let mut pascal = String::with_capacity(field.len());
                let mut capitalize = true;
                for ch in field.chars() {
                    if ch == '_' {
                        capitalize = true;
                    } else if capitalize {
                        pascal.push(ch.to_ascii_uppercase());
                        capitalize = false;
                    } else {
                        pascal.push(ch);
                    }
                }
                pascal
            }
            RenameRule::Camel => {
                let pascal = RenameRule::Pascal.apply_to_field(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

// ---------------------------------------------------------------------------
// Attribute parsing
// ---------------------------------------------------------------------------

/// Collects several errors so the user sees them all at once.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, err: Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    fn finish(self) -> Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

impl Container {
    fn from_ast(input: &DeriveInput, errors: &mut Errors) -> Container {
        let mut container = Container {
            rename_all: None,
            name: input.ident.unraw().to_string(),
            tag: None,
        };
        for attr in &input.attrs {
            if attr.path().is_ident("signable") {
                let result = attr.parse_nested_meta(|meta| {
                    Err(meta.error(format!(
                        "unknown #[signable] container option `{}`; #[signable] takes no options on a struct",
                        path_name(&meta)
                    )))
                });
                if let Err(err) = result {
                    errors.push(err);
                }
            } else if attr.path().is_ident("serde") {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename_all") {
                        if let Some(lit) = serialize_value(&meta)? {
                            container.rename_all = Some(RenameRule::from_lit(&lit)?);
                        }
                    } else if meta.path.is_ident("rename") {
                        if let Some(lit) = serialize_value(&meta)? {
                            container.name = lit.value();
                        }
                    } else if meta.path.is_ident("tag") {
                        container.tag = Some(meta.value()?.parse()?);
                    } else if meta.path.is_ident("transparent") || meta.path.is_ident("into") {
                        let name = path_name(&meta);
                        skip_meta_value(&meta)?;
                        return Err(meta.error(format!(
                            "#[serde({name})] changes what is sent in a way #[derive(Signable)] cannot follow; \
                             implement `SignValue`/`Signable` by hand for this type"
                        )));
                    } else {
                        // Deserialization-only or irrelevant (default,
                        // deny_unknown_fields, bound, crate, ...).
                        skip_meta_value(&meta)?;
                    }
                    Ok(())
                });
                if let Err(err) = result {
                    errors.push(err);
                }
            }
        }
        container
    }
}

impl FieldAttrs {
    fn from_ast(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
        let mut parsed = FieldAttrs {
            rename: None,
            skip: false,
            flatten: false,
            skip_if: None,
        };
        for attr in attrs {
            if attr.path().is_ident("signable") {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("skip") {
                        parsed.skip = true;
                        Ok(())
                    } else {
                        Err(meta.error(format!(
                            "unknown #[signable] field option `{}`; expected `skip`",
                            path_name(&meta)
                        )))
                    }
                });
                if let Err(err) = result {
                    errors.push(err);
                }
            } else if attr.path().is_ident("serde") {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename") {
                        if let Some(lit) = serialize_value(&meta)? {
                            parsed.rename = Some(lit.value());
                        }
                    } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                        parsed.skip = true;
                    } else if meta.path.is_ident("flatten") {
                        parsed.flatten = true;
                    } else if meta.path.is_ident("skip_serializing_if") {
                        let lit: LitStr = meta.value()?.parse()?;
                        parsed.skip_if = Some(lit.parse()?);
                    } else if meta.path.is_ident("with")
                        || meta.path.is_ident("serialize_with")
                        || meta.path.is_ident("getter")
                    {
                        let name = path_name(&meta);
                        skip_meta_value(&meta)?;
                        return Err(meta.error(format!(
                            "#[serde({name})] sends this field in a form #[derive(Signable)] cannot see; \
                             wrap it in a newtype that implements `SignValue`"
                        )));
                    } else {
                        // default, alias, deserialize_with, borrow, bound, ...
                        skip_meta_value(&meta)?;
                    }
                    Ok(())
                });
                if let Err(err) = result {
                    errors.push(err);
                }
            }
        }
        parsed
    }
}

/// The serialize-side string of `name = "x"` or `name(serialize = "x",
/// deserialize = "y")`; `None` if only a deserialize name is given.
fn serialize_value(meta: &ParseNestedMeta<'_>) -> Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            serialize = Some(inner.value()?.parse()?);
            Ok(())
        } else if inner.path.is_ident("deserialize") {
            let _: LitStr = inner.value()?.parse()?;
            Ok(())
        } else {
            Err(inner.error("expected `serialize` or `deserialize`"))
        }
    })?;
    Ok(serialize)
}

/// Consumes the value of a serde option this derive does not use: nothing,
/// `= expr`, or `(...)`.
fn skip_meta_value(meta: &ParseNestedMeta<'_>) -> Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.step(|cursor| match cursor.token_tree() {
            Some((_, rest)) => Ok(((), rest)),
            None => Err(cursor.error("expected parenthesized arguments")),
        })?;
    }
    Ok(())
}

fn path_name(meta: &ParseNestedMeta<'_>) -> String {
    meta.path.to_token_stream().to_string().replace(' ', "")
}

// ---------------------------------------------------------------------------
// Expansion
// ---------------------------------------------------------------------------

fn expand(input: &DeriveInput) -> Result<TokenStream2> {
    let named = named_fields(input)?;
    let mut errors = Errors::default();
    let container = Container::from_ast(input, &mut errors);
    let mut fields = Vec::new();
    for field in &named.named {
        let attrs = FieldAttrs::from_ast(&field.attrs, &mut errors);
        if attrs.skip {
            continue;
        }
        // Named fields always have an identifier.
        let Some(member) = field.ident.as_ref() else {
            continue;
        };
        let key = match (&attrs.rename, container.rename_all) {
            (Some(rename), _) => rename.clone(),
            (None, Some(rule)) => rule.apply_to_field(&member.unraw().to_string()),
            (None, None) => member.unraw().to_string(),
        };
        fields.push(SignedField {
            field,
            member,
            key,
            flatten: attrs.flatten,
            skip_if: attrs.skip_if,
        });
    }
    errors.finish()?;

    let type_params: Vec<&syn::Ident> = input.generics.type_params().map(|p| &p.ident).collect();
    let signing = quote!(::paygate::signing);
    // The types of the trait methods' signatures: not public API.
    let private = quote!(::paygate::signing::__private);
    let lt = syn::Lifetime::new("'__signable", Span::call_site());
    let sink = syn::Ident::new("__SignableSink", Span::call_site());

    // Bounds: every type parameter is a SignValue; a flattened field whose type
    // mentions a type parameter must also be Signable.
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(parse_quote!(#signing::SignValue));
    }
    for field in fields.iter().filter(|f| f.flatten) {
        let inner = option_inner(&field.field.ty).unwrap_or(&field.field.ty);
        if mentions_any(inner.to_token_stream(), &type_params) {
            generics
                .make_where_clause()
                .predicates
                .push(parse_quote!(#inner: #signing::Signable));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let mut body = Vec::new();
    if let Some(tag) = &container.tag {
        let name = &container.name;
        body.push(quote! {
            #signing::SignValue::write_value(#name, #private::Segment::Name(#tag), out)?;
        });
    }
    body.extend(fields.iter().map(|f| emit_field(f, &signing)));
    if body.is_empty() {
        body.push(quote!(let _ = out;));
    }

    let ident = &input.ident;
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #signing::Signable for #ident #ty_generics #where_clause {
            fn write_fields<#lt, #sink: #private::ByteSink>(
                &#lt self,
                out: &mut #private::Canonicalizer<#lt, #sink>,
            ) -> ::core::result::Result<(), #signing::SignError> {
                #(#body)*
                ::core::result::Result::Ok(())
            }
        }

        #[automatically_derived]
        impl #impl_generics #signing::SignValue for #ident #ty_generics #where_clause {
            fn write_value<#lt, #sink: #private::ByteSink>(
                &#lt self,
                key: #private::Segment<#lt>,
                out: &mut #private::Canonicalizer<#lt, #sink>,
            ) -> ::core::result::Result<(), #signing::SignError> {
                out.enter(key)?;
                #signing::Signable::write_fields(self, out)?;
                out.leave();
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// The named fields of the struct, or a compile error pointing at the item
/// the derive cannot sign.
fn named_fields(input: &DeriveInput) -> Result<&FieldsNamed> {
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Ok(named),
            Fields::Unnamed(fields) => Err(Error::new_spanned(
                fields,
                "#[derive(Signable)] needs named fields: a tuple struct is sent as a JSON array, \
                     which has no field names to sign",
            )),
            Fields::Unit => {
                let ident = &input.ident;
                let struct_token = data.struct_token;
                Err(Error::new_spanned(
                    quote!(#struct_token #ident),
                    "#[derive(Signable)] needs a struct with named fields, not a unit struct",
                ))
            }
        },
        Data::Enum(data) => {
            let ident = &input.ident;
            let enum_token = data.enum_token;
            Err(Error::new_spanned(
                quote!(#enum_token #ident),
                "#[derive(Signable)] supports only structs with named fields, not enums; \
                 implement `SignValue` for the enum by hand",
            ))
        }
        Data::Union(data) => {
            let ident = &input.ident;
            let union_token = data.union_token;
            Err(Error::new_spanned(
                quote!(#union_token #ident),
                "#[derive(Signable)] supports only structs with named fields, not unions",
            ))
        }
    }
}

/// The statement that signs one field.
///
/// The trait call is written `<FieldType as Trait>::method` with the field
/// type's span, so a type that does not implement `SignValue`/`Signable` is
/// reported on the field; `self` and `out` keep the call-site span so they
/// resolve inside the generated method even when the struct comes from a
/// `macro_rules!` expansion.
fn emit_field(f: &SignedField<'_>, signing: &TokenStream2) -> TokenStream2 {
    let member = f.member;
    let value = quote!(&self.#member);
    let out = quote!(out);
    let ty = &f.field.ty;
    let span = ty.span();
    let write = if f.flatten {
        if let Some(inner) = option_inner(ty) {
            // serde sends nothing for a flattened `None`.
            let write_fields = quote_spanned!(span=> <#inner as #signing::Signable>::write_fields);
            quote! {
                if let ::core::option::Option::Some(inner) = #value {
                    #write_fields(inner, #out)?;
                }
            }
        } else {
            let write_fields = quote_spanned!(span=> <#ty as #signing::Signable>::write_fields);
            quote!(#write_fields(#value, #out)?;)
        }
    } else {
        let key = &f.key;
        let write_value = quote_spanned!(span=> <#ty as #signing::SignValue>::write_value);
        quote!(#write_value(#value, #signing::__private::Segment::Name(#key), #out)?;)
    };
    match &f.skip_if {
        // serde leaves the field out when the predicate holds; so does the
        // signature. (For `Option::is_none` this is redundant but harmless.)
        Some(path) => quote! {
            if !#path(#value) {
                #write
            }
        },
        None => write,
    }
}

/// `T` if `ty` is written `Option<T>` (or `std::option::Option<T>`, ...).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// Whether the tokens mention any of the identifiers.
fn mentions_any(tokens: TokenStream2, idents: &[&syn::Ident]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => idents.iter().any(|p| **p == ident),
        TokenTree::Group(group) => mentions_any(group.stream(), idents),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(input: &DeriveInput) -> String {
        match expand(input) {
            Ok(tokens) => panic!("expected an error, got {tokens}"),
            Err(err) => err
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn rename_rules_match_serde() {
        let cases = [
            ("lowercase", "order_id"),
            ("UPPERCASE", "ORDER_ID"),
            ("PascalCase", "OrderId"),
            ("camelCase", "orderId"),
            ("snake_case", "order_id"),
            ("SCREAMING_SNAKE_CASE", "ORDER_ID"),
            ("kebab-case", "order-id"),
            ("SCREAMING-KEBAB-CASE", "ORDER-ID"),
        ];
        for (rule, expected) in cases {
            let lit = LitStr::new(rule, Span::call_site());
            let rule = RenameRule::from_lit(&lit).unwrap();
            assert_eq!(rule.apply_to_field("order_id"), expected);
        }
        assert_eq!(RenameRule::Camel.apply_to_field(""), "");
    }

    #[test]
    fn non_struct_items_are_compile_errors() {
        assert!(error_of(&parse_quote!(
            enum E {
                A,
            }
        ))
        .contains("not enums"));
        assert!(error_of(&parse_quote!(
            struct T(u8);
        ))
        .contains("tuple struct"));
        assert!(error_of(&parse_quote!(
            struct U;
        ))
        .contains("unit struct"));
        assert!(error_of(&parse_quote!(union X { a: u8 })).contains("not unions"));
    }

    #[test]
    fn bad_options_are_compile_errors_and_all_are_reported() {
        let err = error_of(&parse_quote! {
            #[serde(rename_all = "Camel")]
            struct S {
                #[signable(skipp)]
                a: u8,
                #[serde(serialize_with = "f")]
                b: u8,
            }
        });
        assert!(err.contains("unknown rename_all rule `Camel`"), "{err}");
        assert!(
            err.contains("unknown #[signable] field option `skipp`"),
            "{err}"
        );
        assert!(err.contains("#[serde(serialize_with)]"), "{err}");
        assert!(error_of(&parse_quote!(
            #[serde(transparent)]
            struct S {
                a: u8,
            }
        ))
        .contains("transparent"));
    }

    #[test]
    fn deserialize_only_serde_options_are_ignored() {
        let input: DeriveInput = parse_quote! {
            #[serde(deny_unknown_fields, default, bound(deserialize = "T: Default"))]
            struct S<T> {
                #[serde(default = "d", alias = "x", deserialize_with = "f", borrow)]
                a: T,
                #[serde(rename(deserialize = "only_in"))]
                b: u8,
            }
        };
        let out = expand(&input).unwrap().to_string();
        assert!(out.contains("Segment :: Name (\"a\")"), "{out}");
        assert!(out.contains("Segment :: Name (\"b\")"), "{out}");
        assert!(
            out.contains("T : :: paygate :: signing :: SignValue"),
            "{out}"
        );
    }
}
