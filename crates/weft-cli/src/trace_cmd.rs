//! `weft trace`: trace a run to a file, verify a trace, summarise a trace.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use weft_ir::Module;
use weft_trace::verify::Verdict;
use weft_trace::{
    binary::BinaryWriter, jsonl::JsonlWriter, tables::TablesWriter, AtomicFile, Capture, Filter,
    Format, Header, Invocation, ModuleInfo, TraceOptions,
};

/// Arguments of `weft trace`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TraceCmd {
    #[command(subcommand)]
    action: Option<TraceAction>,
    #[command(flatten)]
    run: TraceRunArgs,
}

#[derive(clap::Subcommand)]
enum TraceAction {
    /// Re-run a trace's invocation and check every row; names the first bad row.
    Verify {
        /// The trace (JSON Lines or binary).
        trace: PathBuf,
        /// The module the trace was recorded from.
        #[arg(long)]
        module: PathBuf,
    },
    /// Instruction mix, hottest functions and offsets, memory footprint of a trace.
    Stats {
        /// The trace (JSON Lines or binary).
        trace: PathBuf,
        /// The module, to name functions.
        #[arg(long)]
        module: Option<PathBuf>,
        /// How many hottest offsets to list.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct TraceRunArgs {
    /// Module to trace (`.wasm` or `.wat`).
    file: Option<PathBuf>,
    /// Program arguments, or the export's parameter values with `--invoke` (options may
    /// follow; put arguments that start with `-` after `--`).
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,
    /// Call this export instead of running the WASI command's `_start`.
    #[arg(long)]
    invoke: Option<String>,
    /// Output format: `jsonl`, `bin`, `tables` (a directory of CSV and Parquet files) or
    /// `witness` (only computed values, recorded at full engine speed; rows are rebuilt
    /// when the trace is read).
    #[arg(long, default_value = "bin")]
    format: Format,
    /// Output file (directory for `tables`).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Operand stack kept per row: `full`, `top:N` or `none`.
    #[arg(long, default_value = "full")]
    stack: Capture,
    /// Locals kept per row: `full`, `top:N` (the first N) or `none`.
    #[arg(long, default_value = "full")]
    locals: Capture,
    /// Leave the call stack out of rows.
    #[arg(long)]
    no_frames: bool,
    /// First step written.
    #[arg(long, default_value_t = 0)]
    from_step: u64,
    /// Last step written (inclusive).
    #[arg(long)]
    to_step: Option<u64>,
    /// Only rows that access memory (`memory`) or call or return (`calls`).
    #[arg(long, default_value = "all")]
    only: Filter,
    /// Fuel limit (wasmtime's cost model); fuel is always counted.
    #[arg(long)]
    fuel: Option<u64>,
    /// Environment variable for a WASI command: `KEY=VALUE`.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Seed of the guest's `random_get` stream.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// File whose bytes are the guest's standard input (recorded in the trace header).
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// Maximum call depth.
    #[arg(long, default_value_t = 10_000)]
    max_call_depth: u32,
    /// Maximum pages of a linear memory.
    #[arg(long, default_value_t = 65_536)]
    max_memory_pages: u32,
}

fn load(path: &PathBuf) -> Result<Arc<Module>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Arc::new(
        Module::from_bytes_or_text(&bytes).with_context(|| format!("{}", path.display()))?,
    ))
}

/// Runs `weft trace`.
pub fn run(cmd: TraceCmd) -> Result<ExitCode> {
    match cmd.action {
        Some(TraceAction::Verify { trace, module }) => verify(trace, module),
        Some(TraceAction::Stats {
            trace,
            module,
            top,
            json,
        }) => stats(trace, module, top, json),
        None => record(cmd.run),
    }
}

