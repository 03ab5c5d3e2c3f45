//! One trace row: an executed instruction and everything it saw and touched.

use weft_core::{Val, ValType};

/// A value with its type, kept as raw bits so NaN payloads and `-0.0` survive every format.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TypedValue {
    /// The type; `None` where the type is not known (it never is for valid traces).
    pub ty: Option<ValType>,
    /// Raw bits: integers zero-extended, floats as IEEE bits, references as the engine's
    /// reference encoding.
    pub bits: u128,
}

impl TypedValue {
    /// The value as a [`Val`] (for printing), if its type is known.
    pub fn val(&self) -> Option<Val> {
        Some(weft_exec::concrete::bits_val(self.bits, self.ty?))
    }

    /// The type's name (`i32`, …, `unknown`).
    pub fn type_name(&self) -> &'static str {
        match self.ty {
            Some(t) => t.name(),
            None => "unknown",
        }
    }

    /// The value in text: signed decimal for integers, exact decimal or `nan:0x…` for floats
    /// (bits separately), hex for vectors, `null` or an index for references.
    pub fn value_text(&self) -> String {
        match self.val() {
            Some(v) => {
                let s = v.to_string();
                match s.split_once(':') {
                    Some((_, rest)) => rest.to_string(),
                    None => s,
                }
            }
            None => format!("0x{:x}", self.bits),
        }
    }

    /// Width in bytes of the value's encoding in the binary format.
    pub fn width(ty: Option<ValType>) -> usize {
        match ty {
            Some(ValType::I32) | Some(ValType::F32) => 4,
            Some(ValType::I64) | Some(ValType::F64) => 8,
            Some(ValType::FuncRef) | Some(ValType::ExternRef) => 8,
            Some(ValType::V128) | None => 16,
        }
    }
}

/// A value type from its text name.
pub fn parse_type(s: &str) -> Option<Option<ValType>> {
    if s == "unknown" {
        return Some(None);
    }
    [
        ValType::I32,
        ValType::I64,
        ValType::F32,
        ValType::F64,
        ValType::V128,
        ValType::FuncRef,
        ValType::ExternRef,
    ]
    .into_iter()
    .find(|t| t.name() == s)
    .map(Some)
}

/// Whether an access reads or writes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read.
    Read,
    /// A write.
    Write,
}

impl Access {
    /// `read` or `write`.
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// A load or store of `width` bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemAccess {
    /// Read or write.
    pub kind: Access,
    /// Effective address.
    pub addr: u64,
    /// Bytes moved (1, 2, 4, 8 or 16).
    pub width: u32,
    /// The bytes moved, as a little-endian integer.
    pub value: u128,
}

/// Who moved a run of bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ByteSource {
    /// `memory.fill`, `memory.copy` or `memory.init`.
    Bulk,
    /// A host function (e.g. WASI `fd_read`) wrote them.
    Host,
}

impl ByteSource {
    /// `bulk` or `host`.
    pub fn name(self) -> &'static str {
        match self {
            ByteSource::Bulk => "bulk",
            ByteSource::Host => "host",
        }
    }
}

/// A run of bytes read or written by a bulk operation or a host function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BytesAccess {
    /// Read or write.
    pub kind: Access,
    /// Bulk operation or host.
    pub source: ByteSource,
    /// First address.
    pub addr: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// A global read or write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GlobalAccess {
    /// Read or write.
    pub kind: Access,
    /// Global index in the module.
    pub index: u32,
    /// The value.
    pub value: TypedValue,
}

/// One executed instruction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row {
    /// Step number, from 0: every executed instruction counts, free ones included.
    pub step: u64,
    /// Function index in the module.
    pub func: u32,
    /// Byte offset of the instruction in the module (as `weft print --offsets` shows).
    pub offset: u32,
    /// The operator: its mnemonic, with immediates where the format keeps them.
    pub op: String,
    /// Index of the operator's mnemonic in the trace header's mnemonic table.
    pub mnemonic_id: u16,
    /// Fuel consumed before this step (wasmtime's cost model; 0 without metering).
    pub fuel: u64,
    /// Operand stack height before the step.
    pub stack_depth: u32,
    /// The kept top of the stack, bottom first.
    pub stack: Vec<TypedValue>,
    /// Number of locals (parameters included).
    pub locals_count: u32,
    /// The kept locals, first first.
    pub locals: Vec<TypedValue>,
    /// Frames below the current one, outermost first: (function, return offset).
    pub frames: Vec<(u32, u32)>,
    /// True when the producer knows `frames` equals the previous row's that reached the same
    /// sink (delta encoders may then skip comparing them); false when unknown.
    pub frames_unchanged: bool,
    /// Loads and stores.
    pub mem: Vec<MemAccess>,
    /// Bulk and host byte runs.
    pub bytes: Vec<BytesAccess>,
    /// Global reads and writes.
    pub globals: Vec<GlobalAccess>,
    /// The wasm function this step called, if any.
    pub call: Option<u32>,
    /// Whether this step returned from its function.
    pub ret: bool,
}

impl Row {
    /// The operator's mnemonic (its first word).
    pub fn mnemonic(&self) -> &str {
        self.op.split(' ').next().unwrap_or("")
    }

    /// Empties the row for reuse, keeping its allocations. `frames` stays: the tracer
    /// replaces it only when a call or return changed the call stack.
    pub(crate) fn clear(&mut self) {
        self.stack.clear();
        self.locals.clear();
        self.mem.clear();
        self.bytes.clear();
        self.globals.clear();
        self.call = None;
        self.ret = false;
    }

    /// The first field in which `self` (the trace) differs from `expected` (the
    /// re-execution), described for a report; `None` when the rows agree. Operators are
    /// compared by mnemonic, since formats differ in how they print immediates.
    pub fn first_difference(&self, expected: &Row, with_frames: bool) -> Option<String> {
        macro_rules! check {
            ($name:literal, $a:expr, $b:expr) => {
                if $a != $b {
                    return Some(format!(
                        "{}: the trace has {:?}, execution gives {:?}",
                        $name, $a, $b
                    ));
                }
            };
        }
        check!("step", self.step, expected.step);
        check!("func", self.func, expected.func);
        check!("offset", self.offset, expected.offset);
        check!("op", self.mnemonic(), expected.mnemonic());
        check!("fuel", self.fuel, expected.fuel);
        check!("stack_depth", self.stack_depth, expected.stack_depth);
        check!("stack", &self.stack, &expected.stack);
        check!("locals_count", self.locals_count, expected.locals_count);
        check!("locals", &self.locals, &expected.locals);
        if with_frames {
            check!("frames", &self.frames, &expected.frames);
        }
        check!("mem", &self.mem, &expected.mem);
        check!("bytes", &self.bytes, &expected.bytes);
        check!("globals", &self.globals, &expected.globals);
        check!("call", self.call, expected.call);
        check!("return", self.ret, expected.ret);
        None
    }
}
