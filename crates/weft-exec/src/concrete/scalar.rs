//! Concrete semantics of the scalar (non-SIMD) numeric operators.

use super::{simd, Bits};
use crate::domain::Fault;
use weft_core::{BinaryOp, TrapCode, UnaryOp};

#[inline(always)]
fn i32v(x: Bits) -> i32 {
    x as u32 as i32
}
#[inline(always)]
fn u32v(x: Bits) -> u32 {
    x as u32
}
#[inline(always)]
fn i64v(x: Bits) -> i64 {
    x as u64 as i64
}
#[inline(always)]
fn u64v(x: Bits) -> u64 {
    x as u64
}
#[inline(always)]
fn f32v(x: Bits) -> f32 {
    f32::from_bits(x as u32)
}
#[inline(always)]
fn f64v(x: Bits) -> f64 {
    f64::from_bits(x as u64)
}
#[inline(always)]
fn b32(x: u32) -> Bits {
    x as Bits
}
#[inline(always)]
fn bi32(x: i32) -> Bits {
    x as u32 as Bits
}
#[inline(always)]
fn b64(x: u64) -> Bits {
    x as Bits
}
#[inline(always)]
fn bi64(x: i64) -> Bits {
    x as u64 as Bits
}
#[inline(always)]
fn bf32(x: f32) -> Bits {
    x.to_bits() as Bits
}
#[inline(always)]
fn bf64(x: f64) -> Bits {
    x.to_bits() as Bits
}
#[inline(always)]
fn bool(b: bool) -> Bits {
    b as Bits
}

/// Rounding returns a signalling NaN unchanged; WebAssembly requires an arithmetic (quiet) NaN.
#[inline(always)]
fn quiet32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | 1 << 22)
    } else {
        x
    }
}
#[inline(always)]
fn quiet64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | 1 << 51)
    } else {
        x
    }
}

/// IEEE minimum as WebAssembly defines it: NaN if either is NaN, -0 below +0.
pub(crate) fn fmin32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a == b {
        f32::from_bits(a.to_bits() | b.to_bits())
    } else {
        a.min(b)
    }
}
pub(crate) fn fmax32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a == b {
        f32::from_bits(a.to_bits() & b.to_bits())
    } else {
        a.max(b)
    }
}
pub(crate) fn fmin64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        f64::from_bits(a.to_bits() | b.to_bits())
    } else {
        a.min(b)
    }
}
pub(crate) fn fmax64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == b {
        f64::from_bits(a.to_bits() & b.to_bits())
    } else {
        a.max(b)
    }
}

/// Truncates `x` towards zero if the result lies in `[lo, hi)`; traps otherwise.
#[inline]
fn trunc_checked(x: f64, lo: f64, hi: f64) -> Result<f64, Fault> {
    if x.is_nan() {
        return Err(TrapCode::BadConversionToInteger.into());
    }
    let t = x.trunc();
    if t < lo || t >= hi {
        return Err(TrapCode::IntegerOverflow.into());
    }
    Ok(t)
}

const P31: f64 = 2147483648.0;
const P32: f64 = 4294967296.0;
const P63: f64 = 9223372036854775808.0;
const P64: f64 = 18446744073709551616.0;

