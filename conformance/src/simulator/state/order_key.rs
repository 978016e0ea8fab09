//! The key of a transaction in its shard, looked up without building one.
//!
//! A lookup by `(String, String)` needs an owned pair: two allocations and
//! two copies for every read of an order, several times per payment. Here
//! the map's key is [`OrderKey`], and a lookup passes the borrowed
//! [`OrderRef`] of two `&str` instead; both compare through the same
//! [`OrderParts`] view, so the map's order is the same whichever is used.
//!
//! Each key carries the store's hash of its two parts (the one that picks
//! its shard), and keys are ordered by that hash first: a search compares
//! integers held in the tree's own nodes, and follows a key's strings only
//! on an equal hash. Comparing the strings at every step read a string
//! elsewhere in memory per step, which grew slower as the store outgrew
//! the caches. Among equal hashes, order id comes before public id.

use std::borrow::Borrow;
use std::cmp::Ordering;

/// The parts of a key, owned or borrowed, compared the same way.
pub(super) trait OrderParts {
    /// `(hash, public_id, order_id)`.
    fn parts(&self) -> (u64, &str, &str);
}

/// An owned key: a merchant's public id and one of its order ids.
#[derive(Debug, Clone)]
pub(super) struct OrderKey {
    /// The store's hash of `(public_id, order_id)`.
    pub(super) hash: u64,
    pub(super) public_id: String,
    pub(super) order_id: String,
}

/// A borrowed key, for lookups.
#[derive(Debug, Clone, Copy)]
pub(super) struct OrderRef<'a> {
    /// The store's hash of `(public_id, order_id)`.
    pub(super) hash: u64,
    pub(super) public_id: &'a str,
    pub(super) order_id: &'a str,
}

impl<'a> OrderRef<'a> {
    /// The key of `order_id` for `public_id`, whose hash (by the store's
    /// hasher) is `hash`, as a lookup takes it.
    pub(super) fn new(hash: u64, public_id: &'a str, order_id: &'a str) -> Self {
        OrderRef {
            hash,
            public_id,
            order_id,
        }
    }

    /// The owned key, for an insertion.
    pub(super) fn to_owned(self) -> OrderKey {
        OrderKey {
            hash: self.hash,
            public_id: self.public_id.to_owned(),
            order_id: self.order_id.to_owned(),
        }
    }

    /// As the map's `get` and `remove` take it.
    pub(super) fn as_dyn(&self) -> &(dyn OrderParts + 'a) {
        self
    }
}

impl OrderKey {
    /// The borrowed key.
    pub(super) fn as_ref(&self) -> OrderRef<'_> {
        OrderRef::new(self.hash, &self.public_id, &self.order_id)
    }
}

impl OrderParts for OrderKey {
    fn parts(&self) -> (u64, &str, &str) {
        (self.hash, &self.public_id, &self.order_id)
    }
}

impl OrderParts for OrderRef<'_> {
    fn parts(&self) -> (u64, &str, &str) {
        (self.hash, self.public_id, self.order_id)
    }
}

/// Hash, order id, then public id (see the module's comment).
fn compare(a: &dyn OrderParts, b: &dyn OrderParts) -> Ordering {
    let ((a_hash, a_public, a_order), (b_hash, b_public, b_order)) = (a.parts(), b.parts());
    a_hash
        .cmp(&b_hash)
        .then_with(|| a_order.cmp(b_order))
        .then_with(|| a_public.cmp(b_public))
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

    /// A deliberately poor hash, so that keys collide: the strings must
    /// still tell them apart.
    fn poor_hash(public_id: &str, order_id: &str) -> u64 {
        (public_id.len() + order_id.len()) as u64
    }

    fn at<'a>(public_id: &'a str, order_id: &'a str) -> OrderRef<'a> {
        OrderRef::new(poor_hash(public_id, order_id), public_id, order_id)
    }

    #[test]
    fn a_borrowed_key_finds_what_an_owned_one_stored() {
        let orders = [
            ("pk_b", "o-2"),
            ("pk_a", "o-2"),
            ("pk_a", "o-1"),
            ("pk_b", "o-10"),
            ("pk_ab", "o-1"),
        ];
        let mut map = BTreeMap::new();
        for (public_id, order_id) in orders {
            map.insert(
                at(public_id, order_id).to_owned(),
                format!("{public_id}/{order_id}"),
            );
        }
        for (public_id, order_id) in orders {
            let found = map.get(at(public_id, order_id).as_dyn());
            assert_eq!(
                found.map(String::as_str),
                Some(format!("{public_id}/{order_id}").as_str())
            );
        }
        assert!(!map.contains_key(at("pk_a", "o-10").as_dyn()));
        assert!(!map.contains_key(at("pk_c", "o-1").as_dyn()));
        // The same parts under another hash are another key (a hash is
        // always the store's own, so this never happens in a store).
        assert!(!map.contains_key(OrderRef::new(99, "pk_a", "o-1").as_dyn()));
        assert_eq!(map.len(), 5);
        // Hash first, then order id, then public id.
        let order: Vec<&str> = map.values().map(String::as_str).collect();
        assert_eq!(
            order,
            ["pk_a/o-1", "pk_a/o-2", "pk_b/o-2", "pk_ab/o-1", "pk_b/o-10"]
        );
        assert!(map.remove(at("pk_a", "o-2").as_dyn()).is_some());
        assert!(map.contains_key(at("pk_b", "o-2").as_dyn()));
    }
}
