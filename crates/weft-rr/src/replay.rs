//! Replaying a core module from its trace: every import is answered from the trace (results,
//! memory writes, memory growth), names, arguments and the bytes the host read are checked,
//! and the first difference is reported with its event index. Output written with WASI
//! `fd_write` to descriptors 1 and 2 is reproduced from the guest's own buffers.

use crate::memory::{apply, load_u32};
use crate::record::{engine, func_imports, memory_hash, trap_message, End};
use crate::trace::{qualified, Chunk, Event, Kind, Trace};
use crate::wasi_schema::{self, raw_args, Shape};
use crate::{codec, sha256_hex, unhex, Divergence, RrError};
use std::io::Write;
use std::sync::Arc;
use wasmtime::{Caller, FuncType, Linker, Module, Store, Val};

/// How to replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayOptions {
    /// Replay on another build of the same source: the module hash may differ, pointer
    /// arguments of WASI calls are not compared, host memory accesses are relocated relative
    /// to the pointer arguments, and the final memory is not compared.
    pub other_build: bool,
    /// Write reproduced output to this process's stdout/stderr as well as capturing it.
    pub inherit_stdio: bool,
    /// Fuel bound (wasmtime's cost model).
    pub fuel: Option<u64>,
}

/// A replay that matched its trace.
#[derive(Debug)]
pub struct ReplayOutcome {
    /// How the run ended (as recorded).
    pub end: End,
    /// Reproduced stdout.
    pub stdout: Vec<u8>,
    /// Reproduced stderr.
    pub stderr: Vec<u8>,
    /// SHA-256 of the final memory, if the module exports one.
    pub memory_sha256: Option<String>,
    /// Number of events replayed.
    pub events: usize,
}

