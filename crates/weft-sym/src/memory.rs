//! Byte-granular symbolic linear memory with copy-on-write chunks.
//!
//! Concrete bytes live in fixed-size chunks shared between forked paths (`Arc`), cloned only
//! when a path writes to them. A chunk that holds symbolic bytes carries a second array of
//! term ids (one per byte, [`NONE`] where the byte is concrete). Addresses are always
//! concrete: the domain concretises symbolic ones before they get here.

use crate::term::{TermId, NONE};
use std::sync::Arc;
use weft_core::TrapCode;
use weft_exec::{Fault, LinearMemory};

/// Bytes per copy-on-write chunk.
pub const CHUNK: usize = 4096;
const PAGE: usize = 65536;

#[derive(Clone, Debug)]
struct Chunk {
    bytes: Vec<u8>,
    /// Empty when every byte is concrete, else one entry per byte.
    sym: Vec<TermId>,
}

impl Chunk {
    fn zero() -> Self {
        Chunk {
            bytes: vec![0; CHUNK],
            sym: Vec::new(),
        }
    }
}

/// A linear memory whose bytes are concrete or symbolic.
#[derive(Clone, Debug)]
pub struct SymMemory {
    chunks: Arc<Vec<Arc<Chunk>>>,
    zero: Arc<Chunk>,
    size: u64,
}

impl SymMemory {
    fn chunk_mut(&mut self, i: usize) -> &mut Chunk {
        let v = Arc::make_mut(&mut self.chunks);
        Arc::make_mut(&mut v[i])
    }

    /// The concrete byte at `addr` (meaningless where the byte is symbolic).
    pub fn byte(&self, addr: u64) -> u8 {
        let a = addr as usize;
        self.chunks[a / CHUNK].bytes[a % CHUNK]
    }

    /// The term of a symbolic byte, or `None` if the byte is concrete.
    pub fn sym(&self, addr: u64) -> Option<TermId> {
        let a = addr as usize;
        let c = &self.chunks[a / CHUNK];
        if c.sym.is_empty() {
            return None;
        }
        let t = c.sym[a % CHUNK];
        (t != NONE).then_some(t)
    }

    /// Whether any byte of `addr..addr+len` is symbolic.
    pub fn any_sym(&self, addr: u64, len: u64) -> bool {
        let (start, end) = (addr as usize, (addr + len) as usize);
        let mut a = start;
        while a < end {
            let c = &self.chunks[a / CHUNK];
            let stop = end.min((a / CHUNK + 1) * CHUNK);
            if !c.sym.is_empty()
                && c.sym[a % CHUNK..a % CHUNK + (stop - a)]
                    .iter()
                    .any(|t| *t != NONE)
            {
                return true;
            }
            a = stop;
        }
        false
    }

    /// Sets a concrete byte.
    pub fn set_byte(&mut self, addr: u64, v: u8) {
        let a = addr as usize;
        let c = self.chunk_mut(a / CHUNK);
        c.bytes[a % CHUNK] = v;
        if !c.sym.is_empty() {
            c.sym[a % CHUNK] = NONE;
        }
    }

    /// Sets a symbolic byte (an 8-bit term).
    pub fn set_sym(&mut self, addr: u64, t: TermId) {
        let a = addr as usize;
        let c = self.chunk_mut(a / CHUNK);
        if c.sym.is_empty() {
            c.sym = vec![NONE; CHUNK];
        }
        c.sym[a % CHUNK] = t;
    }
}

impl LinearMemory for SymMemory {
    fn with_pages(pages: u32) -> Self {
        let zero = Arc::new(Chunk::zero());
        let n = pages as usize * (PAGE / CHUNK);
        SymMemory {
            chunks: Arc::new(vec![zero.clone(); n]),
            zero,
            size: pages as u64 * PAGE as u64,
        }
    }

    fn size_bytes(&self) -> u64 {
        self.size
    }

    fn grow(&mut self, delta: u32) {
        let zero = self.zero.clone();
        let v = Arc::make_mut(&mut self.chunks);
        v.extend(std::iter::repeat_n(zero, delta as usize * (PAGE / CHUNK)));
        self.size += delta as u64 * PAGE as u64;
    }

    fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        if self.any_sym(addr, out.len() as u64) {
            // Host functions (e.g. WASI) see concrete bytes only.
            return Err(Fault::Trap(TrapCode::HostError));
        }
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.byte(addr + i as u64);
        }
        Ok(())
    }

    fn write_bytes(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.set_byte(addr + i as u64, *b);
        }
    }

    fn copy_within(&mut self, src: u64, dst: u64, len: u64) {
        let items: Vec<(u8, Option<TermId>)> = (0..len)
            .map(|i| (self.byte(src + i), self.sym(src + i)))
            .collect();
        for (i, (b, s)) in items.into_iter().enumerate() {
            match s {
                Some(t) => self.set_sym(dst + i as u64, t),
                None => self.set_byte(dst + i as u64, b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_on_write_keeps_forks_apart() {
        let mut a = SymMemory::with_pages(1);
        a.set_byte(10, 7);
        let mut b = a.clone();
        b.set_byte(10, 9);
        b.set_sym(11, TermId(3));
        assert_eq!(a.byte(10), 7);
        assert_eq!(b.byte(10), 9);
        assert!(!a.any_sym(0, 100));
        assert!(b.any_sym(0, 100));
        assert_eq!(b.sym(11), Some(TermId(3)));
        b.copy_within(10, 5000, 2);
        assert_eq!(b.byte(5000), 9);
        assert_eq!(b.sym(5001), Some(TermId(3)));
        let mut out = [0u8; 2];
        assert!(b.read_bytes(5000, &mut out).is_err());
        b.grow(1);
        assert_eq!(b.size_bytes(), 2 * 65536);
        assert_eq!(a.size_bytes(), 65536);
    }
}
