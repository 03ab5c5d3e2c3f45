//! Superinstructions: a binary operator fused with the instructions that feed it and the one
//! that consumes its result, so common stack code (`local.get a; i32.const 1; i32.add;
//! local.set a`) is one dispatch.
//!
//! [`for_each_fused!`](crate::for_each_fused) lists the fusable operators once; the fused
//! shapes, the peephole in lowering and the interpreter's dispatch are generated from it.
//! Operand shapes (`L` a local, `I` an immediate, `S` the value(s) already on the stack):
//! - `LL(a, b)`: `local[a] op local[b]`
//! - `LI(a, c)`: `local[a] op c`
//! - `SI(c)`: `pop op c`
//! - `SL(b)`: `pop op local[b]`
//! - `SS`: `pop op pop` (only with a destination, the plain form is the operator itself)
//!
//! Each shape is pushed (no suffix), stored to a local (`Set(.., d)`: a following
//! `local.set d`), stored and pushed (`Tee(.., d)`: a following `local.tee d`) or tested by a following `br_if` (`Br(.., t)`: branch to `br_tables[t]`
//! when the result is non-zero). Immediates of the `Set`/`Br` shapes are 32-bit: a 64-bit
//! constant that does not fit is not fused.
//!
//! Fusion happens only in fast mode and never across a branch target, so results, traps and
//! fuel per block are unchanged.

/// Invokes `$cb! { { extra } (Op ConstInstr ValVariant,)* }` with the fusable operators.
#[macro_export]
macro_rules! for_each_fused {
    ($cb:ident { $($extra:tt)* }) => {
        $cb! {
            { $($extra)* }
            I32Add I32Const I32, I32Sub I32Const I32, I32Mul I32Const I32,
            I32And I32Const I32, I32Or I32Const I32, I32Xor I32Const I32,
            I32Shl I32Const I32, I32ShrS I32Const I32, I32ShrU I32Const I32,
            I32Rotl I32Const I32, I32Eq I32Const I32, I32Ne I32Const I32,
            I32LtS I32Const I32, I32LtU I32Const I32, I32GtS I32Const I32,
            I32GtU I32Const I32, I32LeS I32Const I32, I32LeU I32Const I32,
            I32GeS I32Const I32, I32GeU I32Const I32,
            I64Add I64Const I64, I64Sub I64Const I64, I64Mul I64Const I64,
            I64And I64Const I64, I64Or I64Const I64, I64Xor I64Const I64,
            I64Shl I64Const I64, I64ShrS I64Const I64, I64ShrU I64Const I64,
            I64Rotl I64Const I64, I64Eq I64Const I64, I64Ne I64Const I64,
            I64LtS I64Const I64, I64LtU I64Const I64, I64GtS I64Const I64,
            I64GtU I64Const I64, I64LeU I64Const I64, I64GeU I64Const I64,
            F64Add F64Const F64, F64Sub F64Const F64, F64Mul F64Const F64,
            F32Add F32Const F32, F32Mul F32Const F32,
        }
    };
}