struct State {
    events: Arc<Vec<Event>>,
    pos: usize,
    divergence: Option<Divergence>,
    exit: Option<i32>,
    host_trap: Option<String>,
    other_build: bool,
    inherit: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl State {
    fn diverge(&mut self, expected: String, actual: String) -> wasmtime::Error {
        let d = Divergence {
            index: self.pos,
            expected,
            actual,
        };
        let msg = d.to_string();
        self.divergence.get_or_insert(d);
        wasmtime::Error::msg(msg)
    }
    fn expected(&self) -> String {
        match self.events.get(self.pos) {
            Some(e) => e.describe(),
            None => "the end of the trace".into(),
        }
    }
}

/// Replays `trace` on `wasm`.
pub fn replay(wasm: &[u8], trace: &Trace, opts: &ReplayOptions) -> Result<ReplayOutcome, RrError> {
    if trace.header.kind != Kind::Core {
        return Err(RrError::Input(
            "this trace is of a component; replay it on the component".into(),
        ));
    }
    let hash = sha256_hex(wasm);
    if hash != trace.header.sha256 && !opts.other_build {
        return Err(RrError::HashMismatch {
            expected: trace.header.sha256.clone(),
            actual: hash,
        });
    }
    let engine = engine(opts.fuel.is_some())?;
    let module =
        Module::new(&engine, wasm).map_err(|e| RrError::Input(format!("invalid module: {e}")))?;
    replay_module(&engine, &module, trace, opts)
}

/// Replays `trace` on a compiled module (the caller has checked that it is the recorded one,
/// or another build with `other_build`).
pub fn replay_module(
    engine: &wasmtime::Engine,
    module: &Module,
    trace: &Trace,
    opts: &ReplayOptions,
) -> Result<ReplayOutcome, RrError> {
    let (engine, module) = (engine.clone(), module.clone());
    let mut linker: Linker<State> = Linker::new(&engine);
    for (m, n, ty) in func_imports(&module)? {
        let (m2, n2, ty2) = (m.clone(), n.clone(), ty.clone());
        linker
            .func_new(&m, &n, ty, move |caller, params, results| {
                answer(caller, &m2, &n2, &ty2, params, results)
            })
            .map_err(|e| RrError::Engine(e.to_string()))?;
    }
    let events = Arc::new(trace.events.clone());
    let mut store = Store::new(
        &engine,
        State {
            events: events.clone(),
            pos: 0,
            divergence: None,
            exit: None,
            host_trap: None,
            other_build: opts.other_build,
            inherit: opts.inherit_stdio,
            stdout: Vec::new(),
            stderr: Vec::new(),
        },
    );
    if let Some(f) = opts.fuel {
        store
            .set_fuel(f)
            .map_err(|e| RrError::Engine(e.to_string()))?;
    }
    let fail = |st: &mut State, e: wasmtime::Error| -> Result<End, RrError> {
        if let Some(d) = st.divergence.take() {
            return Err(d.into());
        }
        if let Some(code) = st.exit {
            return Ok(End::Exit(code));
        }
        if let Some(m) = st.host_trap.take() {
            return Ok(End::Trap(m));
        }
        Ok(End::Trap(trap_message(&e)))
    };
    let mut end = None;
    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => Some(i),
        Err(e) => {
            end = Some(fail(store.data_mut(), e)?);
            None
        }
    };
    if let Some(instance) = instance {
        while end.is_none() {
            let pos = store.data().pos;
            let (name, args) = match events.get(pos) {
                Some(Event::ExportCall { name, args }) => (name.clone(), args.clone()),
                Some(Event::Exit { .. } | Event::Trap { .. }) => break,
                _ => {
                    let st = store.data_mut();
                    let e = st.expected();
                    return Err(Divergence {
                        index: pos,
                        expected: e,
                        actual: "no further call from the host".into(),
                    }
                    .into());
                }
            };
            let func = instance.get_func(&mut store, &name).ok_or_else(|| {
                RrError::Diverged(Divergence {
                    index: pos,
                    expected: format!("export-call {name}"),
                    actual: format!("the module exports no function `{name}`"),
                })
            })?;
            let ty = func.ty(&store);
            let params = decode_all(&args, ty.params(), pos, "argument")?;
            store.data_mut().pos += 1;
            let mut results = vec![Val::I32(0); ty.results().len()];
            match func.call(&mut store, &params, &mut results) {
                Ok(()) => {
                    let st = store.data_mut();
                    let got: Vec<String> = results.iter().map(codec::encode).collect();
                    match st.events.get(st.pos) {
                        Some(Event::ExportRet { results: want }) if *want == got => st.pos += 1,
                        _ => {
                            let e = st.expected();
                            return Err(Divergence {
                                index: st.pos,
                                expected: e,
                                actual: format!("export-ret ({})", got.join(", ")),
                            }
                            .into());
                        }
                    }
                }
                Err(e) => end = Some(fail(store.data_mut(), e)?),
            }
        }
    }
    let memory_sha256 = instance.and_then(|i| memory_hash(&i, &mut store));
    let st = store.into_data();
    let end = end.unwrap_or(End::Exit(0));
    let (actual, same) = match (&end, st.events.get(st.pos)) {
        (End::Exit(c), Some(Event::Exit { code, memory })) => (
            format!("exit {c}"),
            c == code && (opts.other_build || memory.is_none() || *memory == memory_sha256),
        ),
        (End::Trap(m), Some(Event::Trap { message, memory })) => (
            format!("trap `{m}`"),
            m == message && (opts.other_build || memory.is_none() || *memory == memory_sha256),
        ),
        (End::Exit(c), _) => (format!("exit {c}"), false),
        (End::Trap(m), _) => (format!("trap `{m}`"), false),
    };
    if !same {
        let mut expected = st.expected();
        let mut actual = actual;
        if let Some(
            Event::Exit {
                memory: Some(h), ..
            }
            | Event::Trap {
                memory: Some(h), ..
            },
        ) = st.events.get(st.pos)
        {
            expected.push_str(&format!(" with memory {h}"));
            actual.push_str(&format!(
                " with memory {}",
                memory_sha256.as_deref().unwrap_or("none")
            ));
        }
        return Err(Divergence {
            index: st.pos,
            expected,
            actual,
        }
        .into());
    }
    Ok(ReplayOutcome {
        end,
        stdout: st.stdout,
        stderr: st.stderr,
        memory_sha256,
        events: st.pos + 1,
    })
}

