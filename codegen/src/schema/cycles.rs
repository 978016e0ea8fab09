//! Boxing the fields through which a struct would contain itself.

use std::collections::BTreeMap;

use crate::error::Diagnostics;
use crate::model::{Api, Item, Kind, Ty};

/// Boxes the fields that would make a struct contain itself.
pub(super) fn break_cycles(api: &mut Api, diag: &mut Diagnostics) {
    let structs: BTreeMap<String, usize> = api
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i.kind, Kind::Struct(_)))
        .map(|(n, i)| (i.name.clone(), n))
        .collect();
    // 0 = unvisited, 1 = on the path, 2 = done. A depth-first walk with an
    // explicit stack (node, next field), so no spec can exhaust the call stack.
    let mut state = vec![0u8; api.items.len()];
    let mut to_box: Vec<(usize, usize)> = Vec::new();
    let fields_of = |n: usize| match api.items.get(n) {
        Some(Item {
            kind: Kind::Struct(fields),
            ..
        }) => Some(fields),
        _ => None,
    };
    for root in 0..api.items.len() {
        if state.get(root) != Some(&0) || fields_of(root).is_none() {
            continue;
        }
        state[root] = 1;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, next)) = stack.last() {
            let field = fields_of(node).and_then(|fields| fields.get(next));
            let Some(field) = field else {
                state[node] = 2;
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let Ty::Named(target) = &field.ty else {
                continue;
            };
            let Some(&t) = structs.get(target) else {
                continue;
            };
            match state.get(t).copied() {
                Some(1) => to_box.push((node, next)),
                Some(0) => {
                    state[t] = 1;
                    stack.push((t, 0));
                }
                _ => {}
            }
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
