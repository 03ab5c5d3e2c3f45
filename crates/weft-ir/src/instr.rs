//! weft's internal instruction stream.
//!
//! Control flow is resolved: branches carry the target instruction index, the operand-stack
//! height (counted from the frame base, locals included) to cut back to and how many values to
//! keep. Numeric, memory and SIMD operators come from the operator table in `weft-core`.

use weft_core::ops::*;

/// A resolved branch: jump to `pc`, keep the top `keep` values, placed at `height` slots above
/// the frame base (locals included).
///
/// In fast mode with fuel, a branch whose target block starts with `ConsumeFuel(n)` charges
/// the `n` itself (`fuel`) and `pc` points just past that instruction, saving a dispatch per
/// taken branch; with less than `fuel` left the branch goes to `pc - 1` instead, so the
/// out-of-fuel trap happens where it would without the shortcut.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BrTarget {
    /// Target instruction index.
    pub pc: u32,
    /// Stack height (above the frame base) where kept values are moved to.
    pub height: u32,
    /// Number of values carried by the branch (validation bounds it by 1,000).
    pub keep: u16,
    /// Fuel of the target block charged by the branch (0: none, `pc` is the block start).
    pub fuel: u16,
}

/// A structural operator kept only in exact mode, so every original step is observable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `nop`.
    Nop,
    /// `block`.
    Block,
    /// `loop`.
    Loop,
    /// `end` of a block, loop or if (not of the function body, which lowers to `Return`).
    End,
}

