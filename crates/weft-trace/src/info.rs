//! What a tracer needs to know of a module beyond the engine's lowered code: each
//! instruction's text and the types on the operand stack before it.

use crate::error::TraceError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use wasmparser::{Parser, Payload, Validator};
use weft_core::ValType;
use weft_ir::{LowerMode, Module};

/// Per-instruction facts about one exact-mode instruction.
#[derive(Copy, Clone, Debug)]
pub(crate) struct StepInfo {
    /// Index into [`ModuleInfo::ops`].
    pub op: u32,
    /// Start of the operand types in [`ModuleInfo::types`].
    pub types_start: u32,
    /// Number of operand types (the validator's stack height before the operator).
    pub types_len: u32,
}

/// An operator as written in the module.
#[derive(Clone, Debug)]
pub(crate) struct OpText {
    /// Index into [`ModuleInfo::mnemonics`].
    pub mnemonic: u16,
    /// The operator with its immediates, as `weft print` shows it.
    pub text: String,
}

/// Module facts for tracing: instruction texts, operand-stack types per instruction, local
/// and global types, and the module's SHA-256 (which trace headers carry).
pub struct ModuleInfo {
    /// SHA-256 of the module binary, lower-case hex.
    pub sha256: String,
    /// Distinct operator mnemonics, in first-seen order (binary traces refer to them by index).
    pub mnemonics: Vec<String>,
    pub(crate) ops: Vec<OpText>,
    pub(crate) types: Vec<Option<ValType>>,
    /// Per defined function: facts by exact-mode instruction index.
    pub(crate) funcs: Vec<Vec<StepInfo>>,
    /// Per defined function: parameter and local types.
    pub(crate) locals: Vec<Vec<ValType>>,
    /// Type of every global.
    pub(crate) globals: Vec<ValType>,
    /// Number of imported functions.
    pub(crate) num_imported_funcs: u32,
}

