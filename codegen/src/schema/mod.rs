//! From `openapiv3::OpenAPI` to the intermediate model: components and
//! inline schemas lowered to items and field types.
//!
//! The other steps are in submodules: [`shape`] (what kind of schema a
//! node is), [`fields`] (an object's fields, an enum's variants and
//! predicates, `oneOf` unions), [`operations`] (paths to operations) and
//! [`cycles`] (boxing the fields through which a struct contains itself).

mod cycles;
mod fields;
mod operations;
mod shape;

use cycles::break_cycles;
use shape::Shape;

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, Type};

use crate::doc;
use crate::error::{Diagnostics, Error, Pointer};
use crate::model::{Api, Item, Kind, Ty, Variant};
use crate::names::{self, Namer};

const SCHEMA_PREFIX: &str = "#/components/schemas/";
/// Lowering recurses into nested and referenced schemas; deeper than this
/// (far beyond any real API) the spec is refused rather than the stack
/// exhausted.
const MAX_NESTING: usize = 64;
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
    /// How many schemas are being lowered inside one another right now.
    depth: usize,
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
        depth: 0,
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
        // A component that is itself a `$ref` (an alias) recurses through
        // `reference` without passing `schema`'s depth check: count it
        // here, so a chain of aliases is bounded by the same limit.
        let result = match schema {
            ReferenceOr::Reference { .. } if self.depth >= MAX_NESTING => {
                Err(self.diag.spec_error(
                    &home,
                    format!("schemas nested (or referenced) more than {MAX_NESTING} levels deep"),
                ))
            }
            ReferenceOr::Reference { reference } => {
                self.depth += 1;
                let ty = self.reference(reference, &home).map(|l| l.ty);
                self.depth -= 1;
                ty
            }
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
        let ty = match self.named_later(&key) {
            Some(ty) => ty,
            None => self.component(&key, &Pointer::from_ref(reference))?,
        };
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

    /// The type of an object component not lowered yet, without lowering
    /// it: an object with properties always becomes the struct named up
    /// front, and `lower` reaches every component in its own turn. So a
    /// chain of objects referring to one another, however long, is lowered
    /// one component at a time instead of one inside the other (a chain of
    /// 4 000 was a stack overflow, then an error at 64).
    fn named_later(&self, key: &str) -> Option<Ty> {
        if self.memo.contains_key(key) {
            return None;
        }
        let Some(ReferenceOr::Item(schema)) = self.schemas().get(key) else {
            return None;
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(o)) if !o.properties.is_empty() => {
                self.component_names.get(key).cloned().map(Ty::Named)
            }
            _ => None,
        }
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

    /// Lowers one schema node, refusing nesting deeper than [`MAX_NESTING`].
    fn schema(
        &mut self,
        schema: &Schema,
        at: &Pointer,
        naming: Naming,
        component: Option<&str>,
    ) -> Result<Lowered, Error> {
        if self.depth >= MAX_NESTING {
            return Err(self.diag.spec_error(
                at,
                format!("schemas nested (or referenced) more than {MAX_NESTING} levels deep"),
            ));
        }
        self.depth += 1;
        let lowered = self.schema_node(schema, at, naming, component);
        self.depth -= 1;
        lowered
    }

    fn schema_node(
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
        let shape = shape::shape(self.diag, schema, at)?;
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
}
