//! The spec's paths as operations: id, method, path, request, response and
//! callback types.

use indexmap::IndexMap;
use openapiv3::{MediaType, ReferenceOr, StatusCode};

use super::{Lower, Naming};
use crate::doc;
use crate::error::{Error, Pointer};
use crate::model::{Operation, Ty};
use crate::names::{self, Namer};

impl<'a> Lower<'a> {
    pub(super) fn operations(&mut self, first_major: usize) -> Result<Vec<Operation>, Error> {
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

    pub(super) fn json_schema(
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

    pub(super) fn request_body(
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

    pub(super) fn response(
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

    pub(super) fn callback(
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
