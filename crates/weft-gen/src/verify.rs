//! Re-executing datasets: `weft gen verify DIR` recomputes every answer from the program
//! *text* alone (markers are found as comment lines, their code positions and the enclosing
//! block's height come from wasmparser's validator) by running it in the engine, and reports
//! every answer that differs. Works on weft datasets (`dataset.jsonl`) and on WasmWeaver's
//! format (`.wat` + `.meta`).

use crate::sample::{Sample, TypedValue};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use weft_core::{Val, ValType};
use weft_exec::concrete::{bits_val, Bits};
use weft_exec::{Concrete, Config, Extern, Limits, Linker, Machine, Observer, StepView};

/// What re-execution found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Samples checked.
    pub checked: u64,
    /// One line per wrong answer: `id: what`.
    pub wrong: Vec<String>,
}

/// The behaviour of a program recomputed from its text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recomputed {
    /// Return values of the entry function.
    pub results: Vec<Val>,
    /// Fuel consumed.
    pub fuel: u64,
    /// `FLAG_k` → reached.
    pub flags: BTreeMap<String, bool>,
    /// Block values at the first `;;INSPECT`.
    pub stack: Option<Vec<Val>>,
    /// Memory 0 after the run.
    pub memory: Vec<u8>,
}

#[derive(Clone, Debug)]
enum Mark {
    Flag(String),
    Inspect(Vec<ValType>),
}

/// Markers by (module function index, instruction ordinal) found in the text.
fn scan_markers(text: &str) -> Result<Vec<(u32, usize, String)>, String> {
    let mut out = Vec::new();
    let mut nimports = 0u32;
    let mut func: Option<u32> = None;
    let mut defined = 0u32;
    let mut ordinal = 0usize;
    let mut depth_parens = 0i32;
    for (ln, line) in text.lines().enumerate() {
        let t = line.trim();
        if func.is_none() {
            if t.starts_with("(import") && t.contains("(func") {
                nimports += 1;
            }
            if t.starts_with("(func") {
                func = Some(nimports + defined);
                defined += 1;
                ordinal = 0;
                depth_parens = t.matches('(').count() as i32 - t.matches(')').count() as i32;
                if depth_parens <= 0 {
                    func = None;
                }
            } else if t.starts_with(";;FLAG") || t.starts_with(";;INSPECT") {
                return Err(format!("line {}: marker outside a function", ln + 1));
            }
            continue;
        }
        if let Some(m) = t.strip_prefix(";;") {
            let m = m.trim();
            if m.starts_with("FLAG") || m.starts_with("INSPECT") {
                out.push((func.unwrap_or(0), ordinal, m.to_string()));
            }
            continue;
        }
        let code = t.split(";;").next().unwrap_or("").trim();
        depth_parens += code.matches('(').count() as i32 - code.matches(')').count() as i32;
        if code.is_empty()
            || code.starts_with("(local")
            || code.starts_with("(param")
            || code.starts_with("(result")
            || code.starts_with("(type")
        {
            if depth_parens <= 0 {
                func = None;
            }
            continue;
        }
        if code == ")" || depth_parens < 0 {
            func = None;
            continue;
        }
        ordinal += 1;
        if depth_parens <= 0 && code.ends_with(')') && !code.starts_with('(') {
            func = None;
        }
    }
    Ok(out)
}

fn vt(t: wasmparser::ValType) -> Option<ValType> {
    Some(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        _ => return None,
    })
}

