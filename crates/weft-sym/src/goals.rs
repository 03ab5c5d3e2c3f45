//! Inputs and goals: what is symbolic, what counts as reached, and the host imports of the
//! Test-Comp / SV-COMP conventions, for the symbolic machine and for concrete replay.
//!
//! - Export parameters become symbols `a0, a1, …`; memory regions become symbolic bytes
//!   `mem[0x400]…`, optionally restricted to printable ASCII.
//! - `__VERIFIER_nondet_<type>` imports return a fresh symbol of the type's width per call;
//!   `__VERIFIER_assume` / `assume` cut paths where the condition is false; `reach_error`,
//!   `abort`, `__assert_fail` and `__VERIFIER_error` are targets; other function imports
//!   return fresh symbols (their effects are not modelled).
//! - Goals: a return value, a function entered, a code offset executed.

use crate::domain::{HostInput, SymVal, Symbolic};
use crate::term::Op;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use weft_core::{Val, ValType};
use weft_exec::concrete::Bits;
use weft_exec::{
    Concrete, Domain, Extern, HostError, HostFunc, Linker, Machine, Observer, StepView,
};
use weft_ir::{ImportKind, Module};

/// Message of the trap a target import raises (followed by the import's name).
pub const TARGET_PREFIX: &str = "target reached: ";
/// Message of the trap that cuts a path whose assumption is false.
pub const ASSUME_CUT: &str = "assumption violated";

/// How an export parameter is given.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamSpec {
    /// A fresh symbol.
    Sym,
    /// A concrete value.
    Con(Val),
}

/// A memory region made symbolic before the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemSpec {
    /// Start address.
    pub addr: u32,
    /// Length in bytes.
    pub len: u32,
    /// Restrict each byte to printable ASCII (0x20..=0x7e).
    pub printable: bool,
}

/// What the explorer looks for besides the Test-Comp targets.
#[derive(Clone, Debug, PartialEq)]
pub enum Goal {
    /// The call returns this value (first result).
    Return(Val),
    /// A function (by module index) is entered.
    Func(u32),
    /// The instruction at this code-section offset executes.
    Offset(u32),
}

/// One task: a module, an entry export, its inputs and goals.
#[derive(Clone, Debug)]
pub struct Task {
    /// The module.
    pub module: Arc<Module>,
    /// Export to call.
    pub entry: String,
    /// One spec per parameter.
    pub params: Vec<ParamSpec>,
    /// Symbolic memory regions.
    pub mem: Vec<MemSpec>,
    /// Goals.
    pub goals: Vec<Goal>,
    /// Report traps (division by zero, out of bounds, unreachable, …) as findings.
    pub traps: bool,
    /// For a module that imports WASI preview 1: its arguments and standard input.
    pub wasi: Option<WasiTask>,
}

/// How a WASI program runs under symbolic execution (see [`crate::wasi`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WasiTask {
    /// Program arguments, the program name first.
    pub args: Vec<String>,
    /// Symbolic standard input: its length in bytes and whether it is printable ASCII.
    pub sym_stdin: Option<(usize, bool)>,
    /// Standard input when it is not symbolic.
    pub stdin: Vec<u8>,
}

/// What role an imported function plays.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImportRole {
    /// Returns a fresh symbol of `bits` bits, extended (signed or not) to the result type.
    Nondet {
        /// Symbol width (0: the full result width).
        bits: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// Cuts the path where its argument is zero.
    Assume,
    /// Reaching it is a finding.
    Target,
    /// Unknown import: returns fresh symbols.
    Havoc,
}

/// The role of an imported function, by name.
pub fn classify(name: &str) -> ImportRole {
    match name {
        "reach_error" | "abort" | "__assert_fail" | "__VERIFIER_error" => ImportRole::Target,
        "__VERIFIER_assume" | "assume" | "assume_abort_if_not" => ImportRole::Assume,
        _ => match name.strip_prefix("__VERIFIER_nondet_") {
            Some(ty) => {
                let (bits, signed) = match ty {
                    "bool" | "_Bool" => (1, false),
                    "char" => (8, true),
                    "uchar" => (8, false),
                    "short" => (16, true),
                    "ushort" => (16, false),
                    _ => (0, false),
                };
                ImportRole::Nondet { bits, signed }
            }
            None => ImportRole::Havoc,
        },
    }
}

/// Whether the module imports WASI preview 1.
pub fn imports_wasi(module: &Module) -> bool {
    module
        .imports
        .iter()
        .any(|i| i.module == crate::wasi::MODULE)
}

