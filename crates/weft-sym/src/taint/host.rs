//! Host functions under taint: imports by summaries, and WASI inputs as sources.
//!
//! Non-WASI function imports get a stub that returns zeros whose label follows the
//! import's [`ImportSummary`]. WASI preview 1 is weft's own implementation, wrapped: bytes
//! `fd_read` delivers from standard input become one source each, the bytes `args_get`
//! writes for `argv[i]` (i ≥ 1) become source `argv[i]`, and the bytes `fd_write` sends to
//! a descriptor are a sink.

use super::domain::{Shared, Taint, TaintValue};
use super::label::Label;
use super::memory::TaintMemory;
use super::sink::SinkKind;
use super::source::Source;
use super::TaintError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use weft_core::{FuncType, Val};
use weft_exec::machine::read_memory;
use weft_exec::store::FuncKind;
use weft_exec::wasi::{self, WasiConfig, WasiState};
use weft_exec::{Extern, HostCtx, HostFunc, Linker, Machine, Observer};
use weft_ir::{ImportKind, Module};

/// How an imported function (other than WASI) moves taint from its arguments to its results.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ImportSummary {
    /// Every result carries the union of the arguments' labels.
    Propagate,
    /// Results are untainted.
    Clean,
    /// The results of each call are a new source (e.g. `__VERIFIER_nondet_int`).
    Source,
}

/// Reads a little-endian u32 from guest memory, `None` when out of bounds.
fn read_u32(mem: &TaintMemory, addr: u32) -> Option<u32> {
    let b = read_memory(mem, addr as u64, 4).ok()?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The iovecs (`{buf, len}`) of a WASI read or write, `None` when out of bounds.
fn iovecs(mem: &TaintMemory, addr: u32, count: u32) -> Option<Vec<(u32, u32)>> {
    (0..count.min(16384))
        .map(|i| {
            let at = addr.checked_add(i.checked_mul(8)?)?;
            Some((read_u32(mem, at)?, read_u32(mem, at.checked_add(4)?)?))
        })
        .collect()
}

fn arg_u32(v: &TaintValue) -> u32 {
    v.bits as u32
}

/// Wraps the host function at `addr` of the store.
fn wrap<O: Observer<Taint>>(
    machine: &mut Machine<Taint, O>,
    addr: u32,
    make: impl FnOnce(HostFunc<Taint>) -> HostFunc<Taint>,
) {
    let slot = &mut machine.store.funcs[addr as usize].kind;
    if let FuncKind::Host(h) = slot {
        *slot = FuncKind::Host(make(h.clone()));
    }
}

/// `fd_read`: bytes read from descriptor 0 become sources `stdin[i]`.
fn wrap_fd_read(orig: HostFunc<Taint>) -> HostFunc<Taint> {
    let ty = orig.ty.clone();
    HostFunc::new(
        ty,
        move |ctx: &mut HostCtx<'_, Taint>, args: &[TaintValue]| {
            let out = (orig.func)(ctx, args)?;
            let ok = out.first().is_some_and(|e| e.bits as u32 == 0);
            if ok && args.len() == 4 && arg_u32(&args[0]) == 0 {
                if let Some(mem) = ctx.memory.as_deref_mut() {
                    let shared = ctx.domain.shared().clone();
                    label_stdin(&shared, mem, &args[1..]);
                }
            }
            Ok(out)
        },
    )
}

fn label_stdin(shared: &Shared, mem: &mut TaintMemory, args: &[TaintValue]) {
    let (Some(mut left), Some(iov)) = (
        read_u32(mem, arg_u32(&args[2])),
        iovecs(mem, arg_u32(&args[0]), arg_u32(&args[1])),
    ) else {
        return;
    };
    for (buf, len) in iov {
        let n = len.min(left);
        for j in 0..n {
            let i = shared.stdin_read.get();
            shared.stdin_read.set(i + 1);
            let l = shared.new_source(Source::Stdin(i));
            mem.set_label(buf as u64 + j as u64, 1, l);
        }
        left -= n;
    }
}

/// `args_get`: the bytes of `argv[i]` (i ≥ 1) become source `argv[i]`.
fn wrap_args_get(orig: HostFunc<Taint>, argc: u32) -> HostFunc<Taint> {
    let ty = orig.ty.clone();
    HostFunc::new(
        ty,
        move |ctx: &mut HostCtx<'_, Taint>, args: &[TaintValue]| {
            let out = (orig.func)(ctx, args)?;
            let ok = out.first().is_some_and(|e| e.bits as u32 == 0);
            if let (true, Some(mem)) = (ok && args.len() == 2, ctx.memory.as_deref_mut()) {
                let shared = ctx.domain.shared().clone();
                for i in 1..argc {
                    let Some(p) = read_u32(mem, arg_u32(&args[0]).wrapping_add(4 * i)) else {
                        break;
                    };
                    let mut len = 0u64;
                    while read_memory(mem, p as u64 + len, 1).is_ok_and(|b| b[0] != 0) {
                        len += 1;
                    }
                    let l = shared.new_source(Source::Arg(i));
                    mem.set_label(p as u64, len, l);
                }
            }
            Ok(out)
        },
    )
}

