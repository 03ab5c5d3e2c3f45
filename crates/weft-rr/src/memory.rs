//! Guest memory seen by a host during one import call, with every read and write logged.

use crate::trace::Chunk;
use weft_exec::wasi::ExternalMemory;

/// Memory 0 of the calling instance, logging what the host reads and writes.
pub struct LoggedMemory<'a> {
    data: &'a mut [u8],
    reads: std::cell::RefCell<Vec<(u64, Vec<u8>)>>,
    /// `(address, bytes)` of every write, in order.
    pub writes: Vec<(u64, Vec<u8>)>,
}

impl<'a> LoggedMemory<'a> {
    /// Wraps the bytes of a memory.
    pub fn new(data: &'a mut [u8]) -> Self {
        LoggedMemory {
            data,
            reads: Default::default(),
            writes: Vec::new(),
        }
    }

    /// The memory's bytes (not logged).
    pub fn bytes(&self) -> &[u8] {
        self.data
    }
}

impl ExternalMemory for LoggedMemory<'_> {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read(&self, addr: u64, out: &mut [u8]) {
        let a = addr as usize;
        out.copy_from_slice(&self.data[a..a + out.len()]);
        self.reads.borrow_mut().push((addr, out.to_vec()));
    }
    fn write(&mut self, addr: u64, bytes: &[u8]) {
        let a = addr as usize;
        self.data[a..a + bytes.len()].copy_from_slice(bytes);
        self.writes.push((addr, bytes.to_vec()));
    }
}

impl LoggedMemory<'_> {
    /// Takes `(address, bytes)` of every read so far, in order.
    pub fn take_reads(&mut self) -> Vec<(u64, Vec<u8>)> {
        std::mem::take(self.reads.get_mut())
    }
}

/// Reads a little-endian `u32` at `addr`, `None` when out of bounds.
pub fn load_u32(mem: &[u8], addr: u64) -> Option<u32> {
    let a = usize::try_from(addr).ok()?;
    let b = mem.get(a..a.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Merges accesses that continue one another (4 bytes, then the next 4) and are relative to
/// the same base (`arg3+0` then `arg3+4`), so they replay the same on another build.
pub fn coalesce(
    list: impl IntoIterator<Item = (u64, Option<String>, Vec<u8>)>,
) -> Vec<(u64, Option<String>, Vec<u8>)> {
    fn base(at: &Option<String>) -> Option<&str> {
        at.as_deref()
            .map(|a| a.split(['+', '@']).next().unwrap_or(a))
    }
    let mut out: Vec<(u64, Option<String>, Vec<u8>)> = Vec::new();
    for (addr, at, bytes) in list {
        if let Some((a, last_at, b)) = out.last_mut() {
            if *a + b.len() as u64 == addr && base(last_at) == base(&at) {
                b.extend_from_slice(&bytes);
                continue;
            }
        }
        out.push((addr, at, bytes));
    }
    out
}

/// Applies a chunk to memory; the message names the address when it does not fit.
pub fn apply(mem: &mut [u8], addr: u64, bytes: &[u8]) -> Result<(), String> {
    let a = usize::try_from(addr).map_err(|_| format!("address {addr} out of range"))?;
    let end = a
        .checked_add(bytes.len())
        .filter(|&e| e <= mem.len())
        .ok_or_else(|| {
            format!(
                "write of {} bytes at {addr} is outside memory ({} bytes)",
                bytes.len(),
                mem.len()
            )
        })?;
    mem[a..end].copy_from_slice(bytes);
    Ok(())
}

/// A chunk for the trace.
pub fn chunk(addr: u64, at: Option<String>, bytes: &[u8]) -> Chunk {
    Chunk {
        addr,
        at,
        hex: crate::hex(bytes),
    }
}