/// Checks that every import is a function we can provide.
pub fn check_imports(module: &Module) -> Result<(), String> {
    for i in &module.imports {
        if i.module == crate::wasi::MODULE && weft_exec::wasi::signature(&i.name).is_none() {
            return Err(format!(
                "import `{}::{}` is not a WASI preview 1 function",
                i.module, i.name
            ));
        }
        if !matches!(i.kind, ImportKind::Func(_)) {
            return Err(format!(
                "import `{}::{}` is not a function; only function imports can be provided",
                i.module, i.name
            ));
        }
    }
    Ok(())
}

fn width(ty: ValType) -> u8 {
    match ty {
        ValType::I64 | ValType::F64 => 64,
        _ => 32,
    }
}

/// Adds the symbolic versions of the module's imports to `linker`.
pub fn link_symbolic<O: Observer<Symbolic>>(
    m: &mut Machine<Symbolic, O>,
    module: &Module,
    linker: &mut Linker,
) -> Result<(), String> {
    check_imports(module)?;
    for i in &module.imports {
        let ImportKind::Func(ty) = &i.kind else {
            continue;
        };
        let fty = module.types[*ty as usize].clone();
        let name = i.name.clone();
        if i.module == crate::wasi::MODULE {
            let addr = m.add_host_func(crate::wasi::host_func(name, fty));
            linker.define(&i.module, &i.name, Extern::Func(addr));
            continue;
        }
        let role = classify(&name);
        let results = fty.results.clone();
        let f = HostFunc::new(
            fty,
            move |ctx: &mut weft_exec::HostCtx<'_, Symbolic>, args: &[SymVal]| match role {
                ImportRole::Target => Err(HostError::Trap(format!("{TARGET_PREFIX}{name}"))),
                ImportRole::Assume => {
                    let ok = ctx
                        .domain
                        .condition(args.first().copied().unwrap_or(SymVal::Con(1)));
                    match ok {
                        Ok(true) => Ok(Vec::new()),
                        Ok(false) => Err(HostError::Trap(ASSUME_CUT.into())),
                        Err(f) => Err(HostError::Fault(f)),
                    }
                }
                ImportRole::Nondet { .. } | ImportRole::Havoc => {
                    let (bits, signed) = match role {
                        ImportRole::Nondet { bits, signed } => (bits, signed),
                        _ => (0, false),
                    };
                    let mut out = Vec::new();
                    for ty in &results {
                        let d = &mut *ctx.domain;
                        let w = width(*ty);
                        let k = d.host_inputs.len();
                        let b = if bits == 0 { w } else { bits };
                        let s = d.fresh(&format!("{name}#{k}"), b);
                        let v = if b == w {
                            s
                        } else {
                            d.terms
                                .app(if signed { Op::SExt } else { Op::ZExt }, w, &[s])
                        };
                        d.host_inputs.push(HostInput {
                            import: name.clone(),
                            ty: *ty,
                            value: SymVal::Sym(v),
                        });
                        out.push(SymVal::Sym(v));
                    }
                    Ok(out)
                }
            },
        );
        let addr = m.add_host_func(f);
        linker.define(&i.module, &i.name, Extern::Func(addr));
    }
    Ok(())
}

/// Adds concrete versions of the imports: nondet and havoc imports return `values` in order
/// (zero once they run out). WASI imports are left to the caller.
pub fn link_concrete<O: Observer<Concrete>>(
    m: &mut Machine<Concrete, O>,
    module: &Module,
    linker: &mut Linker,
    values: Arc<Mutex<VecDeque<Val>>>,
) -> Result<(), String> {
    check_imports(module)?;
    for i in &module.imports {
        let ImportKind::Func(ty) = &i.kind else {
            continue;
        };
        if i.module == crate::wasi::MODULE {
            continue;
        }
        let fty = module.types[*ty as usize].clone();
        let name = i.name.clone();
        let role = classify(&name);
        let results = fty.results.clone();
        let values = values.clone();
        let f = HostFunc::new(fty, move |_ctx, args: &[Bits]| match role {
            ImportRole::Target => Err(HostError::Trap(format!("{TARGET_PREFIX}{name}"))),
            ImportRole::Assume => {
                if args.first().is_some_and(|a| *a as u32 == 0) {
                    Err(HostError::Trap(ASSUME_CUT.into()))
                } else {
                    Ok(Vec::new())
                }
            }
            _ => {
                let mut q = values.lock().unwrap_or_else(|e| e.into_inner());
                Ok(results
                    .iter()
                    .map(|ty| {
                        let v = q.pop_front().unwrap_or(Val::default_of(*ty));
                        weft_exec::concrete::val_bits(v)
                    })
                    .collect())
            }
        });
        let addr = m.add_host_func(f);
        linker.define(&i.module, &i.name, Extern::Func(addr));
    }
    Ok(())
}

