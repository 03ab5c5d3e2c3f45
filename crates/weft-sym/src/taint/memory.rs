//! Linear memory with a per-byte shadow of labels.
//!
//! The bytes are a [`ConcreteMemory`]; labels live in 4 KiB chunks allocated on the first
//! tainted store, so untainted memory costs one pointer per chunk.

use super::label::{Label, LabelTable};
use std::cell::RefCell;
use weft_exec::{ConcreteMemory, Fault, LinearMemory};

const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A linear memory whose every byte carries a label.
#[derive(Clone, Debug, Default)]
pub struct TaintMemory {
    /// The concrete bytes.
    pub data: ConcreteMemory,
    shadow: Vec<Option<Box<[Label]>>>,
}

impl TaintMemory {
    /// The label of the byte at `addr` (in bounds or not: out of bounds reads as empty).
    #[inline]
    pub fn byte_label(&self, addr: u64) -> Label {
        match self.shadow.get((addr >> CHUNK_BITS) as usize) {
            Some(Some(c)) => c[addr as usize & (CHUNK - 1)],
            _ => Label::EMPTY,
        }
    }

    /// Whether no byte of `[addr, addr + len)` can be tainted (its chunks are unallocated).
    #[inline]
    fn range_clean(&self, addr: u64, len: u64) -> bool {
        if len == 0 {
            return true;
        }
        let first = (addr >> CHUNK_BITS) as usize;
        let last = ((addr + len - 1) >> CHUNK_BITS) as usize;
        (first..=last).all(|c| !matches!(self.shadow.get(c), Some(Some(_))))
    }

    /// The union of the labels of `[addr, addr + len)`.
    pub fn range_label(&self, addr: u64, len: u64, table: &RefCell<LabelTable>) -> Label {
        if self.range_clean(addr, len) {
            return Label::EMPTY;
        }
        let mut acc = Label::EMPTY;
        for a in addr..addr + len {
            let l = self.byte_label(a);
            if l != acc && !l.is_empty() {
                acc = if acc.is_empty() {
                    l
                } else {
                    table.borrow_mut().join(acc, l)
                };
            }
        }
        acc
    }

    /// Gives every byte of `[addr, addr + len)` the label `label`.
    pub fn set_label(&mut self, addr: u64, len: u64, label: Label) {
        if len == 0 || (label.is_empty() && self.range_clean(addr, len)) {
            return;
        }
        let end = addr + len;
        let mut a = addr;
        while a < end {
            let c = (a >> CHUNK_BITS) as usize;
            let start = a as usize & (CHUNK - 1);
            let n = ((CHUNK - start) as u64).min(end - a) as usize;
            if c >= self.shadow.len() {
                self.shadow.resize(c + 1, None);
            }
            match &mut self.shadow[c] {
                Some(chunk) => chunk[start..start + n].fill(label),
                None if label.is_empty() => {}
                slot => {
                    let mut chunk = vec![Label::EMPTY; CHUNK].into_boxed_slice();
                    chunk[start..start + n].fill(label);
                    *slot = Some(chunk);
                }
            }
            a += n as u64;
        }
    }

    /// Adds `extra` to the label of every byte of `[addr, addr + len)`.
    pub fn join_label(&mut self, addr: u64, len: u64, extra: Label, table: &RefCell<LabelTable>) {
        if extra.is_empty() {
            return;
        }
        if self.range_clean(addr, len) {
            self.set_label(addr, len, extra);
            return;
        }
        for a in addr..addr + len {
            let l = self.byte_label(a);
            let joined = if l.is_empty() || l == extra {
                extra
            } else {
                table.borrow_mut().join(l, extra)
            };
            self.set_label(a, 1, joined);
        }
    }

    /// Number of bytes currently tainted (for reports and tests).
    pub fn tainted_bytes(&self) -> usize {
        self.shadow
            .iter()
            .flatten()
            .map(|c| c.iter().filter(|l| !l.is_empty()).count())
            .sum()
    }
}

impl LinearMemory for TaintMemory {
    fn with_pages(pages: u32) -> Self {
        TaintMemory {
            data: ConcreteMemory::with_pages(pages),
            shadow: Vec::new(),
        }
    }
    fn size_bytes(&self) -> u64 {
        self.data.size_bytes()
    }
    fn grow(&mut self, delta: u32) {
        self.data.grow(delta);
    }
    fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        self.data.read_bytes(addr, out)
    }
    /// Bytes written from outside the program (data segments, host functions) are untainted;
    /// hosts that introduce taint label the bytes afterwards.
    fn write_bytes(&mut self, addr: u64, bytes: &[u8]) {
        self.data.write_bytes(addr, bytes);
        self.set_label(addr, bytes.len() as u64, Label::EMPTY);
    }
    fn copy_within(&mut self, src: u64, dst: u64, len: u64) {
        self.data.copy_within(src, dst, len);
        if self.range_clean(src, len) {
            self.set_label(dst, len, Label::EMPTY);
        } else {
            let labels: Vec<Label> = (src..src + len).map(|a| self.byte_label(a)).collect();
            for (i, l) in labels.into_iter().enumerate() {
                self.set_label(dst + i as u64, 1, l);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_stores_copies_and_host_writes() {
        let table = RefCell::new(LabelTable::new());
        let (a, b) = {
            let mut t = table.borrow_mut();
            (t.singleton(0), t.singleton(1))
        };
        let mut m = TaintMemory::with_pages(1);
        assert_eq!(m.range_label(0, 65536, &table), Label::EMPTY);
        m.set_label(4094, 4, a); // straddles two chunks
        m.set_label(100, 1, b);
        assert_eq!(m.range_label(4092, 4, &table), a);
        assert_eq!(m.range_label(4090, 3, &table), Label::EMPTY);
        let ab = m.range_label(100, 4000, &table);
        assert_eq!(table.borrow().sources(ab), &[0, 1]);
        m.copy_within(4094, 8000, 4);
        assert_eq!(m.range_label(8000, 4, &table), a);
        m.write_bytes(8001, &[1, 2]);
        assert_eq!(m.byte_label(8001), Label::EMPTY);
        assert_eq!(m.byte_label(8003), a);
        assert_eq!(m.tainted_bytes(), 4 + 1 + 2);
        m.copy_within(60000, 4094, 2); // clean source clears
        assert_eq!(m.byte_label(4094), Label::EMPTY);
        // Joining adds to clean and tainted bytes alike.
        m.join_label(99, 3, a, &table);
        assert_eq!(m.byte_label(99), a);
        assert_eq!(table.borrow().sources(m.byte_label(100)), &[0, 1]);
        assert_eq!(m.byte_label(102), Label::EMPTY);
    }
}
