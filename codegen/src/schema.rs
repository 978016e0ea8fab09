//! From `openapiv3::OpenAPI` to the intermediate model.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, MediaType, OpenAPI, ReferenceOr, Schema, SchemaKind, StatusCode, Type,
    VariantOrUnknownOrEmpty,
};

use crate::doc;
use crate::error::{Diagnostics, Error, Pointer};
use crate::model::{Api, Field, Item, Kind, Operation, Predicate, Ty, Variant};
use crate::names::{self, Namer};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const KNOWN_EXTENSIONS: &[&str] = &[
    "x-enum-varnames",
    "x-enum-descriptions",
    "x-enum-predicates",
    "x-source",
];

/// The property an inline property schema is another name of
/// (`x-alias-of: <property>`), if any.
fn alias_target(schema: &ReferenceOr<Box<Schema>>) -> Option<String> {
    match schema {
        ReferenceOr::Item(s) => s
            .schema_data
            .extensions
            .get("x-alias-of")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        ReferenceOr::Reference { .. } => None,
    }
}

/// How a schema's generated item (if it gets one) is named.
#[derive(Clone)]
enum Naming {
    /// A component: its name is reserved up front.
    Fixed(String),
    /// Inline: derived from the parent, made unique.
    Hint(String),
}

/// A schema reduced to what the generator distinguishes.
enum Shape<'a> {
    Str {
        format: Option<String>,
        values: Vec<String>,
    },
    Num {
        format: Option<String>,
    },
    Int {
        format: Option<String>,
        values: Vec<i64>,
    },
    Bool,
    Object {
        properties: &'a IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &'a [String],
        additional: Option<&'a AdditionalProperties>,
    },
    Array {
        items: Option<&'a ReferenceOr<Box<Schema>>>,
    },
    OneOf(&'a [ReferenceOr<Schema>]),
    AllOf(&'a [ReferenceOr<Schema>]),
    Not,
    Untyped,
}

/// What lowering a schema gives: the field type, a description for docs,
/// and whether `null` is allowed.
struct Lowered {
    ty: Ty,
    description: Option<String>,
    nullable: bool,
}

pub(crate) struct Lower<'a> {
    api: &'a OpenAPI,
    diag: &'a mut Diagnostics,
    names: Namer,
    /// Rust names reserved for components, by component key.
    component_names: BTreeMap<String, String>,
    /// Component key -> its type, once lowered.
    memo: BTreeMap<String, Ty>,
    in_progress: BTreeSet<String>,
    /// Items with their sort key (major = component or operation index).
    items: Vec<((usize, usize), Item)>,
    major: usize,
    minor: usize,
}

pub(crate) fn lower(
    api: &OpenAPI,
    diag: &mut Diagnostics,
    reserved: &[&str],
) -> Result<Api, Error> {
    let mut lower = Lower {
        api,
        diag,
        names: Namer::default(),
        component_names: BTreeMap::new(),
        memo: BTreeMap::new(),
        in_progress: BTreeSet::new(),
        items: Vec::new(),
        major: 0,
        minor: 0,
    };
    for name in names::RESERVED_TYPES {
        lower.names.reserve(name, "the Rust prelude");
    }
    for name in reserved {
        lower.names.reserve(name, "the provider rules");
    }
    let schemas = lower.schemas();
    let components = Pointer::root().join("components").join("schemas");
    for key in schemas.keys() {
        let at = components.join(key);
        let base = names::pascal(key, "T");
        let (name, clash) = lower.names.unique(&base, at.as_str(), "");
        if let Some(other) = clash {
            lower.diag.warn(
                &at,
                format!("the type name `{base}` is already taken by {other}; this schema is generated as `{name}`"),
            );
        }
        lower.component_names.insert(key.clone(), name);
    }
    for (index, key) in schemas.keys().enumerate() {
        lower.major = index;
        lower.component(key, &components.join(key))?;
    }
    let operations = lower.operations(schemas.len())?;
    let mut items = lower.items;
    items.sort_by_key(|(key, _)| *key);
    let mut api_model = Api {
        title: api.info.title.clone(),
        version: api.info.version.clone(),
        items: items.into_iter().map(|(_, item)| item).collect(),
        operations,
    };
    break_cycles(&mut api_model, lower.diag);
    Ok(api_model)
}

