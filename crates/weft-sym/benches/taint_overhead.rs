//! The taint domain's overhead over the concrete domain, on the kernels in
//! `fixtures/wasm/bench/`.
//!
//! Run with `cargo bench -p weft-sym --bench taint_overhead`. Sizes are those of
//! `fixtures/expected/bench.tsv` (`WEFT_BENCH_LARGE=1`: `bench-large.tsv`);
//! `WEFT_BENCH_RUNS=N` timed runs after one untimed warm-up (default 5), median reported
//! (`WEFT_BENCH_STAT=min`: fastest). A non-flag argument filters kernels by name.
//!
//! Columns, each a fresh machine that instantiates and calls `run(n)` with `n` tainted:
//! - `concrete`: `Machine<Concrete, NoObserver>`, the fast path (fast-mode code);
//! - `taint`: `Machine<Taint, NoObserver>`: explicit propagation only (fast-mode code);
//! - `taint+sinks`: `Machine<Taint, TaintObserver>`: exact-mode code, sinks recorded;
//! - `+implicit`: the same with implicit flows (pc label under tainted branches).
//!
//! Every result is checked against the expected checksum. The last two columns say whether
//! the checksum's label holds `n` (`n`) or not (`-`) with explicit and with implicit flows.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::Val;
use weft_exec::{Concrete, Config, Linker, Machine, NoObserver, Observer};
use weft_sym::taint::{Taint, TaintObserver};

const KERNELS: &[&str] = &["fib", "sieve", "sha256", "matmul", "sort"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn load_expected(file: &str) -> Vec<(String, i32, i64)> {
    let path = fixtures().join("expected").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                f[1].parse().expect("n"),
                f[2].parse().expect("checksum"),
            )
        })
        .collect()
}

fn measure(use_min: bool, runs: usize, expected: i64, mut f: impl FnMut() -> i64) -> Duration {
    let check = |got: i64, what: &str| {
        if got != expected {
            eprintln!("CHECKSUM MISMATCH ({what}): {got}, expected {expected}");
            std::process::exit(1);
        }
    };
    check(f(), "warm-up");
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let r = black_box(f());
            let d = t.elapsed();
            check(r, "timed");
            d
        })
        .collect();
    times.sort();
    if use_min {
        times[0]
    } else {
        times[times.len() / 2]
    }
}

fn concrete(module: Arc<weft_ir::Module>, n: i32) -> i64 {
    let mut m = Machine::new(Concrete, NoObserver, Config::default());
    let inst = m.instantiate(module, &Linker::new()).expect("instantiate");
    match m
        .invoke(inst, "run", &[Val::I32(n)])
        .expect("run")
        .as_slice()
    {
        [Val::I64(v)] => *v,
        other => panic!("run returned {other:?}"),
    }
}

fn tainted<O: Observer<Taint>>(
    module: Arc<weft_ir::Module>,
    n: i32,
    observer: impl FnOnce(&Taint) -> O,
    setup: impl FnOnce(&mut Machine<Taint, O>),
) -> i64 {
    let domain = Taint::new(false);
    let obs = observer(&domain);
    let shared = domain.shared().clone();
    let mut m = Machine::new(domain, obs, Config::default());
    let inst = m.instantiate(module, &Linker::new()).expect("instantiate");
    setup(&mut m);
    let Some(weft_exec::Extern::Func(f)) = m.store.export(inst, "run") else {
        panic!("no run export")
    };
    let label = shared.new_source(weft_sym::taint::Source::Param(0));
    let arg = m.domain.value(Val::I32(n), label);
    let out = m.call(f, &[arg]).expect("run");
    // Whether the checksum depends on n: only through control for most kernels, so only
    // with implicit flows.
    RESULT_TAINTED.with(|c| c.set(!out[0].label.is_empty()));
    out[0].bits as u64 as i64
}

thread_local! {
    static RESULT_TAINTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn result_tainted() -> &'static str {
    if RESULT_TAINTED.with(|c| c.get()) {
        "n"
    } else {
        "-"
    }
}

fn attach(m: &mut Machine<Taint, TaintObserver>) {
    m.observer.attach(&m.store);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let large = std::env::var("WEFT_BENCH_LARGE").is_ok_and(|v| !v.is_empty() && v != "0");
    let runs: usize = std::env::var("WEFT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);
    let use_min = std::env::var("WEFT_BENCH_STAT").is_ok_and(|v| v == "min");
    let expected = load_expected(if large {
        "bench-large.tsv"
    } else {
        "bench.tsv"
    });
    println!(
        "taint overhead over the concrete domain ({} sizes, {} of {runs} runs)",
        if large { "large" } else { "small" },
        if use_min { "min" } else { "median" }
    );
    println!(
        "{:<8} {:>8} {:>12} {:>16} {:>20} {:>20} {:>9} {:>9}",
        "program",
        "n",
        "concrete ms",
        "taint ms (x)",
        "taint+sinks ms (x)",
        "+implicit ms (x)",
        "res expl",
        "res impl"
    );
    for &name in KERNELS {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let (_, n, sum) = expected
            .iter()
            .find(|(k, _, _)| k == name)
            .unwrap_or_else(|| panic!("no expected checksum for {name}"))
            .clone();
        let path = fixtures().join("wasm/bench").join(format!("{name}.wasm"));
        let bytes = std::fs::read(&path).expect("read kernel");
        let module = Arc::new(weft_ir::Module::new(&bytes).expect("load module"));
        let m = || module.clone();
        let tc = measure(use_min, runs, sum, || concrete(m(), n));
        let tt = measure(use_min, runs, sum, || {
            tainted(m(), n, |_| NoObserver, |_| ())
        });
        let explicit = result_tainted();
        let ts = measure(use_min, runs, sum, || {
            tainted(m(), n, |d| TaintObserver::new(d, false), attach)
        });
        let ti = measure(use_min, runs, sum, || {
            tainted(m(), n, |d| TaintObserver::new(d, true), attach)
        });
        let implicit = result_tainted();
        let x = |t: Duration| format!("{:.1} ({:.1}x)", ms(t), ms(t) / ms(tc));
        println!(
            "{name:<8} {n:>8} {:>12.1} {:>16} {:>20} {:>20} {:>9} {:>9}",
            ms(tc),
            x(tt),
            x(ts),
            x(ti),
            explicit,
            implicit
        );
    }
}
