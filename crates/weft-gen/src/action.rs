//! Actions: what the generator offers at each step, with their arguments (which local,
//! which function, which loop count, which constant), so a strategy or an external policy
//! chooses complete tiles, not just kinds.

use serde::Serialize;
use weft_core::{BinaryOp, LoadOp, StoreOp, UnaryOp, Val, ValType};

/// One offered tile.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Push a constant.
    Const(Val),
    /// `local.get` of a local (counters of loops included, read only).
    LocalGet(u32),
    /// `local.set`.
    LocalSet(u32),
    /// `local.tee`.
    LocalTee(u32),
    /// `global.get`.
    GlobalGet(u32),
    /// `global.set`.
    GlobalSet(u32),
    /// A unary operator.
    Unary(UnaryOp),
    /// A binary operator.
    Binary(BinaryOp),
    /// `select`.
    Select,
    /// `drop`.
    Drop,
    /// A load with a static offset that keeps every execution in bounds.
    Load(LoadOp, u32),
    /// A store with a static offset that keeps every execution in bounds.
    Store(StoreOp, u32),
    /// `memory.size`.
    MemorySize,
    /// `memory.grow` (fails with -1 instead of trapping when beyond the maximum).
    MemoryGrow,
    /// `memory.fill` of an in-bounds range.
    MemoryFill,
    /// `memory.copy` of in-bounds ranges.
    MemoryCopy,
    /// `call` of a helper function id.
    Call(u32),
    /// `i32.const depth; call f` of the recursive function `f`, which calls itself `depth`
    /// times below this call (the arguments but the depth are on the stack).
    CallRecursive(u32, u32),
    /// `i32.const slot; call_indirect` through table slot `slot`.
    CallIndirect(u32),
    /// `call_indirect` with the slot already on the stack (every execution's slot has this
    /// type index).
    CallIndirectDyn(u32),
    /// `table.size`.
    TableSize,
    /// Push a function reference and test it with `ref.is_null`.
    RefIsNull(RefOperand),
    /// `table.get; ref.is_null` of the slot on the stack (in bounds in every execution).
    TableGetIsNull,
    /// `i32.const slot; ref.func f` (or `ref.null func`)`; table.set`: only at the entry
    /// function's top level, where it runs exactly once, so later indirect calls know the
    /// table they see.
    TableSet(u32, Option<u32>),
    /// Open a `block` with these results.
    Block(Vec<ValType>),
    /// Open a `block` taking the top `n` values of the stack as its parameters (multi-value),
    /// with these results.
    BlockParams(u32, Vec<ValType>),
    /// Open an `if` with these results (the condition is on the stack).
    If(Vec<ValType>),
    /// Open a counted loop running its body exactly this many times.
    Loop(u32),
    /// Close the then-branch and open the else-branch.
    Else,
    /// Close the innermost construct (drops surplus values, supplies missing results).
    End,
    /// `br` to a relative depth, then close the construct.
    Br(u32),
    /// `br_if` to a relative depth.
    BrIf(u32),
    /// `br_table` with targets and default, then close the construct.
    BrTable(Vec<u32>, u32),
    /// `return`.
    Return,
    /// A `;;FLAG_k` marker.
    Flag,
    /// The `;;INSPECT` marker.
    Inspect,
}

/// Where the reference tested by [`Action::RefIsNull`] comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum RefOperand {
    /// `ref.null func`.
    Null,
    /// `ref.func` of a function id (one in the table's initial elements, so declared).
    Func(u32),
    /// `i32.const slot; table.get`.
    Slot(u32),
}

/// The broad class of an action, for weighting and coverage.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Constants.
    Const,
    /// Locals.
    Local,
    /// Globals.
    Global,
    /// Numeric operators.
    Numeric,
    /// `select` and `drop`.
    Parametric,
    /// Loads, stores, size, grow, bulk.
    Memory,
    /// Direct and indirect calls.
    Call,
    /// Reference types: function references and the table.
    Reference,
    /// Opening constructs.
    Open,
    /// Closing constructs.
    Close,
    /// Branches and return.
    Branch,
    /// Task markers.
    Marker,
}

impl Action {
    /// The class of the action.
    pub fn category(&self) -> Category {
        use Action::*;
        match self {
            Const(_) => Category::Const,
            LocalGet(_) | LocalSet(_) | LocalTee(_) => Category::Local,
            GlobalGet(_) | GlobalSet(_) => Category::Global,
            Unary(_) | Binary(_) => Category::Numeric,
            Select | Drop => Category::Parametric,
            Load(..) | Store(..) | MemorySize | MemoryGrow | MemoryFill | MemoryCopy => {
                Category::Memory
            }
            Call(_) | CallRecursive(..) | CallIndirect(_) | CallIndirectDyn(_) => Category::Call,
            TableSize | RefIsNull(_) | TableGetIsNull | TableSet(..) => Category::Reference,
            Block(_) | BlockParams(..) | If(_) | Loop(_) => Category::Open,
            Else | End => Category::Close,
            Br(_) | BrIf(_) | BrTable(..) | Return => Category::Branch,
            Flag | Inspect => Category::Marker,
        }
    }

    /// The opcode (or construct) name the action emits, for opcode profiles.
    pub fn kind(&self) -> &'static str {
        use Action::*;
        match self {
            Const(v) => match v.ty() {
                ValType::I32 => "i32.const",
                ValType::I64 => "i64.const",
                ValType::F32 => "f32.const",
                _ => "f64.const",
            },
            LocalGet(_) => "local.get",
            LocalSet(_) => "local.set",
            LocalTee(_) => "local.tee",
            GlobalGet(_) => "global.get",
            GlobalSet(_) => "global.set",
            Unary(o) => o.name(),
            Binary(o) => o.name(),
            Select => "select",
            Drop => "drop",
            Load(o, _) => o.name(),
            Store(o, _) => o.name(),
            MemorySize => "memory.size",
            MemoryGrow => "memory.grow",
            MemoryFill => "memory.fill",
            MemoryCopy => "memory.copy",
            Call(_) | CallRecursive(..) => "call",
            CallIndirect(_) | CallIndirectDyn(_) => "call_indirect",
            TableSize => "table.size",
            RefIsNull(RefOperand::Null) => "ref.null",
            RefIsNull(RefOperand::Func(_)) => "ref.func",
            RefIsNull(RefOperand::Slot(_)) | TableGetIsNull => "table.get",
            TableSet(..) => "table.set",
            Block(_) | BlockParams(..) => "block",
            If(_) => "if",
            Loop(_) => "loop",
            Else => "else",
            End => "end",
            Br(_) => "br",
            BrIf(_) => "br_if",
            BrTable(..) => "br_table",
            Return => "return",
            Flag => "flag",
            Inspect => "inspect",
        }
    }
}
