//! `weft`: execution reasoning on WebAssembly.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use weft_core::Val;
use weft_exec::{Concrete, Config, ExecError, Linker, Machine, NoObserver};
use weft_ir::Module;

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
    /// Run spec-test scripts; ends with `N passed, M failed`.
    Wast {
        /// Scripts to run.
        files: Vec<PathBuf>,
        /// List skipped directives with their reasons.
        #[arg(long)]
        show_skipped: bool,
    },
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
}

fn load(path: &PathBuf) -> Result<Module> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Module::from_bytes_or_text(&bytes).with_context(|| format!("{}", path.display()))
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let module = Arc::new(load(&args.file)?);
    let mut limits = weft_exec::Limits::default();
    limits.max_call_depth = args.max_call_depth;
    limits.max_memory_pages = args.max_memory_pages;
    let metering = args.fuel.is_some() || args.print_fuel;
    let config = Config { fuel: metering, limits };
    let Some(name) = &args.invoke else {
        bail!("running `_start` needs WASI support, which is not built yet; use --invoke");
    };
    let mut machine = Machine::new(Concrete, NoObserver, config);
    machine.set_fuel(args.fuel)?;
    let linker = Linker::new();
    let inst = machine
        .instantiate(module.clone(), &linker)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let export = module
        .export(name)
        .filter(|e| e.kind == weft_ir::ExternKind::Func)
        .with_context(|| format!("no exported function `{name}`"))?;
    let ty = module.func_type(export.index).clone();
    if ty.params.len() != args.args.len() {
        bail!("`{name}` takes {} arguments {ty}, {} given", ty.params.len(), args.args.len());
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
        Command::Validate { files } => (|| {
            for f in &files {
                load(f)?;
                println!("{}: valid", f.display());
            }
            Ok(ExitCode::SUCCESS)
        })(),
        Command::Print { file, offsets } => (|| {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let bytes = if bytes.starts_with(b"\0asm") {
                bytes
            } else {
                wat::parse_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?.into_owned()
            };
            Module::new(&bytes).with_context(|| format!("{}", file.display()))?;
            let text = if offsets { weft_ir::print_module(&bytes)? } else { weft_ir::print_wat(&bytes)? };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        })(),
        Command::Wast { files, show_skipped } => (|| {
            let mut total = weft_cli::wast_runner::Summary::default();
            for f in &files {
                let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
                total.merge(weft_cli::wast_runner::run_script(&f.display().to_string(), &text));
            }
            print!("{}", weft_cli::wast_runner::report(&total, show_skipped));
            Ok(if total.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
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
