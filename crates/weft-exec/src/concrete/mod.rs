//! The concrete domain: values are plain bits, the fast path.

mod scalar;
mod simd;

use crate::domain::{Domain, Fault, LinearMemory};
use weft_core::{BinaryOp, LoadLaneOp, LoadOp, RefValue, StoreLaneOp, StoreOp, TernaryOp};
use weft_core::{UnaryOp, Val, ValType};

/// Bytes in one WebAssembly page.
pub const PAGE_SIZE: u64 = 65536;

/// A concrete value: the bits of any WebAssembly value, zero-extended to 128 bits.
/// References are encoded as `kind << 32 | index` (kind 0 null, 1 function, 2 extern).
pub type Bits = u128;

/// The concrete domain.
#[derive(Clone, Copy, Debug, Default)]
pub struct Concrete;

/// A concrete linear memory.
#[derive(Clone, Debug, Default)]
pub struct ConcreteMemory {
    /// The memory's bytes.
    pub data: Vec<u8>,
}

impl LinearMemory for ConcreteMemory {
    fn with_pages(pages: u32) -> Self {
        ConcreteMemory {
            data: vec![0; pages as usize * PAGE_SIZE as usize],
        }
    }
    fn size_bytes(&self) -> u64 {
        self.data.len() as u64
    }
    fn grow(&mut self, delta: u32) {
        let new = self.data.len() + delta as usize * PAGE_SIZE as usize;
        self.data.resize(new, 0);
    }
    fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault> {
        let a = addr as usize;
        out.copy_from_slice(&self.data[a..a + out.len()]);
        Ok(())
    }
    fn write_bytes(&mut self, addr: u64, bytes: &[u8]) {
        let a = addr as usize;
        self.data[a..a + bytes.len()].copy_from_slice(bytes);
    }
    fn copy_within(&mut self, src: u64, dst: u64, len: u64) {
        let s = src as usize;
        self.data.copy_within(s..s + len as usize, dst as usize);
    }
}

/// Encodes a reference as concrete bits.
#[inline]
pub fn ref_bits(r: RefValue) -> Bits {
    match r {
        RefValue::Null => 0,
        RefValue::Func(i) => (1u128 << 32) | i as u128,
        RefValue::Extern(i) => (2u128 << 32) | i as u128,
    }
}

/// Decodes concrete bits into a reference.
#[inline]
pub fn bits_ref(b: Bits) -> RefValue {
    match (b >> 32) as u8 {
        1 => RefValue::Func(b as u32),
        2 => RefValue::Extern(b as u32),
        _ => RefValue::Null,
    }
}

/// Concrete bits of a typed value.
#[inline(always)]
pub fn val_bits(v: Val) -> Bits {
    match v {
        Val::I32(x) => x as u32 as Bits,
        Val::I64(x) => x as u64 as Bits,
        Val::F32(x) => x as Bits,
        Val::F64(x) => x as Bits,
        Val::V128(x) => x,
        Val::FuncRef(r) => ref_bits(r.map_or(RefValue::Null, RefValue::Func)),
        Val::ExternRef(r) => ref_bits(r.map_or(RefValue::Null, RefValue::Extern)),
    }
}

/// The typed value of concrete bits.
pub fn bits_val(b: Bits, ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(b as u32 as i32),
        ValType::I64 => Val::I64(b as u64 as i64),
        ValType::F32 => Val::F32(b as u32),
        ValType::F64 => Val::F64(b as u64),
        ValType::V128 => Val::V128(b),
        ValType::FuncRef => Val::FuncRef(match bits_ref(b) {
            RefValue::Func(i) => Some(i),
            _ => None,
        }),
        ValType::ExternRef => Val::ExternRef(match bits_ref(b) {
            RefValue::Extern(i) => Some(i),
            _ => None,
        }),
    }
}

#[inline(always)]
fn read<const N: usize>(mem: &ConcreteMemory, addr: u64) -> [u8; N] {
    let a = addr as usize;
    let mut out = [0u8; N];
    out.copy_from_slice(&mem.data[a..a + N]);
    out
}

impl Domain for Concrete {
    type Value = Bits;
    type Memory = ConcreteMemory;

