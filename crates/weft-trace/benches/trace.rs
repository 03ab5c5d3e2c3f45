//! Tracing cost on the bench kernels: untraced run, traced run into the binary formats (a
//! file in the temporary directory), rows per second and the slowdown, side by side.
//!
//! `cargo bench -p weft-trace --bench trace` (release + thin LTO via the bench profile).
//! Sizes come from `fixtures/expected/bench.tsv` scaled up (`WEFT_BENCH_SCALE`, default: the
//! medium sizes below); a non-flag argument filters kernels by name. Two capture settings are
//! measured: `full` (whole stack, locals and call stack in every row) and `lean` (top of
//! stack only, no locals, no call stack) — the setting a prover that re-derives state needs.
//! A third line, `witness`, records the witness format (every computed value, from the
//! engine's fast code; rows rebuilt on reading) and counts its rows as the steps the run
//! executed; `read` is the time to rebuild every row from it, which happens later, off the
//! traced run. `WEFT_BENCH_MODES` (default `lean,full,wit`) chooses the lines; the full
//! rows of the largest kernels take minutes. Targets from the issue: at least 20 M rows/s and at most 5x the untraced time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_core::Val;
use weft_exec::{Concrete, Config, Limits, Linker, Machine, NoObserver};
use weft_ir::Module;
use weft_trace::binary::BinaryWriter;
use weft_trace::{Capture, Header, Invocation, ModuleInfo, Summary, TraceOptions, Tracer};

const KERNELS: &[(&str, i32)] = &[
    ("fib", 25),
    ("sieve", 1_000_000),
    ("sha256", 512),
    ("matmul", 60),
    ("sort", 100_000),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn untraced(module: &Arc<Module>, n: i32) -> (Duration, Vec<Val>) {
    let start = Instant::now();
    let mut m: Machine<Concrete, NoObserver> =
        Machine::new(Concrete, NoObserver, Config::default());
    let inst = m.instantiate(module.clone(), &Linker::new()).unwrap();
    let r = m.invoke(inst, "run", &[Val::I32(n)]).unwrap();
    (start.elapsed(), r)
}

/// The header of a trace of `run(n)`.
fn run_header(info: &ModuleInfo, n: i32, options: TraceOptions) -> Header {
    Header::new(
        info,
        Invocation::Invoke {
            export: "run".into(),
            args: vec![n.to_string()],
        },
        None,
        options,
    )
}

fn traced(
    module: &Arc<Module>,
    info: &Arc<ModuleInfo>,
    n: i32,
    options: TraceOptions,
    out: &Path,
) -> (Duration, Vec<Val>, u64, u64) {
    let header = run_header(info, n, options);
    let start = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out).unwrap());
    let sink = BinaryWriter::new(file, &header).unwrap();
    let tracer = Tracer::new(info.clone(), options, sink, false);
    let mut m = Machine::new(
        Concrete,
        tracer,
        Config {
            fuel: true,
            limits: Limits::default(),
        },
    );
    let inst = m.instantiate(module.clone(), &Linker::new()).unwrap();
    let r = m.invoke(inst, "run", &[Val::I32(n)]).unwrap();
    let Machine { observer, .. } = m;
    let (_, summary) = observer.finish(Summary::default()).unwrap();
    let elapsed = start.elapsed();
    let bytes = std::fs::metadata(out).unwrap().len();
    (elapsed, r, summary.rows, bytes)
}

fn witness(
    module: &Arc<Module>,
    info: &Arc<ModuleInfo>,
    n: i32,
    options: TraceOptions,
    out: &Path,
) -> (Duration, u64) {
    let header = run_header(info, n, options);
    let start = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out).unwrap());
    weft_trace::witness::record(module.clone(), &header, Limits::default(), file, false).unwrap();
    let elapsed = start.elapsed();
    (elapsed, std::fs::metadata(out).unwrap().len())
}

