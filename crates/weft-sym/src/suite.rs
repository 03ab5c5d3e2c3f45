//! Task suites: a manifest of tasks with known verdicts, run for tests and benchmarks.
//!
//! A manifest has one task per line, `name | module | options | expected`, where the module
//! path is relative to the manifest, options are `weft sym` options (`--invoke`, `--sym`,
//! `--sym-mem`, `--goal`, `--traps`) and expected is `reached` or `unreachable`. `#` starts a
//! comment.

use crate::explore::{explore, ExploreConfig};
use crate::goals::{build_task, TaskOptions};
use crate::report::{Report, Verdict};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One manifest entry.
#[derive(Clone, Debug)]
pub struct SuiteTask {
    /// Name.
    pub name: String,
    /// Module path.
    pub module: PathBuf,
    /// Options.
    pub options: TaskOptions,
    /// Expected verdict.
    pub expected: Verdict,
}

/// Parses `--flag value` options of a manifest line.
pub fn parse_options(text: &str) -> Result<TaskOptions, String> {
    let mut o = TaskOptions::default();
    let mut it = text.split_whitespace();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("option `{flag}` needs a value"))
        };
        match flag {
            "--invoke" => o.invoke = Some(value()?.to_string()),
            "--sym" => o.sym = Some(value()?.to_string()),
            "--sym-mem" => o.sym_mem.push(value()?.to_string()),
            "--goal" => o.goals.push(value()?.to_string()),
            "--traps" => o.traps = true,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    Ok(o)
}

/// Reads a manifest.
pub fn load(manifest: &Path) -> Result<Vec<SuiteTask>, String> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let at = || format!("{}:{}", manifest.display(), n + 1);
        if f.len() != 4 {
            return Err(format!(
                "{}: expected `name | module | options | expected`",
                at()
            ));
        }
        let expected = match f[3] {
            "reached" => Verdict::Reached,
            "unreachable" => Verdict::Unreachable,
            other => return Err(format!("{}: expected verdict `{other}`", at())),
        };
        out.push(SuiteTask {
            name: f[0].to_string(),
            module: dir.join(f[1]),
            options: parse_options(f[2]).map_err(|e| format!("{}: {e}", at()))?,
            expected,
        });
    }
    Ok(out)
}

/// Runs one task.
pub fn run_task(t: &SuiteTask, cfg: &ExploreConfig) -> Result<Report, String> {
    let bytes =
        std::fs::read(&t.module).map_err(|e| format!("cannot read {}: {e}", t.module.display()))?;
    let module = weft_ir::Module::from_bytes_or_text(&bytes)
        .map_err(|e| format!("{}: {e}", t.module.display()))?;
    let task = build_task(Arc::new(module), &t.options)?;
    explore(&task, cfg)
}

/// One benchmark line.
#[derive(Clone, Debug)]
pub struct BenchLine {
    /// Task name.
    pub name: String,
    /// Expected verdict.
    pub expected: Verdict,
    /// Verdict reached (or the error).
    pub got: Result<Verdict, String>,
    /// Wall-clock time.
    pub time: Duration,
    /// Paths completed.
    pub paths: u64,
    /// Solver queries.
    pub queries: u64,
}

impl BenchLine {
    /// Whether the task was solved (the expected verdict, reached within the bounds).
    pub fn solved(&self) -> bool {
        self.got.as_ref().ok() == Some(&self.expected)
    }
}

/// Runs every task of a suite and returns one line per task.
pub fn bench(tasks: &[SuiteTask], cfg: &ExploreConfig) -> Vec<BenchLine> {
    tasks
        .iter()
        .map(|t| {
            let start = std::time::Instant::now();
            let r = run_task(t, cfg);
            BenchLine {
                name: t.name.clone(),
                expected: t.expected,
                time: start.elapsed(),
                paths: r.as_ref().map(|r| r.stats.paths_completed).unwrap_or(0),
                queries: r.as_ref().map(|r| r.stats.solver_queries).unwrap_or(0),
                got: r.map(|r| r.verdict),
            }
        })
        .collect()
}

/// The benchmark as a table: one line per task, then tasks solved and total time.
pub fn bench_table(lines: &[BenchLine]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<22} {:<12} {:<12} {:>7} {:>8} {:>10}\n",
        "task", "expected", "got", "paths", "queries", "time"
    );
    let mut total = Duration::ZERO;
    for l in lines {
        total += l.time;
        let got = match &l.got {
            Ok(v) => format!("{v:?}").to_lowercase(),
            Err(e) => format!("error: {e}"),
        };
        let _ = writeln!(
            s,
            "{:<22} {:<12} {:<12} {:>7} {:>8} {:>8.3} s{}",
            l.name,
            format!("{:?}", l.expected).to_lowercase(),
            got,
            l.paths,
            l.queries,
            l.time.as_secs_f64(),
            if l.solved() { "" } else { "  UNSOLVED" }
        );
    }
    let solved = lines.iter().filter(|l| l.solved()).count();
    let _ = writeln!(
        s,
        "solved {solved}/{} tasks in {:.3} s ({:.3} s per task)",
        lines.len(),
        total.as_secs_f64(),
        total.as_secs_f64() / lines.len().max(1) as f64
    );
    s
}
