//! Task suites: a manifest of tasks with known verdicts, run for tests and benchmarks.
//!
//! A manifest has one task per line, `name | module | options | expected`, where the module
//! path is relative to the manifest, options are `weft sym` options (`--invoke`, `--sym`,
//! `--sym-mem`, `--goal`, `--traps`) and expected is `reached` or `unreachable`. `#` starts a
//! comment.

use crate::explore::{explore, ExploreConfig};
use crate::goals::{build_task, ParamSpec, Task, TaskOptions};
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
            "--sym-stdin" => o.sym_stdin = Some(value()?.to_string()),
            "--arg" => o.args.push(value()?.to_string()),
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

/// Loads a suite task's module and builds its [`Task`].
pub fn load_task(t: &SuiteTask) -> Result<Task, String> {
    let bytes =
        std::fs::read(&t.module).map_err(|e| format!("cannot read {}: {e}", t.module.display()))?;
    let module = weft_ir::Module::from_bytes_or_text(&bytes)
        .map_err(|e| format!("{}: {e}", t.module.display()))?;
    build_task(Arc::new(module), &t.options)
}

/// Runs one task.
pub fn run_task(t: &SuiteTask, cfg: &ExploreConfig) -> Result<Report, String> {
    explore(&load_task(t)?, cfg)
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
    /// Time per run of the entry on default inputs, concretely and under the taint domain
    /// (see [`overhead`]); `None` if the task did not load.
    pub overhead: Option<(Duration, Duration)>,
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
            let task = load_task(t);
            let r = task
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|k| explore(k, cfg));
            let time = start.elapsed();
            BenchLine {
                name: t.name.clone(),
                expected: t.expected,
                time,
                paths: r.as_ref().map(|r| r.stats.paths_completed).unwrap_or(0),
                queries: r.as_ref().map(|r| r.stats.solver_queries).unwrap_or(0),
                got: r.map(|r| r.verdict),
                overhead: task.ok().and_then(|k| overhead(&k, cfg.fuel).ok()),
            }
        })
        .collect()
}

/// The benchmark as a table: one line per task (with the taint domain's overhead over the
/// concrete one on the task's default inputs), then tasks solved, total time and the
/// geometric mean of the taint overhead.
pub fn bench_table(lines: &[BenchLine]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "{:<22} {:<12} {:<12} {:>7} {:>8} {:>10} {:>12} {:>8}\n",
        "task", "expected", "got", "paths", "queries", "time", "concrete", "taint"
    );
    let mut log_ratio = 0.0;
    let mut ratios = 0;
    let mut total = Duration::ZERO;
    for l in lines {
        total += l.time;
        let got = match &l.got {
            Ok(v) => format!("{v:?}").to_lowercase(),
            Err(e) => format!("error: {e}"),
        };
        let (concrete, taint) = match l.overhead {
            Some((c, t)) if !c.is_zero() => {
                let r = t.as_secs_f64() / c.as_secs_f64();
                log_ratio += r.ln();
                ratios += 1;
                (
                    format!("{:.1} us", c.as_secs_f64() * 1e6),
                    format!("{r:.1}x"),
                )
            }
            _ => ("-".to_string(), "-".to_string()),
        };
        let _ = writeln!(
            s,
            "{:<22} {:<12} {:<12} {:>7} {:>8} {:>8.3} s {:>12} {:>8}{}",
            l.name,
            format!("{:?}", l.expected).to_lowercase(),
            got,
            l.paths,
            l.queries,
            l.time.as_secs_f64(),
            concrete,
            taint,
            if l.solved() { "" } else { "  UNSOLVED" }
        );
    }
    let solved = lines.iter().filter(|l| l.solved()).count();
    let geomean = if ratios > 0 {
        format!("{:.1}x", (log_ratio / ratios as f64).exp())
    } else {
        "-".to_string()
    };
    let _ = writeln!(
        s,
        "solved {solved}/{} tasks in {:.3} s ({:.3} s per task); taint over concrete: {geomean} (geometric mean)",
        lines.len(),
        total.as_secs_f64(),
        total.as_secs_f64() / lines.len().max(1) as f64
    );
    s
}