/// Rebuilds every row of a witness trace (lean capture) and counts them.
fn read_witness(out: &Path) -> (Duration, u64) {
    let start = Instant::now();
    let (_, mut reader) = weft_trace::read_trace(out).unwrap();
    let mut rows = 0u64;
    while reader.next_row().unwrap().is_some() {
        rows += 1;
    }
    (start.elapsed(), rows)
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let scale: f64 = std::env::var("WEFT_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let modes_var = std::env::var("WEFT_BENCH_MODES").unwrap_or_else(|_| "lean,full,wit".into());
    let modes: Vec<&str> = modes_var.split(',').collect();
    let out = std::env::temp_dir().join(format!("weft-trace-bench-{}.bin", std::process::id()));
    let lean = TraceOptions {
        stack: Capture::Top(1),
        locals: Capture::None,
        frames: false,
        ..TraceOptions::default()
    };
    let full = TraceOptions::default();
    println!(
        "{:<8} {:>10} {:>10} | {:>5} {:>10} {:>8} {:>9} {:>7} {:>9}",
        "kernel", "rows", "untraced", "mode", "traced", "ratio", "Mrows/s", "B/row", "targets"
    );
    for &(name, base) in KERNELS {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let n = ((base as f64) * scale).max(1.0) as i32;
        let bytes = std::fs::read(fixtures().join(format!("wasm/bench/{name}.wasm"))).unwrap();
        let module = Arc::new(Module::new(&bytes).unwrap());
        let info = Arc::new(ModuleInfo::new(&module).unwrap());
        // Warm-up (lowering in both modes), then best of three.
        let (_, expect) = untraced(&module, n);
        let base_t = (0..3).map(|_| untraced(&module, n).0).min().unwrap();
        let mut steps = 0;
        for (mode, options) in [("lean", lean), ("full", full)] {
            // The lean run also counts the steps for the witness line.
            let wanted = modes.contains(&mode) || mode == "lean" && modes.contains(&"wit");
            if !wanted {
                continue;
            }
            let mut best = None;
            let mut rows = 0;
            let mut size = 0;
            for _ in 0..3 {
                let (t, r, rw, b) = traced(&module, &info, n, options, &out);
                assert_eq!(r, expect, "{name}: traced result differs");
                rows = rw;
                size = b;
                best = Some(best.map_or(t, |x: Duration| x.min(t)));
            }
            let t = best.unwrap();
            let ratio = t.as_secs_f64() / base_t.as_secs_f64();
            let rate = rows as f64 / t.as_secs_f64() / 1e6;
            let ok = if rate >= 20.0 && ratio <= 5.0 {
                "met"
            } else {
                "missed"
            };
            println!(
                "{name:<8} {rows:>10} {:>9.1}ms | {mode:>5} {:>8.1}ms {ratio:>7.1}x {rate:>9.1} {:>7.1} {ok:>9}",
                base_t.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                size as f64 / rows.max(1) as f64,
            );
            steps = rows;
        }
        if !modes.contains(&"wit") {
            continue;
        }
        let mut best = Duration::MAX;
        let mut size = 0;
        for _ in 0..3 {
            let (t, b) = witness(&module, &info, n, lean, &out);
            best = best.min(t);
            size = b;
        }
        let ratio = best.as_secs_f64() / base_t.as_secs_f64();
        let rate = steps as f64 / best.as_secs_f64() / 1e6;
        let ok = if rate >= 20.0 && ratio <= 5.0 {
            "met"
        } else {
            "missed"
        };
        println!(
            "{name:<8} {steps:>10} {:>9.1}ms | {:>5} {:>8.1}ms {ratio:>7.1}x {rate:>9.1} {:>7.1} {ok:>9}",
            base_t.as_secs_f64() * 1e3,
            "wit",
            best.as_secs_f64() * 1e3,
            size as f64 / steps.max(1) as f64,
        );
        let (t, rebuilt) = read_witness(&out);
        assert_eq!(rebuilt, steps, "{name}: witness rows differ from the steps");
        println!(
            "{name:<8} {steps:>10} {:>11} | {:>5} {:>8.1}ms {:>8} {:>9.1}",
            "",
            "read",
            t.as_secs_f64() * 1e3,
            "",
            steps as f64 / t.as_secs_f64() / 1e6,
        );
    }
    let _ = std::fs::remove_file(&out);
}