macro_rules! define_instr {
    (
        { $($hand:tt)* }
        unary { $($u:ident $un:literal $ua:ident -> $ur:ident,)* }
        binary { $($b:ident $bn:literal $ba:ident $bb:ident -> $br:ident,)* }
        ternary { $($t:ident $tn:literal $ta:ident $tb:ident $tc:ident -> $tr:ident,)* }
        unary_lane { $($ul:ident $uln:literal $ula:ident -> $ulr:ident,)* }
        binary_lane { $($bl:ident $bln:literal $bla:ident $blb:ident -> $blr:ident,)* }
        load { $($l:ident $ln:literal $lw:literal -> $lr:ident,)* }
        store { $($s:ident $sn:literal $sa:ident $sw:literal,)* }
        load_lane { $($ll:ident $lln:literal $llw:literal,)* }
        store_lane { $($sl:ident $sln:literal $slw:literal,)* }
    ) => { pastey::paste! {
        /// One lowered instruction.
        #[derive(Copy, Clone, Debug, PartialEq)]
        #[allow(missing_docs)]
        pub enum Instr {
            $($hand)*
            // Loads whose address is a local (`local.get a; load`): fast mode only.
            $([<$l L>] { local: u32, offset: u32 },)*
            // Loads whose address is a local plus a constant (`local.get a; i32.const c;
            // i32.add; load`, the sum wrapping as in wasm) or the popped value plus a
            // constant: fast mode only.
            $([<$l LA>] { local: u32, add: i32, offset: u32 },)*
            $([<$l A>] { add: i32, offset: u32 },)*
            // Stores whose address is a local, the value on the stack: fast mode only.
            $([<$s L>] { local: u32, offset: u32 },)*
            // Stores of a constant (`value`: the stored bits, sign-extended to the store's
            // type), the address on the stack or in a local: fast mode only.
            $([<$s I>] { offset: u32, value: i32 },)*
            $([<$s LI>] { local: u32, offset: u32, value: i32 },)*
            // A constant stored at a local plus a constant (`local.get a; i32.const c;
            // i32.add; CONST; store` with offset 0): fast mode only.
            $([<$s LAI>] { local: u32, add: i32, value: i32 },)*
            $($u,)*
            $($b,)*
            $($t,)*
            $($ul(u8),)*
            $($bl(u8),)*
            $($l(u32),)*
            $($s(u32),)*
            $($ll { offset: u32, lane: u8 },)*
            $($sl { offset: u32, lane: u8 },)*
        }

        impl Instr {
            /// The mnemonic of a table operator, `None` for control and variable instructions.
            pub fn table_name(&self) -> Option<&'static str> {
                Some(match self {
                    $(Instr::$u => $un,)*
                    $(Instr::$b => $bn,)*
                    $(Instr::$t => $tn,)*
                    $(Instr::$ul(_) => $uln,)*
                    $(Instr::$bl(_) => $bln,)*
                    $(Instr::$l(_) | Instr::[<$l L>] { .. } | Instr::[<$l LA>] { .. }
                        | Instr::[<$l A>] { .. } => $ln,)*
                    $(Instr::$s(_) | Instr::[<$s L>] { .. } | Instr::[<$s I>] { .. }
                        | Instr::[<$s LI>] { .. } | Instr::[<$s LAI>] { .. } => $sn,)*
                    $(Instr::$ll { .. } => $lln,)*
                    $(Instr::$sl { .. } => $sln,)*
                    _ => return None,
                })
            }

            /// Fuses a load with the instruction that computes its address: a `local.get`,
            /// or an `i32.add` of a constant to a local or to the value on the stack.
            pub(crate) fn fuse_load(load: &Instr, prev: Option<&Instr>) -> Option<Instr> {
                let (local, add) = match *prev? {
                    Instr::LocalGet(local) => (Some(local), 0),
                    Instr::I32AddLI(local, c) => (Some(local), c as i32),
                    Instr::I32AddSI(c) => (None, c as i32),
                    _ => return None,
                };
                Some(match (*load, local) {
                    $(
                        (Instr::$l(offset), Some(local)) if add == 0 => {
                            Instr::[<$l L>] { local, offset }
                        }
                        (Instr::$l(offset), Some(local)) => Instr::[<$l LA>] { local, add, offset },
                        (Instr::$l(offset), None) => Instr::[<$l A>] { add, offset },
                    )*
                    _ => return None,
                })
            }

            /// Fuses a store of the constant `value` at offset 0 with the
            /// `local.get a; i32.const c; i32.add` (`addr`, fused) that computes its address.
            pub(crate) fn fuse_store_local_add(
                store: &Instr,
                addr: &Instr,
                value: i32,
            ) -> Option<Instr> {
                let Instr::I32AddLI(local, c) = *addr else { return None };
                let add = c as i32;
                Some(match *store {
                    $(Instr::$s(0) => Instr::[<$s LAI>] { local, add, value },)*
                    _ => return None,
                })
            }

            /// A store reading its address from `local` instead of the stack.
            pub(crate) fn fuse_store(store: &Instr, local: u32) -> Option<Instr> {
                Some(match *store {
                    $(Instr::$s(offset) => Instr::[<$s L>] { local, offset },)*
                    _ => return None,
                })
            }

            /// A store (plain or addressed by a local) storing the constant `value` instead
            /// of the value on the stack.
            pub(crate) fn fuse_store_value(store: &Instr, value: i32) -> Option<Instr> {
                Some(match *store {
                    $(Instr::$s(offset) => Instr::[<$s I>] { offset, value },)*
                    $(Instr::[<$s L>] { local, offset } => Instr::[<$s LI>] { local, offset, value },)*
                    _ => return None,
                })
            }

            /// Lowers a table operator of wasmparser; `None` for every other operator.
            pub(crate) fn from_table_operator(op: &wasmparser::Operator<'_>) -> Option<Instr> {
                use wasmparser::Operator as O;
                Some(match *op {
                    $(O::$u => Instr::$u,)*
                    $(O::$b => Instr::$b,)*
                    $(O::$t => Instr::$t,)*
                    $(O::$ul { lane } => Instr::$ul(lane),)*
                    $(O::$bl { lane } => Instr::$bl(lane),)*
                    $(O::$l { memarg } => Instr::$l(memarg.offset as u32),)*
                    $(O::$s { memarg } => Instr::$s(memarg.offset as u32),)*
                    $(O::$ll { memarg, lane } => Instr::$ll { offset: memarg.offset as u32, lane },)*
                    $(O::$sl { memarg, lane } => Instr::$sl { offset: memarg.offset as u32, lane },)*
                    _ => return None,
                })
            }

            /// The unary operator this instruction performs, if any.
            pub fn unary_op(&self) -> Option<UnaryOp> {
                Some(match *self {
                    $(Instr::$u => UnaryOp::$u,)*
                    $(Instr::$ul(l) => UnaryOp::$ul(l),)*
                    _ => return None,
                })
            }

            /// The binary operator this instruction performs, if any.
            pub fn binary_op(&self) -> Option<BinaryOp> {
                Some(match *self {
                    $(Instr::$b => BinaryOp::$b,)*
                    $(Instr::$bl(l) => BinaryOp::$bl(l),)*
                    _ => return None,
                })
            }

            /// The load this instruction performs, with its static offset.
            pub fn load_op(&self) -> Option<(LoadOp, u32)> {
                Some(match *self {
                    $(Instr::$l(o) => (LoadOp::$l, o),)*
                    _ => return None,
                })
            }

            /// The store this instruction performs, with its static offset.
            pub fn store_op(&self) -> Option<(StoreOp, u32)> {
                Some(match *self {
                    $(Instr::$s(o) => (StoreOp::$s, o),)*
                    _ => return None,
                })
            }
        }
    }};
}

