//! A generated module: types, functions, globals, table, memory, data. Encodes to a binary
//! (optionally with host-function imports for probes and instrumented copies) and prints as
//! flat text: one instruction per line, markers as comment lines, names for every function,
//! global, table and type.

use crate::ins::{BlockTy, Ins, Marker};
use crate::ops;
use std::fmt::Write as _;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection,
    Instruction, MemArg, MemorySection, MemoryType, Module, RefType, TableSection, TableType,
    TypeSection,
};
use weft_core::{FuncType, Val, ValType};

/// Initial pages of memory 0.
pub const MEMORY_PAGES: u64 = 1;
/// Maximum pages of memory 0 (so `memory.grow` can succeed once and then fails).
pub const MEMORY_MAX_PAGES: u64 = 2;

/// A defined function.
#[derive(Clone, Debug)]
pub struct FuncDef {
    /// Index of its type in [`Program::types`].
    pub ty: u32,
    /// Declared locals (after the parameters).
    pub locals: Vec<ValType>,
    /// Body without the final `end`.
    pub body: Vec<Ins>,
    /// Text name without `$`.
    pub name: String,
}

/// A whole generated module.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Type section: function signatures and multi-value block types.
    pub types: Vec<FuncType>,
    /// Defined functions; the entry function is exported as `main`.
    pub funcs: Vec<FuncDef>,
    /// Mutable globals with their initial values.
    pub globals: Vec<Val>,
    /// Table 0 (funcref, fixed size): the function id in each slot.
    pub table: Vec<u32>,
    /// Active data segment of memory 0: offset and bytes.
    pub data: (u32, Vec<u8>),
    /// Function id of the entry function.
    pub entry: u32,
}

/// Host functions a probe or an instrumented copy imports (module `weft`), before every
/// defined function.
#[derive(Clone, Debug, Default)]
pub struct Imports {
    /// Name and signature of each import, in index order.
    pub funcs: Vec<(String, FuncType)>,
}

fn enc_ty(t: ValType) -> wasm_encoder::ValType {
    match t {
        ValType::I32 => wasm_encoder::ValType::I32,
        ValType::I64 => wasm_encoder::ValType::I64,
        ValType::F32 => wasm_encoder::ValType::F32,
        ValType::F64 => wasm_encoder::ValType::F64,
        ValType::V128 => wasm_encoder::ValType::V128,
        ValType::FuncRef => wasm_encoder::ValType::Ref(RefType::FUNCREF),
        ValType::ExternRef => wasm_encoder::ValType::Ref(RefType::EXTERNREF),
    }
}

fn const_instr(v: Val) -> Instruction<'static> {
    match v {
        Val::I32(x) => Instruction::I32Const(x),
        Val::I64(x) => Instruction::I64Const(x),
        Val::F32(b) => Instruction::F32Const(wasm_encoder::Ieee32::new(b)),
        Val::F64(b) => Instruction::F64Const(wasm_encoder::Ieee64::new(b)),
        Val::V128(x) => Instruction::V128Const(x as i128),
        Val::FuncRef(_) => Instruction::RefNull(wasm_encoder::HeapType::FUNC),
        Val::ExternRef(_) => Instruction::RefNull(wasm_encoder::HeapType::EXTERN),
    }
}

fn block_ty(b: &BlockTy) -> wasm_encoder::BlockType {
    match b {
        BlockTy::Empty => wasm_encoder::BlockType::Empty,
        BlockTy::Value(t) => wasm_encoder::BlockType::Result(enc_ty(*t)),
        BlockTy::Type(i) => wasm_encoder::BlockType::FunctionType(*i),
    }
}

