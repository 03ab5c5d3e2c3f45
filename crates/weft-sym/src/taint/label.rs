//! Labels: interned sets of source ids, so a label is a `Copy` 32-bit handle.
//!
//! Every distinct set is stored once, sorted; [`Label::EMPTY`] is the empty set. Unions are
//! memoised, so joining the same two labels again costs one hash lookup.

use std::collections::HashMap;

/// A source of taint: an index into the run's [`crate::taint::Sources`].
pub type SourceId = u32;

/// An interned set of sources.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u32);

impl Label {
    /// The empty set: untainted.
    pub const EMPTY: Label = Label(0);

    /// Whether this is the empty set.
    #[inline(always)]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The interning table of label sets.
#[derive(Clone, Debug)]
pub struct LabelTable {
    sets: Vec<Box<[SourceId]>>,
    index: HashMap<Box<[SourceId]>, Label>,
    unions: HashMap<(Label, Label), Label>,
}

impl Default for LabelTable {
    fn default() -> Self {
        let empty: Box<[SourceId]> = Box::new([]);
        let mut index = HashMap::new();
        index.insert(empty.clone(), Label::EMPTY);
        LabelTable {
            sets: vec![empty],
            index,
            unions: HashMap::new(),
        }
    }
}

impl LabelTable {
    /// A table holding only the empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The label of a sorted, duplicate-free set.
    fn intern(&mut self, set: Vec<SourceId>) -> Label {
        if let Some(l) = self.index.get(set.as_slice()) {
            return *l;
        }
        let l = Label(self.sets.len() as u32);
        let set: Box<[SourceId]> = set.into_boxed_slice();
        self.sets.push(set.clone());
        self.index.insert(set, l);
        l
    }

    /// The label `{source}`.
    pub fn singleton(&mut self, source: SourceId) -> Label {
        self.intern(vec![source])
    }

    /// The label of any set of sources.
    pub fn from_sources(&mut self, sources: impl IntoIterator<Item = SourceId>) -> Label {
        let mut v: Vec<SourceId> = sources.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.intern(v)
    }

    /// The union of two labels.
    #[inline]
    pub fn join(&mut self, a: Label, b: Label) -> Label {
        if a == b || b.is_empty() {
            return a;
        }
        if a.is_empty() {
            return b;
        }
        let key = if a < b { (a, b) } else { (b, a) };
        if let Some(l) = self.unions.get(&key) {
            return *l;
        }
        let (x, y) = (&self.sets[a.0 as usize], &self.sets[b.0 as usize]);
        let mut out = Vec::with_capacity(x.len() + y.len());
        let (mut i, mut j) = (0, 0);
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => {
                    out.push(x[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(y[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(x[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&x[i..]);
        out.extend_from_slice(&y[j..]);
        let l = self.intern(out);
        self.unions.insert(key, l);
        l
    }

    /// The sources of a label, sorted. An unknown label reads as empty.
    pub fn sources(&self, l: Label) -> &[SourceId] {
        self.sets.get(l.0 as usize).map_or(&[], |s| s)
    }

    /// Number of distinct sets interned (the empty set included).
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether only the empty set is interned.
    pub fn is_empty(&self) -> bool {
        self.sets.len() == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_is_a_set_union_and_interned() {
        let mut t = LabelTable::new();
        let a = t.singleton(3);
        let b = t.singleton(1);
        let ab = t.join(a, b);
        assert_eq!(t.sources(ab), &[1, 3]);
        assert_eq!(t.join(b, a), ab);
        assert_eq!(t.join(ab, a), ab);
        assert_eq!(t.join(Label::EMPTY, ab), ab);
        let c = t.from_sources([3, 1, 3]);
        assert_eq!(c, ab);
        let d = t.singleton(2);
        let all = t.join(ab, d);
        assert_eq!(t.sources(all), &[1, 2, 3]);
    }
}