macro_rules! define_fuse {
    ({} $($op:ident $c:ident $vt:ident,)*) => { pastey::paste! {
        /// A fused binary instruction (see the module docs for the shapes).
        #[derive(Copy, Clone, Debug, PartialEq)]
        #[allow(missing_docs)]
        pub enum Fused {
            $(
                [<$op LL>](u32, u32), [<$op LI>](u32, i64), [<$op SI>](i64), [<$op SL>](u32),
                [<$op LLSet>](u32, u32, u32), [<$op LISet>](u32, i32, u32),
                [<$op SISet>](i32, u32), [<$op SLSet>](u32, u32), [<$op SSSet>](u32),
                [<$op LLTee>](u32, u32, u32), [<$op LITee>](u32, i32, u32),
                [<$op SITee>](i32, u32), [<$op SLTee>](u32, u32), [<$op SSTee>](u32),
                [<$op LLBr>](u32, u32, u32), [<$op LIBr>](u32, i32, u32),
                [<$op SIBr>](i32, u32), [<$op SLBr>](u32, u32), [<$op SSBr>](u32),
            )*
        }

        /// Tries to fuse binary operator `op` with the instructions before it (`prev2`,
        /// `prev`). Returns how many of them the fused instruction replaces.
        pub(crate) fn fuse_binary(
            op: &Instr,
            prev2: Option<&Instr>,
            prev: Option<&Instr>,
        ) -> Option<(usize, Fused)> {
            match op {
                $(Instr::$op => match (prev2, prev) {
                    (Some(Instr::LocalGet(a)), Some(Instr::LocalGet(b))) => {
                        Some((2, Fused::[<$op LL>](*a, *b)))
                    }
                    (Some(Instr::LocalGet(a)), Some(Instr::$c(c))) => {
                        Some((2, Fused::[<$op LI>](*a, *c as i64)))
                    }
                    (_, Some(Instr::$c(c))) => Some((1, Fused::[<$op SI>](*c as i64))),
                    (_, Some(Instr::LocalGet(b))) => Some((1, Fused::[<$op SL>](*b))),
                    _ => None,
                },)*
                _ => None,
            }
        }

        /// Fuses a `local.set d` (or `local.tee d` when `tee`) into the instruction before it
        /// (`prev`), if it is a fusable operator or a fused shape.
        pub(crate) fn fuse_set(prev: &Instr, d: u32, tee: bool) -> Option<Fused> {
            let imm = |c: i64| i32::try_from(c).ok();
            Some(match (*prev, tee) {
                $(
                    (Instr::$op, false) => Fused::[<$op SSSet>](d),
                    (Instr::Fused(Fused::[<$op LL>](a, b)), false) => Fused::[<$op LLSet>](a, b, d),
                    (Instr::Fused(Fused::[<$op LI>](a, c)), false) => {
                        Fused::[<$op LISet>](a, imm(c)?, d)
                    }
                    (Instr::Fused(Fused::[<$op SI>](c)), false) => Fused::[<$op SISet>](imm(c)?, d),
                    (Instr::Fused(Fused::[<$op SL>](b)), false) => Fused::[<$op SLSet>](b, d),
                    (Instr::$op, true) => Fused::[<$op SSTee>](d),
                    (Instr::Fused(Fused::[<$op LL>](a, b)), true) => Fused::[<$op LLTee>](a, b, d),
                    (Instr::Fused(Fused::[<$op LI>](a, c)), true) => {
                        Fused::[<$op LITee>](a, imm(c)?, d)
                    }
                    (Instr::Fused(Fused::[<$op SI>](c)), true) => Fused::[<$op SITee>](imm(c)?, d),
                    (Instr::Fused(Fused::[<$op SL>](b)), true) => Fused::[<$op SLTee>](b, d),
                )*
                _ => return None,
            })
        }

        impl Fused {
            /// The local a `Set`/`Tee` shape writes.
            pub fn written_local(&self) -> Option<u32> {
                match *self {
                    $(
                        Fused::[<$op LLSet>](_, _, d) | Fused::[<$op LISet>](_, _, d)
                        | Fused::[<$op SISet>](_, d) | Fused::[<$op SLSet>](_, d)
                        | Fused::[<$op SSSet>](d) | Fused::[<$op LLTee>](_, _, d)
                        | Fused::[<$op LITee>](_, _, d) | Fused::[<$op SITee>](_, d)
                        | Fused::[<$op SLTee>](_, d) | Fused::[<$op SSTee>](d) => Some(d),
                    )*
                    _ => None,
                }
            }
        }

        /// Fuses a `br_if` (its target interned at `t`) into the instruction before it.
        pub(crate) fn fuse_br_if(prev: &Instr, t: u32) -> Option<Fused> {
            let imm = |c: i64| i32::try_from(c).ok();
            Some(match *prev {
                $(
                    Instr::$op => Fused::[<$op SSBr>](t),
                    Instr::Fused(Fused::[<$op LL>](a, b)) => Fused::[<$op LLBr>](a, b, t),
                    Instr::Fused(Fused::[<$op LI>](a, c)) => Fused::[<$op LIBr>](a, imm(c)?, t),
                    Instr::Fused(Fused::[<$op SI>](c)) => Fused::[<$op SIBr>](imm(c)?, t),
                    Instr::Fused(Fused::[<$op SL>](b)) => Fused::[<$op SLBr>](b, t),
                )*
                _ => return None,
            })
        }
    }};
}

use crate::Instr;
for_each_fused!(define_fuse {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_each_shape() {
        let lg = Instr::LocalGet;
        assert_eq!(
            fuse_binary(&Instr::I32Add, Some(&lg(1)), Some(&lg(2))),
            Some((2, Fused::I32AddLL(1, 2)))
        );
        assert_eq!(
            fuse_binary(&Instr::I64Shl, Some(&lg(1)), Some(&Instr::I64Const(-3))),
            Some((2, Fused::I64ShlLI(1, -3)))
        );
        assert_eq!(
            fuse_binary(
                &Instr::I32Add,
                Some(&Instr::Drop),
                Some(&Instr::I32Const(7))
            ),
            Some((1, Fused::I32AddSI(7)))
        );
        assert_eq!(
            fuse_binary(&Instr::I32Add, None, Some(&Instr::I64Const(7))),
            None
        );
        assert_eq!(
            fuse_binary(&Instr::I32DivS, Some(&lg(1)), Some(&lg(2))),
            None
        );
    }

    #[test]
    fn fuses_destinations_only_with_small_immediates() {
        let li = Instr::Fused(Fused::I64AddLI(0, 1));
        assert_eq!(fuse_set(&li, 3, false), Some(Fused::I64AddLISet(0, 1, 3)));
        assert_eq!(fuse_set(&li, 3, true), Some(Fused::I64AddLITee(0, 1, 3)));
        let big = Instr::Fused(Fused::I64AddLI(0, 1 << 40));
        assert_eq!(fuse_set(&big, 3, false), None);
        assert_eq!(fuse_br_if(&Instr::I32LtU, 9), Some(Fused::I32LtUSSBr(9)));
        assert_eq!(fuse_br_if(&Instr::Drop, 9), None);
    }
}