/// Applies a unary operator.
#[inline(always)]
pub(crate) fn unary(op: UnaryOp, a: Bits) -> Result<Bits, Fault> {
    use UnaryOp::*;
    Ok(match op {
        I32Eqz => bool(u32v(a) == 0),
        I64Eqz => bool(u64v(a) == 0),
        I32Clz => b32(u32v(a).leading_zeros()),
        I32Ctz => b32(u32v(a).trailing_zeros()),
        I32Popcnt => b32(u32v(a).count_ones()),
        I64Clz => b64(u64v(a).leading_zeros() as u64),
        I64Ctz => b64(u64v(a).trailing_zeros() as u64),
        I64Popcnt => b64(u64v(a).count_ones() as u64),
        F32Abs => b32(u32v(a) & 0x7fff_ffff),
        F32Neg => b32(u32v(a) ^ 0x8000_0000),
        F32Ceil => bf32(quiet32(f32v(a).ceil())),
        F32Floor => bf32(quiet32(f32v(a).floor())),
        F32Trunc => bf32(quiet32(f32v(a).trunc())),
        F32Nearest => bf32(quiet32(f32v(a).round_ties_even())),
        F32Sqrt => bf32(f32v(a).sqrt()),
        F64Abs => b64(u64v(a) & 0x7fff_ffff_ffff_ffff),
        F64Neg => b64(u64v(a) ^ 0x8000_0000_0000_0000),
        F64Ceil => bf64(quiet64(f64v(a).ceil())),
        F64Floor => bf64(quiet64(f64v(a).floor())),
        F64Trunc => bf64(quiet64(f64v(a).trunc())),
        F64Nearest => bf64(quiet64(f64v(a).round_ties_even())),
        F64Sqrt => bf64(f64v(a).sqrt()),
        I32WrapI64 => b32(u64v(a) as u32),
        I32TruncF32S => bi32(trunc_checked(f32v(a) as f64, -P31, P31)? as i32),
        I32TruncF32U => b32(trunc_checked(f32v(a) as f64, -0.0, P32).map(neg_zero)? as u32),
        I32TruncF64S => bi32(trunc_checked(f64v(a), -P31, P31)? as i32),
        I32TruncF64U => b32(trunc_checked(f64v(a), -0.0, P32).map(neg_zero)? as u32),
        I64ExtendI32S => bi64(i32v(a) as i64),
        I64ExtendI32U => b64(u32v(a) as u64),
        I64TruncF32S => bi64(trunc_checked(f32v(a) as f64, -P63, P63)? as i64),
        I64TruncF32U => b64(trunc_checked(f32v(a) as f64, -0.0, P64).map(neg_zero)? as u64),
        I64TruncF64S => bi64(trunc_checked(f64v(a), -P63, P63)? as i64),
        I64TruncF64U => b64(trunc_checked(f64v(a), -0.0, P64).map(neg_zero)? as u64),
        F32ConvertI32S => bf32(i32v(a) as f32),
        F32ConvertI32U => bf32(u32v(a) as f32),
        F32ConvertI64S => bf32(i64v(a) as f32),
        F32ConvertI64U => bf32(u64v(a) as f32),
        F32DemoteF64 => bf32(f64v(a) as f32),
        F64ConvertI32S => bf64(i32v(a) as f64),
        F64ConvertI32U => bf64(u32v(a) as f64),
        F64ConvertI64S => bf64(i64v(a) as f64),
        F64ConvertI64U => bf64(u64v(a) as f64),
        F64PromoteF32 => bf64(f32v(a) as f64),
        I32ReinterpretF32 | F32ReinterpretI32 => b32(u32v(a)),
        I64ReinterpretF64 | F64ReinterpretI64 => b64(u64v(a)),
        I32Extend8S => bi32(a as u8 as i8 as i32),
        I32Extend16S => bi32(a as u16 as i16 as i32),
        I64Extend8S => bi64(a as u8 as i8 as i64),
        I64Extend16S => bi64(a as u16 as i16 as i64),
        I64Extend32S => bi64(a as u32 as i32 as i64),
        I32TruncSatF32S => bi32(f32v(a) as i32),
        I32TruncSatF32U => b32(f32v(a) as u32),
        I32TruncSatF64S => bi32(f64v(a) as i32),
        I32TruncSatF64U => b32(f64v(a) as u32),
        I64TruncSatF32S => bi64(f32v(a) as i64),
        I64TruncSatF32U => b64(f32v(a) as u64),
        I64TruncSatF64S => bi64(f64v(a) as i64),
        I64TruncSatF64U => b64(f64v(a) as u64),
        #[allow(unreachable_patterns)]
        simd_op => simd::unary(simd_op, a),
    })
}

