//! The validated module: types, imports, definitions and segments, plus lazily lowered code.

use crate::lower::{lower_function, LowerMode, LoweredFunc};
use crate::LoadError;
use std::sync::{Arc, OnceLock};
use wasmparser::{
    ExternalKind, FuncToValidate, Parser, Payload, TypeRef, Validator, ValidatorResources,
    WasmFeatures,
};
use weft_core::{FuncType, Val, ValType};

/// Largest module binary weft accepts.
pub const MAX_MODULE_BYTES: usize = 256 << 20;

/// A table's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableType {
    /// Element type (`funcref` or `externref`).
    pub element: ValType,
    /// Initial number of elements.
    pub initial: u64,
    /// Maximum number of elements, if bounded.
    pub maximum: Option<u64>,
}

/// A linear memory's type, in 64 KiB pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryType {
    /// Initial pages.
    pub initial: u64,
    /// Maximum pages, if bounded.
    pub maximum: Option<u64>,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    /// Value type.
    pub ty: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// What an import brings in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

/// One import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// Kind and type.
    pub kind: ImportKind,
}

/// Kind of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A memory.
    Memory,
    /// A global.
    Global,
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Kind.
    pub kind: ExternKind,
    /// Index in the kind's index space.
    pub index: u32,
}

/// One operation of a constant expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstOp {
    /// Push a constant.
    Const(Val),
    /// Push the value of a global (by index).
    GlobalGet(u32),
    /// Push a reference to a function (by index).
    RefFunc(u32),
    /// Integer add of the two top values (extended constant expressions).
    Add,
    /// Integer subtract.
    Sub,
    /// Integer multiply.
    Mul,
}

/// A constant expression, as in global initialisers and segment offsets.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConstExpr(pub Vec<ConstOp>);

