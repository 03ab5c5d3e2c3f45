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
//! - `LS(a)`: `local[a] op pop`, where the `local.get a` came before the code computing the
//!   second operand (it is removed, and the operand read when the operator runs: nothing
//!   in between writes the local)
//! - `SS`: `pop op pop` (only with a destination, the plain form is the operator itself)
//!
//! A few unary operators (conditions and integer width changes) fuse with the `local.get`
//! of their operand (`L(a)`, pushed).
//!
//! Each shape is pushed (no suffix), stored to a local (`Set(.., d)`: a following
//! `local.set d`), stored and pushed (`Tee(.., d)`: a following `local.tee d`) or tested by a following `br_if` (`Br(.., t)`: branch to `br_tables[t]`
//! when the result is non-zero). Immediates of the `Set`/`Br` shapes are 32-bit: a 64-bit
//! constant that does not fit is not fused.
//!
//! Fusion happens only in fast mode and never across a branch target, so results, traps and
//! fuel per block are unchanged.

/// Invokes `$cb! { { extra } binary { (Op ConstInstr ValVariant,)* } unary { (Op,)* } }`
/// with the fusable operators: binary ones take every shape below, unary ones the `L`
/// shape (`local.get a; op`, e.g. `local.get 3; i32.eqz`).
#[macro_export]
macro_rules! for_each_fused {
    ($cb:ident { $($extra:tt)* }) => {
        $cb! {
            { $($extra)* }
            binary {
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
            unary {
                I32Eqz, I64Eqz, I32WrapI64, I64ExtendI32U, I64ExtendI32S,
            }
        }
    };
}

macro_rules! define_fuse {
    ({} binary { $($op:ident $c:ident $vt:ident,)* } unary { $($uop:ident,)* }) => { pastey::paste! {
        /// Fuses unary operator `op` with the `local.get` before it (`prev`).
        pub(crate) fn fuse_unary(op: &Instr, prev: Option<&Instr>) -> Option<Instr> {
            let Some(Instr::LocalGet(a)) = prev else { return None };
            match op {
                $(Instr::$uop => Some(Instr::[<$uop L>](*a)),)*
                _ => None,
            }
        }

        /// Tries to fuse binary operator `op` with the instructions before it (`prev2`,
        /// `prev`). Returns how many of them the fused instruction replaces.
        pub(crate) fn fuse_binary(
            op: &Instr,
            prev2: Option<&Instr>,
            prev: Option<&Instr>,
        ) -> Option<(usize, Instr)> {
            match op {
                $(Instr::$op => match (prev2, prev) {
                    (Some(Instr::LocalGet(a)), Some(Instr::LocalGet(b))) => {
                        Some((2, Instr::[<$op LL>](*a, *b)))
                    }
                    (Some(Instr::LocalGet(a)), Some(Instr::$c(c))) => {
                        Some((2, Instr::[<$op LI>](*a, *c as i64)))
                    }
                    (_, Some(Instr::$c(c))) => Some((1, Instr::[<$op SI>](*c as i64))),
                    (_, Some(Instr::LocalGet(b))) => Some((1, Instr::[<$op SL>](*b))),
                    _ => None,
                },)*
                _ => None,
            }
        }

        /// Fuses binary operator `op` with a `local.get a` that pushed its first operand
        /// further back (the second operand computed since): `local[a] op pop`.
        pub(crate) fn fuse_binary_local_first(op: &Instr, a: u32) -> Option<Instr> {
            match op {
                $(Instr::$op => Some(Instr::[<$op LS>](a)),)*
                _ => None,
            }
        }

        /// Fuses a `local.set d` (or `local.tee d` when `tee`) into the instruction before it
        /// (`prev`), if it is a fusable operator or a fused shape.
        pub(crate) fn fuse_set(prev: &Instr, d: u32, tee: bool) -> Option<Instr> {
            let imm = |c: i64| i32::try_from(c).ok();
            Some(match (*prev, tee) {
                $(
                    (Instr::$op, false) => Instr::[<$op SSSet>](d),
                    (Instr::[<$op LL>](a, b), false) => Instr::[<$op LLSet>](a, b, d),
                    (Instr::[<$op LI>](a, c), false) => {
                        Instr::[<$op LISet>](a, imm(c)?, d)
                    }
                    (Instr::[<$op SI>](c), false) => Instr::[<$op SISet>](imm(c)?, d),
                    (Instr::[<$op SL>](b), false) => Instr::[<$op SLSet>](b, d),
                    (Instr::$op, true) => Instr::[<$op SSTee>](d),
                    (Instr::[<$op LL>](a, b), true) => Instr::[<$op LLTee>](a, b, d),
                    (Instr::[<$op LI>](a, c), true) => {
                        Instr::[<$op LITee>](a, imm(c)?, d)
                    }
                    (Instr::[<$op SI>](c), true) => Instr::[<$op SITee>](imm(c)?, d),
                    (Instr::[<$op SL>](b), true) => Instr::[<$op SLTee>](b, d),
                )*
                _ => return None,
            })
        }

        /// The local a fused `Set`/`Tee` shape writes.
        pub(crate) fn fused_written_local(instr: &Instr) -> Option<u32> {
                match *instr {
                    $(
                        Instr::[<$op LLSet>](_, _, d) | Instr::[<$op LISet>](_, _, d)
                        | Instr::[<$op SISet>](_, d) | Instr::[<$op SLSet>](_, d)
                        | Instr::[<$op SSSet>](d) | Instr::[<$op LLTee>](_, _, d)
                        | Instr::[<$op LITee>](_, _, d) | Instr::[<$op SITee>](_, d)
                        | Instr::[<$op SLTee>](_, d) | Instr::[<$op SSTee>](d) => Some(d),
                    )*
                    _ => None,
                }
            }

        /// Fuses a `br_if` (its target interned at `t`) into the instruction before it.
        pub(crate) fn fuse_br_if(prev: &Instr, t: u32) -> Option<Instr> {
            let imm = |c: i64| i32::try_from(c).ok();
            Some(match *prev {
                $(
                    Instr::$op => Instr::[<$op SSBr>](t),
                    Instr::[<$op LL>](a, b) => Instr::[<$op LLBr>](a, b, t),
                    Instr::[<$op LI>](a, c) => Instr::[<$op LIBr>](a, imm(c)?, t),
                    Instr::[<$op SI>](c) => Instr::[<$op SIBr>](imm(c)?, t),
                    Instr::[<$op SL>](b) => Instr::[<$op SLBr>](b, t),
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
            Some((2, Instr::I32AddLL(1, 2)))
        );
        assert_eq!(
            fuse_binary(&Instr::I64Shl, Some(&lg(1)), Some(&Instr::I64Const(-3))),
            Some((2, Instr::I64ShlLI(1, -3)))
        );
        assert_eq!(
            fuse_binary(
                &Instr::I32Add,
                Some(&Instr::Drop),
                Some(&Instr::I32Const(7))
            ),
            Some((1, Instr::I32AddSI(7)))
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
        let li = Instr::I64AddLI(0, 1);
        assert_eq!(fuse_set(&li, 3, false), Some(Instr::I64AddLISet(0, 1, 3)));
        assert_eq!(fuse_set(&li, 3, true), Some(Instr::I64AddLITee(0, 1, 3)));
        let big = Instr::I64AddLI(0, 1 << 40);
        assert_eq!(fuse_set(&big, 3, false), None);
        assert_eq!(fuse_br_if(&Instr::I32LtU, 9), Some(Instr::I32LtUSSBr(9)));
        assert_eq!(fuse_br_if(&Instr::Drop, 9), None);
    }
}
