//! A module with no imports that replays a trace by itself.
//!
//! The original module is re-encoded with its function imports removed. Each import becomes
//! a defined function that dispatches, through a new table indexed by a call counter, to one
//! generated function per recorded call; that function traps (`unreachable`) unless it is
//! the call the trace expects (same import, same arguments), copies the host's memory
//! writes in with `memory.init` from one passive data segment, applies `memory.grow`, and
//! returns the recorded results. A new `_start` makes the recorded export calls in order
//! with their recorded arguments and traps if a result differs. A recorded `proc_exit`
//! stores the status in the exported global `weft_exit_code` and ends the run with a trap;
//! a run that returns leaves it at 0. Any runtime can run the result.

use crate::replay::decode_all;
use crate::trace::{Event, Kind, Trace};
use crate::{sha256_hex, unhex, RrError};
use std::collections::HashMap;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataCountSection, DataSection, ElementSection, Elements,
    ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType, Ieee32,
    Ieee64, Instruction as I, RefType, StartSection, TableSection, TableType, TypeSection, ValType,
};
use wasmparser::{Parser, Payload, TypeRef};

/// Name of the exported global that holds the replayed exit status.
pub const EXIT_GLOBAL: &str = "weft_exit_code";

struct Remap {
    imports: u32,
    defined: u32,
}

impl Reencode for Remap {
    type Error = std::convert::Infallible;
    fn function_index(&mut self, f: u32) -> Result<u32, wasm_encoder::reencode::Error> {
        Ok(if f < self.imports {
            self.defined + f
        } else {
            f - self.imports
        })
    }
}

fn enc<E: std::fmt::Debug>(e: E) -> RrError {
    RrError::Input(format!("cannot re-encode the module: {e:?}"))
}

struct Call {
    import: u32,
    args: Vec<wasmtime::Val>,
    results: Vec<wasmtime::Val>,
    writes: Vec<(u64, Vec<u8>)>,
    grow: Option<u64>,
    exit: Option<Option<i32>>,
}

/// Builds the standalone module for `trace` (recorded from `wasm`).
pub fn emit(wasm: &[u8], trace: &Trace) -> Result<Vec<u8>, RrError> {
    if trace.header.kind != Kind::Core {
        return Err(RrError::Unsupported(
            "standalone replay of component traces".into(),
        ));
    }
    let hash = sha256_hex(wasm);
    if hash != trace.header.sha256 {
        return Err(RrError::HashMismatch {
            expected: trace.header.sha256.clone(),
            actual: hash,
        });
    }
    // Types of the imports and exports, from wasmtime.
    let engine = crate::record::engine(false)?;
    let module = wasmtime::Module::new(&engine, wasm)
        .map_err(|e| RrError::Input(format!("invalid module: {e}")))?;
    let imports = crate::record::func_imports(&module)?;
    let import_ids: HashMap<(String, String), u32> = imports
        .iter()
        .enumerate()
        .map(|(i, (m, n, _))| ((m.clone(), n.clone()), i as u32))
        .collect();

    // The recorded calls.
    let mut calls: Vec<Call> = Vec::new();
    let mut exports: Vec<(String, Vec<wasmtime::Val>, Option<Vec<wasmtime::Val>>)> = Vec::new();
    let ev = &trace.events;
    let mut i = 0;
    while i < ev.len() {
        match &ev[i] {
            Event::ExportCall { name, args } => {
                let Some(wasmtime::ExternType::Func(ty)) = module.get_export(name) else {
                    return Err(RrError::Input(format!(
                        "event {i}: the module exports no function `{name}`"
                    )));
                };
                let a = decode_all(args, ty.params(), i, "argument")?;
                exports.push((name.clone(), a, None));
            }
            Event::ExportRet { results } => {
                let Some(last) = exports.last_mut() else {
                    return Err(RrError::Input(format!(
                        "event {i}: export-ret without export-call"
                    )));
                };
                let Some(wasmtime::ExternType::Func(ty)) = module.get_export(&last.0) else {
                    unreachable!()
                };
                last.2 = Some(decode_all(results, ty.results(), i, "result")?);
            }
            Event::ImportCall {
                module: m,
                name,
                args,
                ..
            } => {
                let Some(&id) = import_ids.get(&(m.clone(), name.clone())) else {
                    return Err(RrError::Input(format!(
                        "event {i}: the module has no import {m}.{name}"
                    )));
                };
                let ty = &imports[id as usize].2;
                let a = decode_all(args, ty.params(), i, "argument")?;
                let mut call = Call {
                    import: id,
                    args: a,
                    results: Vec::new(),
                    writes: Vec::new(),
                    grow: None,
                    exit: None,
                };
                match ev.get(i + 1) {
                    Some(Event::ImportRet {
                        results,
                        writes,
                        grow,
                    }) => {
                        call.results = decode_all(results, ty.results(), i + 1, "result")?;
                        for w in writes {
                            call.writes
                                .push((w.addr, unhex(&w.hex).unwrap_or_default()));
                        }
                        call.grow = *grow;
                        i += 1;
                    }
                    Some(Event::Exit { code, .. }) => call.exit = Some(Some(*code)),
                    Some(Event::Trap { .. }) => call.exit = Some(None),
                    _ => {
                        return Err(RrError::Input(format!(
                            "event {}: expected the return of {m}.{name}",
                            i + 1
                        )))
                    }
                }
                calls.push(call);
            }
            Event::ImportRet { .. } => {
                return Err(RrError::Input(format!(
                    "event {i}: import-ret without import-call"
                )));
            }
            Event::Exit { .. } | Event::Trap { .. } => {}
        }
        i += 1;
    }
    build(wasm, &imports, &calls, &exports)
}

