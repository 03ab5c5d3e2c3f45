//! Shared vocabulary of weft: value types, concrete values, traps, the operator table and
//! the fuel cost model.
//!
//! Everything here is independent of how a module is loaded or executed, so every other crate
//! (engine, tracer, symbolic domains, generator) agrees on one definition of each operator.
#![deny(missing_docs)]

pub mod fuel;
pub mod ops;
pub mod trap;
pub mod types;
pub mod val;

pub use ops::{BinaryOp, LoadLaneOp, LoadOp, StoreLaneOp, StoreOp, TernaryOp, UnaryOp};
pub use trap::TrapCode;
pub use types::{FuncType, ValType};
pub use val::{RefValue, Val};
