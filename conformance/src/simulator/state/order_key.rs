//! The key of a transaction in its shard, looked up without building one.
//!
//! A lookup by `(String, String)` needs an owned pair: two allocations and
//! two copies for every read of an order, several times per payment. Here
//! the map's key is [`OrderKey`], and a lookup passes the borrowed
//! [`OrderRef`] of two `&str` instead; both compare through the same
//! [`OrderParts`] view, so the map's order is the same whichever is used.
//!
//! Keys are ordered by order id first, then by public id: order ids differ
//! from one another at once, while most stores hold one merchant, whose
//! public id would otherwise be compared in full at every step of a
//! search.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// The parts of a key, owned or borrowed, compared the same way.
pub(super) trait OrderParts {
    /// `(public_id, order_id)`.
    fn parts(&self) -> (&str, &str);
}

/// An owned key: a merchant's public id and one of its order ids.
#[derive(Debug, Clone)]
pub(super) struct OrderKey {
    pub(super) public_id: String,
    pub(super) order_id: String,
}

/// A borrowed key, for lookups.
#[derive(Debug, Clone, Copy)]
pub(super) struct OrderRef<'a> {
    pub(super) public_id: &'a str,
    pub(super) order_id: &'a str,
}

impl<'a> OrderRef<'a> {
    /// The key of `order_id` for `public_id`, as a lookup takes it.
    pub(super) fn new(public_id: &'a str, order_id: &'a str) -> Self {
        OrderRef {
            public_id,
            order_id,
        }
    }

    /// As the map's `get` and `remove` take it.
    pub(super) fn as_dyn(&self) -> &(dyn OrderParts + 'a) {
        self
    }
}

impl OrderParts for OrderKey {
    fn parts(&self) -> (&str, &str) {
        (&self.public_id, &self.order_id)
    }
}

impl OrderParts for OrderRef<'_> {
    fn parts(&self) -> (&str, &str) {
        (self.public_id, self.order_id)
    }
}

/// Order id first, then public id (see the module's comment).
fn compare(a: &dyn OrderParts, b: &dyn OrderParts) -> Ordering {
    let ((a_public, a_order), (b_public, b_order)) = (a.parts(), b.parts());
    a_order.cmp(b_order).then_with(|| a_public.cmp(b_public))
}

impl PartialEq for dyn OrderParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn OrderParts + '_ {}

impl PartialOrd for dyn OrderParts + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn OrderParts + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self, other)
    }
}

impl PartialEq for OrderKey {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for OrderKey {}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The same order as the borrowed view's, as `Borrow` requires.
impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(self, other)
    }
}

impl<'a> Borrow<dyn OrderParts + 'a> for OrderKey {
    fn borrow(&self) -> &(dyn OrderParts + 'a) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn key(public_id: &str, order_id: &str) -> OrderKey {
        OrderKey {
            public_id: public_id.to_owned(),
            order_id: order_id.to_owned(),
        }
    }

    #[test]
    fn a_borrowed_key_finds_what_an_owned_one_stored() {
        let mut map = BTreeMap::new();
        for (public_id, order_id) in [
            ("pk_b", "o-2"),
            ("pk_a", "o-2"),
            ("pk_a", "o-1"),
            ("pk_b", "o-10"),
        ] {
            map.insert(key(public_id, order_id), format!("{public_id}/{order_id}"));
        }
        for (public_id, order_id) in [
            ("pk_b", "o-2"),
            ("pk_a", "o-2"),
            ("pk_a", "o-1"),
            ("pk_b", "o-10"),
        ] {
            let found = map.get(OrderRef::new(public_id, order_id).as_dyn());
            assert_eq!(
                found.map(String::as_str),
                Some(format!("{public_id}/{order_id}").as_str())
            );
        }
        assert!(!map.contains_key(OrderRef::new("pk_a", "o-10").as_dyn()));
        assert!(!map.contains_key(OrderRef::new("pk_c", "o-1").as_dyn()));
        // The same merchant's orders, or two merchants' same order id, are
        // distinct keys.
        assert_eq!(map.len(), 4);
        let order: Vec<&str> = map.values().map(String::as_str).collect();
        assert_eq!(order, ["pk_a/o-1", "pk_b/o-10", "pk_a/o-2", "pk_b/o-2"]);
        assert!(map.remove(OrderRef::new("pk_a", "o-2").as_dyn()).is_some());
        assert!(map.contains_key(OrderRef::new("pk_b", "o-2").as_dyn()));
    }
}
