//! Running a WASI command module: link, instantiate, call `_start`.

use super::{add_to_linker, WasiConfig};
use crate::concrete::Concrete;
use crate::domain::Domain;
use crate::error::{ExecError, LinkError, Trap};
use crate::machine::{Config, Machine};
use crate::observer::{NoObserver, Observer};
use crate::store::Linker;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};
use thiserror::Error;
use weft_ir::{ExternKind, Module};

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Termination {
    /// It exited with this status: 0 when `_start` returned, the `proc_exit` code otherwise.
    Exited(i32),
    /// It trapped (during instantiation or in `_start`).
    Trapped(Trap),
}

/// The result of running a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// How it ended.
    pub termination: Termination,
    /// Captured standard output (empty unless [`OutputSink::Capture`](super::OutputSink)).
    pub stdout: Vec<u8>,
    /// Captured standard error (empty unless [`OutputSink::Capture`](super::OutputSink)).
    pub stderr: Vec<u8>,
    /// Fuel consumed by the run (0 unless the machine meters fuel).
    pub fuel_consumed: u64,
}

impl RunOutcome {
    /// The exit status, unless the run trapped.
    pub fn exit_code(&self) -> Option<i32> {
        match self.termination {
            Termination::Exited(c) => Some(c),
            Termination::Trapped(_) => None,
        }
    }

    /// The trap, if the run trapped.
    pub fn trap(&self) -> Option<&Trap> {
        match &self.termination {
            Termination::Trapped(t) => Some(t),
            Termination::Exited(_) => None,
        }
    }
}

/// Why a command could not be run at all.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RunError {
    /// A preopened host directory is missing or not a directory.
    #[error("cannot preopen `{}`: {message}", path.display())]
    Preopen {
        /// The host path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The module does not export a `_start` function.
    #[error("the module exports no `_start` function")]
    NoStart,
    /// Linking or instantiation failed (not by a trap).
    #[error(transparent)]
    Link(LinkError),
    /// The machine refused the call, or a domain suspended it.
    #[error(transparent)]
    Exec(ExecError),
}

/// Runs a WASI command on a fresh concrete machine: links WASI from `config`, instantiates
/// `module`, calls `_start`, and reports the exit status or trap, the captured output and
/// the fuel consumed (with `machine_config.fuel`; fuel is unlimited).
pub fn run_command(
    module: Arc<Module>,
    config: WasiConfig,
    machine_config: Config,
) -> Result<RunOutcome, RunError> {
    let mut machine: Machine<Concrete, NoObserver> =
        Machine::new(Concrete, NoObserver, machine_config);
    run_command_in(&mut machine, &mut Linker::new(), module, config)
}

/// Runs a WASI command on an existing machine of any domain and observer (set its fuel
/// first to bound the run). WASI functions are added to the machine's store and defined in
/// `linker`, which may already hold other imports.
pub fn run_command_in<D: Domain, O: Observer<D>>(
    machine: &mut Machine<D, O>,
    linker: &mut Linker,
    module: Arc<Module>,
    config: WasiConfig,
) -> Result<RunOutcome, RunError> {
    config.check_preopens()?;
    match module.export("_start") {
        Some(e) if e.kind == ExternKind::Func => {}
        _ => return Err(RunError::NoStart),
    }
    let state = add_to_linker(machine, linker, config);
    let fuel_before = machine.fuel_consumed();
    let result = match machine.instantiate(module, linker) {
        Ok(instance) => machine.invoke(instance, "_start", &[]).map(|_| ()),
        Err(LinkError::Exec(e)) => Err(e),
        Err(e) => return Err(RunError::Link(e)),
    };
    let termination = match result {
        Ok(()) => Termination::Exited(0),
        Err(ExecError::Exit(code)) => Termination::Exited(code),
        Err(ExecError::Trap(t)) => Termination::Trapped(t),
        Err(e) => return Err(RunError::Exec(e)),
    };
    let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(RunOutcome {
        termination,
        stdout: st.take_stdout(),
        stderr: st.take_stderr(),
        fuel_consumed: machine.fuel_consumed().saturating_sub(fuel_before),
    })
}
