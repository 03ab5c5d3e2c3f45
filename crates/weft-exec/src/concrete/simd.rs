//! Concrete semantics of the SIMD (`v128`) operators.

use super::{Bits, ConcreteMemory};
use crate::domain::Fault;
use weft_core::{BinaryOp, LoadOp, TernaryOp, UnaryOp};

/// Applies a SIMD unary operator.
pub(crate) fn unary(op: UnaryOp, _a: Bits) -> Bits {
    unimplemented!("SIMD operator {op:?}")
}

/// Applies a SIMD binary operator.
pub(crate) fn binary(op: BinaryOp, _a: Bits, _b: Bits) -> Result<Bits, Fault> {
    unimplemented!("SIMD operator {op:?}")
}

/// Applies a SIMD ternary operator.
pub(crate) fn ternary(op: TernaryOp, _a: Bits, _b: Bits, _c: Bits) -> Bits {
    match op {}
}

/// `i8x16.shuffle`.
pub(crate) fn shuffle(lanes: &[u8; 16], a: Bits, b: Bits) -> Bits {
    let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
    let mut out = [0u8; 16];
    for (o, &l) in out.iter_mut().zip(lanes) {
        *o = if l < 16 { a[l as usize] } else { b[(l - 16) as usize] };
    }
    Bits::from_le_bytes(out)
}

/// A SIMD load (bounds already checked).
pub(crate) fn load(op: LoadOp, _mem: &ConcreteMemory, _addr: u64) -> Bits {
    unimplemented!("SIMD load {op:?}")
}
