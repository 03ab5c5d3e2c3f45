//! Recording a core module on wasmtime: every function import is wrapped, the host's
//! answers (results, memory writes, memory growth) and the host's memory reads are written
//! to the trace, and the program's stdio passes through.

use crate::memory::{chunk, coalesce, LoggedMemory};
use crate::trace::{Event, Header, Kind, Trace, VERSION};
use crate::wasi_schema::{self, raw_args};
use crate::{codec, sha256_hex, RrError};
use std::path::PathBuf;
use wasmtime::{Caller, Engine, ExternType, FuncType, Instance, Linker, Module, Store, Val};
use weft_exec::wasi::{InputSource, OutputSink, WasiConfig, WasiState};
use weft_exec::HostError;

/// Why a host call did not return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostStop {
    /// The program exits with this status.
    Exit(i32),
    /// The call traps with this message.
    Trap(String),
}

/// A host answering core imports.
pub trait CoreHost: Send + 'static {
    /// Answers a call of `module.name` (type `ty`): fills `results` or stops. `memory` is the
    /// caller's memory 0, if it exports one.
    fn call(
        &mut self,
        module: &str,
        name: &str,
        ty: &FuncType,
        args: &[Val],
        memory: Option<&mut LoggedMemory<'_>>,
        results: &mut [Val],
    ) -> Result<(), HostStop>;
}

/// weft's WASI preview 1 implementation as a [`CoreHost`].
pub struct WasiHost {
    /// The WASI state (captured output, descriptors).
    pub state: WasiState,
}