impl<'a> Lower<'a> {
    fn schemas(&self) -> &'a IndexMap<String, ReferenceOr<Schema>> {
        static EMPTY: std::sync::OnceLock<IndexMap<String, ReferenceOr<Schema>>> =
            std::sync::OnceLock::new();
        match &self.api.components {
            Some(c) => &c.schemas,
            None => EMPTY.get_or_init(IndexMap::new),
        }
    }

    fn next_key(&mut self) -> (usize, usize) {
        self.minor += 1;
        (self.major, self.minor)
    }

    /// The type of a component schema, lowering it on first use.
    fn component(&mut self, key: &str, at: &Pointer) -> Result<Ty, Error> {
        if let Some(ty) = self.memo.get(key) {
            return Ok(ty.clone());
        }
        if !self.in_progress.insert(key.to_owned()) {
            return Err(self.diag.spec_error(
                at,
                format!("`$ref` cycle through `{SCHEMA_PREFIX}{key}` without an object in between"),
            ));
        }
        let schemas = self.schemas();
        let Some(schema) = schemas.get(key) else {
            return Err(self
                .diag
                .spec_error(at, format!("no schema `{key}` in components")));
        };
        let home = Pointer::root().join("components").join("schemas").join(key);
        let name = self
            .component_names
            .get(key)
            .cloned()
            .unwrap_or_else(|| names::pascal(key, "T"));
        let saved_major = self.major;
        if let Some(index) = schemas.get_index_of(key) {
            self.major = index;
        }
        let result = match schema {
            ReferenceOr::Reference { reference } => self.reference(reference, &home).map(|l| l.ty),
            ReferenceOr::Item(schema) => self
                .schema(schema, &home, Naming::Fixed(name), Some(key))
                .map(|l| l.ty),
        };
        self.major = saved_major;
        self.in_progress.remove(key);
        let ty = result?;
        self.memo.insert(key.to_owned(), ty.clone());
        Ok(ty)
    }

    /// Follows a `$ref` found at `at`.
    fn reference(&mut self, reference: &str, at: &Pointer) -> Result<Lowered, Error> {
        let Some(rest) = reference.strip_prefix(SCHEMA_PREFIX) else {
            return Err(self.diag.spec_error(
                at,
                format!(
                    "unsupported `$ref` `{reference}`: only `{SCHEMA_PREFIX}<name>` is supported"
                ),
            ));
        };
        let key = rest.replace("~1", "/").replace("~0", "~");
        if rest.contains('/') || !self.schemas().contains_key(&key) {
            return Err(self.diag.spec_error(
                at,
                format!("unresolved `$ref` `{reference}`: there is no such schema in `#/components/schemas`"),
            ));
        }
        let ty = self.component(&key, &Pointer::from_ref(reference))?;
        let (description, nullable) = match self.schemas().get(&key) {
            Some(ReferenceOr::Item(s)) => {
                (s.schema_data.description.clone(), s.schema_data.nullable)
            }
            _ => (None, false),
        };
        Ok(Lowered {
            ty,
            description,
            nullable,
        })
    }

    fn ref_or<S: std::borrow::Borrow<Schema>>(
        &mut self,
        schema: &ReferenceOr<S>,
        at: &Pointer,
        naming: Naming,
    ) -> Result<Lowered, Error> {
        match schema {
            ReferenceOr::Reference { reference } => self.reference(reference, at),
            ReferenceOr::Item(s) => self.schema(s.borrow(), at, naming, None),
        }
    }

    fn item_name(&mut self, naming: Naming, at: &Pointer, what: &str) -> String {
        match naming {
            Naming::Fixed(name) => name,
            Naming::Hint(hint) => {
                let (name, _) = self.names.unique(&hint, at.as_str(), "");
                self.diag
                    .warn(at, format!("inline {what} schema; generated as `{name}`"));
                name
            }
        }
    }

    fn schema(
        &mut self,
        schema: &Schema,
        at: &Pointer,
        naming: Naming,
        component: Option<&str>,
    ) -> Result<Lowered, Error> {
        for key in schema.schema_data.extensions.keys() {
            if !KNOWN_EXTENSIONS.contains(&key.as_str()) && key != "x-alias-of" {
                self.diag.warn(at, format!("extension `{key}` is ignored"));
            }
        }
        let description = schema.schema_data.description.clone();
        let nullable = schema.schema_data.nullable;
        let lowered = |ty| Lowered {
            ty,
            description: description.clone(),
            nullable,
        };
        let doc_text = description.clone().unwrap_or_default();
        if doc::is_long(&doc_text) {
            self.diag.warn(
                at,
                "long description; only its first paragraph is used in docs",
            );
        }
        let shape = self.shape(schema, at)?;
        let hint_base = match &naming {
            Naming::Fixed(name) | Naming::Hint(name) => name.clone(),
        };
        match shape {
            Shape::Str { format, values } if values.is_empty() => {
                let ty = match format.as_deref() {
                    Some("decimal") => Ty::Amount,
                    Some("int64") => Ty::Digits,
                    None | Some("date" | "date-time" | "password" | "byte" | "binary" | "email"
                        | "uri" | "url" | "uuid" | "hostname" | "ipv4" | "ipv6" | "time") => Ty::String,
                    Some(other) => {
                        self.diag.warn(at, format!("unknown string format `{other}`; read as a plain string"));
                        Ty::String
                    }
                };
                Ok(lowered(ty))
            }
            Shape::Str { values, .. } => {
                let name = self.item_name(naming, at, "enum");
                let key = self.next_key();
                let mut local = Namer::default();
                local.reserve("Unknown", "the unknown-value variant");
                let variants: Vec<Variant<String>> = values
                    .into_iter()
                    .map(|value| {
                        let base = names::pascal(&value, "V");
                        let (ident, clash) = local.unique(&base, &value, "");
                        if clash.is_some() {
                            self.diag.warn(at, format!("enum value `{value}` is named `{ident}` to keep variant names unique"));
                        }
                        Variant { ident, doc: format!("`{value}`."), value }
                    })
                    .collect();
                let values: Vec<(String, serde_json::Value)> = variants
                    .iter()
                    .map(|v: &Variant<String>| (v.ident.clone(), serde_json::Value::String(v.value.clone())))
                    .collect();
                self.push(key, name.clone(), &doc_text, at, component, Kind::StrEnum(variants));
                self.predicates(schema, at, &values)?;
                Ok(lowered(Ty::Named(name)))
            }
            Shape::Num { format } => {
                if let Some(f) = format.as_deref() {
                    if !matches!(f, "float" | "double" | "decimal" | "int32" | "int64") {
                        self.diag.warn(at, format!("unknown number format `{f}`; read as a decimal"));
                    }
                }
                Ok(lowered(Ty::Decimal))
            }
            Shape::Int { format, values } => {
                if let Some(f) = format.as_deref() {
                    if !matches!(f, "int32" | "int64") {
                        self.diag.warn(at, format!("unknown integer format `{f}`; read as i64"));
                    }
                }
                if values.is_empty() {
                    return Ok(lowered(Ty::I64));
                }
                let name = self.item_name(naming, at, "enum");
                let key = self.next_key();
                let varnames = self.varnames(schema, at, values.len());
                let mut local = Namer::default();
                local.reserve("Unknown", "the unknown-value variant");
                let mut variants = Vec::new();
                for (i, value) in values.into_iter().enumerate() {
                    let base = match varnames.as_ref().and_then(|v| v.get(i)) {
                        Some(n) => names::pascal(n, "V"),
                        None if value < 0 => format!("VMinus{}", value.unsigned_abs()),
                        None => format!("V{value}"),
                    };
                    let (ident, clash) = local.unique(&base, "", "_");
                    if clash.is_some() {
                        self.diag.warn(at, format!("enum value `{value}` is named `{ident}` to keep variant names unique"));
                    }
                    variants.push(Variant { ident, doc: format!("Code `{value}`."), value });
                }
                let values: Vec<(String, serde_json::Value)> = variants
                    .iter()
                    .map(|v: &Variant<i64>| (v.ident.clone(), serde_json::Value::from(v.value)))
                    .collect();
                self.push(key, name.clone(), &doc_text, at, component, Kind::IntEnum(variants));
                self.predicates(schema, at, &values)?;
                Ok(lowered(Ty::Named(name)))
            }
            Shape::Bool => Ok(lowered(Ty::Bool)),
            Shape::Object { properties, required, additional } => {
                if properties.is_empty() {
                    return Err(self.diag.spec_error(
                        at,
                        "an object without `properties` (a free-form object or map) is not supported: its field order could not be kept",
                    ));
                }
                if additional.is_some_and(|a| !matches!(a, AdditionalProperties::Any(false))) {
                    self.diag.warn(at, "`additionalProperties` is ignored (unknown fields are accepted and dropped)");
                }
                let name = self.item_name(naming, at, "object");
                let key = self.next_key();
                if let Some(component) = component {
                    // Fields may refer back to this struct.
                    self.memo.insert(component.to_owned(), Ty::Named(name.clone()));
                }
                let fields = self.fields(&name, properties, required, at)?;
                self.push(key, name.clone(), &doc_text, at, component, Kind::Struct(fields));
                Ok(lowered(Ty::Named(name)))
            }
            Shape::Array { items } => {
                let Some(items) = items else {
                    return Err(self.diag.spec_error(at, "an array without `items` is not supported"));
                };
                let inner = self.ref_or(items, &at.join("items"), Naming::Hint(format!("{hint_base}Item")))?;
                Ok(lowered(Ty::Vec(Box::new(inner.ty))))
            }
            Shape::OneOf(alternatives) => {
                let ty = self.one_of(alternatives, at, &hint_base)?;
                Ok(lowered(ty))
            }
            Shape::AllOf(parts) => match parts {
                [single] => {
                    self.diag.warn(at, "`allOf` with a single schema; read as that schema");
                    let inner = self.ref_or(single, &at.join("allOf").join(0), naming)?;
                    Ok(Lowered {
                        ty: inner.ty,
                        description: description.or(inner.description),
                        nullable: nullable || inner.nullable,
                    })
                }
                [] => Err(self.diag.spec_error(at, "`allOf` with no schemas")),
                _ => Err(self.diag.spec_error(
                    at,
                    format!("`allOf` with {} schemas is not supported (only a single schema is)", parts.len()),
                )),
            },
            Shape::Not => Err(self.diag.spec_error(at, "`not` schemas are not supported")),
            Shape::Untyped => Err(self.diag.spec_error(
                at,
                "the schema has no `type` (nor `properties`, `items`, `oneOf`, `anyOf`, `allOf` or `$ref`); give it a type",
            )),
        }
    }

    fn push(
        &mut self,
        key: (usize, usize),
        name: String,
        doc_text: &str,
        at: &Pointer,
        component: Option<&str>,
        kind: Kind,
    ) {
        let doc = match doc::first_paragraph(doc_text) {
            Some(d) => d,
            None => match component {
                Some(c) => format!("The `{c}` schema."),
                None => format!("Generated from `{at}`."),
            },
        };
        self.items.push((
            key,
            Item {
                name,
                doc,
                pointer: at.to_string(),
                kind,
                predicates: Vec::new(),
            },
        ));
    }

    /// Reads `x-enum-predicates: {name: {doc, values: [...]}}` of an enum
    /// schema, for the item just pushed (`variants`: (identifier, value as
    /// JSON)).
    fn predicates(
        &mut self,
        schema: &Schema,
        at: &Pointer,
        variants: &[(String, serde_json::Value)],
    ) -> Result<(), Error> {
        let Some(value) = schema.schema_data.extensions.get("x-enum-predicates") else {
            return Ok(());
        };
        let at = at.join("x-enum-predicates");
        let Some(map) = value.as_object() else {
            return Err(self
                .diag
                .spec_error(&at, "expected a mapping of predicate names"));
        };
        let mut out = Vec::new();
        for (name, p) in map {
            let here = at.join(name);
            if !names::is_plain_ident(name) || names::is_keyword(name) {
                return Err(self
                    .diag
                    .spec_error(&here, "a predicate name must be a snake_case identifier"));
            }
            let doc = p
                .get("doc")
                .and_then(|d| d.as_str())
                .unwrap_or("")
                .to_owned();
            let Some(values) = p.get("values").and_then(|v| v.as_array()) else {
                return Err(self
                    .diag
                    .spec_error(&here, "missing `values`: the enum values it is true for"));
            };
            let mut idents = Vec::new();
            for v in values {
                match variants.iter().find(|(_, value)| value == v) {
                    Some((ident, _)) => idents.push(ident.clone()),
                    None => {
                        return Err(self
                            .diag
                            .spec_error(&here, format!("{v} is not a value of the enum")))
                    }
                }
            }
            out.push(Predicate {
                name: name.clone(),
                doc,
                variants: idents,
            });
        }
        if let Some((_, item)) = self.items.last_mut() {
            item.predicates = out;
        }
        Ok(())
    }

    fn varnames(&mut self, schema: &Schema, at: &Pointer, count: usize) -> Option<Vec<String>> {
        let Some(value) = schema.schema_data.extensions.get("x-enum-varnames") else {
            self.diag.warn(at, "integer enum without `x-enum-varnames`; variants are named after their codes (`V<code>`)");
            return None;
        };
        let names: Option<Vec<String>> = value.as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        });
        match names {
            Some(n) if n.len() == count => Some(n),
            _ => {
                self.diag.warn(
                    at.join("x-enum-varnames"),
                    format!("`x-enum-varnames` must list {count} names; variants are named after their codes"),
                );
                None
            }
        }
    }

    fn fields(
        &mut self,
        struct_name: &str,
        properties: &IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &[String],
        at: &Pointer,
    ) -> Result<Vec<Field>, Error> {
        for r in required {
            if !properties.contains_key(r) {
                self.diag.warn(
                    at.join("required"),
                    format!("required property `{r}` is not defined in `properties`; ignored"),
                );
            }
        }
        let mut local = Namer::default();
        let mut fields = Vec::new();
        for (prop, schema) in properties {
            let p_at = at.join("properties").join(prop);
            let (base, mut rename) = names::field_ident(prop);
            // Another name for an earlier property (`x-alias-of`): the
            // documentation's samples call `provider_result` "provider
            // result" and `customer_id` "client_id". One field, read under
            // either key, sent under its own.
            if let Some(target) = alias_target(schema) {
                match fields.iter_mut().find(|f: &&mut Field| f.json == target) {
                    Some(field) => {
                        field.aliases.push(prop.clone());
                        continue;
                    }
                    None => {
                        return Err(self.diag.spec_error(
                            p_at.join("x-alias-of"),
                            format!("`{target}` is not a property defined before `{prop}`"),
                        ))
                    }
                }
            }
            let (ident, clash) = local.unique(&base, prop, "_");
            if !prop.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || prop.is_empty() {
                self.diag.warn(
                    &p_at,
                    format!("property name `{prop}` is not a Rust identifier; generated as field `{ident}` with `#[serde(rename = \"{prop}\")]`"),
                );
            }
            if let Some(other) = clash {
                rename = true;
                self.diag.warn(
                    &p_at,
                    format!("field name `{base}` is already used by property `{other}`; this one is `{ident}`"),
                );
            }
            let hint = format!("{struct_name}{}", names::pascal(prop, "F"));
            let lowered = self.ref_or(schema, &p_at, Naming::Hint(hint))?;
            let doc = lowered
                .description
                .as_deref()
                .and_then(doc::first_paragraph)
                .unwrap_or_else(|| format!("The `{prop}` property."));
            fields.push(Field {
                json: prop.clone(),
                ident,
                rename,
                ty: lowered.ty,
                optional: lowered.nullable || !required.contains(prop),
                boxed: false,
                doc,
                aliases: Vec::new(),
            });
        }
        Ok(fields)
    }

    fn one_of(
        &mut self,
        alternatives: &[ReferenceOr<Schema>],
        at: &Pointer,
        hint: &str,
    ) -> Result<Ty, Error> {
        if alternatives.is_empty() {
            return Err(self.diag.spec_error(at, "`oneOf`/`anyOf` with no schemas"));
        }
        let mut tys = Vec::new();
        for (i, alt) in alternatives.iter().enumerate() {
            let l = self.ref_or(
                alt,
                &at.join("oneOf").join(i),
                Naming::Hint(format!("{hint}Variant{i}")),
            )?;
            tys.push(l.ty);
        }
        if let [single] = tys.as_slice() {
            self.diag.warn(
                at,
                "`oneOf`/`anyOf` with a single schema; read as that schema",
            );
            return Ok(single.clone());
        }
        // An integer that may come as digits: the documentation's
        // requests send `"provider_id": "9209"` as well as `9209`.
        if tys.contains(&Ty::Digits) && tys.iter().all(|t| matches!(t, Ty::I64 | Ty::Digits)) {
            return Ok(Ty::IntOrDigits);
        }
        // An amount that may come as a number: the documentation's PHP
        // sample sends `'amount' => 1000`.
        if tys.contains(&Ty::Amount)
            && tys
                .iter()
                .all(|t| matches!(t, Ty::Amount | Ty::I64 | Ty::Decimal))
        {
            return Ok(Ty::Amount);
        }
        let texty = |t: &Ty| matches!(t, Ty::String | Ty::Amount | Ty::Digits);
        let numeric = |t: &Ty| matches!(t, Ty::Decimal | Ty::I64 | Ty::IntOrDigits);
        if tys
            .iter()
            .all(|t| texty(t) || numeric(t) || *t == Ty::TextOrNumber)
        {
            let ty = if tys.iter().all(|t| *t == Ty::I64) {
                Ty::I64
            } else if tys.iter().all(numeric) {
                Ty::Decimal
            } else if tys.iter().all(|t| *t == Ty::Amount) {
                Ty::Amount
            } else if tys.iter().all(texty) {
                Ty::String
            } else {
                Ty::TextOrNumber
            };
            return Ok(ty);
        }
        let listed: Vec<String> = tys.iter().map(Ty::rust).collect();
        Err(self.diag.spec_error(
            at,
            format!(
                "`oneOf`/`anyOf` of {} is not supported (only mixes of strings and numbers are)",
                listed.join(", ")
            ),
        ))
    }

    fn shape<'s>(&mut self, schema: &'s Schema, at: &Pointer) -> Result<Shape<'s>, Error> {
        fn fmt<T: std::fmt::Debug + serde::Serialize>(
            f: &VariantOrUnknownOrEmpty<T>,
        ) -> Option<String> {
            match f {
                VariantOrUnknownOrEmpty::Item(item) => serde_json::to_value(item)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned)),
                VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
                VariantOrUnknownOrEmpty::Empty => None,
            }
        }
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                if s.enumeration.iter().any(Option::is_none) {
                    self.diag
                        .warn(at.join("enum"), "`null` in an enum is ignored");
                }
                Shape::Str {
                    format: fmt(&s.format),
                    values: s.enumeration.iter().flatten().cloned().collect(),
                }
            }
            SchemaKind::Type(Type::Number(n)) => {
                if !n.enumeration.is_empty() {
                    self.diag
                        .warn(at.join("enum"), "number enums are read as plain decimals");
                }
                Shape::Num {
                    format: fmt(&n.format),
                }
            }
            SchemaKind::Type(Type::Integer(i)) => {
                if i.enumeration.iter().any(Option::is_none) {
                    self.diag
                        .warn(at.join("enum"), "`null` in an enum is ignored");
                }
                Shape::Int {
                    format: fmt(&i.format),
                    values: i.enumeration.iter().flatten().copied().collect(),
                }
            }
            SchemaKind::Type(Type::Boolean(_)) => Shape::Bool,
            SchemaKind::Type(Type::Object(o)) => Shape::Object {
                properties: &o.properties,
                required: &o.required,
                additional: o.additional_properties.as_ref(),
            },
            SchemaKind::Type(Type::Array(a)) => Shape::Array {
                items: a.items.as_ref(),
            },
            SchemaKind::OneOf { one_of } => Shape::OneOf(one_of),
            SchemaKind::AnyOf { any_of } => Shape::OneOf(any_of),
            SchemaKind::AllOf { all_of } => Shape::AllOf(all_of),
            SchemaKind::Not { .. } => Shape::Not,
            SchemaKind::Any(any) => {
                let Some(typ) = &any.typ else {
                    return Ok(if !any.properties.is_empty() {
                        self.diag.warn(
                            at,
                            "schema with `properties` but no `type`; read as an object",
                        );
                        Shape::Object {
                            properties: &any.properties,
                            required: &any.required,
                            additional: any.additional_properties.as_ref(),
                        }
                    } else if any.items.is_some() {
                        self.diag
                            .warn(at, "schema with `items` but no `type`; read as an array");
                        Shape::Array {
                            items: any.items.as_ref(),
                        }
                    } else if !any.one_of.is_empty() {
                        Shape::OneOf(&any.one_of)
                    } else if !any.any_of.is_empty() {
                        Shape::OneOf(&any.any_of)
                    } else if !any.all_of.is_empty() {
                        Shape::AllOf(&any.all_of)
                    } else if any.not.is_some() {
                        Shape::Not
                    } else {
                        Shape::Untyped
                    });
                };
                let lower = typ.to_ascii_lowercase();
                if lower != *typ {
                    self.diag.warn(
                        at.join("type"),
                        format!("type `{typ}` is not an OpenAPI type (types are lower case); read as `{lower}`"),
                    );
                } else {
                    self.diag.warn(at, format!("unusual combination of keywords for type `{typ}`; only the type is used"));
                }
                match lower.as_str() {
                    "string" => {
                        let mut values = Vec::new();
                        for v in &any.enumeration {
                            match v {
                                serde_json::Value::String(s) => values.push(s.clone()),
                                serde_json::Value::Null => {}
                                other => {
                                    return Err(self.diag.spec_error(
                                        at.join("enum"),
                                        format!("enum value `{other}` is not a string"),
                                    ))
                                }
                            }
                        }
                        Shape::Str {
                            format: any.format.clone(),
                            values,
                        }
                    }
                    "number" => Shape::Num {
                        format: any.format.clone(),
                    },
                    "integer" => {
                        let mut values = Vec::new();
                        for v in &any.enumeration {
                            match v.as_i64() {
                                Some(i) => values.push(i),
                                None if v.is_null() => {}
                                None => {
                                    return Err(self.diag.spec_error(
                                        at.join("enum"),
                                        format!("enum value `{v}` is not a 64-bit integer"),
                                    ))
                                }
                            }
                        }
                        Shape::Int {
                            format: any.format.clone(),
                            values,
                        }
                    }
                    "boolean" => Shape::Bool,
                    "object" => Shape::Object {
                        properties: &any.properties,
                        required: &any.required,
                        additional: any.additional_properties.as_ref(),
                    },
                    "array" => Shape::Array {
                        items: any.items.as_ref(),
                    },
                    _ => {
                        return Err(self
                            .diag
                            .spec_error(at.join("type"), format!("unknown type `{typ}`")));
                    }
                }
            }
        })
    }

    // -- operations ---------------------------------------------------------

    fn operations(&mut self, first_major: usize) -> Result<Vec<Operation>, Error> {
        let mut out = Vec::new();
        let mut ids = Namer::default();
        let mut markers = Namer::default();
        let paths = Pointer::root().join("paths");
        let mut index = 0usize;
        for (path, item) in &self.api.paths.paths {
            let p_at = paths.join(path);
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { reference } => {
                    return Err(self.diag.spec_error(
                        &p_at,
                        format!("path item `$ref` (`{reference}`) is not supported"),
                    ));
                }
            };
            for (method, op) in item.iter() {
                self.major = first_major + index;
                index += 1;
                let at = p_at.join(method);
                let base_id = match &op.operation_id {
                    Some(id) => id.clone(),
                    None => {
                        let derived = derive_operation_id(method, path);
                        self.diag.warn(
                            &at,
                            format!(
                                "no `operationId`; derived `{derived}` from the method and path"
                            ),
                        );
                        derived
                    }
                };
                let (id, clash) = ids.unique(&base_id, at.as_str(), "_");
                if let Some(other) = clash {
                    self.diag.warn(
                        &at,
                        format!(
                            "operationId `{base_id}` is also used at {other}; this one is `{id}`"
                        ),
                    );
                }
                let (marker, _) = markers.unique(&names::pascal(&id, "Op"), at.as_str(), "");
                let request = self.request_body(op, &at, &format!("{marker}Request"))?;
                let response = self.response(op, &at, &format!("{marker}Response"))?;
                let callback = self.callback(op, &at, &format!("{marker}Callback"))?;
                let summary = op
                    .summary
                    .as_deref()
                    .or(op.description.as_deref())
                    .and_then(doc::first_line)
                    .unwrap_or_default();
                out.push(Operation {
                    id,
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                    summary,
                    request,
                    response,
                    callback,
                    marker,
                });
            }
        }
        Ok(out)
    }

    fn json_schema(
        &mut self,
        content: &IndexMap<String, MediaType>,
        at: &Pointer,
        hint: &str,
    ) -> Result<Option<Ty>, Error> {
        let chosen = content
            .get_key_value("application/json")
            .or_else(|| content.iter().find(|(k, _)| k.contains("json")));
        let Some((media, mt)) = chosen else {
            if let Some(first) = content.keys().next() {
                self.diag.warn(
                    at,
                    format!("no JSON content (only `{first}`); no type generated"),
                );
            }
            return Ok(None);
        };
        let Some(schema) = &mt.schema else {
            return Ok(None);
        };
        let s_at = at.join("content").join(media).join("schema");
        let lowered = self.ref_or(schema, &s_at, Naming::Hint(hint.to_owned()))?;
        Ok(Some(lowered.ty))
    }

    fn request_body(
        &mut self,
        op: &openapiv3::Operation,
        at: &Pointer,
        hint: &str,
    ) -> Result<Option<Ty>, Error> {
        let Some(body) = &op.request_body else {
            return Ok(None);
        };
        let at = at.join("requestBody");
        let body = match body {
            ReferenceOr::Item(b) => b,
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix("#/components/requestBodies/")
                    .and_then(|k| self.api.components.as_ref()?.request_bodies.get(k));
                match found {
                    Some(ReferenceOr::Item(b)) => b,
                    _ => {
                        return Err(self
                            .diag
                            .spec_error(&at, format!("unresolved `$ref` `{reference}`")))
                    }
                }
            }
        };
        self.json_schema(&body.content, &at, hint)
    }

    fn response(
        &mut self,
        op: &openapiv3::Operation,
        at: &Pointer,
        hint: &str,
    ) -> Result<Option<Ty>, Error> {
        let responses = &op.responses.responses;
        let chosen = responses.get_key_value(&StatusCode::Code(200)).or_else(|| {
            responses.iter().find(|(code, _)| match code {
                StatusCode::Code(c) => (200..300).contains(c),
                StatusCode::Range(r) => *r == 2,
            })
        });
        let Some((code, response)) = chosen else {
            return Ok(None);
        };
        let at = at.join("responses").join(code);
        let response = match response {
            ReferenceOr::Item(r) => r,
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix("#/components/responses/")
                    .and_then(|k| self.api.components.as_ref()?.responses.get(k));
                match found {
                    Some(ReferenceOr::Item(r)) => r,
                    _ => {
                        return Err(self
                            .diag
                            .spec_error(&at, format!("unresolved `$ref` `{reference}`")))
                    }
                }
            }
        };
        self.json_schema(&response.content, &at, hint)
    }

    fn callback(
        &mut self,
        op: &openapiv3::Operation,
        at: &Pointer,
        hint: &str,
    ) -> Result<Option<Ty>, Error> {
        let mut first: Option<Ty> = None;
        for (name, callback) in &op.callbacks {
            for (expr, item) in callback {
                for (method, cb_op) in item.iter() {
                    let cb_at = at.join("callbacks").join(name).join(expr).join(method);
                    let ty = self.request_body(cb_op, &cb_at, hint)?;
                    match (&first, ty) {
                        (None, Some(ty)) => first = Some(ty),
                        (Some(f), Some(ty)) if *f != ty => self.diag.warn(
                            &cb_at,
                            format!("more than one callback payload type; the operation table names the first (`{}`)", f.rust()),
                        ),
                        _ => {}
                    }
                }
            }
        }
        Ok(first)
    }
}