/// How an element segment is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElemMode {
    /// Only for `table.init`.
    Passive,
    /// Copied into a table at instantiation.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Declares function references; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemSegment {
    /// Usage.
    pub mode: ElemMode,
    /// Element type.
    pub ty: ValType,
    /// One constant expression per element.
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataMode {
    /// Only for `memory.init`.
    Passive,
    /// Copied into a memory at instantiation.
    Active {
        /// Memory index.
        memory: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// A data segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSegment {
    /// Usage.
    pub mode: DataMode,
    /// Bytes.
    pub bytes: Vec<u8>,
}

/// A defined function's body as it sits in the binary, kept for lazy lowering.
#[derive(Clone, Debug)]
pub(crate) struct BodySource {
    pub(crate) range: std::ops::Range<usize>,
    pub(crate) func_index: u32,
    pub(crate) type_index: u32,
}

/// The lowered bodies of every defined function, in one mode.
pub type LoweredCode = Arc<[Arc<LoweredFunc>]>;

/// A validated WebAssembly module.
#[derive(Debug)]
pub struct Module {
    /// The binary, as loaded.
    pub bytes: Arc<[u8]>,
    /// Function types by type index.
    pub types: Vec<FuncType>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub funcs: Vec<u32>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Every global's type, imported ones first.
    pub globals: Vec<GlobalType>,
    /// Initialisers of the defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Exports.
    pub exports: Vec<Export>,
    /// Start function.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Names from the `name` section, by function index.
    pub func_names: Vec<Option<String>>,
    pub(crate) bodies: Vec<BodySource>,
    resources: ValidatorResources,
    lowered: [OnceLock<Result<LoweredCode, LoadError>>; LowerMode::SLOTS],
}

fn val_type(t: wasmparser::ValType, offset: u64) -> Result<ValType, LoadError> {
    use wasmparser::ValType as W;
    Ok(match t {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::V128 => ValType::V128,
        W::Ref(r) if r == wasmparser::RefType::FUNCREF => ValType::FuncRef,
        W::Ref(r) if r == wasmparser::RefType::EXTERNREF => ValType::ExternRef,
        W::Ref(r) => {
            return Err(LoadError::Unsupported {
                offset,
                message: format!("reference type {r}"),
            })
        }
    })
}

pub(crate) fn convert_val_type(t: wasmparser::ValType) -> ValType {
    val_type(t, 0).unwrap_or(ValType::FuncRef)
}

fn ref_type(r: wasmparser::RefType, offset: u64) -> Result<ValType, LoadError> {
    val_type(wasmparser::ValType::Ref(r), offset)
}

fn const_expr(e: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, LoadError> {
    use wasmparser::Operator as O;
    let mut out = Vec::new();
    let mut reader = e.get_operators_reader();
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        out.push(match op {
            O::I32Const { value } => ConstOp::Const(Val::I32(value)),
            O::I64Const { value } => ConstOp::Const(Val::I64(value)),
            O::F32Const { value } => ConstOp::Const(Val::F32(value.bits())),
            O::F64Const { value } => ConstOp::Const(Val::F64(value.bits())),
            O::V128Const { value } => ConstOp::Const(Val::V128(value.i128() as u128)),
            O::RefNull { hty } => {
                let ty = if hty == wasmparser::HeapType::EXTERN {
                    Val::ExternRef(None)
                } else {
                    Val::FuncRef(None)
                };
                ConstOp::Const(ty)
            }
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add | O::I64Add => ConstOp::Add,
            O::I32Sub | O::I64Sub => ConstOp::Sub,
            O::I32Mul | O::I64Mul => ConstOp::Mul,
            O::End => continue,
            other => {
                return Err(LoadError::Unsupported {
                    offset,
                    message: format!("constant expression operator {other:?}"),
                })
            }
        });
    }
    Ok(ConstExpr(out))
}

impl Module {
    /// The features weft accepts: WebAssembly 2.0 (SIMD included).
    pub fn features() -> WasmFeatures {
        WasmFeatures::WASM2
    }

    /// Loads a module from binary or text (`.wat`) bytes.
    pub fn from_bytes_or_text(bytes: &[u8]) -> Result<Module, LoadError> {
        if bytes.starts_with(b"\0asm") {
            Module::new(bytes)
        } else {
            let binary = wat::parse_bytes(bytes).map_err(|e| LoadError::Text(e.to_string()))?;
            Module::new(&binary)
        }
    }

    /// Parses and validates a binary module.
    pub fn new(bytes: &[u8]) -> Result<Module, LoadError> {
        Self::parse(bytes, true)
    }

    /// Parses and validates a binary module, lowering its code in `mode` in the same pass
    /// (lowering validates each body as it goes). For callers that load many small modules
    /// and run each at once, such as the generator's probes: one pass over the code instead
    /// of two.
    pub fn new_lowered(bytes: &[u8], mode: LowerMode) -> Result<Module, LoadError> {
        let m = Self::parse(bytes, false)?;
        m.lowered(mode)?;
        Ok(m)
    }

    /// Parses and validates everything but the function bodies, which are validated too when
    /// `validate_bodies` is set (else the caller lowers them at once, which validates them).
    fn parse(bytes: &[u8], validate_bodies: bool) -> Result<Module, LoadError> {
        if bytes.len() > MAX_MODULE_BYTES {
            return Err(LoadError::TooLarge(format!(
                "{} bytes (limit {MAX_MODULE_BYTES})",
                bytes.len()
            )));
        }
        let mut validator = Validator::new_with_features(Self::features());
        let mut m = ModuleBuilder::default();
        let mut to_validate: Vec<(
            FuncToValidate<ValidatorResources>,
            wasmparser::FunctionBody<'_>,
        )> = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            match &payload {
                Payload::CodeSectionEntry(body) => {
                    let func = validator.code_section_entry(body)?;
                    to_validate.push((func, body.clone()));
                    continue;
                }
                Payload::MemorySection(r) => check_memory_leb_lengths(bytes, r.range())?,
                Payload::CustomSection(c) if c.name() == "name" => {
                    m.read_names(c.data(), c.data_offset());
                }
                _ => {}
            }
            validator.payload(&payload)?;
            m.payload(payload)?;
        }
        let resources = match to_validate.first() {
            Some((f, _)) => f.resources.clone(),
            None => {
                // No code: validate an empty function set; resources come from the validator
                // state, which we cannot reach without a code entry. Re-validate a copy with an
                // empty code section is unnecessary: lowering never needs resources then.
                return m.finish(bytes, None, Vec::new());
            }
        };
        // Validate every body now (lowering re-runs the same validator per mode).
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        let mut sources = Vec::with_capacity(to_validate.len());
        for (func, body) in to_validate {
            let index = func.index;
            let ty = func.ty;
            if validate_bodies {
                let mut v = func.into_validator(allocs);
                v.validate(&body)?;
                allocs = v.into_allocations();
            }
            let r = body.range();
            sources.push(BodySource {
                range: r.start as usize..r.end as usize,
                func_index: index,
                type_index: ty,
            });
        }
        m.finish(bytes, Some(resources), sources)
    }

    /// Type of function `index`.
    pub fn func_type(&self, index: u32) -> &FuncType {
        &self.types[self.funcs[index as usize] as usize]
    }

    /// Number of functions defined (not imported).
    pub fn num_defined_funcs(&self) -> usize {
        self.bodies.len()
    }

    /// Code-section byte range of defined function `index` (a function index, not a defined
    /// index). `None` for imports.
    pub fn body_range(&self, index: u32) -> Option<std::ops::Range<usize>> {
        let defined = index.checked_sub(self.num_imported_funcs)? as usize;
        self.bodies.get(defined).map(|b| b.range.clone())
    }

    /// Finds an export by name.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// The lowered code of every defined function in `mode`, lowered on first use.
    pub fn lowered(&self, mode: LowerMode) -> Result<LoweredCode, LoadError> {
        let slot = &self.lowered[mode.slot()];
        slot.get_or_init(|| {
            let resources = self.resources.clone();
            let mut allocs = wasmparser::FuncValidatorAllocations::default();
            let mut out = Vec::with_capacity(self.bodies.len());
            for b in &self.bodies {
                let func = FuncToValidate {
                    resources: resources.clone(),
                    index: b.func_index,
                    ty: b.type_index,
                    features: Self::features(),
                };
                let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
                    &self.bytes[b.range.clone()],
                    b.range.start as u64,
                ));
                let validator = func.into_validator(allocs);
                let (lowered, v) = lower_function(self, b.func_index, &body, validator, mode)?;
                allocs = v.into_allocations();
                out.push(Arc::new(lowered));
            }
            Ok(out.into())
        })
        .clone()
    }

    /// A printable name for function `index`: its `name` section entry or export name.
    pub fn func_name(&self, index: u32) -> String {
        if let Some(Some(n)) = self.func_names.get(index as usize) {
            return n.clone();
        }
        if let Some(e) = self
            .exports
            .iter()
            .find(|e| e.kind == ExternKind::Func && e.index == index)
        {
            return e.name.clone();
        }
        format!("func[{index}]")
    }
}