impl CoreHost for WasiHost {
    fn call(
        &mut self,
        module: &str,
        name: &str,
        _ty: &FuncType,
        args: &[Val],
        memory: Option<&mut LoggedMemory<'_>>,
        results: &mut [Val],
    ) -> Result<(), HostStop> {
        if module != wasi_schema::MODULE {
            return Err(HostStop::Trap(format!(
                "import {module}.{name} has no host"
            )));
        }
        let mem = memory.map(|m| m as &mut dyn weft_exec::wasi::ExternalMemory);
        match weft_exec::wasi::call_external(&mut self.state, name, mem, &raw_args(args)) {
            Ok(Some(errno)) => {
                if let Some(r) = results.first_mut() {
                    *r = Val::I32(errno);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(HostError::Exit(code)) => Err(HostStop::Exit(code)),
            Err(HostError::Trap(m)) => Err(HostStop::Trap(m)),
            Err(HostError::Fault(f)) => Err(HostStop::Trap(format!("{f:?}"))),
        }
    }
}

/// What the recorded program sees.
#[derive(Clone, Debug, Default)]
pub struct RecordOptions {
    /// `argv`, the program name first.
    pub args: Vec<String>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Preopened directories: guest name, host path.
    pub dirs: Vec<(String, PathBuf)>,
    /// Standard input.
    pub stdin: InputSource,
    /// Where the program's stdout goes (passed through by the CLI).
    pub stdout: OutputSink,
    /// Where the program's stderr goes.
    pub stderr: OutputSink,
    /// Fuel for the run (wasmtime's cost model), unbounded when `None`.
    pub fuel: Option<u64>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Exit status (0 when the entry point returned).
    Exit(i32),
    /// Trap message.
    Trap(String),
}

/// A finished recording.
#[derive(Debug)]
pub struct Recording {
    /// The trace.
    pub trace: Trace,
    /// How the run ended.
    pub end: End,
    /// Captured stdout (empty when passed through).
    pub stdout: Vec<u8>,
    /// Captured stderr (empty when passed through).
    pub stderr: Vec<u8>,
}

/// Records a WASI preview 1 command: `_start` with every import wrapped.
pub fn record_wasi(wasm: &[u8], opts: &RecordOptions) -> Result<Recording, RrError> {
    record_wasi_on(&CoreRecorder::new(wasm, opts.fuel.is_some())?, opts)
}

/// Records a WASI preview 1 command on an already compiled recorder.
pub fn record_wasi_on(
    recorder: &CoreRecorder<WasiHost>,
    opts: &RecordOptions,
) -> Result<Recording, RrError> {
    let mut config = WasiConfig::new()
        .args(opts.args.iter().cloned())
        .envs(opts.env.iter().cloned())
        .stdin(opts.stdin.clone())
        .stdout(opts.stdout)
        .stderr(opts.stderr);
    for (guest, host) in &opts.dirs {
        config = config.preopen(
            guest.clone(),
            host.clone(),
            weft_exec::wasi::DirAccess::ReadWrite,
        );
    }
    config
        .check_preopens()
        .map_err(|e| RrError::Input(e.to_string()))?;
    let host = WasiHost {
        state: WasiState::new(config),
    };
    let (trace, end, mut host) = recorder.run(
        host,
        &[("_start".into(), Vec::new())],
        opts.fuel,
        opts.args.clone(),
    )?;
    Ok(Recording {
        trace,
        end,
        stdout: host.state.take_stdout(),
        stderr: host.state.take_stderr(),
    })
}

/// Store data of a recorded run.
pub struct RecState<H> {
    host: H,
    events: Vec<Event>,
    stop: Option<HostStop>,
}

/// The engine used for core runs (fuel on when asked).
pub fn engine(fuel: bool) -> Result<Engine, RrError> {
    let mut c = wasmtime::Config::new();
    c.consume_fuel(fuel);
    Engine::new(&c).map_err(|e| RrError::Engine(e.to_string()))
}

/// The function imports of a module, in order: module, name, type.
pub fn func_imports(module: &Module) -> Result<Vec<(String, String, FuncType)>, RrError> {
    module
        .imports()
        .map(|i| match i.ty() {
            ExternType::Func(f) => Ok((i.module().to_string(), i.name().to_string(), f)),
            other => Err(RrError::Unsupported(format!(
                "import {}.{} is a {}; only function imports can be recorded",
                i.module(),
                i.name(),
                match other {
                    ExternType::Memory(_) => "memory",
                    ExternType::Table(_) => "table",
                    ExternType::Global(_) => "global",
                    _ => "non-function",
                }
            ))),
        })
        .collect()
}

/// Records calls of `exports` (name, arguments) on a module whose imports `host` answers.
/// Returns the trace, how the run ended and the host.
pub fn record_with<H: CoreHost>(
    wasm: &[u8],
    host: H,
    exports: &[(String, Vec<Val>)],
    fuel: Option<u64>,
    args: Vec<String>,
) -> Result<(Trace, End, H), RrError> {
    CoreRecorder::new(wasm, fuel.is_some())?.run(host, exports, fuel, args)
}

/// A compiled module with every function import wrapped, ready for many recorded runs.
pub struct CoreRecorder<H: CoreHost> {
    engine: Engine,
    module: Module,
    linker: Linker<RecState<H>>,
    sha256: String,
}

impl<H: CoreHost> CoreRecorder<H> {
    /// Compiles `wasm` (with fuel metering when `fuel`).
    pub fn new(wasm: &[u8], fuel: bool) -> Result<Self, RrError> {
        let engine = engine(fuel)?;
        let module = Module::new(&engine, wasm)
            .map_err(|e| RrError::Input(format!("invalid module: {e}")))?;
        let mut linker: Linker<RecState<H>> = Linker::new(&engine);
        for (m, n, ty) in func_imports(&module)? {
            let (m2, n2, ty2) = (m.clone(), n.clone(), ty.clone());
            linker
                .func_new(&m, &n, ty, move |caller, params, results| {
                    wrapped_call(caller, &m2, &n2, &ty2, params, results)
                })
                .map_err(|e| RrError::Engine(e.to_string()))?;
        }
        Ok(CoreRecorder {
            engine,
            module,
            linker,
            sha256: sha256_hex(wasm),
        })
    }

    /// The engine the module was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// One recorded run: instantiates, calls `exports` in order (stopping at the first
    /// trap or exit). `args` go to the header.
    pub fn run(
        &self,
        host: H,
        exports: &[(String, Vec<Val>)],
        fuel: Option<u64>,
        args: Vec<String>,
    ) -> Result<(Trace, End, H), RrError> {
        let mut store = Store::new(
            &self.engine,
            RecState {
                host,
                events: Vec::new(),
                stop: None,
            },
        );
        if let Some(f) = fuel {
            store
                .set_fuel(f)
                .map_err(|e| RrError::Engine(e.to_string()))?;
        }
        let header = Header {
            version: VERSION,
            kind: Kind::Core,
            sha256: self.sha256.clone(),
            world: None,
            args,
        };
        let instance = match self.linker.instantiate(&mut store, &self.module) {
            Ok(i) => i,
            Err(e) => {
                let end = finish_err(&mut store, e);
                let st = store.into_data();
                let mut events = st.events;
                events.push(end_event(&end, None));
                return Ok((Trace { header, events }, end, st.host));
            }
        };
        let mut end = End::Exit(0);
        for (name, args) in exports {
            let func = instance.get_func(&mut store, name).ok_or_else(|| {
                RrError::Input(format!("the module exports no function `{name}`"))
            })?;
            let ty = func.ty(&store);
            store.data_mut().events.push(Event::ExportCall {
                name: name.clone(),
                args: args.iter().map(codec::encode).collect(),
            });
            let mut results = vec![Val::I32(0); ty.results().len()];
            match func.call(&mut store, args, &mut results) {
                Ok(()) => store.data_mut().events.push(Event::ExportRet {
                    results: results.iter().map(codec::encode).collect(),
                }),
                Err(e) => {
                    end = finish_err(&mut store, e);
                    break;
                }
            }
        }
        let mem = memory_hash(&instance, &mut store);
        let st = store.into_data();
        let mut events = st.events;
        events.push(end_event(&end, mem));
        Ok((Trace { header, events }, end, st.host))
    }
}

fn end_event(end: &End, memory: Option<String>) -> Event {
    match end {
        End::Exit(code) => Event::Exit {
            code: *code,
            memory,
        },
        End::Trap(message) => Event::Trap {
            message: message.clone(),
            memory,
        },
    }
}

fn finish_err<H>(store: &mut Store<RecState<H>>, e: wasmtime::Error) -> End {
    match store.data_mut().stop.take() {
        Some(HostStop::Exit(c)) => End::Exit(c),
        Some(HostStop::Trap(m)) => End::Trap(m),
        None => End::Trap(trap_message(&e)),
    }
}

/// The message of a trap: wasmtime's trap code text when there is one (stable across
/// builds), otherwise the error's text.
pub fn trap_message(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(t) => t.to_string(),
        None => e.to_string(),
    }
}

/// SHA-256 of the instance's exported memory `memory`, if any.
pub fn memory_hash<T>(instance: &Instance, store: &mut Store<T>) -> Option<String> {
    let m = instance.get_memory(&mut *store, "memory")?;
    Some(sha256_hex(m.data(&*store)))
}

fn wrapped_call<H: CoreHost>(
    mut caller: Caller<'_, RecState<H>>,
    module: &str,
    name: &str,
    ty: &FuncType,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let memory = caller.get_export("memory").and_then(|e| e.into_memory());
    let pages_before = memory.map(|m| m.size(&caller));
    let index = caller.data().events.len();
    caller.data_mut().events.push(Event::ImportCall {
        module: module.to_string(),
        name: name.to_string(),
        args: params.iter().map(codec::encode).collect(),
        reads: Vec::new(),
    });
    let shape = if module == wasi_schema::MODULE {
        wasi_schema::shape(name)
    } else {
        None
    };
    let raw = raw_args(params);
    for (r, t) in results.iter_mut().zip(ty.results()) {
        *r = Val::default_for_ty(&t).unwrap_or(Val::I32(0));
    }
    let (outcome, reads, writes) = match memory {
        Some(m) => {
            let (data, st) = m.data_and_store_mut(&mut caller);
            let iovecs = shape.map(|s| s.iovecs(&raw, data)).unwrap_or_default();
            let mut logged = LoggedMemory::new(data);
            let out = st
                .host
                .call(module, name, ty, params, Some(&mut logged), results);
            let locate = |list: Vec<(u64, Vec<u8>)>| {
                let located = list.into_iter().map(|(a, b)| {
                    let at = shape.and_then(|s| s.locate(&raw, &iovecs, a, b.len() as u64));
                    (a, at, b)
                });
                coalesce(located)
                    .into_iter()
                    .map(|(a, at, b)| chunk(a, at, &b))
                    .collect::<Vec<_>>()
            };
            let reads = locate(logged.take_reads());
            let writes = locate(std::mem::take(&mut logged.writes));
            (out, reads, writes)
        }
        None => {
            let st = caller.data_mut();
            (
                st.host.call(module, name, ty, params, None, results),
                Vec::new(),
                Vec::new(),
            )
        }
    };
    let pages_after = memory.map(|m| m.size(&caller));
    let st = caller.data_mut();
    if let Some(Event::ImportCall { reads: r, .. }) = st.events.get_mut(index) {
        *r = reads;
    }
    match outcome {
        Ok(()) => {
            st.events.push(Event::ImportRet {
                results: results.iter().map(codec::encode).collect(),
                writes,
                grow: if pages_after != pages_before {
                    pages_after
                } else {
                    None
                },
            });
            Ok(())
        }
        Err(stop) => {
            let msg = match &stop {
                HostStop::Exit(c) => format!("exit with status {c}"),
                HostStop::Trap(m) => m.clone(),
            };
            st.stop = Some(stop);
            Err(wasmtime::Error::msg(msg))
        }
    }
}
