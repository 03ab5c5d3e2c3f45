//! Driving a taint analysis: set up sources, run once on the engine, collect the sinks.

use super::domain::{Taint, TaintValue};
use super::host::{add_import_stubs, add_wasi, ImportSummary};
use super::label::{Label, LabelTable, SourceId};
use super::observer::TaintObserver;
use super::sink::{Sink, SinkKind};
use super::source::{Source, Sources};
use super::TaintError;
use std::sync::Arc;
use weft_core::Val;
use weft_exec::wasi::{self, InputSource, OutputSink, WasiConfig};
use weft_exec::{Config, ExecError, Extern, Limits, LinearMemory, Linker, Machine};
use weft_ir::{ExternKind, Module};

/// What to run.
#[derive(Clone, Debug)]
pub enum Target {
    /// Call an export with concrete arguments; the parameters listed in `tainted` (all of
    /// them when `None`) are sources `param<i>`.
    Export {
        /// Export name.
        name: String,
        /// Argument values.
        args: Vec<Val>,
        /// Parameter indices that are sources (`None`: every parameter).
        tainted: Option<Vec<u32>>,
    },
    /// Run a WASI command's `_start`.
    Command,
}

/// Options of an analysis.
#[derive(Clone, Debug, Default)]
pub struct TaintOptions {
    /// Values loaded through, and bytes stored through, a tainted address take its label.
    pub address_taint: bool,
    /// Track implicit flows: values computed under a tainted branch take its label.
    pub implicit: bool,
    /// Fuel limit (wasmtime's cost model); `None`: unlimited.
    pub fuel: Option<u64>,
    /// Engine limits.
    pub limits: Limits,
    /// Memory regions `(address, length)` whose bytes are sources (`mem[address]`), marked
    /// after instantiation.
    pub mem_sources: Vec<(u32, u32)>,
    /// Program arguments for WASI (`argv[1..]`); `argv[0]` is the module's name.
    pub wasi_args: Vec<String>,
    /// Standard input for WASI.
    pub stdin: Vec<u8>,
    /// Imports (`name` or `module.name`) whose results are fresh sources on every call.
    pub source_imports: Vec<String>,
    /// Imports whose results are untainted (the default is to propagate the arguments).
    pub clean_imports: Vec<String>,
}

/// How the run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The export returned these values.
    Returned(Vec<Val>),
    /// The program exited with a status (a command whose `_start` returned exits with 0).
    Exited(i32),
    /// Execution trapped.
    Trapped(String),
}

/// Which sources reached one sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The sink.
    pub sink: Sink,
    /// The sources that reach it, sorted.
    pub sources: Vec<SourceId>,
}

/// The result of an analysis.
#[derive(Clone, Debug)]
pub struct TaintReport {
    /// Every source registered during the run.
    pub sources: Sources,
    /// Every sink reached by at least one source, ordered by code offset.
    pub flows: Vec<Flow>,
    /// How the run ended.
    pub outcome: Outcome,
    /// Captured standard output of a WASI program.
    pub stdout: Vec<u8>,
    /// Distinct label sets created (a measure of the analysis's work).
    pub label_sets: usize,
}

impl TaintReport {
    /// The flows into sinks of one kind.
    pub fn flows_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Flow> + 'a {
        self.flows
            .iter()
            .filter(move |f| f.sink.kind.name() == kind)
    }

    /// The names of the sources of a flow, consecutive bytes as ranges.
    pub fn names(&self, f: &Flow) -> Vec<String> {
        self.sources.describe(&f.sources)
    }

    /// The flow into result `index` of the export, if any source reaches it.
    pub fn result_flow(&self, index: u32) -> Option<&Flow> {
        self.flows.iter().find(
            |f| matches!(&f.sink.kind, SinkKind::ExportResult { index: i, .. } if *i == index),
        )
    }
}

fn matches_import(list: &[String], module: &str, name: &str) -> bool {
    list.iter()
        .any(|s| s == name || *s == format!("{module}.{name}"))
}