impl ModuleInfo {
    /// Analyses `module` (already validated by the engine's loader).
    pub fn new(module: &Module) -> Result<ModuleInfo, TraceError> {
        let bytes: &[u8] = &module.bytes;
        let sha256 = hex(&Sha256::digest(bytes));
        let texts = instruction_texts(bytes)?;
        let mut mnemonics: Vec<String> = Vec::new();
        let mut mnemonic_ids: HashMap<String, u16> = HashMap::new();
        let mut ops = Vec::new();
        let mut types = Vec::new();
        // (offset -> (op index, types start, types len)), per function body.
        let mut by_offset: Vec<HashMap<u32, StepInfo>> = Vec::new();
        let mut validator = Validator::new_with_features(Module::features());
        let mut allocs = wasmparser::FuncValidatorAllocations::default();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| TraceError::Module(e.to_string()))?;
            let func = match validator
                .payload(&payload)
                .map_err(|e| TraceError::Module(e.to_string()))?
            {
                wasmparser::ValidPayload::Func(func, body) => Some((func, body)),
                _ => None,
            };
            let Some((func, body)) = func else {
                if let Payload::End(_) = payload {
                    break;
                }
                continue;
            };
            let mut v = func.into_validator(allocs);
            let merr = |e: wasmparser::BinaryReaderError| TraceError::Module(e.to_string());
            let mut locals_reader = body.get_locals_reader().map_err(merr)?;
            for _ in 0..locals_reader.get_count() {
                let offset = locals_reader.original_position();
                let (count, t) = locals_reader.read().map_err(merr)?;
                v.define_locals(offset, count, t).map_err(merr)?;
            }
            let mut reader = body.get_operators_reader().map_err(merr)?;
            let mut map = HashMap::new();
            while !reader.eof() {
                let offset = reader.original_position();
                let op = reader.read().map_err(merr)?;
                let start = types.len() as u32;
                let height = v.operand_stack_height();
                for depth in (0..height).rev() {
                    let ty = v
                        .get_operand_type(depth as usize)
                        .flatten()
                        .and_then(val_type);
                    types.push(ty);
                }
                let text = texts
                    .get(&(offset as u32))
                    .cloned()
                    .unwrap_or_else(|| format!("{op:?}"));
                let mnemonic = text.split(' ').next().unwrap_or("").to_string();
                let next_id = mnemonic_ids.len() as u16;
                let id = *mnemonic_ids.entry(mnemonic.clone()).or_insert_with(|| {
                    mnemonics.push(mnemonic);
                    next_id
                });
                map.insert(
                    offset as u32,
                    StepInfo {
                        op: ops.len() as u32,
                        types_start: start,
                        types_len: height,
                    },
                );
                ops.push(OpText { mnemonic: id, text });
                v.op(offset, &op)
                    .map_err(|e| TraceError::Module(e.to_string()))?;
            }
            allocs = v.into_allocations();
            by_offset.push(map);
        }
        let lowered = module
            .lowered(LowerMode::EXACT)
            .map_err(|e| TraceError::Module(e.to_string()))?;
        let mut funcs = Vec::with_capacity(lowered.len());
        let mut locals = Vec::with_capacity(lowered.len());
        for (i, f) in lowered.iter().enumerate() {
            let map = by_offset.get(i).ok_or_else(|| {
                TraceError::Module(format!("function {} has no body", f.func_index))
            })?;
            let steps = f
                .offsets
                .iter()
                .map(|off| {
                    map.get(off).copied().ok_or_else(|| {
                        TraceError::Module(format!(
                            "function {}: no operator at offset {off:#x}",
                            f.func_index
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            funcs.push(steps);
            let ty = module.func_type(f.func_index);
            let mut l = ty.params.clone();
            l.extend(&f.local_types);
            locals.push(l);
        }
        Ok(ModuleInfo {
            sha256,
            mnemonics,
            ops,
            types,
            funcs,
            locals,
            globals: module.globals.iter().map(|g| g.ty).collect(),
            num_imported_funcs: module.num_imported_funcs,
        })
    }

    /// Facts about instruction `pc` of function `func`, if it is a defined function.
    #[inline]
    pub(crate) fn step(&self, func: u32, pc: u32) -> Option<&StepInfo> {
        self.funcs
            .get(func.checked_sub(self.num_imported_funcs)? as usize)?
            .get(pc as usize)
    }

    /// The operand types of a step, bottom first.
    #[inline]
    pub(crate) fn operand_types(&self, info: &StepInfo) -> &[Option<ValType>] {
        &self.types[info.types_start as usize..(info.types_start + info.types_len) as usize]
    }

    /// Types of the locals of function `func`.
    pub(crate) fn local_types(&self, func: u32) -> &[ValType] {
        func.checked_sub(self.num_imported_funcs)
            .and_then(|i| self.locals.get(i as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// Type of global `index`.
    pub(crate) fn global_type(&self, index: u32) -> Option<ValType> {
        self.globals.get(index as usize).copied()
    }
}

/// The engine's value type of a wasmparser value type.
fn val_type(t: wasmparser::ValType) -> Option<ValType> {
    use wasmparser::ValType as W;
    Some(match t {
        W::I32 => ValType::I32,
        W::I64 => ValType::I64,
        W::F32 => ValType::F32,
        W::F64 => ValType::F64,
        W::V128 => ValType::V128,
        W::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        W::Ref(_) => ValType::ExternRef,
    })
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Instruction text by module byte offset, from the printer `weft print --offsets` uses.
fn instruction_texts(bytes: &[u8]) -> Result<HashMap<u32, String>, TraceError> {
    let printed = weft_ir::print_module(bytes).map_err(|e| TraceError::Module(e.to_string()))?;
    let mut out = HashMap::new();
    let mut in_func = false;
    for line in printed.lines() {
        let Some(rest) = line.strip_prefix("(;@") else {
            continue;
        };
        let Some((off, text)) = rest.split_once(";)") else {
            continue;
        };
        let Ok(offset) = u32::from_str_radix(off.trim(), 16) else {
            continue;
        };
        let text = text.trim();
        if text.starts_with("(func") {
            in_func = true;
            continue;
        }
        if !in_func || text.starts_with("(local") {
            continue;
        }
        if text == ")" {
            // The function's closing `end`.
            out.insert(offset, "end".to_string());
            in_func = false;
            continue;
        }
        if text.starts_with('(') {
            in_func = false;
            continue;
        }
        out.insert(offset, clean(text));
    }
    Ok(out)
}

/// Drops the printer's comments (`;; label = @1`, `(;@2;)`) from an instruction.
fn clean(text: &str) -> String {
    let text = text.split(";;").next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("(;") {
        out.push_str(&rest[..i]);
        match rest[i..].find(";)") {
            Some(j) => rest = &rest[i + j + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
