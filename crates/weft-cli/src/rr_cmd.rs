//! `weft record`, `weft replay` and `weft fuzz`: record / replay / fuzz on wasmtime
//! (crate `weft-rr`).

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use weft_exec::wasi::{InputSource, OutputSink};
use weft_rr::record::{End, RecordOptions};
use weft_rr::replay::ReplayOptions;
use weft_rr::trace::{Kind, Trace};
use weft_rr::RrError;

/// Exit status for a trapped program (as `weft run`).
const TRAP_EXIT: u8 = 134;
/// Exit status when a replay diverges from its trace.
const DIVERGED_EXIT: u8 = 1;

/// `weft record`.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// WASI preview 1 command to run, or a component (`.wasm` or `.wat`): a WASI 0.2
    /// command runs its `wasi:cli/run` against wasmtime's WASI host, other components need
    /// `--invoke`.
    file: PathBuf,
    /// Where to write the trace (JSON Lines).
    #[arg(short, long)]
    output: PathBuf,
    /// Program arguments (after `--`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// Set an environment variable for the guest: `KEY=VALUE`.
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Map a host directory into the guest: `GUEST::HOST` (or `DIR` for both).
    #[arg(long = "dir", value_name = "GUEST::HOST")]
    dirs: Vec<String>,
    /// Fuel limit (wasmtime's cost model).
    #[arg(long)]
    fuel: Option<u64>,
    /// Components: export calls to make, in WAVE (`'count(10, 3)'`); imports are answered by
    /// a seeded generated host.
    #[arg(long, value_name = "CALL")]
    invoke: Vec<String>,
    /// Components: seed of the generated host.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// `weft replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// Module to replay.
    file: PathBuf,
    /// Trace to replay.
    trace: PathBuf,
    /// Allow another build of the same source (different hash): pointer arguments of WASI
    /// calls are not compared and host memory writes are relocated (core modules); calls
    /// and values must match as they are (components).
    #[arg(long)]
    other_build: bool,
    /// Instead of replaying, write a module with no imports that replays the trace itself.
    #[arg(long, value_name = "OUT.wasm")]
    emit: Option<PathBuf>,
    /// Do not echo the reproduced stdout/stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// `weft fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Module or component to fuzz.
    file: PathBuf,
    /// Seed (the same seed gives the same runs).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of runs.
    #[arg(long, short = 'n', default_value_t = 1000)]
    iterations: u64,
    /// Directory for the traces of failing runs.
    #[arg(long, short, default_value = "fuzz-failures")]
    out: PathBuf,
    /// Call only this export.
    #[arg(long)]
    export: Option<String>,
    /// Fuel per run.
    #[arg(long, default_value_t = 10_000_000)]
    fuel: u64,
    /// Largest generated list or string (components).
    #[arg(long, default_value_t = 8)]
    max_size: usize,
    /// Deepest generated value nesting (components).
    #[arg(long, default_value_t = 4)]
    max_depth: usize,
}

fn end_code(end: &End) -> ExitCode {
    match end {
        End::Exit(c) => ExitCode::from(*c as u8),
        End::Trap(_) => ExitCode::from(TRAP_EXIT),
    }
}