fn memarg(offset: u32, width: u32) -> MemArg {
    MemArg {
        offset: offset as u64,
        align: ops::align_of(width),
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// How markers become code in an encoding.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MarkerMode {
    /// Markers emit nothing (the dataset binary).
    Comment,
    /// Markers call host functions: `flag` (import `flag_import`) with the flag number, and
    /// `inspect` (import `inspect_import`) with a copy of the block's values.
    Instrument {
        /// Import index of `flag(i32)`.
        flag_import: u32,
        /// Import index of `inspect(values...)`, if the program has an INSPECT marker.
        inspect_import: Option<u32>,
    },
}

impl Program {
    /// Index of a function type, adding it when new.
    pub fn type_index(&mut self, ty: &FuncType) -> u32 {
        match self.types.iter().position(|t| t == ty) {
            Some(i) => i as u32,
            None => {
                self.types.push(ty.clone());
                self.types.len() as u32 - 1
            }
        }
    }

    /// The signature of a function id.
    pub fn func_type(&self, id: u32) -> &FuncType {
        &self.types[self.funcs[id as usize].ty as usize]
    }

    /// Encodes the module. `imports` come first in the function index space; `bodies`
    /// optionally replaces the body (and appends locals) of some functions (probes).
    pub fn encode(
        &self,
        imports: &Imports,
        overrides: &[(u32, &[Ins], &[ValType])],
        markers: MarkerMode,
    ) -> Vec<u8> {
        let nimp = imports.funcs.len() as u32;
        let mut module = Module::new();
        let mut types = TypeSection::new();
        for t in &self.types {
            types.ty().function(
                t.params.iter().map(|p| enc_ty(*p)),
                t.results.iter().map(|r| enc_ty(*r)),
            );
        }
        let type_base = self.types.len() as u32;
        for (_, t) in &imports.funcs {
            types.ty().function(
                t.params.iter().map(|p| enc_ty(*p)),
                t.results.iter().map(|r| enc_ty(*r)),
            );
        }
        module.section(&types);
        if nimp > 0 {
            let mut imp = ImportSection::new();
            for (i, (name, _)) in imports.funcs.iter().enumerate() {
                imp.import("weft", name, EntityType::Function(type_base + i as u32));
            }
            module.section(&imp);
        }
        let mut fs = FunctionSection::new();
        for f in &self.funcs {
            fs.function(f.ty);
        }
        module.section(&fs);
        if !self.table.is_empty() {
            let mut ts = TableSection::new();
            ts.table(TableType {
                element_type: RefType::FUNCREF,
                table64: false,
                minimum: self.table.len() as u64,
                maximum: Some(self.table.len() as u64),
                shared: false,
            });
            module.section(&ts);
        }
        let mut ms = MemorySection::new();
        ms.memory(MemoryType {
            minimum: MEMORY_PAGES,
            maximum: Some(MEMORY_MAX_PAGES),
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&ms);
        if !self.globals.is_empty() {
            let mut gs = GlobalSection::new();
            for g in &self.globals {
                let init = match *g {
                    Val::I32(x) => ConstExpr::i32_const(x),
                    Val::I64(x) => ConstExpr::i64_const(x),
                    Val::F32(b) => ConstExpr::f32_const(wasm_encoder::Ieee32::new(b)),
                    Val::F64(b) => ConstExpr::f64_const(wasm_encoder::Ieee64::new(b)),
                    _ => ConstExpr::ref_null(wasm_encoder::HeapType::FUNC),
                };
                gs.global(
                    GlobalType {
                        val_type: enc_ty(g.ty()),
                        mutable: true,
                        shared: false,
                    },
                    &init,
                );
            }
            module.section(&gs);
        }
        let mut ex = ExportSection::new();
        ex.export("main", ExportKind::Func, nimp + self.entry);
        ex.export("memory", ExportKind::Memory, 0);
        module.section(&ex);
        if !self.table.is_empty() {
            let mut es = ElementSection::new();
            let idx: Vec<u32> = self.table.iter().map(|f| f + nimp).collect();
            es.active(
                Some(0),
                &ConstExpr::i32_const(0),
                Elements::Functions(idx.into()),
            );
            module.section(&es);
        }
        let mut code = CodeSection::new();
        for (id, f) in self.funcs.iter().enumerate() {
            let (body, extra): (&[Ins], &[ValType]) =
                match overrides.iter().find(|(i, _, _)| *i as usize == id) {
                    Some((_, b, l)) => (b, l),
                    None => (&f.body, &[]),
                };
            let nparams = self.types[f.ty as usize].params.len() as u32;
            let mut locals: Vec<ValType> = f.locals.clone();
            locals.extend_from_slice(extra);
            // Scratch locals for INSPECT instrumentation, one per value.
            let mut scratch_base = 0;
            if let MarkerMode::Instrument { .. } = markers {
                scratch_base = nparams + locals.len() as u32;
                for ins in body {
                    if let Ins::Marker(Marker::Inspect(tys)) = ins {
                        locals.extend_from_slice(tys);
                    }
                }
            }
            let mut func = Function::new(locals.iter().map(|t| (1, enc_ty(*t))));
            for ins in body {
                emit(&mut func, ins, nimp, markers, scratch_base);
            }
            func.instruction(&Instruction::End);
            code.function(&func);
        }
        module.section(&code);
        if !self.data.1.is_empty() {
            let mut ds = DataSection::new();
            ds.active(
                0,
                &ConstExpr::i32_const(self.data.0 as i32),
                self.data.1.iter().copied(),
            );
            module.section(&ds);
        }
        module.finish()
    }

    /// The dataset binary: markers are comments only.
    pub fn to_wasm(&self) -> Vec<u8> {
        self.encode(&Imports::default(), &[], MarkerMode::Comment)
    }

    /// Flat text: one instruction per line, markers as `;;` lines, `$names` throughout.
    pub fn to_wat(&self) -> String {
        let mut s = String::from("(module\n");
        for (i, t) in self.types.iter().enumerate() {
            let _ = writeln!(s, "  (type $t{i} {})", sig_text(t));
        }
        for f in &self.funcs {
            let t = &self.types[f.ty as usize];
            let _ = write!(s, "  (func ${} (type $t{})", f.name, f.ty);
            let sig = sig_text(t);
            let inner = &sig[5..sig.len() - 1];
            if !inner.is_empty() {
                let _ = write!(s, "{inner}");
            }
            s.push('\n');
            if !f.locals.is_empty() {
                s.push_str("    (local");
                for l in &f.locals {
                    let _ = write!(s, " {l}");
                }
                s.push_str(")\n");
            }
            let mut depth = 2usize;
            for ins in &f.body {
                if matches!(ins, Ins::End | Ins::Else) {
                    depth = depth.saturating_sub(1).max(2);
                }
                for _ in 0..depth {
                    s.push_str("  ");
                }
                s.push_str(&self.ins_text(ins));
                s.push('\n');
                if matches!(ins, Ins::Block(_) | Ins::If(_) | Ins::Loop | Ins::Else) {
                    depth += 1;
                }
            }
            s.push_str("  )\n");
        }
        if !self.table.is_empty() {
            let n = self.table.len();
            let _ = writeln!(s, "  (table $tab0 {n} {n} funcref)");
        }
        let _ = writeln!(s, "  (memory $mem {MEMORY_PAGES} {MEMORY_MAX_PAGES})");
        for (i, g) in self.globals.iter().enumerate() {
            let _ = writeln!(s, "  (global $g{i} (mut {}) ({}))", g.ty(), const_text(*g));
        }
        let _ = writeln!(
            s,
            "  (export \"main\" (func ${}))",
            self.funcs[self.entry as usize].name
        );
        s.push_str("  (export \"memory\" (memory $mem))\n");
        if !self.table.is_empty() {
            s.push_str("  (elem (table $tab0) (i32.const 0) func");
            for f in &self.table {
                let _ = write!(s, " ${}", self.funcs[*f as usize].name);
            }
            s.push_str(")\n");
        }
        if !self.data.1.is_empty() {
            let _ = write!(s, "  (data (i32.const {}) \"", self.data.0);
            for b in &self.data.1 {
                let _ = write!(s, "\\{b:02x}");
            }
            s.push_str("\")\n");
        }
        s.push_str(")\n");
        s
    }

    /// One instruction as text.
    pub fn ins_text(&self, ins: &Ins) -> String {
        match ins {
            Ins::Const(v) => format!("{} {}", ins.mnemonic(), const_value_text(*v)),
            Ins::LocalGet(i) | Ins::LocalSet(i) | Ins::LocalTee(i) => {
                format!("{} {i}", ins.mnemonic())
            }
            Ins::GlobalGet(i) | Ins::GlobalSet(i) => format!("{} $g{i}", ins.mnemonic()),
            Ins::Load(_, off) | Ins::Store(_, off) if *off > 0 => {
                format!("{} offset={off}", ins.mnemonic())
            }
            Ins::Call(f) | Ins::RefFunc(f) => {
                format!("{} ${}", ins.mnemonic(), self.funcs[*f as usize].name)
            }
            Ins::CallIndirect(t) => format!("call_indirect $tab0 (type $t{t})"),
            Ins::Block(b) | Ins::If(b) => match b {
                BlockTy::Empty => ins.mnemonic().to_string(),
                BlockTy::Value(t) => format!("{} (result {t})", ins.mnemonic()),
                BlockTy::Type(i) => format!("{} (type $t{i})", ins.mnemonic()),
            },
            Ins::Br(d) | Ins::BrIf(d) => format!("{} {d}", ins.mnemonic()),
            Ins::BrTable(ts, d) => {
                let mut s = String::from("br_table");
                for t in ts {
                    let _ = write!(s, " {t}");
                }
                let _ = write!(s, " {d}");
                s
            }
            Ins::RefNullFunc => "ref.null func".into(),
            Ins::TableSize | Ins::TableGet | Ins::TableSet => format!("{} $tab0", ins.mnemonic()),
            Ins::Marker(Marker::Flag(k)) => format!(";;FLAG_{k}"),
            Ins::Marker(Marker::Inspect(_)) => ";;INSPECT".into(),
            Ins::HostCall(i) => format!("call {i}"),
            _ => ins.mnemonic().to_string(),
        }
    }
}

/// `(func (param ..) (result ..))`.
pub fn sig_text(t: &FuncType) -> String {
    t.to_string()
}

fn const_text(v: Val) -> String {
    match v {
        Val::FuncRef(_) => "ref.null func".into(),
        Val::ExternRef(_) => "ref.null extern".into(),
        _ => format!("{}.const {}", v.ty(), const_value_text(v)),
    }
}

/// Exact text of a constant: decimal integers; floats in shortest round-trip decimal, `inf`,
/// or `nan:0x…` with the payload, so every bit survives.
pub fn const_value_text(v: Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => float_text(b as u64, 32),
        Val::F64(b) => float_text(b, 64),
        Val::V128(x) => format!("i64x2 {} {}", x as u64 as i64, (x >> 64) as u64 as i64),
        _ => "null".into(),
    }
}

fn float_text(bits: u64, width: u32) -> String {
    let (sign, exp_all, mant) = if width == 32 {
        (
            bits >> 31 & 1,
            (bits >> 23 & 0xff) == 0xff,
            bits & 0x7f_ffff,
        )
    } else {
        (
            bits >> 63 & 1,
            (bits >> 52 & 0x7ff) == 0x7ff,
            bits & 0xf_ffff_ffff_ffff,
        )
    };
    let s = if sign == 1 { "-" } else { "" };
    if exp_all {
        return if mant == 0 {
            format!("{s}inf")
        } else {
            format!("{s}nan:0x{mant:x}")
        };
    }
    if width == 32 {
        format!("{:?}", f32::from_bits(bits as u32))
    } else {
        format!("{:?}", f64::from_bits(bits))
    }
}

fn emit(f: &mut Function, ins: &Ins, nimp: u32, markers: MarkerMode, scratch_base: u32) {
    let i = match ins {
        Ins::Const(v) => const_instr(*v),
        Ins::Unary(o) => ops::unary_instr(*o),
        Ins::Binary(o) => ops::binary_instr(*o),
        Ins::Select => Instruction::Select,
        Ins::Drop => Instruction::Drop,
        Ins::Nop => Instruction::Nop,
        Ins::LocalGet(i) => Instruction::LocalGet(*i),
        Ins::LocalSet(i) => Instruction::LocalSet(*i),
        Ins::LocalTee(i) => Instruction::LocalTee(*i),
        Ins::GlobalGet(i) => Instruction::GlobalGet(*i),
        Ins::GlobalSet(i) => Instruction::GlobalSet(*i),
        Ins::Load(o, off) => ops::load_instr(*o, memarg(*off, o.width())),
        Ins::Store(o, off) => ops::store_instr(*o, memarg(*off, o.width())),
        Ins::MemorySize => Instruction::MemorySize(0),
        Ins::MemoryGrow => Instruction::MemoryGrow(0),
        Ins::MemoryFill => Instruction::MemoryFill(0),
        Ins::MemoryCopy => Instruction::MemoryCopy {
            src_mem: 0,
            dst_mem: 0,
        },
        Ins::Call(id) => Instruction::Call(id + nimp),
        Ins::CallIndirect(t) => Instruction::CallIndirect {
            type_index: *t,
            table_index: 0,
        },
        Ins::Block(b) => Instruction::Block(block_ty(b)),
        Ins::If(b) => Instruction::If(block_ty(b)),
        Ins::Else => Instruction::Else,
        Ins::End => Instruction::End,
        Ins::Loop => Instruction::Loop(wasm_encoder::BlockType::Empty),
        Ins::Br(d) => Instruction::Br(*d),
        Ins::BrIf(d) => Instruction::BrIf(*d),
        Ins::BrTable(ts, d) => Instruction::BrTable(ts.clone().into(), *d),
        Ins::Return => Instruction::Return,
        Ins::RefNullFunc => Instruction::RefNull(wasm_encoder::HeapType::FUNC),
        Ins::RefFunc(id) => Instruction::RefFunc(id + nimp),
        Ins::RefIsNull => Instruction::RefIsNull,
        Ins::TableSize => Instruction::TableSize(0),
        Ins::TableGet => Instruction::TableGet(0),
        Ins::TableSet => Instruction::TableSet(0),
        Ins::HostCall(i) => Instruction::Call(*i),
        Ins::Unreachable => Instruction::Unreachable,
        Ins::Marker(m) => {
            if let MarkerMode::Instrument {
                flag_import,
                inspect_import,
            } = markers
            {
                match m {
                    Marker::Flag(k) => {
                        f.instruction(&Instruction::I32Const(*k as i32));
                        f.instruction(&Instruction::Call(flag_import));
                    }
                    Marker::Inspect(tys) => {
                        let n = tys.len() as u32;
                        for k in (0..n).rev() {
                            f.instruction(&Instruction::LocalSet(scratch_base + k));
                        }
                        for k in 0..n {
                            f.instruction(&Instruction::LocalGet(scratch_base + k));
                        }
                        if let Some(imp) = inspect_import {
                            f.instruction(&Instruction::Call(imp));
                        }
                        for k in 0..n {
                            f.instruction(&Instruction::LocalGet(scratch_base + k));
                        }
                    }
                }
            }
            return;
        }
    };
    f.instruction(&i);
}
