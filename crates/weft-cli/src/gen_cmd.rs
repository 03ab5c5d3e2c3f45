//! `weft gen`: random programs with exact answers (crate `weft-gen`).
//!
//! - `weft gen --task T -n N --seed S --jobs J --fuel MIN..MAX --size MIN..MAX -o DIR`
//! - `weft gen verify DIR` re-executes a dataset (weft JSONL or WasmWeaver `.wat`+`.meta`)
//! - `weft gen export-wasmweaver DIR OUT` / `weft gen import-wasmweaver DIR OUT`

use anyhow::{anyhow, bail, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use weft_gen::{parse_range, GenConfig, Task};

/// Arguments of `weft gen`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GenArgs {
    #[command(subcommand)]
    action: Option<GenAction>,
    /// Task: result, stack, flags, memory or trace-length.
    #[arg(long, default_value = "result")]
    task: String,
    /// Number of samples.
    #[arg(short = 'n', long = "count", default_value_t = 100)]
    count: u64,
    /// Seed: fixes every output byte, whatever --jobs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Fuel range MIN..MAX (wasmtime's cost model); the generator aims at the middle.
    #[arg(long, default_value = "100..300")]
    fuel: String,
    /// Binary size range MIN..MAX in bytes.
    #[arg(long, default_value = "0..4096")]
    size: String,
    /// Maximum nesting depth.
    #[arg(long, default_value_t = 4)]
    depth: u32,
    /// Maximum number of flags (flags task).
    #[arg(long, default_value_t = 4)]
    flags: u32,
    /// Output directory (created; an interrupted run there resumes).
    #[arg(short = 'o', long = "out")]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum GenAction {
    /// Re-execute a dataset and report every wrong answer (weft JSONL or WasmWeaver format).
    Verify {
        /// Dataset directory.
        dir: PathBuf,
    },
    /// Write a weft dataset in WasmWeaver's format (`.wat` + `.meta`).
    ExportWasmweaver {
        /// weft dataset directory.
        dir: PathBuf,
        /// Output directory.
        out: PathBuf,
    },
    /// Print programs per second per task beside the targets (build with --release).
    Bench {
        /// Programs per measurement.
        #[arg(short = 'n', long = "count", default_value_t = 2000)]
        count: u64,
    },
    /// Read a WasmWeaver dataset into weft's JSONL format (answers as stated there).
    ImportWasmweaver {
        /// WasmWeaver dataset directory.
        dir: PathBuf,
        /// Output directory.
        out: PathBuf,
    },
}

/// A progress bar on stderr for `total` programs (drawn only when stderr is a terminal).
fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "[{elapsed_precise}] {bar:30} {pos}/{len} programs, {per_sec}, eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Runs `weft gen`.
pub fn run(args: GenArgs) -> Result<ExitCode> {
    match args.action {
        Some(GenAction::Verify { dir }) => {
            let report = weft_gen::verify::verify_dir(&dir).map_err(|e| anyhow!(e))?;
            for w in &report.wrong {
                println!("{w}");
            }
            println!(
                "{} samples checked, {} answers wrong",
                report.checked,
                report.wrong.len()
            );
            return Ok(if report.wrong.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Some(GenAction::ExportWasmweaver { dir, out }) => {
            let n = weft_gen::wasmweaver::export(&dir, &out).map_err(|e| anyhow!(e))?;
            println!("{n} samples written to {}", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        Some(GenAction::ImportWasmweaver { dir, out }) => {
            let n = weft_gen::wasmweaver::import(&dir, &out).map_err(|e| anyhow!(e))?;
            println!("{n} samples written to {}", out.display());
            return Ok(ExitCode::SUCCESS);
        }
        Some(GenAction::Bench { count }) => {
            print!("{}", weft_gen::bench::run(count).map_err(|e| anyhow!(e))?);
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let task: Task = args.task.parse().map_err(|e: String| anyhow!(e))?;
    let fuel = parse_range(&args.fuel, "--fuel").map_err(|e| anyhow!(e))?;
    let size = parse_range(&args.size, "--size").map_err(|e| anyhow!(e))?;
    let mut cfg = GenConfig::new(task, fuel, size).map_err(|e| anyhow!(e))?;
    cfg.max_depth = args.depth;
    cfg.max_flags = args.flags;
    cfg.check().map_err(|e| anyhow!(e))?;
    let Some(out) = args.out else {
        bail!("--out DIR is required");
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(j) = args.jobs {
        if j == 0 {
            bail!("--jobs must be at least 1");
        }
        pool = pool.num_threads(j);
    }
    let pool = pool
        .build()
        .map_err(|e| anyhow!("cannot start workers: {e}"))?;
    let start = Instant::now();
    let bar = progress_bar(args.count, args.quiet);
    let written = pool.install(|| {
        weft_gen::dataset::write_dataset(&out, &cfg, args.seed, args.count, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    });
    bar.finish_and_clear();
    let written = written.map_err(|e| anyhow!(e))?;
    println!(
        "{written} samples written to {} ({} requested, {:.1} s)",
        out.display(),
        args.count,
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
