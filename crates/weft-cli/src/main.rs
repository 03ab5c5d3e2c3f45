//! `weft`: execution reasoning on WebAssembly.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use weft_core::Val;
use weft_exec::wasi::{self, DirAccess, InputSource, Termination, WasiConfig};
use weft_exec::{Concrete, Config, ExecError, Linker, Machine, NoObserver};
use weft_ir::Module;

mod gen_cmd;
mod rr_cmd;
mod sym_cmd;
mod taint_cmd;
mod trace_cmd;

#[derive(Parser)]
#[command(name = "weft", version, about = "Execution reasoning on WebAssembly")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WASI command's `_start`, or call an export with `--invoke`.
    Run(RunArgs),
    /// Validate modules (binary or text).
    Validate {
        /// Modules to validate.
        files: Vec<PathBuf>,
    },
    /// Print a module as WebAssembly text.
    Print {
        /// Module to print.
        file: PathBuf,
        /// Prefix every instruction with its code-section byte offset.
        #[arg(long)]
        offsets: bool,
    },
    /// Trace a run (`weft trace FILE -o OUT`), verify a trace or summarise one.
    Trace(trace_cmd::TraceCmd),
    /// Run spec-test scripts; ends with `N passed, M failed`.
    /// Report which sources (parameters, stdin, argv, memory, imports) reach which sinks.
    Taint(taint_cmd::TaintArgs),
    Wast {
        /// Scripts to run.
        files: Vec<PathBuf>,
        /// List skipped directives with their reasons.
        #[arg(long)]
        show_skipped: bool,
    },
    /// Record a WASI program's run on wasmtime: every import call into a trace.
    Record(rr_cmd::RecordArgs),
    /// Replay a trace (imports answered from it), or emit a standalone replay module.
    Replay(rr_cmd::ReplayArgs),
    /// Fuzz a module's or component's exports and imports; keep failing runs as traces.
    Fuzz(rr_cmd::FuzzArgs),
    /// Symbolic execution: find inputs that reach targets and goals.
    Sym(sym_cmd::SymArgs),
    /// Generate random programs with exact answers (`weft gen --help`).
    Gen(gen_cmd::GenArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Module to run (`.wasm` or `.wat`).
    file: PathBuf,
    /// Arguments: program arguments, or the export's parameter values with `--invoke`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// Call this export instead of running `_start`; prints results one per line.
    #[arg(long)]
    invoke: Option<String>,
    /// Fuel limit (wasmtime's cost model); running out traps.
    #[arg(long)]
    fuel: Option<u64>,
    /// Report the fuel consumed on stderr.
    #[arg(long)]
    print_fuel: bool,
    /// Maximum call depth.
    #[arg(long, default_value_t = 10_000)]
    max_call_depth: u32,
    /// Maximum pages of a linear memory.
    #[arg(long, default_value_t = 65_536)]
    max_memory_pages: u32,
    /// Map a host directory into the guest read-write: `GUEST::HOST` (or `DIR` for both).
    #[arg(long = "dir", value_name = "GUEST::HOST")]
    dirs: Vec<String>,
    /// Map a host directory into the guest read-only: `GUEST::HOST` (or `DIR` for both).
    #[arg(long = "dir-ro", value_name = "GUEST::HOST")]
    dirs_ro: Vec<String>,
    /// Set an environment variable for the guest: `KEY=VALUE`.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Seed of the guest's `random_get` stream (deterministic by default).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Deterministic clocks: start at 0 and advance 1 ms per query.
    #[arg(long)]
    deterministic_clock: bool,
}

fn wasi_config(args: &RunArgs) -> Result<WasiConfig> {
    let mut cfg = WasiConfig::new()
        .arg(args.file.display().to_string())
        .args(if args.invoke.is_some() {
            Vec::new()
        } else {
            args.args.clone()
        })
        .inherit_stdio()
        .stdin(InputSource::Inherit)
        .random_seed(args.seed);
    for kv in &args.envs {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--env `{kv}`: expected KEY=VALUE"))?;
        cfg = cfg.env(k, v);
    }
    for (list, access) in [
        (&args.dirs, DirAccess::ReadWrite),
        (&args.dirs_ro, DirAccess::ReadOnly),
    ] {
        for d in list {
            let (guest, host) = d.split_once("::").unwrap_or((d, d));
            cfg = cfg.preopen(guest, host, access);
        }
    }
    if args.deterministic_clock {
        cfg = cfg.deterministic_clock(0, 1_000_000);
    }
    Ok(cfg)
}

