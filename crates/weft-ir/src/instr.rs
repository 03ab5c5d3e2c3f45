//! weft's internal instruction stream.
//!
//! Control flow is resolved: branches carry the target instruction index, the operand-stack
//! height (counted from the frame base, locals included) to cut back to and how many values to
//! keep. Numeric, memory and SIMD operators come from the operator table in `weft-core`.

use weft_core::ops::*;

/// A resolved branch: jump to `pc`, keep the top `keep` values, placed at `height` slots above
/// the frame base (locals included).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BrTarget {
    /// Target instruction index.
    pub pc: u32,
    /// Stack height (above the frame base) where kept values are moved to.
    pub height: u32,
    /// Number of values carried by the branch.
    pub keep: u32,
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
            // Stores whose address is a local, the value on the stack: fast mode only.
            $([<$s L>] { local: u32, offset: u32 },)*
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
                    $(Instr::$l(_) | Instr::[<$l L>] { .. } => $ln,)*
                    $(Instr::$s(_) | Instr::[<$s L>] { .. } => $sn,)*
                    $(Instr::$ll { .. } => $lln,)*
                    $(Instr::$sl { .. } => $sln,)*
                    _ => return None,
                })
            }

            /// Fuses a load with the `local.get` that computes its address.
            pub(crate) fn fuse_load(load: &Instr, prev: Option<&Instr>) -> Option<Instr> {
                let Some(Instr::LocalGet(local)) = prev else { return None };
                let local = *local;
                Some(match *load {
                    $(Instr::$l(offset) => Instr::[<$l L>] { local, offset },)*
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

weft_core::for_each_op!(define_instr {
    /// Traps with `unreachable`.
    Unreachable,
    /// A binary operator fused with its operand sources (fast mode only).
    Fused(crate::fuse::Fused),
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

impl Instr {
    /// The local this instruction writes, if any.
    pub fn written_local(&self) -> Option<u32> {
        match *self {
            Instr::LocalSet(i) | Instr::LocalTee(i) => Some(i),
            Instr::LocalCopy { dst, .. }
            | Instr::LocalSetI32 { dst, .. }
            | Instr::LocalSetI64 { dst, .. } => Some(dst),
            Instr::Fused(f) => f.written_local(),
            _ => None,
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
