//! The `Domain` trait: what a value is and how operators act on it.
//!
//! The machine implements WebAssembly's control flow, calls, tables and memory bookkeeping
//! once; everything that depends on what a value *is* goes through a domain. A domain also
//! answers the places where execution needs a concrete decision (branch conditions, indices,
//! memory addresses, trap conditions): a concrete domain answers at once, a symbolic one may
//! answer [`Fault::Fork`] to ask its driver to split the path.

use std::fmt::Debug;
use weft_core::{
    BinaryOp, LoadLaneOp, LoadOp, RefValue, StoreLaneOp, StoreOp, TernaryOp, TrapCode,
};
use weft_core::{UnaryOp, Val, ValType};

/// Why a domain could not produce a value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The operation traps.
    Trap(TrapCode),
    /// The domain needs its driver to choose (e.g. both branch directions are feasible). The
    /// machine stops before the instruction, leaving its state intact so it can be cloned
    /// and resumed once the choice is made.
    Fork,
}

impl From<TrapCode> for Fault {
    fn from(t: TrapCode) -> Self {
        Fault::Trap(t)
    }
}

/// A linear memory as a domain stores it. Sizes are always concrete.
pub trait LinearMemory: Clone + Debug {
    /// A zero-filled memory of `pages` 64 KiB pages.
    fn with_pages(pages: u32) -> Self;
    /// Current size in bytes.
    fn size_bytes(&self) -> u64;
    /// Grows by `delta` pages (the caller has checked every limit).
    fn grow(&mut self, delta: u32);
    /// Reads concrete bytes (the caller has checked bounds). A domain whose bytes are not all
    /// concrete may fault.
    fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), Fault>;
    /// Writes concrete bytes (the caller has checked bounds).
    fn write_bytes(&mut self, addr: u64, bytes: &[u8]);
    /// Copies `len` bytes within the memory, overlapping ranges allowed (bounds checked).
    fn copy_within(&mut self, src: u64, dst: u64, len: u64);
}

/// The value domain of a machine.
pub trait Domain: Sized {
    /// A value on the operand stack, in a local or a global.
    type Value: Copy + Debug + 'static;
    /// A linear memory.
    type Memory: LinearMemory;
    /// Whether the domain must see every computing operator (`unary`, `binary`, `ternary`)
    /// as a call of its own, even where fast code could fold one into a branch. Domains
    /// that record or replace operator results say true.
    const KEEPS_OPERATORS: bool = false;

    /// A value from a concrete constant.
    fn constant(&mut self, v: Val) -> Self::Value;
    /// Applies a one-operand operator.
    fn unary(&mut self, op: UnaryOp, a: Self::Value) -> Result<Self::Value, Fault>;
    /// Applies a two-operand operator (`a` was pushed first).
    fn binary(
        &mut self,
        op: BinaryOp,
        a: Self::Value,
        b: Self::Value,
    ) -> Result<Self::Value, Fault>;
    /// Applies a three-operand operator.
    fn ternary(
        &mut self,
        op: TernaryOp,
        a: Self::Value,
        b: Self::Value,
        c: Self::Value,
    ) -> Result<Self::Value, Fault>;
    /// `i8x16.shuffle` with its lane pattern.
    fn shuffle(&mut self, lanes: &[u8; 16], a: Self::Value, b: Self::Value) -> Self::Value;

    /// Decides an i32 branch condition (`if`, `br_if`): true when non-zero.
    fn condition(&mut self, c: Self::Value) -> Result<bool, Fault>;
    /// `select`: `a` when `c` is non-zero, else `b`. Concrete domains decide; others may
    /// build a conditional value.
    fn select(
        &mut self,
        c: Self::Value,
        a: Self::Value,
        b: Self::Value,
    ) -> Result<Self::Value, Fault> {
        Ok(if self.condition(c)? { a } else { b })
    }
    /// Concretises an i32 used as an index or count (`br_table`, table and bulk operands,
    /// `memory.grow` delta), as unsigned.
    fn index(&mut self, v: Self::Value) -> Result<u32, Fault>;
    /// Concretises a `br_table` index, clamped to `len` (the default target). A symbolic
    /// domain can enumerate at most `len + 1` answers here instead of every i32.
    #[inline(always)]
    fn br_table_index(&mut self, v: Self::Value, len: u32) -> Result<u32, Fault> {
        Ok(self.index(v)?.min(len))
    }
    /// Concretises an i32 memory address operand, as unsigned.
    fn address(&mut self, v: Self::Value) -> Result<u32, Fault>;

    /// Loads from `addr` (bounds already checked by the machine).
    fn load(&mut self, mem: &Self::Memory, addr: u64, op: LoadOp) -> Result<Self::Value, Fault>;
    /// Stores `v` at `addr` (bounds already checked).
    fn store(&mut self, mem: &mut Self::Memory, addr: u64, op: StoreOp, v: Self::Value);
    /// Loads one lane into vector `v` (bounds already checked).
    fn load_lane(
        &mut self,
        mem: &Self::Memory,
        addr: u64,
        op: LoadLaneOp,
        lane: u8,
        v: Self::Value,
    ) -> Result<Self::Value, Fault>;
    /// Stores one lane of vector `v` (bounds already checked).
    fn store_lane(
        &mut self,
        mem: &mut Self::Memory,
        addr: u64,
        op: StoreLaneOp,
        lane: u8,
        v: Self::Value,
    );
    /// `memory.fill` of `len` bytes with the low byte of `byte` (bounds already checked).
    fn fill(&mut self, mem: &mut Self::Memory, addr: u64, len: u64, byte: Self::Value);
    /// `memory.copy` of `len` bytes (bounds already checked, source resolved first). Domains
    /// whose copied bytes depend on more than the source bytes (taint) override it.
    #[inline(always)]
    fn copy(&mut self, mem: &mut Self::Memory, src: u64, dst: u64, len: u64) {
        mem.copy_within(src, dst, len);
    }
    /// A value copied into a local or a global (`local.set`, `local.tee`, `global.set`).
    /// The identity, except for domains that label assignments (implicit flows).
    #[inline(always)]
    fn assign(&mut self, v: Self::Value) -> Self::Value {
        v
    }

    /// The reference a value holds. References are always concrete.
    fn to_ref(&mut self, v: Self::Value) -> RefValue;
    /// A concrete view of a value of type `ty`, for host calls and results.
    fn to_val(&mut self, v: Self::Value, ty: ValType) -> Result<Val, Fault>;
}
