//! NaNs whose bits engines may choose. The spec fixes the bits of a NaN only for the bitwise
//! operators (`neg`, `abs`, `copysign`, reinterpretations); every other float operator that
//! returns a NaN may pick its sign (and, with non-canonical inputs, its payload). The generator
//! checks each tile when it is offered, but a value fed back through a loop can later reach a
//! float operator that was NaN-free when it was offered. [`NanWatch`] checks whole runs for the
//! NaNs on which engines really differ: a NaN made from non-NaN operands (`sqrt(-1)`, `0/0`,
//! `inf - inf`: x86 gives a negative NaN, other hardware and weft the positive canonical one),
//! or a NaN passed on from an operand that is not the positive canonical NaN. Passing on the
//! positive canonical NaN gives it back in every engine tested (weft, wasmtime, wasmi), though
//! the spec would allow its negation too.

use weft_core::{BinaryOp, UnaryOp, ValType};
use weft_exec::concrete::Bits;
use weft_exec::{Concrete, Observer, StepView};

/// Whether a unary operator only moves or flips bits, so the spec fixes its NaN results.
pub fn bitwise_unary(op: UnaryOp) -> bool {
    matches!(
        op,
        UnaryOp::F32Neg
            | UnaryOp::F32Abs
            | UnaryOp::F64Neg
            | UnaryOp::F64Abs
            | UnaryOp::F32ReinterpretI32
            | UnaryOp::F64ReinterpretI64
    )
}

/// Whether a binary operator only moves bits (`copysign`), so the spec fixes its NaN results.
pub fn bitwise_binary(op: BinaryOp) -> bool {
    matches!(op, BinaryOp::F32Copysign | BinaryOp::F64Copysign)
}

/// The result type of a float operator whose NaN results have bits the spec leaves open.
pub fn open_nan_result(instr: &weft_ir::Instr) -> Option<ValType> {
    let ty = if let Some(op) = instr.unary_op() {
        if bitwise_unary(op) {
            return None;
        }
        op.result_type()
    } else if let Some(op) = instr.binary_op() {
        if bitwise_binary(op) {
            return None;
        }
        op.result_type()
    } else {
        return None;
    };
    matches!(ty, ValType::F32 | ValType::F64).then_some(ty)
}

/// Whether `bits` of type `ty` are a NaN.
pub fn is_nan(ty: ValType, bits: Bits) -> bool {
    match ty {
        ValType::F32 => f32::from_bits(bits as u32).is_nan(),
        ValType::F64 => f64::from_bits(bits as u64).is_nan(),
        _ => false,
    }
}

/// Whether `bits` are the positive canonical NaN of `ty`.
fn positive_canonical(ty: ValType, bits: Bits) -> bool {
    match ty {
        ValType::F32 => bits as u32 == 0x7fc0_0000,
        ValType::F64 => bits as u64 == 0x7ff8_0000_0000_0000,
        _ => false,
    }
}

/// Whether an operator's operands make a NaN result differ between engines: no operand is a
/// NaN (the NaN is made here), or a NaN operand is not the positive canonical NaN.
fn risky_operands(instr: &weft_ir::Instr, stack: &[Bits]) -> bool {
    let n = stack.len();
    let operands: Vec<(ValType, Bits)> = if let Some(op) = instr.unary_op() {
        vec![(op.operand_type(), stack[n - 1])]
    } else if let Some(op) = instr.binary_op() {
        let [a, b] = op.operand_types();
        vec![(a, stack[n - 2]), (b, stack[n - 1])]
    } else {
        return true;
    };
    let nans: Vec<&(ValType, Bits)> = operands.iter().filter(|(t, b)| is_nan(*t, *b)).collect();
    nans.is_empty() || nans.iter().any(|(t, b)| !positive_canonical(*t, *b))
}

/// Watches a run for float operators that return a NaN on which engines differ.
#[derive(Clone, Debug, Default)]
pub struct NanWatch {
    /// The previous step was a float operator whose operands would make a NaN result differ
    /// between engines: its result type and code offset (its result is on top of the stack at
    /// the next step).
    pending: Option<(ValType, u32)>,
    /// Code offset of the first operator that returned such a NaN.
    pub first: Option<u32>,
}

impl NanWatch {
    /// Looks at one step (call from [`Observer::before_step`]).
    #[inline]
    pub fn step(&mut self, view: &StepView<'_, Concrete>) {
        if let Some((ty, offset)) = self.pending.take() {
            if view.stack.last().is_some_and(|&top| is_nan(ty, top)) {
                self.first.get_or_insert(offset);
            }
        }
        if let Some(ty) = open_nan_result(view.instr) {
            if risky_operands(view.instr, view.stack) {
                self.pending = Some((ty, view.offset));
            }
        }
    }
}

impl Observer<Concrete> for NanWatch {
    fn before_step(&mut self, view: &StepView<'_, Concrete>) {
        self.step(view);
    }
}
