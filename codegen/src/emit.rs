//! From the model to Rust tokens.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::model::{Api, Field, Item, Kind, Operation, Predicate, Ty, Variant};
use crate::rules::Resolved;

/// An identifier, raw if it needs to be.
fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// `///` lines, wrapped at about 90 columns.
pub(crate) fn docs(text: &str) -> TokenStream {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            // Never start a line with something Markdown reads as a block.
            if !line.is_empty() && line.len() + word.len() > 88 && !crate::doc::starts_block(word) {
                lines.push(std::mem::take(&mut line));
            }
            line.push(' ');
            line.push_str(word);
        }
        lines.push(line);
    }
    quote! { #( #[doc = #lines] )* }
}

fn ty_tokens(ty: &Ty) -> TokenStream {
    match ty {
        Ty::String => quote!(String),
        Ty::Amount => quote!(crate::money::Amount),
        Ty::Decimal => quote!(crate::money::Decimal),
        Ty::I64 | Ty::IntOrDigits => quote!(i64),
        Ty::Digits => quote!(String),
        Ty::Bool => quote!(bool),
        Ty::TextOrNumber => quote!(crate::money::TextOrNumber),
        Ty::Vec(inner) => {
            let inner = ty_tokens(inner);
            quote!(Vec<#inner>)
        }
        Ty::Named(name) => {
            let name = ident(name);
            quote!(#name)
        }
    }
}

pub(crate) struct Emitter<'a> {
    pub(crate) api: &'a Api,
    pub(crate) rules: Option<&'a Resolved>,
    pub(crate) rules_origin: Option<&'a str>,
}

impl Emitter<'_> {
    /// The module's source in parts (support code, then each item, then
    /// the operations and rules), each one or more whole Rust items: they
    /// are formatted one at a time, so the syntax tree of the whole module,
    /// tens of bytes per byte of output, is never held at once.
    pub(crate) fn file_parts(&self) -> impl Iterator<Item = TokenStream> + '_ {
        let support = std::iter::once_with(|| self.support());
        let items = self.api.items.iter().map(|item| self.item(item));
        let rest = std::iter::once_with(|| {
            let operations = self.operations();
            let rules = self.rules_items();
            quote!(#operations #rules)
        });
        support.chain(items).chain(rest)
    }

    fn support(&self) -> TokenStream {
        let needs_codes = self.rules.is_some_and(|r| !r.providers.is_empty())
            || self
                .api
                .items
                .iter()
                .any(|i| matches!(i.kind, Kind::IntEnum(_)));
        if needs_codes {
            code_visitor()
        } else {
            quote!()
        }
    }

    fn rules_items(&self) -> TokenStream {
        self.rules
            .map(|r| {
                let table = crate::rules::provider_table(
                    r,
                    self.rules_origin.unwrap_or("the provider rules"),
                );
                let ids = crate::rules::provider_id_enum(r);
                quote!(#table #ids)
            })
            .unwrap_or_default()
    }

    /// The structs a request body is made of (the operations' request types
    /// and every struct they hold): built by users, so built through
    /// constructors that survive a new optional field.
    fn request_structs(&self) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        let mut todo: Vec<&Ty> = self
            .api
            .operations
            .iter()
            .filter_map(|op| op.request.as_ref())
            .collect();
        while let Some(ty) = todo.pop() {
            let name = match ty {
                Ty::Named(name) => name.as_str(),
                Ty::Vec(inner) => {
                    todo.push(inner);
                    continue;
                }
                _ => continue,
            };
            if found.contains(&name) {
                continue;
            }
            if let Some(Item {
                kind: Kind::Struct(fields),
                ..
            }) = self.api.item(name)
            {
                found.push(name);
                todo.extend(fields.iter().map(|f| &f.ty));
            }
        }
        found
    }

    fn item(&self, item: &Item) -> TokenStream {
        match &item.kind {
            Kind::Struct(fields) if self.request_structs().contains(&item.name.as_str()) => {
                request_struct(item, fields)
            }
            Kind::Struct(fields) => struct_item(item, fields, false),
            Kind::StrEnum(variants) => str_enum(item, variants),
            Kind::IntEnum(variants) => int_enum(
                &item.name,
                &item.doc,
                variants,
                predicate_fns(&item.predicates),
            ),
        }
    }

    fn operations(&self) -> TokenStream {
        let ops = &self.api.operations;
        let count = Literal::usize_unsuffixed(ops.len());
        let infos = ops.iter().map(operation_info);
        let markers = ops
            .iter()
            .enumerate()
            .filter_map(|(i, op)| self.marker(i, op));
        let marker_doc = docs(&format!(
            "Marker types, one per operation of {} {}, tying each to its request and response types.",
            self.api.title, self.api.version
        ));
        let table_doc = docs(&format!(
            "Every operation of {} {}, in spec order.",
            self.api.title, self.api.version
        ));
        let markers: Vec<TokenStream> = markers.collect();
        let module = if markers.is_empty() {
            quote!()
        } else {
            quote! {
                #marker_doc
                pub mod operations {
                    #(#markers)*
                }
            }
        };
        quote! {
            const OPERATION_INFOS: [crate::operation::OperationInfo; #count] = [ #(#infos),* ];

            #table_doc
            pub static OPERATIONS: &[crate::operation::OperationInfo] = &OPERATION_INFOS;

            #module
        }
    }

    /// A marker type for an operation whose request is a generated struct
    /// and which has a success response type.
    fn marker(&self, index: usize, op: &Operation) -> Option<TokenStream> {
        let Some(Ty::Named(request)) = &op.request else {
            return None;
        };
        let is_struct = self
            .api
            .item(request)
            .is_some_and(|i| matches!(i.kind, Kind::Struct(_)));
        let response = op.response.as_ref()?;
        if !is_struct {
            return None;
        }
        let name = ident(&op.marker);
        let request = ident(request);
        let response = match response {
            Ty::Named(n) => {
                let n = ident(n);
                quote!(super::#n)
            }
            other => ty_tokens(other),
        };
        let index = Literal::usize_unsuffixed(index);
        let mut doc = format!("`{} {}`", op.method, op.path);
        if !op.summary.is_empty() {
            doc = format!(
                "{}: `{} {}`.",
                op.summary.trim_end_matches('.'),
                op.method,
                op.path
            );
        }
        let doc = docs(&doc);
        Some(quote! {
            #doc
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct #name;

            impl crate::operation::Operation for #name {
                type Request = super::#request;
                type Response = #response;
                const INFO: &'static crate::operation::OperationInfo = &super::OPERATION_INFOS[#index];
            }
        })
    }
}

fn operation_info(op: &Operation) -> TokenStream {
    let opt = |t: &Option<Ty>| match t {
        Some(t) => {
            let s = t.rust();
            quote!(Some(#s))
        }
        None => quote!(None),
    };
    let (id, method, path, summary) = (&op.id, &op.method, &op.path, &op.summary);
    let (request, response, callback) = (opt(&op.request), opt(&op.response), opt(&op.callback));
    quote! {
        crate::operation::OperationInfo {
            id: #id,
            method: #method,
            path: #path,
            request: #request,
            response: #response,
            callback: #callback,
            summary: #summary,
        }
    }
}

/// A request struct: `#[non_exhaustive]`, built with `new` (its required
/// fields, `signature` left for signing to fill) and `with_*` setters, so
/// that a new optional field in the spec breaks no caller.
fn request_struct(item: &Item, fields: &[Field]) -> TokenStream {
    let name = ident(&item.name);
    let plain = struct_item(item, fields, true);
    let is_signature = |f: &Field| f.json == "signature" && f.ty == Ty::String && !f.optional;
    let required: Vec<&Field> = fields
        .iter()
        .filter(|f| !f.optional && !is_signature(f))
        .collect();
    let param = |f: &Field| {
        let id = ident(&f.ident);
        let mut ty = ty_tokens(&f.ty);
        if f.boxed {
            ty = quote!(Box<#ty>);
        }
        match &f.ty {
            Ty::String | Ty::Named(_) | Ty::Digits if !f.boxed => {
                (quote!(#id: impl Into<#ty>), quote!(#id.into()))
            }
            _ => (quote!(#id: #ty), quote!(#id)),
        }
    };
    let params = required.iter().map(|f| param(f).0);
    let inits = fields.iter().map(|f| {
        let id = ident(&f.ident);
        if f.optional {
            quote!(#id: None)
        } else if is_signature(f) {
            quote!(#id: String::new())
        } else {
            match &f.ty {
                Ty::String | Ty::Named(_) | Ty::Digits if !f.boxed => quote!(#id: #id.into()),
                _ => quote!(#id),
            }
        }
    });
    let setters = fields.iter().filter(|f| f.optional).map(|f| {
        let id = ident(&f.ident);
        let bare = f.ident.trim_start_matches("r#");
        let setter = format_ident!("with_{}", bare);
        let (p, value) = param(f);
        let doc = docs(&format!("Sets `{}`.", f.json));
        quote! {
            #doc
            #[must_use]
            pub fn #setter(mut self, #p) -> Self {
                self.#id = Some(#value);
                self
            }
        }
    });
    let new_doc = if fields.iter().any(is_signature) {
        format!("A `{}` with its required fields; the optional ones are unset (see the `with_*` methods) and `signature` is empty until signing fills it.", item.name)
    } else {
        format!("A `{}` with its required fields; the optional ones are unset (see the `with_*` methods).", item.name)
    };
    let new_doc = docs(&new_doc);
    // Clippy's threshold is seven arguments; only wider constructors carry the allowance.
    let allow_many = if required.len() > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    // A request with no required field is also `Default`.
    let default = if required.is_empty() {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    } else {
        quote!()
    };
    quote! {
        #plain

        impl #name {
            #new_doc
            #allow_many
            pub fn new(#(#params),*) -> Self {
                #name { #(#inits),* }
            }

            #(#setters)*
        }

        #default
    }
}

fn struct_item(item: &Item, fields: &[Field], non_exhaustive: bool) -> TokenStream {
    let name = ident(&item.name);
    let doc = docs(&item.doc);
    let non_exhaustive = if non_exhaustive {
        quote!(#[non_exhaustive])
    } else {
        quote!()
    };
    let fields = fields.iter().map(|f| {
        let ident = ident(&f.ident);
        let doc = docs(&f.doc);
        let mut ty = ty_tokens(&f.ty);
        if f.boxed {
            ty = quote!(Box<#ty>);
        }
        let mut attrs = Vec::new();
        if f.rename {
            let json = &f.json;
            attrs.push(quote!(rename = #json));
        }
        if f.optional {
            ty = quote!(Option<#ty>);
            attrs.push(quote!(default, skip_serializing_if = "Option::is_none"));
        }
        for alias in &f.aliases {
            attrs.push(quote!(alias = #alias));
        }
        if f.ty == Ty::IntOrDigits && !f.boxed {
            let with = if f.optional {
                "crate::lenient::opt_int_or_digits"
            } else {
                "crate::lenient::int_or_digits"
            };
            attrs.push(quote!(deserialize_with = #with));
        }
        let serde = if attrs.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#(#attrs),*)])
        };
        quote! {
            #doc
            #serde
            pub #ident: #ty,
        }
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, crate::Signable)]
        #non_exhaustive
        pub struct #name {
            #(#fields)*
        }
    }
}

/// The private visitor integer enums deserialize through.
fn code_visitor() -> TokenStream {
    quote! {
        /// Helpers for the generated open enums.
        mod codegen_support {
            /// Reads an integer code, from a JSON integer or a string holding one
            /// (the gateway sends `"9209"` as well as `9209`).
            pub(super) struct CodeVisitor;

            impl serde::de::Visitor<'_> for CodeVisitor {
                type Value = i64;

                fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.write_str("an integer code")
                }

                fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
                    Ok(v)
                }

                fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
                    i64::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
                }

                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<i64, E> {
                    v.trim().parse().map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
    }
}

pub(crate) fn int_enum(
    name: &str,
    doc: &str,
    variants: &[Variant<i64>],
    extra: TokenStream,
) -> TokenStream {
    let name = ident(name);
    let doc = docs(doc);
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.ident)).collect();
    let variant_docs = variants.iter().map(|v| docs(&v.doc));
    // A negative code is a minus sign and a literal (`-1`), valid as an
    // expression and as a pattern.
    let code_pats: Vec<TokenStream> = variants
        .iter()
        .map(|v| {
            let abs = Literal::u64_unsuffixed(v.value.unsigned_abs());
            if v.value < 0 {
                quote!(-#abs)
            } else {
                quote!(#abs)
            }
        })
        .collect();
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #idents, )*
            /// A code this version of the spec does not list, kept as received.
            Unknown(i64),
        }

        impl #name {
            /// Every code the spec lists, in spec order.
            pub const ALL: &'static [Self] = &[ #( Self::#idents ),* ];

            /// The code on the wire.
            pub const fn code(&self) -> i64 {
                match *self {
                    #( Self::#idents => #code_pats, )*
                    Self::Unknown(code) => code,
                }
            }

            #extra
        }

        impl From<i64> for #name {
            fn from(code: i64) -> Self {
                match code {
                    #( #code_pats => Self::#idents, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl core::fmt::Display for #name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                core::fmt::Display::fmt(&self.code(), f)
            }
        }

        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(codegen_support::CodeVisitor).map(Self::from)
            }
        }

        impl crate::signing::SignValue for #name {
            fn write_value<'a, S: crate::signing::__private::ByteSink>(
                &'a self,
                key: crate::signing::__private::Segment<'a>,
                out: &mut crate::signing::__private::Canonicalizer<'a, S>,
            ) -> Result<(), crate::signing::SignError> {
                out.integer(key, self.code());
                Ok(())
            }
        }
    }
}

/// `pub const fn is_x(&self) -> bool` for each `x-enum-predicates` entry.
fn predicate_fns(predicates: &[Predicate]) -> TokenStream {
    let fns = predicates.iter().map(|p| {
        let name = ident(&p.name);
        let doc = docs(&p.doc);
        let idents: Vec<Ident> = p.variants.iter().map(|v| ident(v)).collect();
        let body = if idents.is_empty() {
            quote!(false)
        } else {
            quote!(matches!(self, #( Self::#idents )|*))
        };
        quote! {
            #doc
            pub const fn #name(&self) -> bool {
                #body
            }
        }
    });
    quote!(#(#fns)*)
}

fn str_enum(item: &Item, variants: &[Variant<String>]) -> TokenStream {
    let name = ident(&item.name);
    let predicates = predicate_fns(&item.predicates);
    let doc = docs(&item.doc);
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.ident)).collect();
    let values: Vec<&String> = variants.iter().map(|v| &v.value).collect();
    let variant_docs = variants.iter().map(|v| docs(&v.doc));
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #idents, )*
            /// A value this version of the spec does not list, kept as received.
            Unknown(String),
        }

        impl #name {
            /// Every value the spec lists, in spec order.
            pub const ALL: &'static [Self] = &[ #( Self::#idents ),* ];

            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#idents => #values, )*
                    Self::Unknown(value) => value,
                }
            }

            #predicates
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#idents, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        impl core::fmt::Display for #name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <String as serde::Deserialize>::deserialize(deserializer).map(Self::from)
            }
        }

        impl crate::signing::SignValue for #name {
            fn write_value<'a, S: crate::signing::__private::ByteSink>(
                &'a self,
                key: crate::signing::__private::Segment<'a>,
                out: &mut crate::signing::__private::Canonicalizer<'a, S>,
            ) -> Result<(), crate::signing::SignError> {
                out.scalar(key, self.as_str().as_bytes());
                Ok(())
            }
        }
    }
}