/// Time per run of a task's entry on its default inputs (concrete parameters as given,
/// zeros for symbols and nondet values, empty stdin): `(concrete, taint)`, where `concrete`
/// is the fast concrete engine and `taint` a full taint analysis with the task's symbolic
/// inputs as sources (parameters, memory regions, nondet imports, stdin). Each is the mean
/// of enough runs to last at least 20 ms, after a warm-up; instantiation is included.
pub fn overhead(task: &Task, fuel: u64) -> Result<(Duration, Duration), String> {
    use crate::goals::{classify, ImportRole};
    use crate::taint::{analyze, TaintOptions, Target};
    use weft_core::Val;
    let args: Vec<Val> = task
        .params
        .iter()
        .zip(&task.module.func_type(entry_index(task)?).params)
        .map(|(p, ty)| match p {
            ParamSpec::Con(v) => *v,
            ParamSpec::Sym => Val::default_of(*ty),
        })
        .collect();
    let concrete = || -> Result<(), String> {
        let config = weft_exec::Config {
            fuel: true,
            limits: weft_exec::Limits::default(),
        };
        let mut m = weft_exec::Machine::new(weft_exec::Concrete, weft_exec::NoObserver, config);
        m.set_fuel(Some(fuel)).map_err(|e| e.to_string())?;
        let mut linker = weft_exec::Linker::new();
        let zeros = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
        crate::goals::link_concrete(&mut m, &task.module, &mut linker, zeros)?;
        if let Some(w) = &task.wasi {
            let config = crate::explore::wasi_config(w, &w.stdin);
            weft_exec::wasi::add_to_linker(&mut m, &mut linker, config);
        }
        let inst = m
            .instantiate(task.module.clone(), &linker)
            .map_err(|e| e.to_string())?;
        // A trap or an exit ends the run like a return: only its time counts.
        let _ = m.invoke(inst, &task.entry, &args);
        Ok(())
    };
    let sources: Vec<String> = task
        .module
        .imports
        .iter()
        .filter(|i| {
            i.module != crate::wasi::MODULE
                && matches!(
                    classify(&i.name),
                    ImportRole::Nondet { .. } | ImportRole::Havoc
                )
        })
        .map(|i| i.name.clone())
        .collect();
    let options = TaintOptions {
        fuel: Some(fuel),
        mem_sources: task.mem.iter().map(|m| (m.addr, m.len)).collect(),
        source_imports: sources,
        wasi_args: task
            .wasi
            .as_ref()
            .map(|w| w.args.iter().skip(1).cloned().collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    let target = if task.wasi.is_some() && task.entry == "_start" {
        Target::Command
    } else {
        let tainted = task
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, ParamSpec::Sym))
            .map(|(i, _)| i as u32)
            .collect();
        Target::Export {
            name: task.entry.clone(),
            args: args.clone(),
            tainted: Some(tainted),
        }
    };
    let taint = || -> Result<(), String> {
        analyze(task.module.clone(), &target, &options)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    Ok((mean_time(concrete)?, mean_time(taint)?))
}

fn entry_index(task: &Task) -> Result<u32, String> {
    task.module
        .export(&task.entry)
        .map(|e| e.index)
        .ok_or_else(|| format!("no exported function `{}`", task.entry))
}

/// Mean time of `f` over enough runs to last 20 ms (at most 10,000), after one warm-up.
fn mean_time(mut f: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    f()?;
    let start = std::time::Instant::now();
    let mut runs = 0u32;
    while runs < 10_000 && (runs == 0 || start.elapsed() < Duration::from_millis(20)) {
        f()?;
        runs += 1;
    }
    Ok(start.elapsed() / runs)
}