/// Code offsets of markers, with the INSPECT block types from the validator.
fn marker_offsets(
    wasm: &[u8],
    marks: &[(u32, usize, String)],
) -> Result<HashMap<(u32, u32), Vec<Mark>>, String> {
    let mut out: HashMap<(u32, u32), Vec<Mark>> = HashMap::new();
    let mut validator = wasmparser::Validator::new_with_features(weft_ir::Module::features());
    let mut nimports = 0u32;
    let mut defined = 0u32;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| e.to_string())?;
        if let wasmparser::Payload::ImportSection(r) = &payload {
            for imp in r.clone().into_imports() {
                if let wasmparser::TypeRef::Func(_) = imp.map_err(|e| e.to_string())?.ty {
                    nimports += 1;
                }
            }
        }
        match validator.payload(&payload).map_err(|e| e.to_string())? {
            wasmparser::ValidPayload::Func(f, body) => {
                let index = nimports + defined;
                defined += 1;
                let mine: Vec<&(u32, usize, String)> =
                    marks.iter().filter(|m| m.0 == index).collect();
                if mine.is_empty() {
                    continue;
                }
                let mut v = f.into_validator(Default::default());
                let mut locals = body.get_locals_reader().map_err(|e| e.to_string())?;
                for _ in 0..locals.get_count() {
                    let off = locals.original_position();
                    let (n, t) = locals.read().map_err(|e| e.to_string())?;
                    v.define_locals(off, n, t).map_err(|e| e.to_string())?;
                }
                let reader = body.get_operators_reader().map_err(|e| e.to_string())?;
                for (i, op) in reader.into_iter_with_offsets().enumerate() {
                    let (op, off) = op.map_err(|e| e.to_string())?;
                    for m in mine.iter().filter(|m| m.1 == i) {
                        let mark = if m.2.starts_with("INSPECT") {
                            let frame = v.get_control_frame(0).ok_or("no block")?;
                            let h = v.operand_stack_height() as usize;
                            let n = h.saturating_sub(frame.height);
                            let mut tys = Vec::with_capacity(n);
                            for d in (0..n).rev() {
                                let t = v
                                    .get_operand_type(d)
                                    .flatten()
                                    .and_then(vt)
                                    .ok_or("INSPECT in unreachable code")?;
                                tys.push(t);
                            }
                            Mark::Inspect(tys)
                        } else {
                            Mark::Flag(m.2.clone())
                        };
                        out.entry((index, off as u32)).or_default().push(mark);
                    }
                    v.op(off, &op).map_err(|e| e.to_string())?;
                }
            }
            wasmparser::ValidPayload::End(_) => break,
            _ => {}
        }
    }
    Ok(out)
}

struct Watch {
    at: HashMap<(u32, u32), Vec<Mark>>,
    flags: BTreeMap<String, bool>,
    stack: Option<Vec<Val>>,
}