/// `post` + `/{public_id}/payment_b2c/bulk` -> `post_payment_b2c_bulk`.
fn derive_operation_id(method: &str, path: &str) -> String {
    let mut parts = vec![method.to_ascii_lowercase()];
    for segment in path.split('/') {
        if segment.is_empty() || segment.starts_with('{') {
            continue;
        }
        parts.push(names::snake(segment));
    }
    if parts.len() == 1 {
        parts.push("root".to_owned());
    }
    parts.join("_")
}

/// Boxes the fields that would make a struct contain itself.
fn break_cycles(api: &mut Api, diag: &mut Diagnostics) {
    let structs: BTreeMap<String, usize> = api
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i.kind, Kind::Struct(_)))
        .map(|(n, i)| (i.name.clone(), n))
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; api.items.len()];
    let mut to_box: Vec<(usize, usize)> = Vec::new();
    fn visit(
        n: usize,
        api: &Api,
        structs: &BTreeMap<String, usize>,
        state: &mut Vec<u8>,
        to_box: &mut Vec<(usize, usize)>,
    ) {
        if let Some(s) = state.get_mut(n) {
            *s = 1;
        }
        if let Some(Item {
            kind: Kind::Struct(fields),
            ..
        }) = api.items.get(n)
        {
            for (f, field) in fields.iter().enumerate() {
                let Ty::Named(target) = &field.ty else {
                    continue;
                };
                let Some(&t) = structs.get(target) else {
                    continue;
                };
                match state.get(t).copied() {
                    Some(1) => to_box.push((n, f)),
                    Some(0) => visit(t, api, structs, state, to_box),
                    _ => {}
                }
            }
        }
        if let Some(s) = state.get_mut(n) {
            *s = 2;
        }
    }
    for n in 0..api.items.len() {
        if state.get(n) == Some(&0)
            && matches!(api.items.get(n).map(|i| &i.kind), Some(Kind::Struct(_)))
        {
            visit(n, api, &structs, &mut state, &mut to_box);
        }
    }
    for (n, f) in to_box {
        if let Some(Item {
            kind: Kind::Struct(fields),
            pointer,
            ..
        }) = api.items.get_mut(n)
        {
            if let Some(field) = fields.get_mut(f) {
                field.boxed = true;
                diag.warn(
                    format!(
                        "{pointer}/properties/{}",
                        field.json.replace('~', "~0").replace('/', "~1")
                    ),
                    "the type contains itself through this field; the field is boxed",
                );
            }
        }
    }
}
