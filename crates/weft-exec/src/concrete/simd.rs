//! Concrete semantics of the SIMD (`v128`) operators.
//!
//! A vector is a `u128` whose lane 0 holds the lowest bits. Every operator is written as a
//! scalar loop over lanes through the few helpers below: `n` is always the lane count of the
//! shape (16, 8, 4 or 2), so a lane is `128 / n` bits wide.

use super::scalar::{fmax32, fmax64, fmin32, fmin64};
use super::{Bits, ConcreteMemory};
use crate::domain::Fault;
use weft_core::{BinaryOp, LoadOp, TernaryOp, UnaryOp};

/// Mask of one lane's bits, for a shape of `n` lanes.
#[inline(always)]
fn lane_mask(n: usize) -> u64 {
    u64::MAX >> (64 - 128 / n)
}

/// Lane `i` of `x` (shape of `n` lanes), zero-extended.
#[inline(always)]
fn lane(x: Bits, n: usize, i: usize) -> u64 {
    (x >> (i * (128 / n))) as u64 & lane_mask(n)
}

/// Lane `i` of `x` (shape of `n` lanes), sign-extended.
#[inline(always)]
fn slane(x: Bits, n: usize, i: usize) -> i64 {
    let s = 64 - 128 / n;
    ((lane(x, n, i) << s) as i64) >> s
}

/// Lane `i` of `x`, zero- or sign-extended.
#[inline(always)]
fn ext(x: Bits, n: usize, i: usize, signed: bool) -> i64 {
    if signed {
        slane(x, n, i)
    } else {
        lane(x, n, i) as i64
    }
}

/// A vector of `n` lanes, lane `i` being the low bits of `f(i)`.
#[inline(always)]
fn build(n: usize, mut f: impl FnMut(usize) -> u64) -> Bits {
    let w = 128 / n;
    (0..n).fold(0, |acc, i| {
        acc | (((f(i) & lane_mask(n)) as Bits) << (i * w))
    })
}

#[inline(always)]
fn splat(n: usize, x: u64) -> Bits {
    build(n, |_| x)
}

#[inline(always)]
fn map(n: usize, a: Bits, f: impl Fn(u64) -> u64) -> Bits {
    build(n, |i| f(lane(a, n, i)))
}

#[inline(always)]
fn smap(n: usize, a: Bits, f: impl Fn(i64) -> i64) -> Bits {
    build(n, |i| f(slane(a, n, i)) as u64)
}

#[inline(always)]
fn zip(n: usize, a: Bits, b: Bits, f: impl Fn(u64, u64) -> u64) -> Bits {
    build(n, |i| f(lane(a, n, i), lane(b, n, i)))
}

#[inline(always)]
fn szip(n: usize, a: Bits, b: Bits, f: impl Fn(i64, i64) -> i64) -> Bits {
    build(n, |i| f(slane(a, n, i), slane(b, n, i)) as u64)
}

/// All ones in lanes where `f` holds, zeros elsewhere.
#[inline(always)]
fn mask_of(b: bool) -> u64 {
    if b {
        u64::MAX
    } else {
        0
    }
}

#[inline(always)]
fn cmp(n: usize, a: Bits, b: Bits, f: impl Fn(u64, u64) -> bool) -> Bits {
    zip(n, a, b, |x, y| mask_of(f(x, y)))
}

#[inline(always)]
fn scmp(n: usize, a: Bits, b: Bits, f: impl Fn(i64, i64) -> bool) -> Bits {
    szip(n, a, b, |x, y| mask_of(f(x, y)) as i64)
}

/// Clamps `v` to the signed range of a lane of shape `n`.
#[inline(always)]
fn sat_s(n: usize, v: i64) -> i64 {
    let half = 1i64 << (128 / n - 1);
    v.clamp(-half, half - 1)
}

/// Clamps `v` to the unsigned range of a lane of shape `n`.
#[inline(always)]
fn sat_u(n: usize, v: i64) -> i64 {
    v.clamp(0, lane_mask(n) as i64)
}

/// Widens half of `a` (the high half if `high`) into the `n` lanes of the wider shape.
#[inline(always)]
fn extend(n: usize, a: Bits, high: bool, signed: bool) -> Bits {
    let base = if high { n } else { 0 };
    build(n, |i| ext(a, 2 * n, base + i, signed) as u64)
}

/// Widening multiply of the low or high halves of `a` and `b` into `n` lanes.
#[inline(always)]
fn extmul(n: usize, a: Bits, b: Bits, high: bool, signed: bool) -> Bits {
    let base = if high { n } else { 0 };
    build(n, |i| {
        let j = base + i;
        ext(a, 2 * n, j, signed).wrapping_mul(ext(b, 2 * n, j, signed)) as u64
    })
}

/// Sums adjacent pairs of lanes of `a` into `n` lanes twice as wide.
#[inline(always)]
fn extadd_pairwise(n: usize, a: Bits, signed: bool) -> Bits {
    build(n, |i| {
        (ext(a, 2 * n, 2 * i, signed) + ext(a, 2 * n, 2 * i + 1, signed)) as u64
    })
}

