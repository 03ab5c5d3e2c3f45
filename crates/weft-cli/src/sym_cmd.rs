//! `weft sym`: symbolic execution of an export, a Test-Comp `main` or a WASI command's
//! `_start` (with `--sym-stdin`).
//!
//! Exits 1 when a target or goal is reached (each finding replayed concretely first), 0
//! when none is, 2 on bad input. `--bench MANIFEST` runs a task suite instead and prints
//! tasks solved and time per task.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use weft_sym::goals::{build_task, TaskOptions};
use weft_sym::solver::{SolverConfig, SolverKind};
use weft_sym::{explore, suite, ExploreConfig, Strategy, Verdict};

/// Options of `weft sym`.
#[derive(clap::Args)]
pub struct SymArgs {
    /// Module (`.wasm` or `.wat`); with `--bench`, a task manifest.
    file: PathBuf,
    /// Export to call (default: `main`, called with zeros, Test-Comp style).
    #[arg(long)]
    invoke: Option<String>,
    /// Parameters: types of symbolic ones, `TYPE:VALUE` for concrete ones (`i32,i32:5`).
    /// Default: all symbolic with --invoke.
    #[arg(long)]
    sym: Option<String>,
    /// Symbolic memory `ADDR:LEN[:printable]` (ADDR: number or exported global, e.g. a C array).
    #[arg(long = "sym-mem", value_name = "ADDR:LEN[:printable]")]
    sym_mem: Vec<String>,
    /// Goal: `return=V`, `func=NAME` or `offset=0xN` (Test-Comp targets are always goals).
    #[arg(long = "goal")]
    goals: Vec<String>,
    /// Report traps (division by zero, out of bounds, unreachable, …) as findings.
    #[arg(long)]
    traps: bool,
    /// Keep exploring after the first finding.
    #[arg(long)]
    all: bool,
    /// Exploration order: dfs, bfs, random, coverage.
    #[arg(long, default_value = "dfs")]
    strategy: String,
    /// Solver: auto (cvc5, and z3 for floating-point queries), cvc5, z3, or portfolio (both
    /// race on each query; the first answer wins, so runs are not reproducible).
    #[arg(long, default_value = "auto")]
    solver: String,
    /// Solver binary (default: looked up on PATH); with `--solver auto`, that binary alone
    /// (z3 if its file name contains `z3`, cvc5 otherwise).
    #[arg(long)]
    solver_path: Option<PathBuf>,
    /// Time limit per solver query, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    solver_timeout_ms: u64,
    /// Ask the solver every query (no cache of answers and models).
    #[arg(long)]
    no_solver_cache: bool,
    /// Wall-clock limit in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Completed paths before stopping.
    #[arg(long, default_value_t = 100_000)]
    max_paths: u64,
    /// Forks along one path.
    #[arg(long, default_value_t = 2_000)]
    max_depth: u32,
    /// Pending states held at once.
    #[arg(long, default_value_t = 10_000)]
    max_states: usize,
    /// Values enumerated per symbolic address or index.
    #[arg(long, default_value_t = 16)]
    max_models: u32,
    /// Fuel per path.
    #[arg(long, default_value_t = 50_000_000)]
    fuel: u64,
    /// Worker threads (1 is deterministic).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Seed of the random strategy.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Treat FILE as a task manifest and print a benchmark table.
    #[arg(long)]
    bench: bool,
    /// WASI programs: `LEN[:printable]` bytes of symbolic standard input.
    #[arg(long = "sym-stdin", value_name = "LEN[:printable]")]
    sym_stdin: Option<String>,
    /// WASI programs: arguments after the program name.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The solver kind; with `--solver-path` and the default `auto`, the one binary given (z3 if
/// its file name says so, cvc5 otherwise).
fn solver_kind(a: &SymArgs) -> Result<SolverKind> {
    let kind = SolverKind::parse(&a.solver).map_err(anyhow::Error::msg)?;
    Ok(match (&a.solver_path, kind) {
        (Some(path), SolverKind::Auto) => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.contains("z3") {
                SolverKind::Z3
            } else {
                SolverKind::Cvc5
            }
        }
        _ => kind,
    })
}

fn config(a: &SymArgs) -> Result<ExploreConfig> {
    if a.jobs == 0 || a.jobs > 256 {
        bail!("--jobs must be 1..=256");
    }
    Ok(ExploreConfig {
        strategy: Strategy::parse(&a.strategy).map_err(anyhow::Error::msg)?,
        max_paths: a.max_paths,
        max_depth: a.max_depth,
        max_time: Duration::from_secs(a.timeout),
        max_states: a.max_states,
        fuel: a.fuel,
        max_models: a.max_models,
        jobs: a.jobs,
        seed: a.seed,
        stop_at_first: !a.all,
        solver_cache: !a.no_solver_cache,
        solver: SolverConfig {
            kind: solver_kind(a)?,
            path: a.solver_path.clone(),
            timeout: Duration::from_millis(a.solver_timeout_ms.max(1)),
        },
        ..Default::default()
    })
}

/// Runs `weft sym`.
pub fn run(a: SymArgs) -> Result<ExitCode> {
    let cfg = config(&a)?;
    if a.bench {
        let tasks = suite::load(&a.file).map_err(anyhow::Error::msg)?;
        let lines = suite::bench(&tasks, &cfg);
        print!("{}", suite::bench_table(&lines));
        return Ok(if lines.iter().all(|l| l.solved()) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let module = weft_ir::Module::from_bytes_or_text(&bytes)
        .with_context(|| format!("{}", a.file.display()))?;
    let opts = TaskOptions {
        invoke: a.invoke.clone(),
        sym: a.sym.clone(),
        sym_mem: a.sym_mem.clone(),
        goals: a.goals.clone(),
        traps: a.traps,
        args: a.args.clone(),
        sym_stdin: a.sym_stdin.clone(),
    };
    let task = build_task(Arc::new(module), &opts)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let report = explore(&task, &cfg).map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.verdict == Verdict::Reached {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