/// Runs `weft record`.
pub fn record(a: RecordArgs) -> Result<ExitCode> {
    let wasm = weft_rr::load_binary(&a.file)?;
    let mut opts = RecordOptions {
        args: std::iter::once(a.file.display().to_string())
            .chain(a.args.iter().cloned())
            .collect(),
        stdin: InputSource::Inherit,
        stdout: OutputSink::Inherit,
        stderr: OutputSink::Inherit,
        fuel: a.fuel,
        ..Default::default()
    };
    for kv in &a.envs {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--env `{kv}`: expected KEY=VALUE"))?;
        opts.env.push((k.into(), v.into()));
    }
    for d in &a.dirs {
        let (g, h) = d.split_once("::").unwrap_or((d, d));
        opts.dirs.push((g.into(), h.into()));
    }
    let component = if wasmparser_is_component(&wasm) {
        Some(weft_rr::component::ComponentRunner::new(
            &wasm,
            a.fuel.is_some(),
        )?)
    } else {
        None
    };
    if let Some(runner) = component
        .as_ref()
        .filter(|r| !a.invoke.is_empty() || weft_rr::wasi_p2::run_export(r).is_none())
    {
        let calls = a
            .invoke
            .iter()
            .map(|c| weft_rr::component::parse_invocation(c))
            .collect::<Result<Vec<_>, _>>()?;
        let host = weft_rr::component::FuzzComponentHost::new(a.seed, 8, 4);
        let (trace, end) = runner.record(Box::new(host), &calls, a.fuel)?;
        for e in &trace.events {
            if let weft_rr::trace::Event::ExportRet { results } = e {
                println!("{}", results.join(", "));
            }
        }
        trace.write(&a.output)?;
        eprintln!(
            "weft record: {} events written to {}",
            trace.events.len(),
            a.output.display()
        );
        if let End::Trap(m) = &end {
            eprintln!("error: {}: trap: {m}", a.file.display());
        }
        return Ok(end_code(&end));
    }
    let rec = if let Some(runner) = &component {
        // A WASI 0.2 command, recorded against wasmtime's own WASI host.
        let forwarder = weft_rr::wasi_p2::WasiForwarder::new(runner, &wasm)?;
        weft_rr::wasi_p2::record_command(runner, &forwarder, &opts)?
    } else {
        weft_rr::record::record_wasi(&wasm, &opts)?
    };
    rec.trace.write(&a.output)?;
    eprintln!(
        "weft record: {} events written to {}",
        rec.trace.events.len(),
        a.output.display()
    );
    if let End::Trap(m) = &rec.end {
        eprintln!("error: {}: trap: {m}", a.file.display());
    }
    Ok(end_code(&rec.end))
}

/// Runs `weft replay`.
pub fn replay(a: ReplayArgs) -> Result<ExitCode> {
    let wasm = weft_rr::load_binary(&a.file)?;
    let trace = Trace::read(&a.trace)?;
    if let Some(out) = &a.emit {
        let bytes = weft_rr::standalone::emit(&wasm, &trace)?;
        weft_rr::write_atomic(out, &bytes)?;
        eprintln!(
            "weft replay: standalone module written to {} ({} bytes)",
            out.display(),
            bytes.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let result = match trace.header.kind {
        Kind::Core => weft_rr::replay::replay(
            &wasm,
            &trace,
            &ReplayOptions {
                other_build: a.other_build,
                inherit_stdio: !a.quiet,
                fuel: None,
            },
        )
        .map(|o| (o.end, o.events)),
        Kind::Component => {
            weft_rr::component::replay_component(&wasm, &trace, a.other_build).map(|o| {
                if !a.quiet {
                    use std::io::Write;
                    let _ = std::io::stdout().write_all(&o.stdout);
                    let _ = std::io::stderr().write_all(&o.stderr);
                }
                (o.end, o.events)
            })
        }
    };
    match result {
        Ok((end, events)) => {
            let how = match &end {
                End::Exit(c) => format!("exit {c}"),
                End::Trap(m) => format!("trap `{m}`"),
            };
            eprintln!("weft replay: {events} events matched; the run ended with {how}");
            Ok(end_code(&end))
        }
        Err(RrError::Diverged(d)) => {
            eprintln!("weft replay: {d}");
            Ok(ExitCode::from(DIVERGED_EXIT))
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs `weft fuzz`.
pub fn fuzz(a: FuzzArgs) -> Result<ExitCode> {
    let wasm = weft_rr::load_binary(&a.file)?;
    let opts = weft_rr::fuzz::FuzzOptions {
        seed: a.seed,
        iterations: a.iterations,
        fuel: a.fuel,
        export: a.export,
        out_dir: Some(a.out.clone()),
        max_size: a.max_size,
        max_depth: a.max_depth,
        ..Default::default()
    };
    let report = if wasmparser_is_component(&wasm) {
        weft_rr::component::fuzz_component(&wasm, &opts)?
    } else {
        weft_rr::fuzz::fuzz_core(&wasm, &opts)?
    };
    println!(
        "{} runs: {} passed, {} out of fuel, {} failed ({} distinct)",
        report.runs,
        report.passed,
        report.out_of_fuel,
        report.failures.len(),
        report.distinct().len()
    );
    for m in report.distinct() {
        let first = report
            .failures
            .iter()
            .find(|f| f.message == m)
            .expect("listed");
        let path = first
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        println!("  trap `{m}`: first in run {} ({path})", first.run);
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn wasmparser_is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0]
}