/// `fd_write`: the bytes written are sink `output` of the descriptor.
fn wrap_fd_write(orig: HostFunc<Taint>) -> HostFunc<Taint> {
    let ty = orig.ty.clone();
    HostFunc::new(
        ty,
        move |ctx: &mut HostCtx<'_, Taint>, args: &[TaintValue]| {
            if let (4, Some(mem)) = (args.len(), ctx.memory.as_deref()) {
                let shared = ctx.domain.shared().clone();
                if let Some(iov) = iovecs(mem, arg_u32(&args[1]), arg_u32(&args[2])) {
                    let mut l = Label::EMPTY;
                    for (buf, len) in iov {
                        if read_memory(mem, buf as u64, len as usize).is_ok() {
                            l = shared
                                .join(l, mem.range_label(buf as u64, len as u64, &shared.labels));
                        }
                    }
                    if !l.is_empty() {
                        let kind = SinkKind::Output {
                            fd: arg_u32(&args[0]),
                        };
                        shared
                            .host_sinks
                            .borrow_mut()
                            .push((kind, shared.call_site.get(), l));
                    }
                }
            }
            (orig.func)(ctx, args)
        },
    )
}

/// Defines WASI preview 1 on `machine` and in `linker`, wrapped so that standard input and
/// program arguments are sources and output is a sink.
pub fn add_wasi<O: Observer<Taint>>(
    machine: &mut Machine<Taint, O>,
    linker: &mut Linker,
    config: WasiConfig,
    argc: u32,
) -> Arc<Mutex<WasiState>> {
    let state = wasi::add_to_linker(machine, linker, config);
    let lookup = |name| match linker.get(wasi::MODULE_NAME, name) {
        Some(Extern::Func(a)) => Some(a),
        _ => None,
    };
    if let Some(a) = lookup("fd_read") {
        wrap(machine, a, wrap_fd_read);
    }
    if let Some(a) = lookup("args_get") {
        wrap(machine, a, |h| wrap_args_get(h, argc));
    }
    if let Some(a) = lookup("fd_write") {
        wrap(machine, a, wrap_fd_write);
    }
    state
}

/// A stub for an imported function: returns zeros labelled by `summary`.
fn stub(name: String, ty: FuncType, summary: ImportSummary) -> HostFunc<Taint> {
    let calls = AtomicU32::new(0);
    let results = ty.results.clone();
    HostFunc::new(
        ty,
        move |ctx: &mut HostCtx<'_, Taint>, args: &[TaintValue]| {
            let shared = ctx.domain.shared().clone();
            let label = match summary {
                ImportSummary::Clean => Label::EMPTY,
                ImportSummary::Propagate => args
                    .iter()
                    .fold(Label::EMPTY, |l, a| shared.join(l, a.label)),
                ImportSummary::Source => shared.new_source(Source::Import {
                    name: name.clone(),
                    call: calls.fetch_add(1, Ordering::Relaxed),
                }),
            };
            let label = shared.join(label, shared.pc.get());
            Ok(results
                .iter()
                .map(|t| ctx.domain.value(Val::default_of(*t), label))
                .collect())
        },
    )
}

/// Defines a stub for every function import of `module` not already in `linker`, with the
/// summary `summary_of("module.name")`. Other unresolved imports are an error.
pub fn add_import_stubs<O: Observer<Taint>>(
    machine: &mut Machine<Taint, O>,
    linker: &mut Linker,
    module: &Module,
    summary_of: impl Fn(&str, &str) -> ImportSummary,
) -> Result<(), TaintError> {
    for imp in &module.imports {
        if linker.get(&imp.module, &imp.name).is_some() {
            continue;
        }
        match &imp.kind {
            ImportKind::Func(t) => {
                let ty = module
                    .types
                    .get(*t as usize)
                    .cloned()
                    .ok_or_else(|| TaintError(format!("import {}: bad type", imp.name)))?;
                let full = format!("{}.{}", imp.module, imp.name);
                let summary = summary_of(&imp.module, &imp.name);
                let addr = machine.add_host_func(stub(full, ty, summary));
                linker.define(&imp.module, &imp.name, Extern::Func(addr));
            }
            _ => {
                return Err(TaintError(format!(
                    "cannot provide the imported {} `{}.{}` (only functions can be stubbed)",
                    match imp.kind {
                        ImportKind::Table(_) => "table",
                        ImportKind::Memory(_) => "memory",
                        _ => "global",
                    },
                    imp.module,
                    imp.name
                )))
            }
        }
    }
    Ok(())
}