fn val_type(t: &wasmtime::ValType) -> Result<ValType, RrError> {
    Ok(match t {
        wasmtime::ValType::I32 => ValType::I32,
        wasmtime::ValType::I64 => ValType::I64,
        wasmtime::ValType::F32 => ValType::F32,
        wasmtime::ValType::F64 => ValType::F64,
        wasmtime::ValType::V128 => ValType::V128,
        other => {
            return Err(RrError::Unsupported(format!(
                "standalone replay of {other} values"
            )))
        }
    })
}

fn push_const(f: &mut Function, v: &wasmtime::Val) {
    match v {
        wasmtime::Val::I32(x) => f.instruction(&I::I32Const(*x)),
        wasmtime::Val::I64(x) => f.instruction(&I::I64Const(*x)),
        wasmtime::Val::F32(b) => f.instruction(&I::F32Const(Ieee32::from(f32::from_bits(*b)))),
        wasmtime::Val::F64(b) => f.instruction(&I::F64Const(Ieee64::from(f64::from_bits(*b)))),
        wasmtime::Val::V128(x) => f.instruction(&I::V128Const(x.as_u128() as i128)),
        _ => f.instruction(&I::Unreachable),
    };
}

/// With the value on top of the stack: traps unless it equals `v` bit for bit (consumes it).
fn check_top(f: &mut Function, v: &wasmtime::Val) {
    match v {
        wasmtime::Val::I32(x) => {
            f.instruction(&I::I32Const(*x)).instruction(&I::I32Ne);
        }
        wasmtime::Val::I64(x) => {
            f.instruction(&I::I64Const(*x)).instruction(&I::I64Ne);
        }
        wasmtime::Val::F32(b) => {
            f.instruction(&I::I32ReinterpretF32)
                .instruction(&I::I32Const(*b as i32))
                .instruction(&I::I32Ne);
        }
        wasmtime::Val::F64(b) => {
            f.instruction(&I::I64ReinterpretF64)
                .instruction(&I::I64Const(*b as i64))
                .instruction(&I::I64Ne);
        }
        _ => {
            f.instruction(&I::Drop);
            return;
        }
    }
    f.instruction(&I::If(BlockType::Empty))
        .instruction(&I::Unreachable)
        .instruction(&I::End);
}

