//! An object's fields, an enum's variant names and predicates, and `oneOf`
//! unions, lowered.

use indexmap::IndexMap;
use openapiv3::{ReferenceOr, Schema};

use super::{alias_target, Lower, Naming};
use crate::doc;
use crate::error::{Error, Pointer};
use crate::model::{Field, Predicate, Ty};
use crate::names::{self, Namer};

impl<'a> Lower<'a> {
    /// Reads `x-enum-predicates: {name: {doc, values: [...]}}` of an enum
    /// schema, for the item just pushed (`variants`: (identifier, value as
    /// JSON)).
    pub(super) fn predicates(
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

    pub(super) fn varnames(
        &mut self,
        schema: &Schema,
        at: &Pointer,
        count: usize,
    ) -> Option<Vec<String>> {
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

    pub(super) fn fields(
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

    pub(super) fn one_of(
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
}