/// Narrows the signed lanes of `a` then `b` into `n` lanes half as wide, saturating.
#[inline(always)]
fn narrow(n: usize, a: Bits, b: Bits, signed: bool) -> Bits {
    let h = n / 2;
    build(n, |i| {
        let v = if i < h {
            slane(a, h, i)
        } else {
            slane(b, h, i - h)
        };
        (if signed { sat_s(n, v) } else { sat_u(n, v) }) as u64
    })
}

/// Shifts every lane by `count` modulo the lane width.
#[inline(always)]
fn shift(n: usize, a: Bits, count: Bits, f: impl Fn(i64, u64, u32) -> u64) -> Bits {
    let c = (count as u32) % (128 / n) as u32;
    build(n, |i| f(slane(a, n, i), lane(a, n, i), c))
}

#[inline(always)]
fn all_true(n: usize, a: Bits) -> Bits {
    (0..n).all(|i| lane(a, n, i) != 0) as Bits
}

#[inline(always)]
fn bitmask(n: usize, a: Bits) -> Bits {
    (0..n).fold(0, |acc, i| acc | (((slane(a, n, i) < 0) as Bits) << i))
}

/// A vector with lane `i` replaced by the low bits of `x`.
#[inline(always)]
fn replace(n: usize, a: Bits, i: u8, x: Bits) -> Bits {
    let i = i as usize;
    build(n, |j| if j == i { x as u64 } else { lane(a, n, j) })
}

/// A float lane type.
trait Float: Copy {
    /// Lanes in a vector.
    const N: usize;
    /// The quiet bit of a NaN.
    const QUIET: u64;
    fn is_nan(self) -> bool;
    fn from_lane(x: u64) -> Self;
    fn to_lane(self) -> u64;
}

impl Float for f32 {
    const N: usize = 4;
    const QUIET: u64 = 1 << 22;
    #[inline(always)]
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    #[inline(always)]
    fn from_lane(x: u64) -> Self {
        f32::from_bits(x as u32)
    }
    #[inline(always)]
    fn to_lane(self) -> u64 {
        self.to_bits() as u64
    }
}

impl Float for f64 {
    const N: usize = 2;
    const QUIET: u64 = 1 << 51;
    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    #[inline(always)]
    fn from_lane(x: u64) -> Self {
        f64::from_bits(x)
    }
    #[inline(always)]
    fn to_lane(self) -> u64 {
        self.to_bits()
    }
}

/// Float lane `i` of `x`.
#[inline(always)]
fn fl<F: Float>(x: Bits, i: usize) -> F {
    F::from_lane(lane(x, F::N, i))
}

/// Applies `f` to every float lane. A NaN result is made quiet (arithmetic): Rust's software
/// rounding functions hand a signalling NaN back unchanged.
#[inline(always)]
fn fmap<F: Float>(a: Bits, f: impl Fn(F) -> F) -> Bits {
    build(F::N, |i| {
        let r = f(fl(a, i));
        if r.is_nan() {
            r.to_lane() | F::QUIET
        } else {
            r.to_lane()
        }
    })
}

#[inline(always)]
fn fzip<F: Float>(a: Bits, b: Bits, f: impl Fn(F, F) -> F) -> Bits {
    build(F::N, |i| f(fl(a, i), fl(b, i)).to_lane())
}

#[inline(always)]
fn fcmp<F: Float>(a: Bits, b: Bits, f: impl Fn(F, F) -> bool) -> Bits {
    build(F::N, |i| mask_of(f(fl(a, i), fl(b, i))))
}

/// Lane of `b` where `pick_b` holds, else lane of `a`, bits untouched (pmin / pmax).
#[inline(always)]
fn fselect<F: Float>(a: Bits, b: Bits, pick_b: impl Fn(F, F) -> bool) -> Bits {
    let n = F::N;
    build(n, |i| {
        if pick_b(fl(a, i), fl(b, i)) {
            lane(b, n, i)
        } else {
            lane(a, n, i)
        }
    })
}