/// Decodes text values with their types; the error names the event.
pub fn decode_all(
    texts: &[String],
    types: impl ExactSizeIterator<Item = wasmtime::ValType>,
    index: usize,
    what: &str,
) -> Result<Vec<Val>, RrError> {
    if texts.len() != types.len() {
        return Err(RrError::Trace {
            line: index + 2,
            event: Some(index),
            message: format!(
                "{} {what}(s) where the signature has {}",
                texts.len(),
                types.len()
            ),
        });
    }
    texts
        .iter()
        .zip(types)
        .map(|(t, ty)| {
            codec::decode(t, &ty).map_err(|message| RrError::Trace {
                line: index + 2,
                event: Some(index),
                message,
            })
        })
        .collect()
}

fn answer(
    mut caller: Caller<'_, State>,
    module: &str,
    name: &str,
    ty: &FuncType,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let memory = caller.get_export("memory").and_then(|e| e.into_memory());
    let actual_args: Vec<String> = params.iter().map(codec::encode).collect();
    let actual = || {
        format!(
            "import-call {}({})",
            qualified(module, name),
            actual_args.join(", ")
        )
    };
    let shape = if module == wasi_schema::MODULE {
        wasi_schema::shape(name)
    } else {
        None
    };
    let raw = raw_args(params);
    let st = caller.data_mut();
    let events = st.events.clone();
    let call_index = st.pos;
    let (rec_args, reads) = match events.get(call_index) {
        Some(Event::ImportCall {
            module: m,
            name: n,
            args,
            reads,
        }) if m == module && n == name => (args, reads),
        _ => {
            let e = st.expected();
            return Err(st.diverge(e, actual()));
        }
    };
    // Arguments: all of them, or on another build all but WASI pointers.
    let want = match decode_all(rec_args, ty.params(), call_index, "argument") {
        Ok(v) => v,
        Err(e) => {
            return Err(st.diverge(events[call_index].describe(), format!("{} ({e})", actual())))
        }
    };
    let differs = want.iter().zip(params).enumerate().any(|(i, (w, p))| {
        let pointer = st.other_build && shape.is_some_and(|s| s.is_pointer(i));
        !pointer && !codec::same(w, p)
    });
    if differs {
        return Err(st.diverge(events[call_index].describe(), actual()));
    }
    let other_build = st.other_build;
    let rec_raw = raw_args(&want);
    // Bytes the host read: the data given to it must be the same.
    if let Some(m) = memory {
        let data = m.data(&caller);
        let iovecs = shape.map(|s| s.iovecs(&raw, data)).unwrap_or_default();
        for c in reads {
            if other_build && c.at.as_deref().is_some_and(|a| a.starts_with("iovs")) {
                continue; // the iovec list holds pointers
            }
            let bytes = unhex(&c.hex).unwrap_or_default();
            let ranges = place(c, bytes.len() as u64, other_build, shape, &raw, &iovecs);
            let here = ranges.as_ref().and_then(|rs| gather(data, rs));
            if here.as_deref() != Some(&bytes[..]) {
                let got = here
                    .map(|h| crate::hex(&h))
                    .unwrap_or_else(|| "out of bounds".into());
                let at = ranges
                    .and_then(|r| r.first().map(|x| x.0))
                    .unwrap_or(c.addr);
                let st = caller.data_mut();
                return Err(st.diverge(
                    format!(
                        "{} reading {} at {}",
                        events[call_index].describe(),
                        c.hex,
                        c.addr
                    ),
                    format!("{} reading {got} at {at}", actual()),
                ));
            }
        }
    }
    let st = caller.data_mut();
    st.pos += 1;
    let ret_index = st.pos;
    match events.get(ret_index) {
        Some(Event::ImportRet {
            results: rec_results,
            writes,
            grow,
        }) => {
            let vals = match decode_all(rec_results, ty.results(), ret_index, "result") {
                Ok(v) => v,
                Err(e) => return Err(st.diverge(events[ret_index].describe(), e.to_string())),
            };
            st.pos += 1;
            if let Some(m) = memory {
                if let Some(pages) = grow {
                    let now = m.size(&caller);
                    if *pages > now {
                        m.grow(&mut caller, pages - now)?;
                    }
                }
                let data = m.data_mut(&mut caller);
                let iovecs = shape.map(|s| s.iovecs(&raw, data)).unwrap_or_default();
                for c in writes {
                    let mut bytes = unhex(&c.hex).unwrap_or_default();
                    let Some(ranges) =
                        place(c, bytes.len() as u64, other_build, shape, &raw, &iovecs)
                    else {
                        let st = caller.data_mut();
                        let at = c.at.clone().unwrap_or_default();
                        return Err(st.diverge(
                            events[ret_index].describe(),
                            format!("no place for the write at `{at}` in this call"),
                        ));
                    };
                    if other_build
                        && shape.is_some_and(|s| s.pointer_array)
                        && c.at.as_deref().is_some_and(|a| a.starts_with("arg0+"))
                    {
                        relocate_pointers(&mut bytes, rec_raw.get(1).copied(), raw.get(1).copied());
                    }
                    let mut done = 0usize;
                    for (addr, len) in ranges {
                        let part = &bytes[done..done + len as usize];
                        done += len as usize;
                        if let Err(m) = apply(data, addr, part) {
                            let st = caller.data_mut();
                            return Err(st.diverge(events[ret_index].describe(), m));
                        }
                    }
                }
            }
            results.clone_from_slice(&vals);
            if module == wasi_schema::MODULE && (name == "fd_write" || name == "fd_pwrite") {
                echo_output(&mut caller, memory, &raw, name);
            }
            Ok(())
        }
        Some(Event::Exit { code, .. }) => {
            st.exit = Some(*code);
            Err(wasmtime::Error::msg(format!("exit with status {code}")))
        }
        Some(Event::Trap { message, .. }) => {
            st.host_trap = Some(message.clone());
            Err(wasmtime::Error::msg(message.clone()))
        }
        _ => {
            let e = st.expected();
            Err(st.diverge(e, format!("the return of {}", qualified(module, name))))
        }
    }
}