#[allow(clippy::type_complexity)]
fn build(
    wasm: &[u8],
    imports: &[(String, String, wasmtime::FuncType)],
    calls: &[Call],
    exports: &[(String, Vec<wasmtime::Val>, Option<Vec<wasmtime::Val>>)],
) -> Result<Vec<u8>, RrError> {
    // First pass: counts.
    let (mut n_types, mut n_defined, mut n_tables, mut n_globals, mut n_data) =
        (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut has_memory = false;
    let mut import_types: Vec<u32> = Vec::new();
    let mut export_funcs: HashMap<String, u32> = HashMap::new();
    for p in Parser::new(0).parse_all(wasm) {
        match p.map_err(enc)? {
            Payload::TypeSection(s) => n_types = s.count(),
            Payload::ImportSection(s) => {
                for imp in s.into_imports() {
                    match imp.map_err(enc)?.ty {
                        TypeRef::Func(t) => import_types.push(t),
                        _ => {
                            return Err(RrError::Unsupported(
                                "standalone replay of non-function imports".into(),
                            ))
                        }
                    }
                }
            }
            Payload::FunctionSection(s) => n_defined = s.count(),
            Payload::TableSection(s) => n_tables = s.count(),
            Payload::MemorySection(s) => has_memory = s.count() > 0,
            Payload::GlobalSection(s) => n_globals = s.count(),
            Payload::DataSection(s) => n_data = s.count(),
            Payload::ExportSection(s) => {
                for e in s {
                    let e = e.map_err(enc)?;
                    if e.kind == wasmparser::ExternalKind::Func {
                        export_funcs.insert(e.name.to_string(), e.index);
                    }
                }
            }
            _ => {}
        }
    }
    let n_imp = imports.len() as u32;
    let mut remap = Remap {
        imports: n_imp,
        defined: n_defined,
    };
    // New index spaces.
    let rec_type = |i: u32| n_types + i; // (params..., i32 id) -> results
    let start_type = n_types + n_imp;
    let first_rec_func = n_defined + n_imp;
    let start_func = first_rec_func + calls.len() as u32;
    let table = n_tables;
    let g_seq = n_globals;
    let g_exit = n_globals + 1;
    let blob_index = n_data;

    // Writes, concatenated into one passive segment.
    let mut blob: Vec<u8> = Vec::new();
    let needs_memory = calls
        .iter()
        .any(|c| !c.writes.is_empty() || c.grow.is_some());
    if needs_memory && !has_memory {
        return Err(RrError::Input(
            "the trace writes memory but the module defines none".into(),
        ));
    }

    let mut types = TypeSection::new();
    let mut funcs = FunctionSection::new();
    let mut tables = TableSection::new();
    let mut globals = GlobalSection::new();
    let mut exports_sec = ExportSection::new();
    let mut elems = ElementSection::new();
    let mut data = DataSection::new();
    let mut memory_sec = None;
    let mut tags = None;
    let mut start_sec: Option<u32> = None;
    let mut original_code: Option<CodeSection> = None;

    for p in Parser::new(0).parse_all(wasm) {
        match p.map_err(enc)? {
            Payload::TypeSection(s) => remap.parse_type_section(&mut types, s).map_err(enc)?,
            Payload::FunctionSection(s) => {
                remap.parse_function_section(&mut funcs, s).map_err(enc)?
            }
            Payload::TableSection(s) => remap.parse_table_section(&mut tables, s).map_err(enc)?,
            Payload::MemorySection(s) => {
                let mut m = wasm_encoder::MemorySection::new();
                remap.parse_memory_section(&mut m, s).map_err(enc)?;
                memory_sec = Some(m);
            }
            Payload::TagSection(s) => {
                let mut t = wasm_encoder::TagSection::new();
                remap.parse_tag_section(&mut t, s).map_err(enc)?;
                tags = Some(t);
            }
            Payload::GlobalSection(s) => {
                remap.parse_global_section(&mut globals, s).map_err(enc)?
            }
            Payload::ExportSection(s) => {
                for e in s {
                    let e = e.map_err(enc)?;
                    if e.name == "_start" || e.name == EXIT_GLOBAL {
                        continue;
                    }
                    remap.parse_export(&mut exports_sec, e).map_err(enc)?;
                }
            }
            Payload::StartSection { func, .. } => {
                start_sec = Some(remap.start_section(func).map_err(enc)?)
            }
            Payload::ElementSection(s) => {
                remap.parse_element_section(&mut elems, s).map_err(enc)?
            }
            Payload::CodeSectionStart { .. } => original_code = Some(CodeSection::new()),
            Payload::CodeSectionEntry(body) => {
                let c = original_code.get_or_insert_with(CodeSection::new);
                remap.parse_function_body(c, body).map_err(enc)?;
            }
            Payload::DataSection(s) => remap.parse_data_section(&mut data, s).map_err(enc)?,
            _ => {}
        }
    }
    let mut code_sec = original_code.unwrap_or_default();

    // Types.
    for (_, _, ty) in imports {
        let mut params = ty
            .params()
            .map(|t| val_type(&t))
            .collect::<Result<Vec<_>, _>>()?;
        params.push(ValType::I32);
        let results = ty
            .results()
            .map(|t| val_type(&t))
            .collect::<Result<Vec<_>, _>>()?;
        types.ty().function(params, results);
    }
    types.ty().function([], []);
    // Import replacements: forward to the call's generated function.
    for (i, (_, _, ty)) in imports.iter().enumerate() {
        let i = i as u32;
        funcs.function(import_types[i as usize]);
        let mut f = Function::new([]);
        for p in 0..ty.params().len() as u32 {
            f.instruction(&I::LocalGet(p));
        }
        f.instruction(&I::I32Const(i as i32))
            .instruction(&I::GlobalGet(g_seq))
            .instruction(&I::CallIndirect {
                type_index: rec_type(i),
                table_index: table,
            })
            .instruction(&I::End);
        code_sec.function(&f);
    }
    // One function per recorded call.
    for (k, c) in calls.iter().enumerate() {
        funcs.function(rec_type(c.import));
        let ty = &imports[c.import as usize].2;
        let n_params = ty.params().len() as u32;
        let mut f = Function::new([]);
        f.instruction(&I::LocalGet(n_params));
        check_top(&mut f, &wasmtime::Val::I32(c.import as i32));
        for (p, v) in c.args.iter().enumerate() {
            f.instruction(&I::LocalGet(p as u32));
            check_top(&mut f, v);
        }
        f.instruction(&I::I32Const(k as i32 + 1))
            .instruction(&I::GlobalSet(g_seq));
        if let Some(pages) = c.grow {
            // Grow to the recorded size.
            f.instruction(&I::I32Const(pages as i32))
                .instruction(&I::MemorySize(0))
                .instruction(&I::I32Sub)
                .instruction(&I::MemoryGrow(0))
                .instruction(&I::Drop);
        }
        for (addr, bytes) in &c.writes {
            let at = blob.len() as i32;
            blob.extend_from_slice(bytes);
            f.instruction(&I::I32Const(*addr as i32))
                .instruction(&I::I32Const(at))
                .instruction(&I::I32Const(bytes.len() as i32))
                .instruction(&I::MemoryInit {
                    mem: 0,
                    data_index: blob_index,
                });
        }
        match c.exit {
            Some(code) => {
                if let Some(code) = code {
                    f.instruction(&I::I32Const(code))
                        .instruction(&I::GlobalSet(g_exit));
                }
                f.instruction(&I::Unreachable);
            }
            None => {
                for v in &c.results {
                    push_const(&mut f, v);
                }
            }
        }
        f.instruction(&I::End);
        code_sec.function(&f);
    }
    // The new `_start`.
    funcs.function(start_type);
    let mut f = Function::new([]);
    for (name, args, results) in exports {
        let Some(&idx) = export_funcs.get(name) else {
            return Err(RrError::Input(format!(
                "the module exports no function `{name}`"
            )));
        };
        for a in args {
            push_const(&mut f, a);
        }
        f.instruction(&I::Call(remap.function_index(idx).map_err(enc)?));
        match results {
            Some(rs) => {
                for r in rs.iter().rev() {
                    check_top(&mut f, r);
                }
            }
            None => {
                // The recorded run ended inside this call: it must not return.
                f.instruction(&I::Unreachable);
            }
        }
    }
    f.instruction(&I::End);
    code_sec.function(&f);

    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: calls.len() as u64,
        maximum: Some(calls.len() as u64),
        shared: false,
    });
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(0),
    );
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(0),
    );
    exports_sec.export("_start", ExportKind::Func, start_func);
    exports_sec.export(EXIT_GLOBAL, ExportKind::Global, g_exit);
    let rec_funcs: Vec<u32> = (0..calls.len() as u32)
        .map(|k| first_rec_func + k)
        .collect();
    if !rec_funcs.is_empty() {
        elems.active(
            Some(table),
            &ConstExpr::i32_const(0),
            Elements::Functions(rec_funcs.into()),
        );
    }
    data.passive(blob);

    let mut out = wasm_encoder::Module::new();
    out.section(&types);
    out.section(&funcs);
    out.section(&tables);
    if let Some(m) = &memory_sec {
        out.section(m);
    }
    if let Some(t) = &tags {
        out.section(t);
    }
    out.section(&globals);
    out.section(&exports_sec);
    if let Some(s) = start_sec {
        out.section(&StartSection { function_index: s });
    }
    out.section(&elems);
    out.section(&DataCountSection { count: n_data + 1 });
    out.section(&code_sec);
    out.section(&data);
    let bytes = out.finish();
    wasmparser::Validator::new()
        .validate_all(&bytes)
        .map_err(|e| RrError::Engine(format!("generated module is invalid: {e}")))?;
    Ok(bytes)
}
