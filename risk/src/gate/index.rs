//! Name → index maps built once per limits, so a check does no string allocation.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast, non-cryptographic hasher for short names (Fx-style, 8 bytes at a time).
/// Names come from the limits file, not from the network, so hash flooding is not a
/// concern; lookups of unknown names only miss.
#[derive(Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl NameHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Names to dense indices.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameMap {
    map: HashMap<Box<str>, usize, BuildHasherDefault<NameHasher>>,
    names: Vec<Box<str>>,
}

impl NameMap {
    /// The index of `name`, adding it if new.
    pub(crate) fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.map.get(name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.into());
        self.map.insert(name.into(), i);
        i
    }

    /// The index of `name`, if known.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.map.get(name).copied()
    }

    /// The name at `i`.
    pub(crate) fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("", |n| n)
    }

    /// How many names.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// A set of venue indices as a bitset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VenueSet {
    words: Vec<u64>,
}

impl VenueSet {
    pub(crate) fn insert(&mut self, i: usize) {
        let w = i / 64;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    #[inline]
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_finds() {
        let mut m = NameMap::default();
        for i in 0..200 {
            assert_eq!(m.intern(&format!("venue-{i}")), i);
        }
        assert_eq!(m.get("venue-117"), Some(117));
        assert_eq!(m.get("venue-1170"), None);
        assert_eq!(m.name(3), "venue-3");
        let mut s = VenueSet::default();
        s.insert(130);
        assert!(s.contains(130) && !s.contains(129) && !s.contains(4000));
    }
}