/// Values in (-1, 0] truncate to -0.0, which converts to 0 unsigned.
#[inline(always)]
fn neg_zero(t: f64) -> f64 {
    t + 0.0
}

/// Applies a binary operator.
#[inline(always)]
pub(crate) fn binary(op: BinaryOp, a: Bits, b: Bits) -> Result<Bits, Fault> {
    use BinaryOp::*;
    Ok(match op {
        I32Eq => bool(u32v(a) == u32v(b)),
        I32Ne => bool(u32v(a) != u32v(b)),
        I32LtS => bool(i32v(a) < i32v(b)),
        I32LtU => bool(u32v(a) < u32v(b)),
        I32GtS => bool(i32v(a) > i32v(b)),
        I32GtU => bool(u32v(a) > u32v(b)),
        I32LeS => bool(i32v(a) <= i32v(b)),
        I32LeU => bool(u32v(a) <= u32v(b)),
        I32GeS => bool(i32v(a) >= i32v(b)),
        I32GeU => bool(u32v(a) >= u32v(b)),
        I64Eq => bool(u64v(a) == u64v(b)),
        I64Ne => bool(u64v(a) != u64v(b)),
        I64LtS => bool(i64v(a) < i64v(b)),
        I64LtU => bool(u64v(a) < u64v(b)),
        I64GtS => bool(i64v(a) > i64v(b)),
        I64GtU => bool(u64v(a) > u64v(b)),
        I64LeS => bool(i64v(a) <= i64v(b)),
        I64LeU => bool(u64v(a) <= u64v(b)),
        I64GeS => bool(i64v(a) >= i64v(b)),
        I64GeU => bool(u64v(a) >= u64v(b)),
        F32Eq => bool(f32v(a) == f32v(b)),
        F32Ne => bool(f32v(a) != f32v(b)),
        F32Lt => bool(f32v(a) < f32v(b)),
        F32Gt => bool(f32v(a) > f32v(b)),
        F32Le => bool(f32v(a) <= f32v(b)),
        F32Ge => bool(f32v(a) >= f32v(b)),
        F64Eq => bool(f64v(a) == f64v(b)),
        F64Ne => bool(f64v(a) != f64v(b)),
        F64Lt => bool(f64v(a) < f64v(b)),
        F64Gt => bool(f64v(a) > f64v(b)),
        F64Le => bool(f64v(a) <= f64v(b)),
        F64Ge => bool(f64v(a) >= f64v(b)),
        I32Add => b32(u32v(a).wrapping_add(u32v(b))),
        I32Sub => b32(u32v(a).wrapping_sub(u32v(b))),
        I32Mul => b32(u32v(a).wrapping_mul(u32v(b))),
        I32DivS => {
            let (x, y) = (i32v(a), i32v(b));
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            if x == i32::MIN && y == -1 {
                return Err(TrapCode::IntegerOverflow.into());
            }
            bi32(x / y)
        }
        I32DivU => {
            let y = u32v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            b32(u32v(a) / y)
        }
        I32RemS => {
            let y = i32v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            bi32(i32v(a).wrapping_rem(y))
        }
        I32RemU => {
            let y = u32v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            b32(u32v(a) % y)
        }
        I32And => b32(u32v(a) & u32v(b)),
        I32Or => b32(u32v(a) | u32v(b)),
        I32Xor => b32(u32v(a) ^ u32v(b)),
        I32Shl => b32(u32v(a).wrapping_shl(u32v(b))),
        I32ShrS => bi32(i32v(a).wrapping_shr(u32v(b))),
        I32ShrU => b32(u32v(a).wrapping_shr(u32v(b))),
        I32Rotl => b32(u32v(a).rotate_left(u32v(b) % 32)),
        I32Rotr => b32(u32v(a).rotate_right(u32v(b) % 32)),
        I64Add => b64(u64v(a).wrapping_add(u64v(b))),
        I64Sub => b64(u64v(a).wrapping_sub(u64v(b))),
        I64Mul => b64(u64v(a).wrapping_mul(u64v(b))),
        I64DivS => {
            let (x, y) = (i64v(a), i64v(b));
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            if x == i64::MIN && y == -1 {
                return Err(TrapCode::IntegerOverflow.into());
            }
            bi64(x / y)
        }
        I64DivU => {
            let y = u64v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            b64(u64v(a) / y)
        }
        I64RemS => {
            let y = i64v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            bi64(i64v(a).wrapping_rem(y))
        }
        I64RemU => {
            let y = u64v(b);
            if y == 0 {
                return Err(TrapCode::IntegerDivideByZero.into());
            }
            b64(u64v(a) % y)
        }
        I64And => b64(u64v(a) & u64v(b)),
        I64Or => b64(u64v(a) | u64v(b)),
        I64Xor => b64(u64v(a) ^ u64v(b)),
        I64Shl => b64(u64v(a).wrapping_shl(u64v(b) as u32)),
        I64ShrS => bi64(i64v(a).wrapping_shr(u64v(b) as u32)),
        I64ShrU => b64(u64v(a).wrapping_shr(u64v(b) as u32)),
        I64Rotl => b64(u64v(a).rotate_left((u64v(b) % 64) as u32)),
        I64Rotr => b64(u64v(a).rotate_right((u64v(b) % 64) as u32)),
        F32Add => bf32(f32v(a) + f32v(b)),
        F32Sub => bf32(f32v(a) - f32v(b)),
        F32Mul => bf32(f32v(a) * f32v(b)),
        F32Div => bf32(f32v(a) / f32v(b)),
        F32Min => bf32(fmin32(f32v(a), f32v(b))),
        F32Max => bf32(fmax32(f32v(a), f32v(b))),
        F32Copysign => b32((u32v(a) & 0x7fff_ffff) | (u32v(b) & 0x8000_0000)),
        F64Add => bf64(f64v(a) + f64v(b)),
        F64Sub => bf64(f64v(a) - f64v(b)),
        F64Mul => bf64(f64v(a) * f64v(b)),
        F64Div => bf64(f64v(a) / f64v(b)),
        F64Min => bf64(fmin64(f64v(a), f64v(b))),
        F64Max => bf64(fmax64(f64v(a), f64v(b))),
        F64Copysign => b64((u64v(a) & 0x7fff_ffff_ffff_ffff) | (u64v(b) & 0x8000_0000_0000_0000)),
        #[allow(unreachable_patterns)]
        simd_op => simd::binary(simd_op, a, b)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_traps() {
        assert_eq!(
            binary(BinaryOp::I32DivS, bi32(i32::MIN), bi32(-1)),
            Err(Fault::Trap(TrapCode::IntegerOverflow))
        );
        assert_eq!(binary(BinaryOp::I32RemS, bi32(i32::MIN), bi32(-1)), Ok(0));
        assert_eq!(
            binary(BinaryOp::I64DivU, 1, 0),
            Err(Fault::Trap(TrapCode::IntegerDivideByZero))
        );
    }

    #[test]
    fn min_max_zero_signs() {
        let neg = bf32(-0.0);
        let pos = bf32(0.0);
        assert_eq!(binary(BinaryOp::F32Min, pos, neg), Ok(neg));
        assert_eq!(binary(BinaryOp::F32Max, neg, pos), Ok(pos));
    }

    #[test]
    fn truncation_ranges() {
        assert_eq!(unary(UnaryOp::I32TruncF32U, bf32(-0.9)), Ok(0));
        assert_eq!(
            unary(UnaryOp::I32TruncF32U, bf32(-1.0)),
            Err(Fault::Trap(TrapCode::IntegerOverflow))
        );
        assert_eq!(
            unary(UnaryOp::I32TruncF64S, bf64(f64::NAN)),
            Err(Fault::Trap(TrapCode::BadConversionToInteger))
        );
        assert_eq!(
            unary(UnaryOp::I32TruncF64S, bf64(-2147483648.9)),
            Ok(bi32(i32::MIN))
        );
    }
}