/// Adds the fused shapes of every fusable operator (see [`crate::fuse`]) to the
/// hand-written instructions, so the interpreter dispatches every instruction through one
/// `match` (a nested enum would cost a second indirect jump per fused instruction).
macro_rules! define_instr_with_fused {
    ({} binary { $($op:ident $c:ident $vt:ident,)* } unary { $($uop:ident,)* }) => { pastey::paste! {
        weft_core::for_each_op!(define_instr {
            // Unary operators reading a local (fast mode only).
            $([<$uop L>](u32),)*
            // Binary operators fused with their operand sources and destination (fast mode
            // only; shapes in `crate::fuse`).
            $(
                [<$op LL>](u32, u32), [<$op LI>](u32, i64), [<$op SI>](i64), [<$op SL>](u32),
                [<$op LS>](u32),
                [<$op LLSet>](u32, u32, u32), [<$op LISet>](u32, i32, u32),
                [<$op SISet>](i32, u32), [<$op SLSet>](u32, u32), [<$op SSSet>](u32),
                [<$op LLTee>](u32, u32, u32), [<$op LITee>](u32, i32, u32),
                [<$op SITee>](i32, u32), [<$op SLTee>](u32, u32), [<$op SSTee>](u32),
                [<$op LLBr>](u32, u32, u32), [<$op LIBr>](u32, i32, u32),
                [<$op SIBr>](i32, u32), [<$op SLBr>](u32, u32), [<$op SSBr>](u32),
            )*

        /// Traps with `unreachable`.
        Unreachable,
        /// A structural no-op (exact mode only).
        Marker(Marker),
        /// Charge fuel for the basic block that starts here (fast mode with fuel only).
        ConsumeFuel(u32),
        /// Unconditional branch.
        Br(BrTarget),
        /// Branch if the popped condition is non-zero.
        BrIf(BrTarget),
        /// Branch if the popped condition is zero (lowered `if`).
        BrIfNot(BrTarget),
        /// `local.get l; br_if`: branch to `br_tables[t]` if local `l` is non-zero (fast mode).
        BrIfL(u32, u32),
        /// `local.get l; i32.eqz; br_if`: branch to `br_tables[t]` if local `l` is zero (fast
        /// mode).
        BrIfNotL(u32, u32),
        /// Branch table: targets `br_tables[first..=first+len]`, the last being the default.
        BrTable { first: u32, len: u32 },
        /// Return from the function.
        Return,
        /// Call a function by index.
        Call(u32),
        /// Call through a table with a type index check.
        CallIndirect { ty: u32, table: u32 },
        /// Drop the top value.
        Drop,
        /// `select` (typed or not).
        Select,
        /// `local.tee l; select`: the condition also stored in local `l` (fast mode only).
        SelectTee(u32),
        /// Push a local.
        LocalGet(u32),
        /// Pop into a local.
        LocalSet(u32),
        /// Copy the top value into a local.
        LocalTee(u32),
        /// `local.get src; local.set dst` (fast mode only).
        LocalCopy { src: u32, dst: u32 },
        /// `i32.const c; local.set dst` (fast mode only).
        LocalSetI32 { dst: u32, value: i32 },
        /// `i64.const c; local.set dst` with `c` fitting in 32 bits (fast mode only).
        LocalSetI64 { dst: u32, value: i32 },
        /// Push a global.
        GlobalGet(u32),
        /// Pop into a global.
        GlobalSet(u32),
        /// Push an i32 constant.
        I32Const(i32),
        /// Push an i64 constant.
        I64Const(i64),
        /// Push an f32 constant (bits).
        F32Const(u32),
        /// Push an f64 constant (bits).
        F64Const(u64),
        /// Push `v128_consts[i]`.
        V128Const(u32),
        /// Shuffle with `shuffles[i]`.
        I8x16Shuffle(u32),
        /// Push a null reference.
        RefNull,
        /// Test a reference for null.
        RefIsNull,
        /// Push a reference to function `i`.
        RefFunc(u32),
        /// `memory.size`.
        MemorySize,
        /// `memory.grow`.
        MemoryGrow,
        /// `memory.fill`.
        MemoryFill,
        /// `memory.copy`.
        MemoryCopy,
        /// `memory.init` of data segment `i`.
        MemoryInit(u32),
        /// `data.drop`.
        DataDrop(u32),
        /// `table.get`.
        TableGet(u32),
        /// `table.set`.
        TableSet(u32),
        /// `table.size`.
        TableSize(u32),
        /// `table.grow`.
        TableGrow(u32),
        /// `table.fill`.
        TableFill(u32),
        /// `table.copy`.
        TableCopy { dst: u32, src: u32 },
        /// `table.init`.
        TableInit { table: u32, elem: u32 },
        /// `elem.drop`.
        ElemDrop(u32),
        });
    }};
}

crate::for_each_fused!(define_instr_with_fused {});

impl Instr {
    /// The bits of a constant instruction, when they are the sign extension of 32 bits (the
    /// immediate of a fused constant store).
    pub(crate) fn small_const_bits(&self) -> Option<i32> {
        match *self {
            Instr::I32Const(c) => Some(c),
            Instr::I64Const(c) => i32::try_from(c).ok(),
            Instr::F32Const(bits) => Some(bits as i32),
            Instr::F64Const(bits) => i32::try_from(bits as i64).ok(),
            _ => None,
        }
    }

    /// The local this instruction writes, if any.
    pub fn written_local(&self) -> Option<u32> {
        match *self {
            Instr::LocalSet(i) | Instr::LocalTee(i) | Instr::SelectTee(i) => Some(i),
            Instr::LocalCopy { dst, .. }
            | Instr::LocalSetI32 { dst, .. }
            | Instr::LocalSetI64 { dst, .. } => Some(dst),
            _ => crate::fuse::fused_written_local(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_small() {
        assert!(
            std::mem::size_of::<Instr>() <= 16,
            "{}",
            std::mem::size_of::<Instr>()
        );
    }
}