    #[inline(always)]
    fn constant(&mut self, v: Val) -> Bits {
        val_bits(v)
    }

    #[inline(always)]
    fn unary(&mut self, op: UnaryOp, a: Bits) -> Result<Bits, Fault> {
        scalar::unary(op, a)
    }

    #[inline(always)]
    fn binary(&mut self, op: BinaryOp, a: Bits, b: Bits) -> Result<Bits, Fault> {
        scalar::binary(op, a, b)
    }

    #[inline(always)]
    fn ternary(&mut self, op: TernaryOp, a: Bits, b: Bits, c: Bits) -> Result<Bits, Fault> {
        Ok(simd::ternary(op, a, b, c))
    }

    fn shuffle(&mut self, lanes: &[u8; 16], a: Bits, b: Bits) -> Bits {
        simd::shuffle(lanes, a, b)
    }

    #[inline(always)]
    fn condition(&mut self, c: Bits) -> Result<bool, Fault> {
        Ok(c as u32 != 0)
    }

    #[inline(always)]
    fn index(&mut self, v: Bits) -> Result<u32, Fault> {
        Ok(v as u32)
    }

    #[inline(always)]
    fn address(&mut self, v: Bits) -> Result<u32, Fault> {
        Ok(v as u32)
    }

    #[inline(always)]
    fn load(&mut self, mem: &ConcreteMemory, addr: u64, op: LoadOp) -> Result<Bits, Fault> {
        Ok(match op {
            LoadOp::I32Load | LoadOp::F32Load => u32::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I64Load | LoadOp::F64Load => u64::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I32Load8S => i8::from_le_bytes(read(mem, addr)) as i32 as u32 as Bits,
            LoadOp::I32Load8U => u8::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I32Load16S => i16::from_le_bytes(read(mem, addr)) as i32 as u32 as Bits,
            LoadOp::I32Load16U => u16::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I64Load8S => i8::from_le_bytes(read(mem, addr)) as i64 as u64 as Bits,
            LoadOp::I64Load8U => u8::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I64Load16S => i16::from_le_bytes(read(mem, addr)) as i64 as u64 as Bits,
            LoadOp::I64Load16U => u16::from_le_bytes(read(mem, addr)) as Bits,
            LoadOp::I64Load32S => i32::from_le_bytes(read(mem, addr)) as i64 as u64 as Bits,
            LoadOp::I64Load32U => u32::from_le_bytes(read(mem, addr)) as Bits,
            #[allow(unreachable_patterns)]
            simd_load => simd::load(simd_load, mem, addr),
        })
    }

    #[inline(always)]
    fn store(&mut self, mem: &mut ConcreteMemory, addr: u64, op: StoreOp, v: Bits) {
        let a = addr as usize;
        let w = op.width() as usize;
        mem.data[a..a + w].copy_from_slice(&v.to_le_bytes()[..w]);
    }

    fn load_lane(
        &mut self,
        mem: &ConcreteMemory,
        addr: u64,
        op: LoadLaneOp,
        lane: u8,
        v: Bits,
    ) -> Result<Bits, Fault> {
        let w = op.width() as usize;
        let a = addr as usize;
        let mut bytes = v.to_le_bytes();
        let at = lane as usize * w;
        bytes[at..at + w].copy_from_slice(&mem.data[a..a + w]);
        Ok(Bits::from_le_bytes(bytes))
    }

    fn store_lane(
        &mut self,
        mem: &mut ConcreteMemory,
        addr: u64,
        op: StoreLaneOp,
        lane: u8,
        v: Bits,
    ) {
        let w = op.width() as usize;
        let a = addr as usize;
        let at = lane as usize * w;
        mem.data[a..a + w].copy_from_slice(&v.to_le_bytes()[at..at + w]);
    }

    fn fill(&mut self, mem: &mut ConcreteMemory, addr: u64, len: u64, byte: Bits) {
        let a = addr as usize;
        mem.data[a..a + len as usize].fill(byte as u8);
    }

    #[inline(always)]
    fn to_ref(&mut self, v: Bits) -> RefValue {
        bits_ref(v)
    }

    fn to_val(&mut self, v: Bits, ty: ValType) -> Result<Val, Fault> {
        Ok(bits_val(v, ty))
    }
}