/// Applies a SIMD unary operator.
pub(crate) fn unary(op: UnaryOp, a: Bits) -> Bits {
    use UnaryOp::*;
    const F32_SIGN: u64 = 0x8000_0000;
    const F64_SIGN: u64 = 1 << 63;
    match op {
        I8x16Splat => splat(16, a as u64),
        I16x8Splat => splat(8, a as u64),
        I32x4Splat | F32x4Splat => splat(4, a as u64),
        I64x2Splat | F64x2Splat => splat(2, a as u64),
        V128Not => !a,
        V128AnyTrue => (a != 0) as Bits,
        I8x16Abs => smap(16, a, i64::wrapping_abs),
        I16x8Abs => smap(8, a, i64::wrapping_abs),
        I32x4Abs => smap(4, a, i64::wrapping_abs),
        I64x2Abs => smap(2, a, i64::wrapping_abs),
        I8x16Neg => smap(16, a, i64::wrapping_neg),
        I16x8Neg => smap(8, a, i64::wrapping_neg),
        I32x4Neg => smap(4, a, i64::wrapping_neg),
        I64x2Neg => smap(2, a, i64::wrapping_neg),
        I8x16Popcnt => map(16, a, |x| x.count_ones() as u64),
        I8x16AllTrue => all_true(16, a),
        I16x8AllTrue => all_true(8, a),
        I32x4AllTrue => all_true(4, a),
        I64x2AllTrue => all_true(2, a),
        I8x16Bitmask => bitmask(16, a),
        I16x8Bitmask => bitmask(8, a),
        I32x4Bitmask => bitmask(4, a),
        I64x2Bitmask => bitmask(2, a),
        I16x8ExtAddPairwiseI8x16S => extadd_pairwise(8, a, true),
        I16x8ExtAddPairwiseI8x16U => extadd_pairwise(8, a, false),
        I32x4ExtAddPairwiseI16x8S => extadd_pairwise(4, a, true),
        I32x4ExtAddPairwiseI16x8U => extadd_pairwise(4, a, false),
        I16x8ExtendLowI8x16S => extend(8, a, false, true),
        I16x8ExtendHighI8x16S => extend(8, a, true, true),
        I16x8ExtendLowI8x16U => extend(8, a, false, false),
        I16x8ExtendHighI8x16U => extend(8, a, true, false),
        I32x4ExtendLowI16x8S => extend(4, a, false, true),
        I32x4ExtendHighI16x8S => extend(4, a, true, true),
        I32x4ExtendLowI16x8U => extend(4, a, false, false),
        I32x4ExtendHighI16x8U => extend(4, a, true, false),
        I64x2ExtendLowI32x4S => extend(2, a, false, true),
        I64x2ExtendHighI32x4S => extend(2, a, true, true),
        I64x2ExtendLowI32x4U => extend(2, a, false, false),
        I64x2ExtendHighI32x4U => extend(2, a, true, false),
        F32x4Ceil => fmap(a, f32::ceil),
        F32x4Floor => fmap(a, f32::floor),
        F32x4Trunc => fmap(a, f32::trunc),
        F32x4Nearest => fmap(a, f32::round_ties_even),
        F32x4Sqrt => fmap(a, f32::sqrt),
        F32x4Abs => map(4, a, |x| x & !F32_SIGN),
        F32x4Neg => map(4, a, |x| x ^ F32_SIGN),
        F64x2Ceil => fmap(a, f64::ceil),
        F64x2Floor => fmap(a, f64::floor),
        F64x2Trunc => fmap(a, f64::trunc),
        F64x2Nearest => fmap(a, f64::round_ties_even),
        F64x2Sqrt => fmap(a, f64::sqrt),
        F64x2Abs => map(2, a, |x| x & !F64_SIGN),
        F64x2Neg => map(2, a, |x| x ^ F64_SIGN),
        // Rust's float-to-int `as` saturates and maps NaN to 0, exactly trunc_sat.
        I32x4TruncSatF32x4S => build(4, |i| fl::<f32>(a, i) as i32 as u64),
        I32x4TruncSatF32x4U => build(4, |i| fl::<f32>(a, i) as u32 as u64),
        I32x4TruncSatF64x2SZero => build(4, |i| {
            if i < 2 {
                fl::<f64>(a, i) as i32 as u64
            } else {
                0
            }
        }),
        I32x4TruncSatF64x2UZero => build(4, |i| {
            if i < 2 {
                fl::<f64>(a, i) as u32 as u64
            } else {
                0
            }
        }),
        F32x4ConvertI32x4S => build(4, |i| (slane(a, 4, i) as f32).to_lane()),
        F32x4ConvertI32x4U => build(4, |i| (lane(a, 4, i) as f32).to_lane()),
        F64x2ConvertLowI32x4S => build(2, |i| (slane(a, 4, i) as f64).to_lane()),
        F64x2ConvertLowI32x4U => build(2, |i| (lane(a, 4, i) as f64).to_lane()),
        F32x4DemoteF64x2Zero => build(4, |i| {
            if i < 2 {
                (fl::<f64>(a, i) as f32).to_lane()
            } else {
                0
            }
        }),
        F64x2PromoteLowF32x4 => build(2, |i| (fl::<f32>(a, i) as f64).to_lane()),
        I8x16ExtractLaneS(l) => slane(a, 16, l as usize) as u32 as Bits,
        I16x8ExtractLaneS(l) => slane(a, 8, l as usize) as u32 as Bits,
        I8x16ExtractLaneU(l) => lane(a, 16, l as usize) as Bits,
        I16x8ExtractLaneU(l) => lane(a, 8, l as usize) as Bits,
        I32x4ExtractLane(l) | F32x4ExtractLane(l) => lane(a, 4, l as usize) as Bits,
        I64x2ExtractLane(l) | F64x2ExtractLane(l) => lane(a, 2, l as usize) as Bits,
        _ => unreachable!("not a SIMD unary operator: {op:?}"),
    }
}

