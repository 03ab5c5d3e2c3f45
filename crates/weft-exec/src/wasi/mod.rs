//! WASI preview 1 (`wasi_snapshot_preview1`), enough for C programs built with wasi-libc.
//!
//! - [`WasiConfig`] describes what the guest sees: arguments, environment, standard streams,
//!   preopened directories, the random stream and the clocks.
//! - [`add_to_linker`] defines every preview-1 function (46 of them) with its exact
//!   signature on a [`Machine`] of any domain and observer, and returns the shared
//!   [`WasiState`] (captured output, exit code). Functions that cannot be supported
//!   meaningfully (sockets, `proc_raise`) exist and return an error number.
//! - [`run_command`] and [`run_command_in`] instantiate a command module, call `_start` and
//!   report the [`RunOutcome`].
//!
//! Sandboxing: guest paths resolve only beneath the directory descriptor they are relative
//! to (a preopen or a directory opened from one). Absolute paths, `..` above that directory
//! and symbolic links whose target is absolute or leads above it are refused with
//! `ENOTCAPABLE`; symbolic links are resolved by weft itself, one component at a time, so
//! the host never follows one out of the sandbox. Read-only preopens grant no right that
//! modifies the file system. The number of open descriptors and the bytes moved per call
//! are bounded ([`WasiLimits`]); guest pointers are bounds-checked (`EFAULT`), and no guest
//! input makes the host panic. The resolution assumes that nothing but the guest changes
//! the preopened trees while it runs.

mod abi;
mod fs;
mod funcs;
mod mem;
mod run;
mod state;

pub use run::{run_command, run_command_in, RunError, RunOutcome, Termination};
pub use state::WasiState;

use crate::domain::Domain;
use crate::host::{HostCtx, HostError, HostFunc};
use crate::machine::Machine;
use crate::observer::Observer;
use crate::store::{Extern, Linker};
use abi::Errno;
use mem::{GuestMem, MemAccess};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use weft_core::{FuncType, Val, ValType};

/// The import module name of WASI preview 1.
pub const MODULE_NAME: &str = "wasi_snapshot_preview1";

/// Where the guest's standard input comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum InputSource {
    /// An empty stream (like `/dev/null`).
    #[default]
    Empty,
    /// The host process's standard input.
    Inherit,
    /// The given bytes.
    Bytes(Vec<u8>),
}

/// Where a guest output stream (stdout or stderr) goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputSink {
    /// Kept in a buffer, readable after the run ([`WasiState::stdout`], [`RunOutcome`]).
    #[default]
    Capture,
    /// Written to the host process's corresponding stream.
    Inherit,
    /// Dropped.
    Discard,
}

/// Whether a preopened directory may be modified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DirAccess {
    /// Reading only: every right that modifies the file system is withheld.
    ReadOnly,
    /// Reading and writing.
    #[default]
    ReadWrite,
}

/// A host directory the guest sees under a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    /// The name the guest sees (`"."`, `"/data"`, ...).
    pub guest_path: String,
    /// The host directory.
    pub host_path: PathBuf,
    /// Read-only or read-write.
    pub access: DirAccess,
}

/// What the guest's clocks read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// The host's clocks.
    #[default]
    Real,
    /// A virtual clock shared by every clock id: it starts at `start_ns` and advances by
    /// `step_ns` after each `clock_time_get`; `poll_oneoff` advances it to the deadline it
    /// waits for.
    Deterministic {
        /// The first time read, in nanoseconds.
        start_ns: u64,
        /// Advance per query, in nanoseconds.
        step_ns: u64,
    },
}

/// Where `random_get` bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandomSource {
    /// A ChaCha20 stream from this seed: the same seed gives the same bytes.
    Seeded(u64),
    /// A ChaCha20 stream seeded from the operating system's entropy.
    Entropy,
}

impl Default for RandomSource {
    fn default() -> Self {
        RandomSource::Seeded(0)
    }
}

/// Bounds on what a guest may consume through WASI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasiLimits {
    /// Most descriptors open at once (standard streams and preopens included).
    pub max_open_fds: u32,
    /// Largest buffer one host read or write handles; bigger requests move in chunks.
    pub io_chunk_bytes: usize,
    /// Most bytes one `fd_read`/`fd_write` (and `p` variants) call moves; the rest is a short
    /// read or write, which C libraries retry.
    pub max_io_bytes_per_call: usize,
    /// Most bytes kept of each captured stream; writes beyond it fail with `ENOSPC`.
    pub max_captured_bytes: usize,
    /// Longest path accepted, in bytes (`ENAMETOOLONG` beyond).
    pub max_path_bytes: u32,
    /// Most symbolic links followed while resolving one path (`ELOOP` beyond).
    pub max_symlinks: u32,
}

impl Default for WasiLimits {
    fn default() -> Self {
        WasiLimits {
            max_open_fds: 1024,
            io_chunk_bytes: 64 << 10,
            max_io_bytes_per_call: 16 << 20,
            max_captured_bytes: 256 << 20,
            max_path_bytes: 4096,
            max_symlinks: 32,
        }
    }
}