/// The memory ranges of a recorded access of `len` bytes in this run.
fn place(
    c: &Chunk,
    len: u64,
    other_build: bool,
    shape: Option<Shape>,
    raw: &[u64],
    iovecs: &[(u64, u64)],
) -> Option<Vec<(u64, u64)>> {
    match (other_build, shape, &c.at) {
        (true, Some(s), Some(at)) => s.resolve(at, len, raw, iovecs),
        _ => Some(vec![(c.addr, len)]),
    }
}

/// The bytes of `ranges`, `None` when one is out of bounds.
fn gather(data: &[u8], ranges: &[(u64, u64)]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for &(a, l) in ranges {
        let a = usize::try_from(a).ok()?;
        out.extend_from_slice(data.get(a..a.checked_add(l as usize)?)?);
    }
    Some(out)
}

fn relocate_pointers(bytes: &mut [u8], old: Option<u64>, new: Option<u64>) {
    let (Some(old), Some(new)) = (old, new) else {
        return;
    };
    for w in bytes.chunks_exact_mut(4) {
        let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as u64;
        let moved = (v.wrapping_sub(old).wrapping_add(new)) as u32;
        w.copy_from_slice(&moved.to_le_bytes());
    }
}

/// Appends what `fd_write`/`fd_pwrite` to descriptor 1 or 2 wrote (the guest's own buffers,
/// as many bytes as the recorded `nwritten` says).
fn echo_output(
    caller: &mut Caller<'_, State>,
    memory: Option<wasmtime::Memory>,
    raw: &[u64],
    name: &str,
) {
    let Some(m) = memory else { return };
    let fd = raw.first().copied().unwrap_or(0);
    if fd != 1 && fd != 2 {
        return;
    }
    let shape = wasi_schema::shape(name).expect("fd_write has a shape");
    let nwritten_ptr = if name == "fd_write" {
        raw.get(3)
    } else {
        raw.get(4)
    };
    let data = m.data(&*caller);
    let Some(mut left) = nwritten_ptr.and_then(|&p| load_u32(data, p)).map(u64::from) else {
        return;
    };
    let mut out = Vec::new();
    for (b, l) in shape.iovecs(raw, data) {
        let n = l.min(left);
        if let Some(s) = data.get(b as usize..(b + n) as usize) {
            out.extend_from_slice(s);
        }
        left -= n;
    }
    let st = caller.data_mut();
    if st.inherit {
        let _ = if fd == 1 {
            std::io::stdout().write_all(&out)
        } else {
            std::io::stderr().write_all(&out)
        };
    }
    if fd == 1 {
        st.stdout.extend_from_slice(&out)
    } else {
        st.stderr.extend_from_slice(&out)
    }
}
