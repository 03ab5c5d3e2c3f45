//! Bounds-checked access to the guest's linear memory.
//!
//! Every guest pointer is checked against the memory's current size; an out-of-range access
//! is `EFAULT`, never a panic. Access goes through a small object-safe trait so the WASI
//! functions are compiled once, whatever the domain.

use super::abi::Errno;
use super::Error;
use crate::domain::{Fault, LinearMemory};
use crate::host::HostError;

/// The part of [`LinearMemory`] the WASI functions need, object safe.
pub(crate) trait MemAccess {
    fn size(&self) -> u64;
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault>;
    fn write(&mut self, addr: u64, bytes: &[u8]);
}

impl<M: LinearMemory> MemAccess for M {
    fn size(&self) -> u64 {
        self.size_bytes()
    }
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        self.read_bytes(addr, out)
    }
    fn write(&mut self, addr: u64, bytes: &[u8]) {
        self.write_bytes(addr, bytes)
    }
}

/// Most iovecs one call may pass.
const MAX_IOVECS: u32 = 16384;

/// The caller's memory 0, if it has one.
pub(crate) struct GuestMem<'a> {
    mem: Option<&'a mut dyn MemAccess>,
}

impl<'a> GuestMem<'a> {
    pub(crate) fn new(mem: Option<&'a mut dyn MemAccess>) -> Self {
        GuestMem { mem }
    }

    /// Checks that `[addr, addr + len)` lies in memory; returns `addr` widened.
    pub(crate) fn check(&self, addr: u32, len: u64) -> Result<u64, Error> {
        let size = self.mem.as_ref().map_or(0, |m| m.size());
        let end = addr as u64 + len;
        if end > size {
            return Err(Errno::FAULT.into());
        }
        Ok(addr as u64)
    }

    fn mem(&self) -> Result<&dyn MemAccess, Error> {
        match &self.mem {
            Some(m) => Ok(&**m),
            None => Err(Errno::FAULT.into()),
        }
    }

    /// Reads `out.len()` bytes at `addr`.
    pub(crate) fn read_into(&self, addr: u32, out: &mut [u8]) -> Result<(), Error> {
        let a = self.check(addr, out.len() as u64)?;
        if out.is_empty() {
            return Ok(());
        }
        self.mem()?
            .read(a, out)
            .map_err(|f| Error::Host(HostError::Fault(f)))
    }

    /// Reads `len` bytes at `addr` (the length is bounded by the memory size).
    pub(crate) fn read_vec(&self, addr: u32, len: u64) -> Result<Vec<u8>, Error> {
        self.check(addr, len)?;
        let mut v = vec![0u8; len as usize];
        self.read_into(addr, &mut v)?;
        Ok(v)
    }

    /// Reads a guest string (UTF-8, `EILSEQ` otherwise).
    pub(crate) fn read_str(&self, addr: u32, len: u32) -> Result<String, Error> {
        String::from_utf8(self.read_vec(addr, len as u64)?).map_err(|_| Errno::ILSEQ.into())
    }

    /// Writes `bytes` at `addr`.
    pub(crate) fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), Error> {
        let a = self.check(addr, bytes.len() as u64)?;
        if bytes.is_empty() {
            return Ok(());
        }
        match &mut self.mem {
            Some(m) => {
                m.write(a, bytes);
                Ok(())
            }
            None => Err(Errno::FAULT.into()),
        }
    }

    pub(crate) fn write_u32(&mut self, addr: u32, v: u32) -> Result<(), Error> {
        self.write(addr, &v.to_le_bytes())
    }

    pub(crate) fn write_u64(&mut self, addr: u32, v: u64) -> Result<(), Error> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Reads an array of `count` iovecs (`{buf: u32, len: u32}`) at `addr`.
    pub(crate) fn iovecs(&self, addr: u32, count: u32) -> Result<Vec<(u32, u32)>, Error> {
        if count > MAX_IOVECS {
            return Err(Errno::INVAL.into());
        }
        let bytes = count as u64 * super::abi::IOVEC_SIZE as u64;
        let raw = self.read_vec(addr, bytes)?;
        let mut out = Vec::with_capacity(count as usize);
        for c in raw.chunks_exact(8) {
            let buf = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            let len = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
            // Each buffer must lie in memory, even if it is not used in full.
            self.check(buf, len as u64)?;
            out.push((buf, len));
        }
        Ok(out)
    }
}
