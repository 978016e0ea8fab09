//! What kind of schema a node is, reduced to what the generator
//! distinguishes.

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use crate::error::{Diagnostics, Error, Pointer};

/// A schema reduced to what the generator distinguishes.
pub(super) enum Shape<'a> {
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

/// The shape of `schema`, with a warning for each keyword it ignores.
pub(super) fn shape<'s>(
    diag: &mut Diagnostics,
    schema: &'s Schema,
    at: &Pointer,
) -> Result<Shape<'s>, Error> {
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
                diag.warn(at.join("enum"), "`null` in an enum is ignored");
            }
            Shape::Str {
                format: fmt(&s.format),
                values: s.enumeration.iter().flatten().cloned().collect(),
            }
        }
        SchemaKind::Type(Type::Number(n)) => {
            if !n.enumeration.is_empty() {
                diag.warn(at.join("enum"), "number enums are read as plain decimals");
            }
            Shape::Num {
                format: fmt(&n.format),
            }
        }
        SchemaKind::Type(Type::Integer(i)) => {
            if i.enumeration.iter().any(Option::is_none) {
                diag.warn(at.join("enum"), "`null` in an enum is ignored");
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
                    diag.warn(
                        at,
                        "schema with `properties` but no `type`; read as an object",
                    );
                    Shape::Object {
                        properties: &any.properties,
                        required: &any.required,
                        additional: any.additional_properties.as_ref(),
                    }
                } else if any.items.is_some() {
                    diag.warn(at, "schema with `items` but no `type`; read as an array");
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
                diag.warn(
                        at.join("type"),
                        format!("type `{typ}` is not an OpenAPI type (types are lower case); read as `{lower}`"),
                    );
            } else if !(lower == "object"
                && any.not.is_some()
                && any.one_of.is_empty()
                && any.any_of.is_empty()
                && any.all_of.is_empty())
            {
                // An object with `not` (e.g. `not: {required: [a, b]}`: never
                // both) is a plain object to the types; the `not` only
                // validates, which the simulator does from the spec.
                diag.warn(
                    at,
                    format!(
                        "unusual combination of keywords for type `{typ}`; only the type is used"
                    ),
                );
            }
            match lower.as_str() {
                "string" => {
                    let mut values = Vec::new();
                    for v in &any.enumeration {
                        match v {
                            serde_json::Value::String(s) => values.push(s.clone()),
                            serde_json::Value::Null => {}
                            other => {
                                return Err(diag.spec_error(
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
                                return Err(diag.spec_error(
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
                    return Err(diag.spec_error(at.join("type"), format!("unknown type `{typ}`")));
                }
            }
        }
    })
}