/// What a WASI guest sees: built with chained methods.
///
/// ```
/// use weft_exec::wasi::{WasiConfig, InputSource};
/// let config = WasiConfig::new()
///     .arg("prog")
///     .arg("input.txt")
///     .env("LANG", "C")
///     .stdin(InputSource::Bytes(b"hello\n".to_vec()))
///     .random_seed(42);
/// assert_eq!(config.args.len(), 2);
/// ```
#[derive(Clone, Debug, Default)]
pub struct WasiConfig {
    /// Arguments, `argv[0]` included.
    pub args: Vec<String>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// Standard input.
    pub stdin: InputSource,
    /// Standard output (captured by default).
    pub stdout: OutputSink,
    /// Standard error (captured by default).
    pub stderr: OutputSink,
    /// Preopened directories, given descriptors 3, 4, ... in order.
    pub preopens: Vec<Preopen>,
    /// The random stream (seed 0 by default).
    pub random: RandomSource,
    /// The clocks (the host's by default).
    pub clock: ClockMode,
    /// Whether `poll_oneoff` may block the host thread for real clocks (off by default: clock
    /// subscriptions fire at once).
    pub allow_sleep: bool,
    /// Resource bounds.
    pub limits: WasiLimits,
}

impl WasiConfig {
    /// An empty configuration: no arguments, no environment, empty stdin, captured output,
    /// no preopens, seed 0, real clocks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an argument (the first one is `argv[0]`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable (replacing an earlier value of the same name).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key, value)),
        }
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        for (k, v) in vars {
            self = self.env(k, v);
        }
        self
    }

    /// Copies the host process's environment (variables that are not UTF-8 are skipped).
    pub fn inherit_env(self) -> Self {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        self.envs(vars)
    }

    /// Sets standard input.
    pub fn stdin(mut self, source: InputSource) -> Self {
        self.stdin = source;
        self
    }

    /// Sets standard output.
    pub fn stdout(mut self, sink: OutputSink) -> Self {
        self.stdout = sink;
        self
    }

    /// Sets standard error.
    pub fn stderr(mut self, sink: OutputSink) -> Self {
        self.stderr = sink;
        self
    }

    /// Inherits all three standard streams from the host process.
    pub fn inherit_stdio(self) -> Self {
        self.stdin(InputSource::Inherit)
            .stdout(OutputSink::Inherit)
            .stderr(OutputSink::Inherit)
    }

    /// Preopens host directory `host_path` as `guest_path`.
    pub fn preopen(
        mut self,
        guest_path: impl Into<String>,
        host_path: impl Into<PathBuf>,
        access: DirAccess,
    ) -> Self {
        self.preopens.push(Preopen {
            guest_path: guest_path.into(),
            host_path: host_path.into(),
            access,
        });
        self
    }

    /// Seeds the random stream.
    pub fn random_seed(mut self, seed: u64) -> Self {
        self.random = RandomSource::Seeded(seed);
        self
    }

    /// Sets the random source.
    pub fn random(mut self, source: RandomSource) -> Self {
        self.random = source;
        self
    }

    /// Sets the clocks.
    pub fn clock(mut self, mode: ClockMode) -> Self {
        self.clock = mode;
        self
    }

    /// Deterministic clocks starting at `start_ns` and advancing `step_ns` per query.
    pub fn deterministic_clock(self, start_ns: u64, step_ns: u64) -> Self {
        self.clock(ClockMode::Deterministic { start_ns, step_ns })
    }

    /// Lets `poll_oneoff` sleep on real clocks.
    pub fn allow_sleep(mut self, allow: bool) -> Self {
        self.allow_sleep = allow;
        self
    }

    /// Sets the resource bounds.
    pub fn limits(mut self, limits: WasiLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Checks that every preopened host path is a directory.
    pub fn check_preopens(&self) -> Result<(), RunError> {
        for p in &self.preopens {
            match std::fs::metadata(&p.host_path) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(RunError::Preopen {
                        path: p.host_path.clone(),
                        message: "not a directory".into(),
                    })
                }
                Err(e) => {
                    return Err(RunError::Preopen {
                        path: p.host_path.clone(),
                        message: e.to_string(),
                    })
                }
            }
        }
        Ok(())
    }
}

/// Why a WASI function did not succeed: an error number for the guest, or a host-level stop.
#[derive(Debug)]
pub(crate) enum Error {
    Errno(Errno),
    Host(HostError),
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Error::Errno(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Errno(fs::io_errno(&e))
    }
}

/// The result of a WASI function body.
pub(crate) type WResult<T = ()> = Result<T, Error>;

/// The concrete arguments of a call, each widened to 64 bits (i32 zero-extended).
pub(crate) struct Args([u64; funcs::MAX_PARAMS]);