/// Exit status for a trapped program (as a shell reports SIGABRT).
const TRAP_EXIT: u8 = 134;

fn load(path: &PathBuf) -> Result<Module> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Module::from_bytes_or_text(&bytes).with_context(|| format!("{}", path.display()))
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let module = Arc::new(load(&args.file)?);
    let limits = weft_exec::Limits {
        max_call_depth: args.max_call_depth,
        max_memory_pages: args.max_memory_pages,
        ..Default::default()
    };
    let metering = args.fuel.is_some() || args.print_fuel;
    let config = Config {
        fuel: metering,
        limits,
    };
    let mut machine = Machine::new(Concrete, NoObserver, config);
    machine.set_fuel(args.fuel)?;
    let mut linker = Linker::new();
    let Some(name) = &args.invoke else {
        let outcome = wasi::run_command_in(&mut machine, &mut linker, module, wasi_config(&args)?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
        if args.print_fuel {
            eprintln!("fuel consumed: {}", outcome.fuel_consumed);
        }
        return Ok(match outcome.termination {
            Termination::Exited(code) => ExitCode::from(code as u8),
            Termination::Trapped(t) => {
                eprintln!("error: {}: trap: {t}", args.file.display());
                ExitCode::from(TRAP_EXIT)
            }
        });
    };
    if module
        .imports
        .iter()
        .any(|i| i.module == "wasi_snapshot_preview1")
    {
        wasi::add_to_linker(&mut machine, &mut linker, wasi_config(&args)?);
    }
    let inst = machine
        .instantiate(module.clone(), &linker)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let export = module
        .export(name)
        .filter(|e| e.kind == weft_ir::ExternKind::Func)
        .with_context(|| format!("no exported function `{name}`"))?;
    let ty = module.func_type(export.index).clone();
    if ty.params.len() != args.args.len() {
        bail!(
            "`{name}` takes {} arguments {ty}, {} given",
            ty.params.len(),
            args.args.len()
        );
    }
    let vals = ty
        .params
        .iter()
        .zip(&args.args)
        .enumerate()
        .map(|(i, (t, a))| Val::parse(*t, a).map_err(|e| anyhow::anyhow!("argument {i}: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let result = machine.invoke(inst, name, &vals);
    if args.print_fuel {
        eprintln!("fuel consumed: {}", machine.fuel_consumed());
    }
    match result {
        Ok(vals) => {
            for v in vals {
                println!("{v}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ExecError::Exit(code)) => Ok(ExitCode::from(code as u8)),
        Err(ExecError::Trap(t)) => {
            eprintln!("error: trap: {t}");
            Ok(ExitCode::from(TRAP_EXIT))
        }
        Err(e) => bail!("{e}"),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Trace(cmd) => trace_cmd::run(cmd),
        Command::Record(a) => rr_cmd::record(a),
        Command::Replay(a) => rr_cmd::replay(a),
        Command::Fuzz(a) => rr_cmd::fuzz(a),
        Command::Sym(args) => sym_cmd::run(args),
        Command::Taint(args) => taint_cmd::run(args),
        Command::Gen(args) => gen_cmd::run(args),
        Command::Validate { files } => (|| {
            for f in &files {
                load(f)?;
                println!("{}: valid", f.display());
            }
            Ok(ExitCode::SUCCESS)
        })(),
        Command::Print { file, offsets } => (|| {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bytes = if bytes.starts_with(b"\0asm") {
                bytes
            } else {
                wat::parse_bytes(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                    .into_owned()
            };
            Module::new(&bytes).with_context(|| format!("{}", file.display()))?;
            let text = if offsets {
                weft_ir::print_module(&bytes)?
            } else {
                weft_ir::print_wat(&bytes)?
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        })(),
        Command::Wast {
            files,
            show_skipped,
        } => (|| {
            let mut total = weft_cli::wast_runner::Summary::default();
            for f in &files {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("cannot read {}", f.display()))?;
                total.merge(weft_cli::wast_runner::run_script(
                    &f.display().to_string(),
                    &text,
                ));
            }
            print!("{}", weft_cli::wast_runner::report(&total, show_skipped));
            Ok(if total.failed() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        })(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
