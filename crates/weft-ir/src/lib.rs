//! Loading, validating and lowering WebAssembly modules.
//!
//! A [`Module`] is parsed and validated once with wasmparser (every WebAssembly 2.0 feature,
//! SIMD included). Function bodies are then *lowered* to weft's own instruction stream
//! ([`Instr`]): branch targets resolved to instruction indices, stack heights precomputed,
//! immediates decoded, so the interpreter never re-decodes bytes at run time. Lowering comes in
//! two [`LowerMode`]s: `fast` (structural no-ops removed, fuel charged per basic block) and
//! `exact` (one instruction per original operator, for observers that see every step).
#![deny(missing_docs)]

mod error;
mod fuse;
mod instr;
mod lower;
mod module;
mod print;

pub use error::LoadError;
pub use instr::{BrTarget, Instr, Marker};
pub use lower::{LowerMode, LoweredFunc};
pub use module::{
    ConstExpr, ConstOp, DataMode, DataSegment, ElemMode, ElemSegment, Export, ExternKind,
    GlobalType, Import, ImportKind, MemoryType, Module, TableType,
};
pub use print::{print_module, print_wat};