/// An observer that notices goals (functions entered, offsets executed) and counts coverage.
#[derive(Clone, Default)]
pub struct Watch {
    funcs: Arc<Vec<u32>>,
    offsets: Arc<Vec<u32>>,
    coverage: Option<Arc<Vec<AtomicU32>>>,
    /// The goal reached on this path, if any.
    pub hit: Option<Goal>,
    /// Code offset of the last instruction started (where a fork happened).
    pub last_offset: u32,
}

impl Watch {
    /// A watch for `goals`, counting executions per code offset into `coverage` if given.
    pub fn new(goals: &[Goal], coverage: Option<Arc<Vec<AtomicU32>>>) -> Self {
        let funcs = goals
            .iter()
            .filter_map(|g| match g {
                Goal::Func(f) => Some(*f),
                _ => None,
            })
            .collect();
        let offsets = goals
            .iter()
            .filter_map(|g| match g {
                Goal::Offset(o) => Some(*o),
                _ => None,
            })
            .collect();
        Watch {
            funcs: Arc::new(funcs),
            offsets: Arc::new(offsets),
            coverage,
            hit: None,
            last_offset: 0,
        }
    }
}

impl<D: Domain> Observer<D> for Watch {
    fn before_step(&mut self, view: &StepView<'_, D>) {
        self.last_offset = view.offset;
        if let Some(c) = &self.coverage {
            if let Some(slot) = c.get(view.offset as usize) {
                slot.fetch_add(1, Ordering::Relaxed);
            }
        }
        if self.hit.is_none() && self.offsets.contains(&view.offset) {
            self.hit = Some(Goal::Offset(view.offset));
        }
    }

    fn on_call(&mut self, _instance: u32, func: u32) {
        if self.hit.is_none() && self.funcs.contains(&func) {
            self.hit = Some(Goal::Func(func));
        }
    }
}

/// A task as the command line describes it (every field is text to parse).
#[derive(Clone, Debug, Default)]
pub struct TaskOptions {
    /// Export to call (default `main`, called Test-Comp style with zero arguments).
    pub invoke: Option<String>,
    /// Parameter list: `i32,i64` (symbols) with `TYPE:VALUE` for concrete ones; default:
    /// every parameter symbolic with `invoke`, zeros for `main`.
    pub sym: Option<String>,
    /// Symbolic memory regions `ADDR:LEN[:printable]`; ADDR is a number or an exported global.
    pub sym_mem: Vec<String>,
    /// Goals: `return=V`, `func=NAME`, `offset=0xN`.
    pub goals: Vec<String>,
    /// Report traps as findings.
    pub traps: bool,
    /// WASI programs: arguments after the program name.
    pub args: Vec<String>,
    /// WASI programs: symbolic standard input `LEN[:printable]`.
    pub sym_stdin: Option<String>,
}

fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Builds a [`Task`] from command-line style options, checking them against the module.
pub fn build_task(module: Arc<Module>, o: &TaskOptions) -> Result<Task, String> {
    let wasi = imports_wasi(&module);
    let is_func = |n: &str| {
        module
            .export(n)
            .is_some_and(|e| e.kind == weft_ir::ExternKind::Func)
    };
    // A WASI command without an exported `main` runs from `_start`.
    let default_entry = if wasi && !is_func("main") && is_func("_start") {
        "_start"
    } else {
        "main"
    };
    let entry = o
        .invoke
        .clone()
        .unwrap_or_else(|| default_entry.to_string());
    let export = module
        .export(&entry)
        .filter(|e| e.kind == weft_ir::ExternKind::Func)
        .ok_or_else(|| format!("no exported function `{entry}`"))?;
    let ty = module.func_type(export.index).clone();
    let params = match &o.sym {
        Some(list) => {
            let items: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if items.len() != ty.params.len() {
                return Err(format!(
                    "--sym lists {} parameters, `{entry}` takes {} {ty}",
                    items.len(),
                    ty.params.len()
                ));
            }
            let mut out = Vec::new();
            for (i, (item, pty)) in items.iter().zip(&ty.params).enumerate() {
                let (tname, value) = match item.split_once(':') {
                    Some((t, v)) => (t, Some(v)),
                    None => (*item, None),
                };
                if tname != pty.name() {
                    return Err(format!(
                        "--sym parameter {i}: `{tname}` given, `{entry}` takes {pty}"
                    ));
                }
                out.push(match value {
                    Some(v) => ParamSpec::Con(
                        Val::parse(*pty, v).map_err(|e| format!("--sym parameter {i}: {e}"))?,
                    ),
                    None => ParamSpec::Sym,
                });
            }
            out
        }
        None if o.invoke.is_some() => vec![ParamSpec::Sym; ty.params.len()],
        None => ty
            .params
            .iter()
            .map(|p| ParamSpec::Con(Val::default_of(*p)))
            .collect(),
    };
    let mut mem = Vec::new();
    for m in &o.sym_mem {
        let parts: Vec<&str> = m.split(':').collect();
        if parts.len() < 2 || parts.len() > 3 || (parts.len() == 3 && parts[2] != "printable") {
            return Err(format!(
                "--sym-mem `{m}`: expected ADDR:LEN or ADDR:LEN:printable"
            ));
        }
        let addr = match parse_u32(parts[0]) {
            Some(a) => a,
            None => global_address(&module, parts[0]).ok_or_else(|| {
                format!(
                    "--sym-mem `{m}`: `{}` is neither a number nor an exported i32 constant global",
                    parts[0]
                )
            })?,
        };
        let len = parse_u32(parts[1]).ok_or_else(|| format!("--sym-mem `{m}`: bad length"))?;
        if len == 0 || len > 1 << 20 {
            return Err(format!("--sym-mem `{m}`: length must be 1..=1048576"));
        }
        mem.push(MemSpec {
            addr,
            len,
            printable: parts.len() == 3,
        });
    }
    let mut goals = Vec::new();
    for g in &o.goals {
        let (k, v) = g
            .split_once('=')
            .ok_or_else(|| format!("--goal `{g}`: expected return=V, func=NAME or offset=N"))?;
        goals.push(match k {
            "return" => {
                let rt = *ty
                    .results
                    .first()
                    .ok_or_else(|| format!("--goal `{g}`: `{entry}` returns nothing"))?;
                Goal::Return(Val::parse(rt, v).map_err(|e| format!("--goal `{g}`: {e}"))?)
            }
            "func" => Goal::Func(
                func_index(&module, v)
                    .ok_or_else(|| format!("--goal `{g}`: no defined function `{v}`"))?,
            ),
            "offset" => {
                Goal::Offset(parse_u32(v).ok_or_else(|| format!("--goal `{g}`: bad offset"))?)
            }
            _ => return Err(format!("--goal `{g}`: unknown goal kind `{k}`")),
        });
    }
    check_imports(&module)?;
    if !wasi && (o.sym_stdin.is_some() || !o.args.is_empty()) {
        return Err("--sym-stdin and program arguments need a module that imports WASI".into());
    }
    let sym_stdin = match &o.sym_stdin {
        None => None,
        Some(spec) => {
            let (len, printable) = match spec.split_once(':') {
                Some((l, "printable")) => (l, true),
                Some(_) => {
                    return Err(format!(
                        "--sym-stdin `{spec}`: expected LEN or LEN:printable"
                    ))
                }
                None => (spec.as_str(), false),
            };
            let len = parse_u32(len)
                .filter(|n| (1..=1 << 16).contains(n))
                .ok_or_else(|| format!("--sym-stdin `{spec}`: length must be 1..=65536"))?;
            Some((len as usize, printable))
        }
    };
    let wasi = wasi.then(|| WasiTask {
        args: std::iter::once("prog".to_string())
            .chain(o.args.iter().cloned())
            .collect(),
        sym_stdin,
        stdin: Vec::new(),
    });
    Ok(Task {
        module,
        entry,
        params,
        mem,
        goals,
        traps: o.traps,
        wasi,
    })
}

/// The value of an exported immutable i32 global with a constant initialiser (how wasm-ld
/// exports the address of a C array).
fn global_address(module: &Module, name: &str) -> Option<u32> {
    let e = module
        .export(name)
        .filter(|e| e.kind == weft_ir::ExternKind::Global)?;
    let i = e.index.checked_sub(module.num_imported_globals)? as usize;
    match module.global_inits.get(i)?.0.as_slice() {
        [weft_ir::ConstOp::Const(Val::I32(v))] => Some(*v as u32),
        _ => None,
    }
}

/// A defined function by export name, name-section name or index.
fn func_index(module: &Module, name: &str) -> Option<u32> {
    let idx = if let Some(e) = module
        .export(name)
        .filter(|e| e.kind == weft_ir::ExternKind::Func)
    {
        Some(e.index)
    } else if let Some(i) = module
        .func_names
        .iter()
        .position(|n| n.as_deref() == Some(name))
    {
        Some(i as u32)
    } else {
        parse_u32(name)
    }?;
    (idx >= module.num_imported_funcs && (idx as usize) < module.funcs.len()).then_some(idx)
}
