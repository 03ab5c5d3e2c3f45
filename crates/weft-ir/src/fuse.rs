//! Superinstructions: a binary operator fused with the `local.get` / constant instructions that
//! feed it, so common stack code (`local.get a; i32.const 1; i32.add`) is one dispatch.
//!
//! [`for_each_fused!`](crate::for_each_fused) lists the fusable operators once, with the names
//! of their four fused shapes; the instruction enum, the peephole in lowering and the
//! interpreter's dispatch are generated from it. Shapes (`L` local, `I` immediate, `S` the
//! value already on the stack):
//! - `LL(a, b)`: push `local[a] op local[b]`
//! - `LI(a, c)`: push `local[a] op c`
//! - `SI(c)`: replace the top `x` by `x op c`
//! - `SL(b)`: replace the top `x` by `x op local[b]`
//!
//! Fusion happens only in fast mode and never across a branch target, so the observable
//! behaviour (results, traps, fuel per block) is unchanged.

/// Invokes `$cb! { { extra } (Op ConstInstr ValVariant LL LI SI SL)* }` with the fusion table.
#[macro_export]
macro_rules! for_each_fused {
    ($cb:ident { $($extra:tt)* }) => {
        $cb! {
            { $($extra)* }
            I32Add I32Const I32 I32AddLL I32AddLI I32AddSI I32AddSL,
            I32Sub I32Const I32 I32SubLL I32SubLI I32SubSI I32SubSL,
            I32Mul I32Const I32 I32MulLL I32MulLI I32MulSI I32MulSL,
            I32And I32Const I32 I32AndLL I32AndLI I32AndSI I32AndSL,
            I32Or I32Const I32 I32OrLL I32OrLI I32OrSI I32OrSL,
            I32Xor I32Const I32 I32XorLL I32XorLI I32XorSI I32XorSL,
            I32Shl I32Const I32 I32ShlLL I32ShlLI I32ShlSI I32ShlSL,
            I32ShrS I32Const I32 I32ShrSLL I32ShrSLI I32ShrSSI I32ShrSSL,
            I32ShrU I32Const I32 I32ShrULL I32ShrULI I32ShrUSI I32ShrUSL,
            I32Rotl I32Const I32 I32RotlLL I32RotlLI I32RotlSI I32RotlSL,
            I32Eq I32Const I32 I32EqLL I32EqLI I32EqSI I32EqSL,
            I32Ne I32Const I32 I32NeLL I32NeLI I32NeSI I32NeSL,
            I32LtS I32Const I32 I32LtSLL I32LtSLI I32LtSSI I32LtSSL,
            I32LtU I32Const I32 I32LtULL I32LtULI I32LtUSI I32LtUSL,
            I32GtS I32Const I32 I32GtSLL I32GtSLI I32GtSSI I32GtSSL,
            I32GtU I32Const I32 I32GtULL I32GtULI I32GtUSI I32GtUSL,
            I32LeS I32Const I32 I32LeSLL I32LeSLI I32LeSSI I32LeSSL,
            I32LeU I32Const I32 I32LeULL I32LeULI I32LeUSI I32LeUSL,
            I32GeS I32Const I32 I32GeSLL I32GeSLI I32GeSSI I32GeSSL,
            I32GeU I32Const I32 I32GeULL I32GeULI I32GeUSI I32GeUSL,
            I64Add I64Const I64 I64AddLL I64AddLI I64AddSI I64AddSL,
            I64Sub I64Const I64 I64SubLL I64SubLI I64SubSI I64SubSL,
            I64Mul I64Const I64 I64MulLL I64MulLI I64MulSI I64MulSL,
            I64And I64Const I64 I64AndLL I64AndLI I64AndSI I64AndSL,
            I64Or I64Const I64 I64OrLL I64OrLI I64OrSI I64OrSL,
            I64Xor I64Const I64 I64XorLL I64XorLI I64XorSI I64XorSL,
            I64Shl I64Const I64 I64ShlLL I64ShlLI I64ShlSI I64ShlSL,
            I64ShrS I64Const I64 I64ShrSLL I64ShrSLI I64ShrSSI I64ShrSSL,
            I64ShrU I64Const I64 I64ShrULL I64ShrULI I64ShrUSI I64ShrUSL,
            I64Rotl I64Const I64 I64RotlLL I64RotlLI I64RotlSI I64RotlSL,
            I64Eq I64Const I64 I64EqLL I64EqLI I64EqSI I64EqSL,
            I64Ne I64Const I64 I64NeLL I64NeLI I64NeSI I64NeSL,
            I64LtS I64Const I64 I64LtSLL I64LtSLI I64LtSSI I64LtSSL,
            I64LtU I64Const I64 I64LtULL I64LtULI I64LtUSI I64LtUSL,
            I64GtS I64Const I64 I64GtSLL I64GtSLI I64GtSSI I64GtSSL,
            I64GtU I64Const I64 I64GtULL I64GtULI I64GtUSI I64GtUSL,
            I64LeU I64Const I64 I64LeULL I64LeULI I64LeUSI I64LeUSL,
            I64GeU I64Const I64 I64GeULL I64GeULI I64GeUSI I64GeUSL,
            F64Add F64Const F64 F64AddLL F64AddLI F64AddSI F64AddSL,
            F64Sub F64Const F64 F64SubLL F64SubLI F64SubSI F64SubSL,
            F64Mul F64Const F64 F64MulLL F64MulLI F64MulSI F64MulSL,
            F32Add F32Const F32 F32AddLL F32AddLI F32AddSI F32AddSL,
            F32Mul F32Const F32 F32MulLL F32MulLI F32MulSI F32MulSL,
        }
    };
}

macro_rules! define_fuse {
    ({} $($op:ident $c:ident $vt:ident $ll:ident $li:ident $si:ident $sl:ident,)*) => {
        /// A fused binary instruction (see the module docs for the shapes).
        #[derive(Copy, Clone, Debug, PartialEq)]
        #[allow(missing_docs)]
        pub enum Fused {
            $($ll(u32, u32), $li(u32, i64), $si(i64), $sl(u32),)*
        }

        /// Tries to fuse binary operator `op` with the instructions before it (`prev2`,
        /// `prev`). Returns how many of them the fused instruction replaces.
        pub(crate) fn fuse_binary(op: &Instr, prev2: Option<&Instr>, prev: Option<&Instr>) -> Option<(usize, Fused)> {
            match op {
                $(Instr::$op => match (prev2, prev) {
                    (Some(Instr::LocalGet(a)), Some(Instr::LocalGet(b))) => Some((2, Fused::$ll(*a, *b))),
                    (Some(Instr::LocalGet(a)), Some(Instr::$c(c))) => Some((2, Fused::$li(*a, *c as i64))),
                    (_, Some(Instr::$c(c))) => Some((1, Fused::$si(*c as i64))),
                    (_, Some(Instr::LocalGet(b))) => Some((1, Fused::$sl(*b))),
                    _ => None,
                },)*
                _ => None,
            }
        }
    };
}

use crate::Instr;
for_each_fused!(define_fuse {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuses_each_shape() {
        let lg = |i| Instr::LocalGet(i);
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
}