/// Applies a SIMD binary operator. No SIMD operator traps.
pub(crate) fn binary(op: BinaryOp, a: Bits, b: Bits) -> Result<Bits, Fault> {
    use BinaryOp::*;
    Ok(match op {
        I8x16Swizzle => build(16, |i| match lane(b, 16, i) {
            j @ 0..16 => lane(a, 16, j as usize),
            _ => 0,
        }),
        I8x16Eq => cmp(16, a, b, |x, y| x == y),
        I8x16Ne => cmp(16, a, b, |x, y| x != y),
        I8x16LtS => scmp(16, a, b, |x, y| x < y),
        I8x16LtU => cmp(16, a, b, |x, y| x < y),
        I8x16GtS => scmp(16, a, b, |x, y| x > y),
        I8x16GtU => cmp(16, a, b, |x, y| x > y),
        I8x16LeS => scmp(16, a, b, |x, y| x <= y),
        I8x16LeU => cmp(16, a, b, |x, y| x <= y),
        I8x16GeS => scmp(16, a, b, |x, y| x >= y),
        I8x16GeU => cmp(16, a, b, |x, y| x >= y),
        I16x8Eq => cmp(8, a, b, |x, y| x == y),
        I16x8Ne => cmp(8, a, b, |x, y| x != y),
        I16x8LtS => scmp(8, a, b, |x, y| x < y),
        I16x8LtU => cmp(8, a, b, |x, y| x < y),
        I16x8GtS => scmp(8, a, b, |x, y| x > y),
        I16x8GtU => cmp(8, a, b, |x, y| x > y),
        I16x8LeS => scmp(8, a, b, |x, y| x <= y),
        I16x8LeU => cmp(8, a, b, |x, y| x <= y),
        I16x8GeS => scmp(8, a, b, |x, y| x >= y),
        I16x8GeU => cmp(8, a, b, |x, y| x >= y),
        I32x4Eq => cmp(4, a, b, |x, y| x == y),
        I32x4Ne => cmp(4, a, b, |x, y| x != y),
        I32x4LtS => scmp(4, a, b, |x, y| x < y),
        I32x4LtU => cmp(4, a, b, |x, y| x < y),
        I32x4GtS => scmp(4, a, b, |x, y| x > y),
        I32x4GtU => cmp(4, a, b, |x, y| x > y),
        I32x4LeS => scmp(4, a, b, |x, y| x <= y),
        I32x4LeU => cmp(4, a, b, |x, y| x <= y),
        I32x4GeS => scmp(4, a, b, |x, y| x >= y),
        I32x4GeU => cmp(4, a, b, |x, y| x >= y),
        I64x2Eq => cmp(2, a, b, |x, y| x == y),
        I64x2Ne => cmp(2, a, b, |x, y| x != y),
        I64x2LtS => scmp(2, a, b, |x, y| x < y),
        I64x2GtS => scmp(2, a, b, |x, y| x > y),
        I64x2LeS => scmp(2, a, b, |x, y| x <= y),
        I64x2GeS => scmp(2, a, b, |x, y| x >= y),
        F32x4Eq => fcmp::<f32>(a, b, |x, y| x == y),
        F32x4Ne => fcmp::<f32>(a, b, |x, y| x != y),
        F32x4Lt => fcmp::<f32>(a, b, |x, y| x < y),
        F32x4Gt => fcmp::<f32>(a, b, |x, y| x > y),
        F32x4Le => fcmp::<f32>(a, b, |x, y| x <= y),
        F32x4Ge => fcmp::<f32>(a, b, |x, y| x >= y),
        F64x2Eq => fcmp::<f64>(a, b, |x, y| x == y),
        F64x2Ne => fcmp::<f64>(a, b, |x, y| x != y),
        F64x2Lt => fcmp::<f64>(a, b, |x, y| x < y),
        F64x2Gt => fcmp::<f64>(a, b, |x, y| x > y),
        F64x2Le => fcmp::<f64>(a, b, |x, y| x <= y),
        F64x2Ge => fcmp::<f64>(a, b, |x, y| x >= y),
        V128And => a & b,
        V128AndNot => a & !b,
        V128Or => a | b,
        V128Xor => a ^ b,
        I8x16NarrowI16x8S => narrow(16, a, b, true),
        I8x16NarrowI16x8U => narrow(16, a, b, false),
        I16x8NarrowI32x4S => narrow(8, a, b, true),
        I16x8NarrowI32x4U => narrow(8, a, b, false),
        I8x16Shl => shift(16, a, b, |_, x, c| x << c),
        I16x8Shl => shift(8, a, b, |_, x, c| x << c),
        I32x4Shl => shift(4, a, b, |_, x, c| x << c),
        I64x2Shl => shift(2, a, b, |_, x, c| x << c),
        I8x16ShrS => shift(16, a, b, |s, _, c| (s >> c) as u64),
        I16x8ShrS => shift(8, a, b, |s, _, c| (s >> c) as u64),
        I32x4ShrS => shift(4, a, b, |s, _, c| (s >> c) as u64),
        I64x2ShrS => shift(2, a, b, |s, _, c| (s >> c) as u64),
        I8x16ShrU => shift(16, a, b, |_, x, c| x >> c),
        I16x8ShrU => shift(8, a, b, |_, x, c| x >> c),
        I32x4ShrU => shift(4, a, b, |_, x, c| x >> c),
        I64x2ShrU => shift(2, a, b, |_, x, c| x >> c),
        I8x16Add => zip(16, a, b, u64::wrapping_add),
        I16x8Add => zip(8, a, b, u64::wrapping_add),
        I32x4Add => zip(4, a, b, u64::wrapping_add),
        I64x2Add => zip(2, a, b, u64::wrapping_add),
        I8x16Sub => zip(16, a, b, u64::wrapping_sub),
        I16x8Sub => zip(8, a, b, u64::wrapping_sub),
        I32x4Sub => zip(4, a, b, u64::wrapping_sub),
        I64x2Sub => zip(2, a, b, u64::wrapping_sub),
        I16x8Mul => zip(8, a, b, u64::wrapping_mul),
        I32x4Mul => zip(4, a, b, u64::wrapping_mul),
        I64x2Mul => zip(2, a, b, u64::wrapping_mul),
        I8x16AddSatS => szip(16, a, b, |x, y| sat_s(16, x + y)),
        I16x8AddSatS => szip(8, a, b, |x, y| sat_s(8, x + y)),
        I8x16AddSatU => zip(16, a, b, |x, y| sat_u(16, (x + y) as i64) as u64),
        I16x8AddSatU => zip(8, a, b, |x, y| sat_u(8, (x + y) as i64) as u64),
        I8x16SubSatS => szip(16, a, b, |x, y| sat_s(16, x - y)),
        I16x8SubSatS => szip(8, a, b, |x, y| sat_s(8, x - y)),
        I8x16SubSatU => zip(16, a, b, |x, y| sat_u(16, x as i64 - y as i64) as u64),
        I16x8SubSatU => zip(8, a, b, |x, y| sat_u(8, x as i64 - y as i64) as u64),
        I8x16MinS => szip(16, a, b, i64::min),
        I16x8MinS => szip(8, a, b, i64::min),
        I32x4MinS => szip(4, a, b, i64::min),
        I8x16MinU => zip(16, a, b, u64::min),
        I16x8MinU => zip(8, a, b, u64::min),
        I32x4MinU => zip(4, a, b, u64::min),
        I8x16MaxS => szip(16, a, b, i64::max),
        I16x8MaxS => szip(8, a, b, i64::max),
        I32x4MaxS => szip(4, a, b, i64::max),
        I8x16MaxU => zip(16, a, b, u64::max),
        I16x8MaxU => zip(8, a, b, u64::max),
        I32x4MaxU => zip(4, a, b, u64::max),
        I8x16AvgrU => zip(16, a, b, |x, y| (x + y + 1) >> 1),
        I16x8AvgrU => zip(8, a, b, |x, y| (x + y + 1) >> 1),
        I16x8Q15MulrSatS => szip(8, a, b, |x, y| sat_s(8, (x * y + 0x4000) >> 15)),
        I32x4DotI16x8S => build(4, |i| {
            let (j, k) = (2 * i, 2 * i + 1);
            (slane(a, 8, j) * slane(b, 8, j) + slane(a, 8, k) * slane(b, 8, k)) as u64
        }),
        I16x8ExtMulLowI8x16S => extmul(8, a, b, false, true),
        I16x8ExtMulHighI8x16S => extmul(8, a, b, true, true),
        I16x8ExtMulLowI8x16U => extmul(8, a, b, false, false),
        I16x8ExtMulHighI8x16U => extmul(8, a, b, true, false),
        I32x4ExtMulLowI16x8S => extmul(4, a, b, false, true),
        I32x4ExtMulHighI16x8S => extmul(4, a, b, true, true),
        I32x4ExtMulLowI16x8U => extmul(4, a, b, false, false),
        I32x4ExtMulHighI16x8U => extmul(4, a, b, true, false),
        I64x2ExtMulLowI32x4S => extmul(2, a, b, false, true),
        I64x2ExtMulHighI32x4S => extmul(2, a, b, true, true),
        I64x2ExtMulLowI32x4U => extmul(2, a, b, false, false),
        I64x2ExtMulHighI32x4U => extmul(2, a, b, true, false),
        F32x4Add => fzip::<f32>(a, b, |x, y| x + y),
        F32x4Sub => fzip::<f32>(a, b, |x, y| x - y),
        F32x4Mul => fzip::<f32>(a, b, |x, y| x * y),
        F32x4Div => fzip::<f32>(a, b, |x, y| x / y),
        F32x4Min => fzip(a, b, fmin32),
        F32x4Max => fzip(a, b, fmax32),
        F32x4PMin => fselect::<f32>(a, b, |x, y| y < x),
        F32x4PMax => fselect::<f32>(a, b, |x, y| x < y),
        F64x2Add => fzip::<f64>(a, b, |x, y| x + y),
        F64x2Sub => fzip::<f64>(a, b, |x, y| x - y),
        F64x2Mul => fzip::<f64>(a, b, |x, y| x * y),
        F64x2Div => fzip::<f64>(a, b, |x, y| x / y),
        F64x2Min => fzip(a, b, fmin64),
        F64x2Max => fzip(a, b, fmax64),
        F64x2PMin => fselect::<f64>(a, b, |x, y| y < x),
        F64x2PMax => fselect::<f64>(a, b, |x, y| x < y),
        I8x16ReplaceLane(l) => replace(16, a, l, b),
        I16x8ReplaceLane(l) => replace(8, a, l, b),
        I32x4ReplaceLane(l) | F32x4ReplaceLane(l) => replace(4, a, l, b),
        I64x2ReplaceLane(l) | F64x2ReplaceLane(l) => replace(2, a, l, b),
        _ => unreachable!("not a SIMD binary operator: {op:?}"),
    })
}