impl Observer<Concrete> for Watch {
    fn before_step(&mut self, view: &StepView<'_, Concrete>) {
        if let Some(ms) = self.at.get(&(view.func, view.offset)) {
            for m in ms {
                match m {
                    Mark::Flag(k) => {
                        self.flags.insert(k.clone(), true);
                    }
                    Mark::Inspect(tys) => {
                        if self.stack.is_none() && view.stack.len() >= tys.len() {
                            let n = view.stack.len();
                            let vals: &[Bits] = &view.stack[n - tys.len()..];
                            self.stack = Some(
                                vals.iter()
                                    .zip(tys)
                                    .map(|(b, t)| bits_val(*b, *t))
                                    .collect(),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Runs a program given as text: the entry is export `main` (else the last exported
/// function); an imported `env.memory` is provided with the imported limits.
pub fn recompute(text: &str, fuel: u64) -> Result<Recomputed, String> {
    let wasm = wat::parse_str(text).map_err(|e| format!("does not parse: {e}"))?;
    let module =
        Arc::new(weft_ir::Module::new(&wasm).map_err(|e| format!("does not validate: {e}"))?);
    let marks = scan_markers(text)?;
    let at = marker_offsets(&wasm, &marks)?;
    let mut flags = BTreeMap::new();
    for (_, _, m) in &marks {
        if m.starts_with("FLAG") {
            flags.insert(m.clone(), false);
        }
    }
    let mut m = Machine::new(
        Concrete,
        Watch {
            at,
            flags,
            stack: None,
        },
        Config {
            fuel: true,
            limits: Limits {
                max_call_depth: 1000,
                max_memory_pages: 256,
                ..Limits::default()
            },
        },
    );
    let mut linker = Linker::new();
    for imp in &module.imports {
        if let weft_ir::ImportKind::Memory(mt) = &imp.kind {
            let max = mt.maximum.map(|x| format!(" {x}")).unwrap_or_default();
            let host = wat::parse_str(format!(
                "(module (memory (export \"memory\") {}{max}))",
                mt.initial
            ))
            .map_err(|e| e.to_string())?;
            let hm = Arc::new(weft_ir::Module::new(&host).map_err(|e| e.to_string())?);
            let hi = m
                .instantiate(hm, &Linker::new())
                .map_err(|e| e.to_string())?;
            if let Some(Extern::Memory(a)) = m.store.export(hi, "memory") {
                linker.define(&imp.module, &imp.name, Extern::Memory(a));
            }
        }
    }
    let inst = m
        .instantiate(module.clone(), &linker)
        .map_err(|e| format!("does not instantiate: {e}"))?;
    let entry = if module.export("main").is_some() {
        "main".to_string()
    } else {
        module
            .exports
            .iter()
            .rev()
            .find(|e| e.kind == weft_ir::ExternKind::Func)
            .map(|e| e.name.clone())
            .ok_or("no exported function")?
    };
    m.set_fuel(Some(fuel)).map_err(|e| e.to_string())?;
    let results = m
        .invoke(inst, &entry, &[])
        .map_err(|e| format!("`{entry}` does not complete: {e}"))?;
    let fuel = m.fuel_consumed();
    let memory = match m.store.instances[inst as usize].memories.first() {
        Some(a) => m.store.memories[*a as usize].mem.data.clone(),
        None => vec![],
    };
    Ok(Recomputed {
        results,
        fuel,
        flags: m.observer.flags,
        stack: m.observer.stack,
        memory,
    })
}

fn tv(v: &[Val]) -> String {
    let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", s.join(", "))
}

fn stated(v: &[TypedValue]) -> Result<Vec<Val>, String> {
    v.iter().map(|t| t.to_val()).collect()
}

/// Checks one weft sample; returns the wrong answers.
pub fn check_sample(s: &Sample) -> Result<Vec<String>, String> {
    let r = recompute(&s.wat, s.fuel.max(1).saturating_mul(4) + 1_000_000)?;
    let mut wrong = Vec::new();
    if r.fuel != s.fuel {
        wrong.push(format!("fuel: stated {}, runs {}", s.fuel, r.fuel));
    }
    let a = &s.answers;
    if let Some(res) = &a.results {
        if stated(res)? != r.results {
            wrong.push(format!(
                "results: stated {}, runs {}",
                tv(&stated(res)?),
                tv(&r.results)
            ));
        }
    }
    if let Some(st) = &a.stack {
        if Some(stated(st)?) != r.stack {
            wrong.push(format!(
                "stack: stated {}, runs {:?}",
                tv(&stated(st)?),
                r.stack.as_deref().map(tv)
            ));
        }
    }
    if let Some(fl) = &a.flags {
        for (k, v) in fl {
            if r.flags.get(k) != Some(v) {
                wrong.push(format!("{k}: stated {v}, runs {:?}", r.flags.get(k)));
            }
        }
    }
    if let Some(mem) = &a.memory {
        for m in mem {
            let v = m.value.to_val()?;
            let got = crate::answer::memory_value(&r.memory, m.address, v.ty());
            if got != Some(v) {
                wrong.push(format!("memory at {}: stated {v}, runs {got:?}", m.address));
            }
        }
    }
    if let Some(f) = a.fuel {
        if f != r.fuel {
            wrong.push(format!("trace length: stated {f}, runs {}", r.fuel));
        }
    }
    Ok(wrong)
}

/// Verifies a dataset directory (weft or WasmWeaver format).
pub fn verify_dir(dir: &Path) -> Result<Report, String> {
    let mut report = Report::default();
    let jsonl = dir.join("dataset.jsonl");
    if jsonl.exists() {
        let text = std::fs::read_to_string(&jsonl)
            .map_err(|e| format!("cannot read {}: {e}", jsonl.display()))?;
        for (i, line) in text.lines().enumerate() {
            let s: Sample = serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: {e}", jsonl.display(), i + 1))?;
            report.checked += 1;
            match check_sample(&s) {
                Ok(w) => report
                    .wrong
                    .extend(w.into_iter().map(|w| format!("{}: {w}", s.id))),
                Err(e) => report.wrong.push(format!("{}: {e}", s.id)),
            }
        }
        return Ok(report);
    }
    let samples = crate::wasmweaver::read_dir(dir)?;
    if samples.is_empty() {
        return Err(format!(
            "{}: neither dataset.jsonl nor WasmWeaver .wat/.meta pairs",
            dir.display()
        ));
    }
    for (id, wat, meta) in samples {
        report.checked += 1;
        match crate::wasmweaver::check(&wat, &meta) {
            Ok(w) => report
                .wrong
                .extend(w.into_iter().map(|w| format!("{id}: {w}"))),
            Err(e) => report.wrong.push(format!("{id}: {e}")),
        }
    }
    Ok(report)
}
