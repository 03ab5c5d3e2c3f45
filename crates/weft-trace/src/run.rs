//! Running a module under the tracer: what was run (the invocation, kept in the trace
//! header so the run can be repeated) and how it ended.

use crate::error::TraceError;
use crate::info::ModuleInfo;
use crate::options::TraceOptions;
use crate::sink::{RowSink, Summary};
use crate::tracer::Tracer;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use weft_core::Val;
use weft_exec::concrete::Bits;
use weft_exec::wasi::{self, InputSource, OutputSink, WasiConfig};
use weft_exec::{
    Concrete, ConcreteMemory, Config, Domain, ExecError, Limits, Linker, Machine, Observer,
};
use weft_ir::{ExternKind, Module};

/// Version of the trace formats (header, rows, summary). Readers refuse other versions.
pub const FORMAT_VERSION: u32 = 1;

/// What a trace records a run of. Everything a run depends on is here, so `verify` can
/// repeat it: WASI runs get deterministic clocks and seeded randomness, no preopened
/// directories, and standard input from the header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Invocation {
    /// A WASI command's `_start`.
    Command {
        /// Program arguments (`argv[1..]`; `argv[0]` is the module's file name).
        args: Vec<String>,
        /// The program name given as `argv[0]`.
        program: String,
        /// Environment variables.
        env: Vec<(String, String)>,
        /// Standard input, hex.
        stdin_hex: String,
        /// Seed of `random_get`.
        seed: u64,
    },
    /// An exported function called with parameter values (text as `weft run --invoke`
    /// takes them).
    Invoke {
        /// Export name.
        export: String,
        /// One value per parameter.
        args: Vec<String>,
    },
}

/// The first record of every trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `weft-trace`.
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// SHA-256 of the traced module, hex.
    pub module_sha256: String,
    /// What was run.
    pub invocation: Invocation,
    /// The fuel limit, if any (fuel is always metered).
    pub fuel_limit: Option<u64>,
    /// What rows hold and which are written.
    pub options: TraceOptions,
    /// Operator mnemonics by index (binary rows refer to them by index).
    pub mnemonics: Vec<String>,
}

impl Header {
    /// A header for tracing a module described by `info`.
    pub fn new(
        info: &ModuleInfo,
        invocation: Invocation,
        fuel_limit: Option<u64>,
        options: TraceOptions,
    ) -> Header {
        Header {
            format: "weft-trace".into(),
            version: FORMAT_VERSION,
            module_sha256: info.sha256.clone(),
            invocation,
            fuel_limit,
            options,
            mnemonics: info.mnemonics.clone(),
        }
    }

    /// Checks the format name and version.
    pub fn check(&self) -> Result<(), TraceError> {
        if self.format != "weft-trace" {
            return Err(TraceError::malformed(
                "header",
                format!("format `{}` is not `weft-trace`", self.format),
            ));
        }
        if self.version != FORMAT_VERSION {
            return Err(TraceError::malformed(
                "header",
                format!(
                    "format version {} (this build reads version {FORMAT_VERSION})",
                    self.version
                ),
            ));
        }
        Ok(())
    }
}

/// How a traced run ended, with the guest's output.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Steps, rows, fuel and termination.
    pub summary: Summary,
    /// Captured standard output (empty when passed through).
    pub stdout: Vec<u8>,
}

/// Parses hex text into bytes.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Runs `invocation` of `module` with a [`Tracer`] writing to `sink`. Fuel is always
/// metered (rows carry it); `fuel_limit` bounds the run. With `pass_output` the guest's
/// stdout and stderr go to this process's; otherwise stdout is captured.
#[allow(clippy::too_many_arguments)]
pub fn run_traced<S: RowSink>(
    module: Arc<Module>,
    info: Arc<ModuleInfo>,
    invocation: &Invocation,
    fuel_limit: Option<u64>,
    limits: Limits,
    options: TraceOptions,
    sink: S,
    with_text: bool,
    pass_output: bool,
) -> Result<(Outcome, S), TraceError> {
    let tracer = Tracer::new(info, options, sink, with_text);
    let mut machine = Machine::new(Concrete, tracer, Config { fuel: true, limits });
    let output = if pass_output {
        Output::Inherit
    } else {
        Output::Capture
    };
    let (summary, stdout) = run_invocation(&mut machine, module, invocation, fuel_limit, output)?;
    let Machine { observer, .. } = machine;
    let (sink, summary) = observer
        .finish(summary)
        .map_err(|e| TraceError::Run(format!("writing the trace: {e}")))?;
    Ok((Outcome { summary, stdout }, sink))
}