/// Runs `target` of `module` once under the taint domain and reports which sources reached
/// which sinks.
pub fn analyze(
    module: Arc<Module>,
    target: &Target,
    options: &TaintOptions,
) -> Result<TaintReport, TaintError> {
    let domain = Taint::new(options.address_taint);
    let shared = domain.shared().clone();
    let observer = TaintObserver::new(&domain, options.implicit);
    let config = Config {
        fuel: options.fuel.is_some(),
        limits: options.limits.clone(),
    };
    let mut machine = Machine::new(domain, observer, config);
    machine
        .set_fuel(options.fuel)
        .map_err(|e| TaintError(e.to_string()))?;
    let mut linker = Linker::new();

    let is_command = matches!(target, Target::Command);
    if is_command {
        match module.export("_start") {
            Some(e) if e.kind == ExternKind::Func => {}
            _ => return Err(TaintError("the module exports no `_start` function".into())),
        }
    }
    let uses_wasi = module.imports.iter().any(|i| i.module == wasi::MODULE_NAME);
    let wasi_state = if uses_wasi {
        let cfg = WasiConfig::new()
            .arg("main.wasm")
            .args(options.wasi_args.clone())
            .stdin(InputSource::Bytes(options.stdin.clone()))
            .stdout(OutputSink::Capture)
            .stderr(OutputSink::Discard)
            .deterministic_clock(0, 1_000_000);
        let argc = options.wasi_args.len() as u32 + 1;
        Some(add_wasi(&mut machine, &mut linker, cfg, argc))
    } else {
        None
    };
    add_import_stubs(&mut machine, &mut linker, &module, |m, n| {
        if matches_import(&options.source_imports, m, n) {
            ImportSummary::Source
        } else if matches_import(&options.clean_imports, m, n) {
            ImportSummary::Clean
        } else {
            ImportSummary::Propagate
        }
    })?;

    let inst = match machine.instantiate(module.clone(), &linker) {
        Ok(i) => Some(i),
        Err(weft_exec::LinkError::Exec(e)) => {
            let outcome = exec_outcome(e)?;
            return Ok(finish(&machine, outcome, Vec::new(), wasi_state));
        }
        Err(e) => return Err(TaintError(e.to_string())),
    };
    let inst = inst.expect("instantiated");
    machine.observer.attach(&machine.store);
    machine.observer.reset_regions();

    // Memory regions as sources.
    if !options.mem_sources.is_empty() {
        let Some(&mem_addr) = machine.store.instances[inst as usize].memories.first() else {
            return Err(TaintError("--source-mem: the module has no memory".into()));
        };
        for &(addr, len) in &options.mem_sources {
            let mem = &machine.store.memories[mem_addr as usize].mem;
            if addr as u64 + len as u64 > mem.size_bytes() {
                return Err(TaintError(format!(
                    "memory region {addr:#x}+{len} lies outside the memory ({} bytes)",
                    mem.size_bytes()
                )));
            }
            for a in addr..addr + len {
                let l = shared.new_source(Source::Mem(a));
                machine.store.memories[mem_addr as usize]
                    .mem
                    .set_label(a as u64, 1, l);
            }
        }
    }

    let (func, name, args) = match target {
        Target::Command => {
            let Some(Extern::Func(f)) = machine.store.export(inst, "_start") else {
                return Err(TaintError("the module exports no `_start` function".into()));
            };
            (f, "_start".to_string(), Vec::new())
        }
        Target::Export {
            name,
            args,
            tainted,
        } => {
            let Some(Extern::Func(f)) = machine.store.export(inst, name) else {
                return Err(TaintError(format!("no exported function `{name}`")));
            };
            let ty = machine.store.func_type(f);
            if ty.params.len() != args.len() {
                return Err(TaintError(format!(
                    "`{name}` takes {} arguments {ty}, {} given",
                    ty.params.len(),
                    args.len()
                )));
            }
            let mut dargs = Vec::with_capacity(args.len());
            for (i, (a, t)) in args.iter().zip(&ty.params).enumerate() {
                if a.ty() != *t {
                    return Err(TaintError(format!(
                        "argument {i} of `{name}` has type {}, expected {t}",
                        a.ty()
                    )));
                }
                let is_source = tainted.as_ref().is_none_or(|l| l.contains(&(i as u32)));
                let label = if is_source {
                    shared.new_source(Source::Param(i as u32))
                } else {
                    Label::EMPTY
                };
                dargs.push(machine.domain.value(*a, label));
            }
            if let Some(l) = tainted {
                if let Some(bad) = l.iter().find(|&&i| i as usize >= args.len()) {
                    return Err(TaintError(format!(
                        "`{name}` has no parameter {bad} (it takes {})",
                        args.len()
                    )));
                }
            }
            (f, name.clone(), dargs)
        }
    };
    let ty = machine.store.func_type(func);
    let outcome = match machine.call(func, &args) {
        Ok(results) => {
            let vals = record_results(&mut machine, &name, &results, &ty.results);
            if is_command {
                Outcome::Exited(0)
            } else {
                Outcome::Returned(vals)
            }
        }
        Err(e) => exec_outcome(e)?,
    };
    Ok(finish(&machine, outcome, Vec::new(), wasi_state))
}

fn record_results(
    machine: &mut Machine<Taint, TaintObserver>,
    name: &str,
    results: &[TaintValue],
    types: &[weft_core::ValType],
) -> Vec<Val> {
    let mut vals = Vec::new();
    for (i, (r, t)) in results.iter().zip(types).enumerate() {
        let sink = Sink {
            offset: None,
            func: None,
            kind: SinkKind::ExportResult {
                export: name.to_string(),
                index: i as u32,
            },
        };
        machine.observer.record(sink, r.label);
        vals.push(weft_exec::concrete::bits_val(r.bits, *t));
    }
    vals
}

fn exec_outcome(e: ExecError) -> Result<Outcome, TaintError> {
    match e {
        ExecError::Exit(c) => Ok(Outcome::Exited(c)),
        ExecError::Trap(t) => Ok(Outcome::Trapped(t.to_string())),
        e => Err(TaintError(e.to_string())),
    }
}

fn finish(
    machine: &Machine<Taint, TaintObserver>,
    outcome: Outcome,
    mut stdout: Vec<u8>,
    wasi_state: Option<Arc<std::sync::Mutex<weft_exec::wasi::WasiState>>>,
) -> TaintReport {
    if let Some(st) = wasi_state {
        let mut st = st.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        stdout = st.take_stdout();
    }
    let shared = machine.domain.shared();
    let sinks = machine.observer.sinks();
    let labels: std::cell::Ref<'_, LabelTable> = shared.labels.borrow();
    let mut flows: Vec<Flow> = sinks
        .into_iter()
        .map(|(sink, l)| Flow {
            sink,
            sources: labels.sources(l).to_vec(),
        })
        .collect();
    // By offset; the export's results (no offset) last.
    flows.sort_by_key(|f| f.sink.offset.is_none());
    TaintReport {
        sources: shared.sources.borrow().clone(),
        flows,
        outcome,
        stdout,
        label_sets: labels.len(),
    }
}