impl Clone for LoadError {
    fn clone(&self) -> Self {
        match self {
            LoadError::Text(s) => LoadError::Text(s.clone()),
            LoadError::Invalid { offset, message } => LoadError::Invalid {
                offset: *offset,
                message: message.clone(),
            },
            LoadError::Unsupported { offset, message } => LoadError::Unsupported {
                offset: *offset,
                message: message.clone(),
            },
            LoadError::TooLarge(s) => LoadError::TooLarge(s.clone()),
        }
    }
}

#[derive(Default)]
struct ModuleBuilder {
    types: Vec<FuncType>,
    imports: Vec<Import>,
    funcs: Vec<u32>,
    num_imported_funcs: u32,
    tables: Vec<TableType>,
    memories: Vec<MemoryType>,
    globals: Vec<GlobalType>,
    global_inits: Vec<ConstExpr>,
    num_imported_globals: u32,
    exports: Vec<Export>,
    start: Option<u32>,
    elems: Vec<ElemSegment>,
    datas: Vec<DataSegment>,
    func_names: Vec<(u32, String)>,
}

impl ModuleBuilder {
    fn read_names(&mut self, data: &[u8], offset: u64) {
        let reader =
            wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(data, offset));
        for sub in reader.into_iter().flatten() {
            if let wasmparser::Name::Function(map) = sub {
                for naming in map.into_iter().flatten() {
                    self.func_names
                        .push((naming.index, naming.name.to_string()));
                }
            }
        }
    }

    fn payload(&mut self, payload: Payload<'_>) -> Result<(), LoadError> {
        match payload {
            Payload::TypeSection(r) => {
                for group in r.into_iter_with_offsets() {
                    let (offset, group) = group?;
                    for sub in group.types() {
                        match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                let params = f
                                    .params()
                                    .iter()
                                    .map(|t| val_type(*t, offset))
                                    .collect::<Result<Vec<_>, _>>()?;
                                let results = f
                                    .results()
                                    .iter()
                                    .map(|t| val_type(*t, offset))
                                    .collect::<Result<Vec<_>, _>>()?;
                                self.types.push(FuncType::new(params, results));
                            }
                            _ => {
                                return Err(LoadError::Unsupported {
                                    offset,
                                    message: "non-function type".into(),
                                })
                            }
                        }
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports_with_offsets() {
                    let (offset, imp) = imp?;
                    let kind = match imp.ty {
                        TypeRef::Func(t) => {
                            self.funcs.push(t);
                            self.num_imported_funcs += 1;
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = TableType {
                                element: ref_type(t.element_type, offset)?,
                                initial: t.initial,
                                maximum: t.maximum,
                            };
                            self.tables.push(t.clone());
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(m) => {
                            let m = MemoryType {
                                initial: m.initial,
                                maximum: m.maximum,
                            };
                            self.memories.push(m.clone());
                            ImportKind::Memory(m)
                        }
                        TypeRef::Global(g) => {
                            let g = GlobalType {
                                ty: val_type(g.content_type, offset)?,
                                mutable: g.mutable,
                            };
                            self.globals.push(g);
                            self.num_imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        TypeRef::Tag(_) | TypeRef::FuncExact(_) => {
                            return Err(LoadError::Unsupported {
                                offset,
                                message: "tag import".into(),
                            })
                        }
                    };
                    self.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    self.funcs.push(t?);
                }
            }
            Payload::TableSection(r) => {
                for (i, t) in r.into_iter_with_offsets().enumerate() {
                    let (offset, t) = t?;
                    let _ = i;
                    self.tables.push(TableType {
                        element: ref_type(t.ty.element_type, offset)?,
                        initial: t.ty.initial,
                        maximum: t.ty.maximum,
                    });
                    if let wasmparser::TableInit::Expr(_) = t.init {
                        return Err(LoadError::Unsupported {
                            offset,
                            message: "table initialiser expression".into(),
                        });
                    }
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m?;
                    self.memories.push(MemoryType {
                        initial: m.initial,
                        maximum: m.maximum,
                    });
                }
            }
            Payload::GlobalSection(r) => {
                for g in r.into_iter_with_offsets() {
                    let (offset, g) = g?;
                    self.globals.push(GlobalType {
                        ty: val_type(g.ty.content_type, offset)?,
                        mutable: g.ty.mutable,
                    });
                    self.global_inits.push(const_expr(&g.init_expr)?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func => ExternKind::Func,
                        ExternalKind::Table => ExternKind::Table,
                        ExternalKind::Memory => ExternKind::Memory,
                        ExternalKind::Global => ExternKind::Global,
                        ExternalKind::Tag | ExternalKind::FuncExact => {
                            return Err(LoadError::Unsupported {
                                offset: 0,
                                message: format!("export kind of `{}`", e.name),
                            })
                        }
                    };
                    self.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(r) => {
                for e in r.into_iter_with_offsets() {
                    let (offset, e) = e?;
                    let (ty, items) = match e.items {
                        wasmparser::ElementItems::Functions(fs) => {
                            let mut items = Vec::new();
                            for f in fs {
                                items.push(ConstExpr(vec![ConstOp::RefFunc(f?)]));
                            }
                            (ValType::FuncRef, items)
                        }
                        wasmparser::ElementItems::Expressions(rt, es) => {
                            let mut items = Vec::new();
                            for ex in es {
                                items.push(const_expr(&ex?)?);
                            }
                            (ref_type(rt, offset)?, items)
                        }
                    };
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => ElemMode::Passive,
                        wasmparser::ElementKind::Declared => ElemMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => ElemMode::Active {
                            table: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    self.elems.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d?;
                    let mode = match d.kind {
                        wasmparser::DataKind::Passive => DataMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => DataMode::Active {
                            memory: memory_index,
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    self.datas.push(DataSegment {
                        mode,
                        bytes: d.data.to_vec(),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(
        self,
        bytes: &[u8],
        resources: Option<ValidatorResources>,
        bodies: Vec<BodySource>,
    ) -> Result<Module, LoadError> {
        let resources = match resources {
            Some(r) => r,
            None => empty_resources(),
        };
        let mut func_names = vec![None; self.funcs.len()];
        for (i, n) in self.func_names {
            if let Some(slot) = func_names.get_mut(i as usize) {
                *slot = Some(n);
            }
        }
        Ok(Module {
            bytes: bytes.into(),
            types: self.types,
            imports: self.imports,
            funcs: self.funcs,
            num_imported_funcs: self.num_imported_funcs,
            tables: self.tables,
            memories: self.memories,
            globals: self.globals,
            global_inits: self.global_inits,
            num_imported_globals: self.num_imported_globals,
            exports: self.exports,
            start: self.start,
            elems: self.elems,
            datas: self.datas,
            func_names,
            bodies,
            resources,
            lowered: Default::default(),
        })
    }
}

/// wasmparser reads memory limits as 64-bit LEB128 for every memory; a 32-bit memory's limits
/// must be encoded in at most 5 bytes ("integer representation too long" otherwise).
fn check_memory_leb_lengths(bytes: &[u8], range: std::ops::Range<u64>) -> Result<(), LoadError> {
    let start = range.start as usize;
    let data = &bytes[start..range.end as usize];
    let mut pos = 0usize;
    let read_leb = |pos: &mut usize| -> Option<usize> {
        let first = *pos;
        loop {
            let b = *data.get(*pos)?;
            *pos += 1;
            if b & 0x80 == 0 {
                return Some(*pos - first);
            }
        }
    };
    if read_leb(&mut pos).is_none() {
        return Ok(());
    }
    while pos < data.len() {
        let flags = data[pos];
        pos += 1;
        let is64 = flags & 0x04 != 0;
        for present in [true, flags & 0x01 != 0] {
            if !present {
                continue;
            }
            let Some(len) = read_leb(&mut pos) else {
                return Ok(());
            };
            if !is64 && len > 5 {
                return Err(LoadError::Invalid {
                    offset: (start + pos) as u64,
                    message: "integer representation too long".into(),
                });
            }
        }
        if flags & 0x08 != 0 {
            // Custom page size: one more LEB.
            let _ = read_leb(&mut pos);
        }
    }
    Ok(())
}

/// Validator resources for a module without code (never used for lowering).
fn empty_resources() -> ValidatorResources {
    // The smallest module with one function yields resources; they are only consulted when
    // there are bodies to lower, and a module without code has none.
    let tiny = b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0\x03\x02\x01\0\x0a\x04\x01\x02\0\x0b";
    let mut v = Validator::new();
    for p in Parser::new(0).parse_all(tiny) {
        if let Ok(Payload::CodeSectionEntry(body)) = p {
            if let Ok(f) = v.code_section_entry(&body) {
                return f.resources;
            }
        } else if let Ok(p) = p {
            let _ = v.payload(&p);
        }
    }
    unreachable!("the built-in tiny module is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).expect("test module text")
    }

    /// Loading with lowering in the same pass accepts what `new` accepts, with the code
    /// lowered, and rejects invalid bodies (type errors, a missing `end`, code after it) just
    /// as `new` does.
    #[test]
    fn new_lowered_validates_like_new() {
        let good = wasm("(module (func (param i32) (result i32) local.get 0 i32.const 1 i32.add))");
        let m = Module::new_lowered(&good, LowerMode::FAST_FUEL).expect("valid module");
        assert!(m.lowered[LowerMode::FAST_FUEL.slot()].get().is_some());
        assert!(Module::new(&good).is_ok());

        let type_error = wasm("(module (func (result i32) i64.const 1))");
        assert!(Module::new(&type_error).is_err());
        assert!(Module::new_lowered(&type_error, LowerMode::FAST_FUEL).is_err());

        // The body `i32.const 1; drop; end` with its final `end` (0x0b) dropped, and with an
        // extra `nop` (0x01) after it: the code section entry is patched by hand.
        let base = wasm("(module (func i32.const 1 drop))");
        let end = base.len() - 1;
        assert_eq!(base[end], 0x0b);
        for patched in [
            {
                // Body size 5 -> 4, section size - 1, last byte removed.
                let mut b = base.clone();
                b.truncate(end);
                let body_size = b.len() - 5;
                b[body_size] -= 1;
                b[body_size - 2] -= 1;
                b
            },
            {
                let mut b = base.clone();
                b.push(0x01);
                let body_size = b.len() - 7;
                b[body_size] += 1;
                b[body_size - 2] += 1;
                b
            },
        ] {
            assert!(Module::new(&patched).is_err(), "{patched:?}");
            assert!(
                Module::new_lowered(&patched, LowerMode::FAST_FUEL).is_err(),
                "{patched:?}"
            );
        }
    }
}