fn record(a: TraceRunArgs) -> Result<ExitCode> {
    let Some(file) = a.file.clone() else {
        bail!("give a module to trace, or `verify` / `stats`");
    };
    let Some(output) = a.output.clone() else {
        bail!("give the output path with `-o`");
    };
    if a.to_step.is_some_and(|t| t < a.from_step) {
        bail!("--to-step is before --from-step");
    }
    let module = load(&file)?;
    let info = Arc::new(ModuleInfo::new(&module)?);
    let invocation = match &a.invoke {
        Some(name) => Invocation::Invoke {
            export: name.clone(),
            args: a.args.clone(),
        },
        None => {
            let stdin = match &a.stdin {
                Some(p) => {
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
                }
                None => Vec::new(),
            };
            let env = a
                .envs
                .iter()
                .map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .with_context(|| format!("--env `{kv}`: expected KEY=VALUE"))
                })
                .collect::<Result<Vec<_>>>()?;
            Invocation::Command {
                args: a.args.clone(),
                program: file
                    .file_name()
                    .map_or("main.wasm".into(), |n| n.to_string_lossy().into_owned()),
                env,
                stdin_hex: stdin.iter().map(|b| format!("{b:02x}")).collect(),
                seed: a.seed,
            }
        }
    };
    let options = TraceOptions {
        stack: a.stack,
        locals: a.locals,
        frames: !a.no_frames,
        from_step: a.from_step,
        to_step: a.to_step.unwrap_or(u64::MAX),
        filter: a.only,
    };
    let header = Header::new(&info, invocation.clone(), a.fuel, options);
    let limits = weft_exec::Limits {
        max_call_depth: a.max_call_depth,
        max_memory_pages: a.max_memory_pages,
        ..Default::default()
    };
    let run = |sink, with_text| {
        weft_trace::run_traced(
            module.clone(),
            info.clone(),
            &invocation,
            a.fuel,
            limits.clone(),
            options,
            sink,
            with_text,
            true,
        )
    };
    let summary = match a.format {
        Format::Jsonl | Format::Binary => {
            let mut file = AtomicFile::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let summary = {
                let sink: Box<dyn weft_trace::RowSink + '_> = if a.format == Format::Jsonl {
                    Box::new(JsonlWriter::new(&mut file, &header)?)
                } else {
                    Box::new(BinaryWriter::new(&mut file, &header)?)
                };
                run(sink, a.format == Format::Jsonl)?.0.summary
            };
            file.commit()
                .with_context(|| format!("cannot write {}", output.display()))?;
            summary
        }
        Format::Tables => {
            let sink = TablesWriter::create(&output, &header)
                .with_context(|| format!("cannot create {}", output.display()))?;
            run(Box::new(sink), true)?.0.summary
        }
        Format::Witness => {
            let mut file = AtomicFile::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let (recorded, _) =
                weft_trace::witness::record(module.clone(), &header, limits, &mut file, true)?;
            file.commit()
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "recorded {} bytes of computed values, fuel {}: {} (steps and rows are \
                 counted when the trace is read)",
                recorded.value_bytes, recorded.summary.fuel, recorded.summary.termination
            );
            for r in &recorded.summary.results {
                println!("{r}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    eprintln!(
        "traced {} steps, {} rows, fuel {}: {}",
        summary.steps, summary.rows, summary.fuel, summary.termination
    );
    for r in &summary.results {
        println!("{r}");
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(trace: PathBuf, module: PathBuf) -> Result<ExitCode> {
    let m = load(&module)?;
    let verdict = weft_trace::verify::verify(&trace, m, weft_exec::Limits::default())
        .with_context(|| format!("{}", trace.display()))?;
    match verdict {
        Verdict::Valid { rows, steps } => {
            println!("valid: {rows} rows checked, {steps} steps");
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Invalid { row, step, reason } => {
            match step {
                Some(s) => println!("invalid: row {row} (step {s}): {reason}"),
                None => println!("invalid: after row {row}: {reason}"),
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn stats(trace: PathBuf, module: Option<PathBuf>, top: usize, json: bool) -> Result<ExitCode> {
    let module = module.map(|m| load(&m)).transpose()?;
    let (_, mut reader) =
        weft_trace::read_trace(&trace).with_context(|| format!("{}", trace.display()))?;
    let s = weft_trace::stats::stats(reader.as_mut(), top)
        .with_context(|| format!("{}", trace.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        let name = |f: u32| match &module {
            Some(m) => m.func_name(f),
            None => format!("func[{f}]"),
        };
        print!("{}", s.report(&name));
    }
    Ok(ExitCode::SUCCESS)
}