/// Applies a SIMD ternary operator.
pub(crate) fn ternary(op: TernaryOp, a: Bits, b: Bits, c: Bits) -> Bits {
    match op {
        TernaryOp::V128Bitselect => (a & c) | (b & !c),
    }
}

/// `i8x16.shuffle`.
pub(crate) fn shuffle(lanes: &[u8; 16], a: Bits, b: Bits) -> Bits {
    let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
    let mut out = [0u8; 16];
    for (o, &l) in out.iter_mut().zip(lanes) {
        *o = if l < 16 {
            a[l as usize]
        } else {
            b[(l - 16) as usize]
        };
    }
    Bits::from_le_bytes(out)
}

/// A SIMD load (bounds already checked).
pub(crate) fn load(op: LoadOp, mem: &ConcreteMemory, addr: u64) -> Bits {
    use LoadOp::*;
    let (a, w) = (addr as usize, op.width() as usize);
    let mut raw = [0u8; 16];
    raw[..w].copy_from_slice(&mem.data[a..a + w]);
    let x = Bits::from_le_bytes(raw);
    match op {
        V128Load | V128Load32Zero | V128Load64Zero => x,
        V128Load8x8S => extend(8, x, false, true),
        V128Load8x8U => extend(8, x, false, false),
        V128Load16x4S => extend(4, x, false, true),
        V128Load16x4U => extend(4, x, false, false),
        V128Load32x2S => extend(2, x, false, true),
        V128Load32x2U => extend(2, x, false, false),
        V128Load8Splat => splat(16, x as u64),
        V128Load16Splat => splat(8, x as u64),
        V128Load32Splat => splat(4, x as u64),
        V128Load64Splat => splat(2, x as u64),
        _ => unreachable!("not a SIMD load: {op:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i8s(l: [i8; 16]) -> Bits {
        build(16, |i| l[i] as u8 as u64)
    }
    fn i16s(l: [i16; 8]) -> Bits {
        build(8, |i| l[i] as u16 as u64)
    }
    fn i32s(l: [i32; 4]) -> Bits {
        build(4, |i| l[i] as u32 as u64)
    }
    fn f32s(l: [f32; 4]) -> Bits {
        build(4, |i| l[i].to_lane())
    }
    fn f64s(l: [f64; 2]) -> Bits {
        build(2, |i| l[i].to_lane())
    }
    fn bin(op: BinaryOp, a: Bits, b: Bits) -> Bits {
        binary(op, a, b).unwrap()
    }

    #[test]
    fn lanes_are_little_endian() {
        let v = i32s([1, 2, 3, -4]);
        assert_eq!(v, 0xffff_fffc_0000_0003_0000_0002_0000_0001);
        assert_eq!(unary(UnaryOp::I32x4ExtractLane(3), v), 0xffff_fffc);
        assert_eq!(unary(UnaryOp::I8x16ExtractLaneS(12), v), 0xffff_fffc);
        assert_eq!(unary(UnaryOp::I8x16ExtractLaneU(12), v), 0xfc);
        assert_eq!(unary(UnaryOp::I16x8ExtractLaneS(7), v), 0xffff_ffff);
        assert_eq!(
            bin(BinaryOp::I32x4ReplaceLane(1), v, 9),
            i32s([1, 9, 3, -4])
        );
        assert_eq!(
            unary(UnaryOp::I64x2Splat, 0x1_0000_0002),
            i32s([2, 1, 2, 1])
        );
    }

    #[test]
    fn saturating_and_narrowing() {
        let a = i8s([127, -128, 100, -100, 0, 1, -1, 50, 0, 0, 0, 0, 0, 0, 0, 0]);
        let b = i8s([1, -1, 100, -100, 0, 1, -1, 50, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            bin(BinaryOp::I8x16AddSatS, a, b),
            i8s([127, -128, 127, -128, 0, 2, -2, 100, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        // Unsigned: 0x80 + 0xff saturates to 0xff; 0x9c - 0x9c is 0.
        assert_eq!(lane(bin(BinaryOp::I8x16AddSatU, a, b), 16, 1), 0xff);
        assert_eq!(lane(bin(BinaryOp::I8x16SubSatU, b, a), 16, 0), 0);
        let w = i16s([300, -300, 127, -128, 255, 256, -1, 0]);
        assert_eq!(
            bin(BinaryOp::I8x16NarrowI16x8S, w, w),
            i8s([127, -128, 127, -128, 127, 127, -1, 0, 127, -128, 127, -128, 127, 127, -1, 0])
        );
        assert_eq!(
            bin(BinaryOp::I8x16NarrowI16x8U, w, 0),
            i8s([-1, 0, 127, 0, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        let q = i16s([i16::MIN, i16::MIN, 0x4000, -0x4000, 1, 0, 0, 0]);
        assert_eq!(
            bin(
                BinaryOp::I16x8Q15MulrSatS,
                q,
                i16s([i16::MIN, i16::MAX, 0x4000, 0x4000, 1, 0, 0, 0])
            ),
            i16s([i16::MAX, -32767, 0x2000, -0x2000, 0, 0, 0, 0])
        );
    }

    #[test]
    fn shifts_wrap_count() {
        let v = i8s([-128, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(bin(BinaryOp::I8x16Shl, v, 9), bin(BinaryOp::I8x16Shl, v, 1));
        assert_eq!(lane(bin(BinaryOp::I8x16ShrS, v, 7), 16, 0), 0xff);
        assert_eq!(lane(bin(BinaryOp::I8x16ShrU, v, 15), 16, 0), 1);
        assert_eq!(
            bin(BinaryOp::I64x2ShrS, 1u128 << 127, 64 + 63),
            !0u128 << 64
        );
    }

    #[test]
    fn widening() {
        let v = i16s([-1, 2, -3, 4, i16::MIN, i16::MIN, 7, 8]);
        assert_eq!(
            unary(UnaryOp::I32x4ExtendHighI16x8S, v),
            i32s([-32768, -32768, 7, 8])
        );
        assert_eq!(
            unary(UnaryOp::I32x4ExtendLowI16x8U, v),
            i32s([0xffff, 2, 0xfffd, 4])
        );
        assert_eq!(
            unary(UnaryOp::I32x4ExtAddPairwiseI16x8S, v),
            i32s([1, 1, -65536, 15])
        );
        assert_eq!(
            bin(BinaryOp::I32x4DotI16x8S, v, v),
            i32s([5, 25, i32::MIN, 113])
        );
        assert_eq!(
            bin(BinaryOp::I32x4ExtMulLowI16x8U, v, v),
            i32s([-131071, 4, (0xfffdu32 * 0xfffd) as i32, 16])
        );
        assert_eq!(
            bin(BinaryOp::I64x2ExtMulLowI32x4U, !0, !0),
            build(2, |_| 0xffff_fffe_0000_0001)
        );
    }

    #[test]
    fn masks_and_tests() {
        let v = i32s([-1, 0, 5, i32::MIN]);
        assert_eq!(unary(UnaryOp::I32x4Bitmask, v), 0b1001);
        assert_eq!(unary(UnaryOp::I32x4AllTrue, v), 0);
        assert_eq!(unary(UnaryOp::I8x16AllTrue, !0), 1);
        assert_eq!(unary(UnaryOp::V128AnyTrue, 1 << 100), 1);
        assert_eq!(unary(UnaryOp::I8x16Popcnt, i8s([-1; 16])), i8s([8; 16]));
        assert_eq!(unary(UnaryOp::I32x4Abs, v), i32s([1, 0, 5, i32::MIN]));
        let idx = i8s([15, 16, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let sw = bin(BinaryOp::I8x16Swizzle, idx, idx);
        assert_eq!(lane(sw, 16, 0), 12);
        assert_eq!(lane(sw, 16, 1), 0);
        assert_eq!(lane(sw, 16, 2), 0);
        assert_eq!(
            ternary(TernaryOp::V128Bitselect, 0xf0, 0x0f, 0x3c),
            0x3 << 4 | 0x3
        );
    }

    #[test]
    fn float_lanes() {
        let nan = f32::from_bits(0x7fa0_0000); // signalling-ish payload
        let v = f32s([-0.0, 0.0, nan, 2.5]);
        let w = f32s([0.0, -0.0, 1.0, -2.5]);
        let min = bin(BinaryOp::F32x4Min, v, w);
        assert_eq!(lane(min, 4, 0), 0x8000_0000);
        assert_eq!(lane(min, 4, 1), 0x8000_0000);
        assert!(f32::from_bits(lane(min, 4, 2) as u32).is_nan());
        // pmin/pmax return an operand's bits unchanged.
        let pmin = bin(BinaryOp::F32x4PMin, v, w);
        assert_eq!(pmin, f32s([-0.0, 0.0, nan, -2.5]));
        assert_eq!(bin(BinaryOp::F32x4PMax, w, v), f32s([0.0, -0.0, 1.0, 2.5]));
        assert_eq!(unary(UnaryOp::F32x4Neg, v), f32s([0.0, -0.0, -nan, -2.5]));
        assert_eq!(
            unary(UnaryOp::F32x4Nearest, f32s([2.5, 3.5, -0.5, -1.5])),
            f32s([2.0, 4.0, -0.0, -2.0])
        );
        assert_eq!(bin(BinaryOp::F32x4Lt, v, w), i32s([0, 0, 0, 0]));
        assert_eq!(bin(BinaryOp::F32x4Ne, v, v), i32s([0, 0, -1, 0]));
    }

    #[test]
    fn rounding_quiets_nans() {
        let snan = f32s([
            f32::from_bits(0x7fa0_0000),
            f32::from_bits(0xffa0_0000),
            1.5,
            -1.5,
        ]);
        for op in [
            UnaryOp::F32x4Ceil,
            UnaryOp::F32x4Floor,
            UnaryOp::F32x4Trunc,
            UnaryOp::F32x4Nearest,
        ] {
            let r = unary(op, snan);
            assert_eq!(lane(r, 4, 0), 0x7fe0_0000, "{op:?}");
            assert_eq!(lane(r, 4, 1), 0xffe0_0000, "{op:?}");
        }
        let r = unary(
            UnaryOp::F64x2Floor,
            f64s([f64::from_bits(0x7ff4_0000_0000_0000), -0.5]),
        );
        assert_eq!(r, f64s([f64::from_bits(0x7ffc_0000_0000_0000), -1.0]));
    }

    #[test]
    fn float_conversions() {
        let v = f32s([f32::NAN, -1e10, 1e10, -0.9]);
        assert_eq!(
            unary(UnaryOp::I32x4TruncSatF32x4S, v),
            i32s([0, i32::MIN, i32::MAX, 0])
        );
        assert_eq!(unary(UnaryOp::I32x4TruncSatF32x4U, v), i32s([0, 0, -1, 0]));
        let d = f64s([-1e300, 4294967295.5]);
        assert_eq!(
            unary(UnaryOp::I32x4TruncSatF64x2UZero, d),
            i32s([0, -1, 0, 0])
        );
        assert_eq!(
            unary(UnaryOp::I32x4TruncSatF64x2SZero, d),
            i32s([i32::MIN, i32::MAX, 0, 0])
        );
        assert_eq!(
            unary(UnaryOp::F32x4ConvertI32x4U, i32s([-1, 0, 0, 0])),
            f32s([4294967296.0, 0.0, 0.0, 0.0])
        );
        assert_eq!(
            unary(UnaryOp::F64x2ConvertLowI32x4S, i32s([-1, 7, 9, 9])),
            f64s([-1.0, 7.0])
        );
        assert_eq!(
            unary(UnaryOp::F64x2ConvertLowI32x4U, i32s([-1, 7, 9, 9])),
            f64s([4294967295.0, 7.0])
        );
        assert_eq!(
            unary(UnaryOp::F32x4DemoteF64x2Zero, f64s([1.5, 1e300])),
            f32s([1.5, f32::INFINITY, 0.0, 0.0])
        );
        assert_eq!(
            unary(UnaryOp::F64x2PromoteLowF32x4, f32s([1.5, -0.0, 9.0, 9.0])),
            f64s([1.5, -0.0])
        );
    }

    #[test]
    fn loads() {
        let mem = ConcreteMemory {
            data: (0u8..32).map(|b| b.wrapping_mul(37)).collect(),
        };
        let bytes = |a: usize, n: usize| mem.data[a..a + n].to_vec();
        assert_eq!(
            load(LoadOp::V128Load, &mem, 3).to_le_bytes().to_vec(),
            bytes(3, 16)
        );
        let z = load(LoadOp::V128Load32Zero, &mem, 1);
        assert_eq!(
            z,
            u32::from_le_bytes(bytes(1, 4).try_into().unwrap()) as Bits
        );
        let s = load(LoadOp::V128Load16Splat, &mem, 5);
        assert_eq!(
            s,
            splat(
                8,
                u16::from_le_bytes(bytes(5, 2).try_into().unwrap()) as u64
            )
        );
        let e = load(LoadOp::V128Load8x8S, &mem, 4);
        for i in 0..8 {
            assert_eq!(slane(e, 8, i), mem.data[4 + i] as i8 as i64);
        }
        let e = load(LoadOp::V128Load32x2U, &mem, 8);
        assert_eq!(
            lane(e, 2, 1),
            u32::from_le_bytes(bytes(12, 4).try_into().unwrap()) as u64
        );
    }
}