impl Args {
    pub(crate) fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    pub(crate) fn u64(&self, i: usize) -> u64 {
        self.0[i]
    }
    pub(crate) fn i64(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
}

/// Defines every `wasi_snapshot_preview1` function on `machine` and in `linker` with a new
/// [`WasiState`] built from `config`, and returns that state (shared with the functions).
pub fn add_to_linker<D: Domain, O: Observer<D>>(
    machine: &mut Machine<D, O>,
    linker: &mut Linker,
    config: WasiConfig,
) -> Arc<Mutex<WasiState>> {
    let state = Arc::new(Mutex::new(WasiState::new(config)));
    add_state_to_linker(machine, linker, &state);
    state
}

/// Defines every `wasi_snapshot_preview1` function over an existing state (several
/// instances or machines may share one).
pub fn add_state_to_linker<D: Domain, O: Observer<D>>(
    machine: &mut Machine<D, O>,
    linker: &mut Linker,
    state: &Arc<Mutex<WasiState>>,
) {
    for def in funcs::FUNCS {
        let addr = machine.add_host_func(host_func::<D>(state.clone(), def));
        linker.define(MODULE_NAME, def.name, Extern::Func(addr));
    }
}

/// Guest linear memory owned by another runtime (e.g. wasmtime), for [`call_external`].
///
/// `read` and `write` are only called with ranges inside `[0, size())`.
pub trait ExternalMemory {
    /// Current size in bytes.
    fn size(&self) -> u64;
    /// Copies `out.len()` bytes starting at `addr`.
    fn read(&self, addr: u64, out: &mut [u8]);
    /// Writes `bytes` at `addr`.
    fn write(&mut self, addr: u64, bytes: &[u8]);
}

struct ExternalMem<'a>(&'a mut dyn ExternalMemory);

impl MemAccess for ExternalMem<'_> {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), crate::domain::Fault> {
        self.0.read(addr, out);
        Ok(())
    }
    fn write(&mut self, addr: u64, bytes: &[u8]) {
        self.0.write(addr, bytes)
    }
}

/// The core signature of a preview-1 function: parameter types and whether it returns an
/// errno (`i32`); `None` for a name weft does not define.
pub fn signature(name: &str) -> Option<(&'static [ValType], bool)> {
    funcs::FUNCS
        .iter()
        .find(|d| d.name == name)
        .map(|d| (d.params, d.returns_errno))
}

/// Calls the preview-1 function `name` outside a [`Machine`]: `args` are the raw arguments
/// (i32 zero-extended to 64 bits), `memory` the caller's memory 0. Returns the errno for
/// functions that return one, or the host-level stop (`proc_exit`). An unknown name is a
/// [`HostError::Trap`].
pub fn call_external(
    state: &mut WasiState,
    name: &str,
    memory: Option<&mut dyn ExternalMemory>,
    args: &[u64],
) -> Result<Option<i32>, HostError> {
    let Some(def) = funcs::FUNCS.iter().find(|d| d.name == name) else {
        return Err(HostError::Trap(format!("unknown WASI function {name}")));
    };
    let mut raw = [0u64; funcs::MAX_PARAMS];
    for (slot, &v) in raw.iter_mut().zip(args) {
        *slot = v;
    }
    let mut ext = memory.map(ExternalMem);
    let mut mem = GuestMem::new(ext.as_mut().map(|m| m as &mut dyn MemAccess));
    let errno = match (def.imp)(state, &mut mem, &Args(raw)) {
        Ok(()) => 0,
        Err(Error::Errno(e)) => e.0,
        Err(Error::Host(h)) => return Err(h),
    };
    Ok(def.returns_errno.then_some(errno as i32))
}

/// The names of every `wasi_snapshot_preview1` function weft defines.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    funcs::FUNCS.iter().map(|d| d.name)
}

fn host_func<D: Domain>(state: Arc<Mutex<WasiState>>, def: &'static funcs::Def) -> HostFunc<D> {
    let results = if def.returns_errno {
        vec![ValType::I32]
    } else {
        Vec::new()
    };
    let ty = FuncType::new(def.params.to_vec(), results);
    HostFunc::new(ty, move |ctx: &mut HostCtx<'_, D>, args: &[D::Value]| {
        let mut raw = [0u64; funcs::MAX_PARAMS];
        for ((slot, &v), &t) in raw.iter_mut().zip(args).zip(def.params) {
            *slot = match ctx.domain.to_val(v, t).map_err(HostError::Fault)? {
                Val::I32(x) => x as u32 as u64,
                Val::I64(x) => x as u64,
                _ => 0,
            };
        }
        let mem = ctx.memory.as_deref_mut().map(|m| m as &mut dyn MemAccess);
        let mut mem = GuestMem::new(mem);
        let outcome = {
            let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
            (def.imp)(&mut st, &mut mem, &Args(raw))
        };
        let errno = match outcome {
            Ok(()) => 0,
            Err(Error::Errno(e)) => e.0,
            Err(Error::Host(h)) => return Err(h),
        };
        if def.returns_errno {
            Ok(vec![ctx.domain.constant(Val::I32(errno as i32))])
        } else {
            Ok(Vec::new())
        }
    })
}
