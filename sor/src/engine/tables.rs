//! The engine's tables of parents and children, indexed by the numbers in the ids the
//! engine mints: `P{n}` for its n-th parent, `P{n}.{k}` for that parent's k-th child.
//!
//! A look-up parses the number out of the id and compares integers down the tree,
//! where a tree keyed by the id text compared strings (a heap read and a `memcmp` for
//! each key passed: about 35 per look-up in a day's thousands of parents, several
//! look-ups per step). Iteration is in number order (`P2` before `P10`). Each found
//! entry is checked against the asked id, so an id the engine did not mint (`P01`,
//! `x`) is simply not found, as before.

use super::{EngineError, ParentRecord};
use crate::domain::{ChildId, ChildOrder, ParentId};
use std::collections::BTreeMap;
use std::ops::Index;

/// The number in a parent id `P{n}`, if it has that form.
fn parent_number(id: &str) -> Option<u64> {
    id.strip_prefix('P')?.parse().ok()
}

/// The numbers in a child id `P{n}.{k}`, if it has that form.
fn child_numbers(id: &str) -> Option<(u64, u32)> {
    let (parent, k) = id.split_once('.')?;
    Some((parent_number(parent)?, k.parse().ok()?))
}

/// Every parent the engine holds, in the order they arrived.
#[derive(Debug, Default, Clone)]
pub struct Parents {
    by_number: BTreeMap<u64, ParentRecord>,
}

impl Parents {
    /// The parent with id `id`.
    pub fn get(&self, id: &ParentId) -> Option<&ParentRecord> {
        self.by_number
            .get(&parent_number(&id.0)?)
            .filter(|r| r.order.id == *id)
    }

    /// The parent with id `id`, to change.
    pub(crate) fn get_mut(&mut self, id: &ParentId) -> Option<&mut ParentRecord> {
        self.by_number
            .get_mut(&parent_number(&id.0)?)
            .filter(|r| r.order.id == *id)
    }

    /// Adds a parent under its order's id, which must be one the engine minted and not
    /// yet held.
    pub(crate) fn insert(&mut self, rec: ParentRecord) -> Result<(), EngineError> {
        let id = &rec.order.id;
        let n = parent_number(&id.0)
            .ok_or_else(|| EngineError::Invariant(format!("parent id {id} is not P{{n}}")))?;
        if self.by_number.contains_key(&n) {
            return Err(EngineError::Invariant(format!("parent {id} added twice")));
        }
        self.by_number.insert(n, rec);
        Ok(())
    }

    /// The parents, in the order they arrived.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &ParentRecord> {
        self.by_number.values()
    }

    /// The parents' ids, in the order they arrived.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &ParentId> {
        self.values().map(|r| &r.order.id)
    }

    /// Each parent with its id, in the order they arrived.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&ParentId, &ParentRecord)> {
        self.values().map(|r| (&r.order.id, r))
    }

    /// How many parents.
    pub fn len(&self) -> usize {
        self.by_number.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_number.is_empty()
    }
}

impl Index<&ParentId> for Parents {
    type Output = ParentRecord;

    /// The parent with id `id`; panics if there is none (as a map's index does).
    fn index(&self, id: &ParentId) -> &ParentRecord {
        match self.get(id) {
            Some(rec) => rec,
            None => panic!("no parent {id}"),
        }
    }
}

/// Every child the engine sent, in the order of their parents, then their own.
#[derive(Debug, Default, Clone)]
pub struct Children {
    by_number: BTreeMap<(u64, u32), ChildOrder>,
}

impl Children {
    /// The child with id `id`.
    pub fn get(&self, id: &ChildId) -> Option<&ChildOrder> {
        self.by_number
            .get(&child_numbers(&id.0)?)
            .filter(|c| c.id == *id)
    }

    /// The child with id `id`, to change.
    pub(crate) fn get_mut(&mut self, id: &ChildId) -> Option<&mut ChildOrder> {
        self.by_number
            .get_mut(&child_numbers(&id.0)?)
            .filter(|c| c.id == *id)
    }

    /// Whether the engine holds a child with id `id`.
    pub fn contains_key(&self, id: &ChildId) -> bool {
        self.get(id).is_some()
    }

    /// Adds a child under its id, which must be one the engine minted and not yet held.
    pub(crate) fn insert(&mut self, child: ChildOrder) -> Result<(), EngineError> {
        let id = &child.id;
        let key = child_numbers(&id.0)
            .ok_or_else(|| EngineError::Invariant(format!("child id {id} is not P{{n}}.{{k}}")))?;
        if self.by_number.contains_key(&key) {
            return Err(EngineError::Invariant(format!("child {id} added twice")));
        }
        self.by_number.insert(key, child);
        Ok(())
    }

    /// The children, by parent then in the order each parent sent them.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &ChildOrder> {
        self.by_number.values()
    }

    /// The children's ids, in the order of [`Children::values`].
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &ChildId> {
        self.values().map(|c| &c.id)
    }

    /// Each child with its id, in the order of [`Children::values`].
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&ChildId, &ChildOrder)> {
        self.values().map(|c| (&c.id, c))
    }

    /// How many children.
    pub fn len(&self) -> usize {
        self.by_number.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_number.is_empty()
    }
}

impl Index<&ChildId> for Children {
    type Output = ChildOrder;

    /// The child with id `id`; panics if there is none (as a map's index does).
    fn index(&self, id: &ChildId) -> &ChildOrder {
        match self.get(id) {
            Some(child) => child,
            None => panic!("no child {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_the_engine_mints_parse_to_their_numbers() {
        assert_eq!(parent_number("P1"), Some(1));
        assert_eq!(parent_number("P12345"), Some(12345));
        assert_eq!(child_numbers("P12.3"), Some((12, 3)));
    }

    #[test]
    fn other_ids_do_not_parse() {
        for id in [
            "",
            "P",
            "1",
            "p1",
            "P-1",
            "P1.2",
            "Px",
            "P18446744073709551616",
        ] {
            assert_eq!(parent_number(id), None, "{id:?}");
        }
        for id in [
            "",
            "P1",
            "P1.",
            "P.1",
            "P1.x",
            "Q1.1",
            "P1.2.3",
            "P1.4294967296",
        ] {
            assert_eq!(child_numbers(id), None, "{id:?}");
        }
    }
}
