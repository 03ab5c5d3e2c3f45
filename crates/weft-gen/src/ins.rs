//! The generator's instruction list: one entry per emitted WebAssembly instruction, plus
//! marker comments. Function references are generator function ids; the encoder turns them
//! into module indices.

use weft_core::{BinaryOp, LoadOp, StoreOp, UnaryOp, Val, ValType};

/// The type of a `block`, `if` or `loop`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BlockTy {
    /// No results.
    Empty,
    /// One result.
    Value(ValType),
    /// Several results: a type index of the module.
    Type(u32),
}

/// A comment line of the text format whose answer the task asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    /// `;;FLAG_k`: whether execution reaches this point.
    Flag(u32),
    /// `;;INSPECT`: the values of the enclosing block the first time execution gets here,
    /// bottom to top, with their types.
    Inspect(Vec<ValType>),
}

/// One instruction.
#[derive(Clone, Debug, PartialEq)]
pub enum Ins {
    /// `t.const`.
    Const(Val),
    /// A unary operator.
    Unary(UnaryOp),
    /// A binary operator.
    Binary(BinaryOp),
    /// `select`.
    Select,
    /// `drop`.
    Drop,
    /// `nop`.
    Nop,
    /// `local.get`.
    LocalGet(u32),
    /// `local.set`.
    LocalSet(u32),
    /// `local.tee`.
    LocalTee(u32),
    /// `global.get`.
    GlobalGet(u32),
    /// `global.set`.
    GlobalSet(u32),
    /// A load with its static offset.
    Load(LoadOp, u32),
    /// A store with its static offset.
    Store(StoreOp, u32),
    /// `memory.size`.
    MemorySize,
    /// `memory.grow`.
    MemoryGrow,
    /// `memory.fill` (bulk memory).
    MemoryFill,
    /// `memory.copy` (bulk memory).
    MemoryCopy,
    /// `call` of a generator function id.
    Call(u32),
    /// `call_indirect` through table 0 with a type index.
    CallIndirect(u32),
    /// `block`.
    Block(BlockTy),
    /// `if`.
    If(BlockTy),
    /// `else`.
    Else,
    /// `end`.
    End,
    /// `loop` (no parameters, no results).
    Loop,
    /// `br` with a relative depth.
    Br(u32),
    /// `br_if` with a relative depth.
    BrIf(u32),
    /// `br_table` with targets and default.
    BrTable(Vec<u32>, u32),
    /// `return`.
    Return,
    /// `ref.null func`.
    RefNullFunc,
    /// `ref.func` of a generator function id.
    RefFunc(u32),
    /// `ref.is_null`.
    RefIsNull,
    /// `table.size` of table 0.
    TableSize,
    /// `table.get` of table 0.
    TableGet,
    /// `table.set` of table 0.
    TableSet,
    /// A marker comment (no instruction in the binary).
    Marker(Marker),
    /// A call of an imported host function by import index (probes and instrumented copies).
    HostCall(u32),
    /// `unreachable` (only in probes, after a stop).
    Unreachable,
}

impl Ins {
    /// The text-format mnemonic (`""` for markers).
    pub fn mnemonic(&self) -> &'static str {
        match self {
            Ins::Const(v) => match v.ty() {
                ValType::I32 => "i32.const",
                ValType::I64 => "i64.const",
                ValType::F32 => "f32.const",
                ValType::F64 => "f64.const",
                ValType::V128 => "v128.const",
                _ => "ref.null",
            },
            Ins::Unary(o) => o.name(),
            Ins::Binary(o) => o.name(),
            Ins::Select => "select",
            Ins::Drop => "drop",
            Ins::Nop => "nop",
            Ins::LocalGet(_) => "local.get",
            Ins::LocalSet(_) => "local.set",
            Ins::LocalTee(_) => "local.tee",
            Ins::GlobalGet(_) => "global.get",
            Ins::GlobalSet(_) => "global.set",
            Ins::Load(o, _) => o.name(),
            Ins::Store(o, _) => o.name(),
            Ins::MemorySize => "memory.size",
            Ins::MemoryGrow => "memory.grow",
            Ins::MemoryFill => "memory.fill",
            Ins::MemoryCopy => "memory.copy",
            Ins::Call(_) | Ins::HostCall(_) => "call",
            Ins::CallIndirect(_) => "call_indirect",
            Ins::Block(_) => "block",
            Ins::If(_) => "if",
            Ins::Else => "else",
            Ins::End => "end",
            Ins::Loop => "loop",
            Ins::Br(_) => "br",
            Ins::BrIf(_) => "br_if",
            Ins::BrTable(..) => "br_table",
            Ins::Return => "return",
            Ins::RefNullFunc => "ref.null",
            Ins::RefFunc(_) => "ref.func",
            Ins::RefIsNull => "ref.is_null",
            Ins::TableSize => "table.size",
            Ins::TableGet => "table.get",
            Ins::TableSet => "table.set",
            Ins::Marker(_) => "",
            Ins::Unreachable => "unreachable",
        }
    }

    /// Fuel of one execution, by wasmtime's cost model (`weft_core::fuel`); bulk operations
    /// add their per-byte cost at run time.
    pub fn cost(&self) -> u64 {
        match self {
            Ins::Marker(_) => 0,
            _ => weft_core::fuel::operator_cost(self.mnemonic()),
        }
    }
}