/// Where a run's standard output goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// This process's stdout and stderr.
    Inherit,
    /// Captured stdout (returned), stderr discarded.
    Capture,
    /// Both discarded.
    Discard,
}

/// Runs `invocation` of `module` on `machine` (any domain with concrete memory), with
/// `fuel_limit` if the machine meters fuel. Returns the summary's fuel, termination and
/// results (steps and rows are the observer's business) and the captured stdout.
pub(crate) fn run_invocation<D, O>(
    machine: &mut Machine<D, O>,
    module: Arc<Module>,
    invocation: &Invocation,
    fuel_limit: Option<u64>,
    output: Output,
) -> Result<(Summary, Vec<u8>), TraceError>
where
    D: Domain<Value = Bits, Memory = ConcreteMemory>,
    O: Observer<D>,
{
    machine
        .set_fuel(fuel_limit)
        .map_err(|e| TraceError::Run(e.to_string()))?;
    let (stdout, stderr) = match output {
        Output::Inherit => (OutputSink::Inherit, OutputSink::Inherit),
        Output::Capture => (OutputSink::Capture, OutputSink::Discard),
        Output::Discard => (OutputSink::Discard, OutputSink::Discard),
    };
    let mut linker = Linker::new();
    let (termination, results, stdout) = match invocation {
        Invocation::Command {
            args,
            program,
            env,
            stdin_hex,
            seed,
        } => {
            let stdin =
                unhex(stdin_hex).ok_or_else(|| TraceError::Run("stdin_hex is not hex".into()))?;
            let cfg = WasiConfig::new()
                .arg(program.clone())
                .args(args.clone())
                .envs(env.iter().cloned())
                .stdin(InputSource::Bytes(stdin))
                .stdout(stdout)
                .stderr(stderr)
                .random_seed(*seed)
                .deterministic_clock(0, 1_000_000);
            let outcome = wasi::run_command_in(machine, &mut linker, module, cfg)
                .map_err(|e| TraceError::Run(e.to_string()))?;
            let termination = match &outcome.termination {
                wasi::Termination::Exited(c) => format!("exit {c}"),
                wasi::Termination::Trapped(t) => format!("trap: {t}"),
            };
            (termination, Vec::new(), outcome.stdout)
        }
        Invocation::Invoke { export, args } => {
            if module.imports.iter().any(|i| i.module == wasi::MODULE_NAME) {
                let cfg = WasiConfig::new()
                    .stdout(stdout)
                    .deterministic_clock(0, 1_000_000);
                wasi::add_to_linker(machine, &mut linker, cfg);
            }
            let instance = machine
                .instantiate(module.clone(), &linker)
                .map_err(|e| TraceError::Run(e.to_string()))?;
            let e = module
                .export(export)
                .filter(|e| e.kind == ExternKind::Func)
                .ok_or_else(|| TraceError::Run(format!("no exported function `{export}`")))?;
            let ty = module.func_type(e.index).clone();
            if ty.params.len() != args.len() {
                return Err(TraceError::Run(format!(
                    "`{export}` takes {} arguments {ty}, {} given",
                    ty.params.len(),
                    args.len()
                )));
            }
            let vals = ty
                .params
                .iter()
                .zip(args)
                .enumerate()
                .map(|(i, (t, a))| {
                    Val::parse(*t, a).map_err(|e| TraceError::Run(format!("argument {i}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            match machine.invoke(instance, export, &vals) {
                Ok(vals) => (
                    "returned".to_string(),
                    vals.iter().map(Val::to_string).collect(),
                    Vec::new(),
                ),
                Err(ExecError::Exit(c)) => (format!("exit {c}"), Vec::new(), Vec::new()),
                Err(ExecError::Trap(t)) => (format!("trap: {t}"), Vec::new(), Vec::new()),
                Err(e) => return Err(TraceError::Run(e.to_string())),
            }
        }
    };
    let summary = Summary {
        fuel: machine.fuel_consumed(),
        termination,
        results,
        ..Summary::default()
    };
    Ok((summary, stdout))
}
