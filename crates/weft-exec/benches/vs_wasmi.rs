//! weft vs wasmi on the bare CPU kernels in `fixtures/wasm/bench/`.
//!
//! Run with `cargo bench -p weft-exec --bench vs_wasmi` (release + thin LTO via the bench
//! profile). `WEFT_BENCH_QUICK=1` uses the small sizes of `fixtures/expected/bench.tsv`
//! instead of `bench-large.tsv`; `WEFT_BENCH_RUNS=N` changes the number of timed runs (default 5,
//! after one untimed warm-up run per engine); `WEFT_BENCH_STAT=min` reports the fastest run
//! instead of the median (steadier on a busy machine). A non-flag argument filters kernels by
//! name (`cargo bench -p weft-exec --bench vs_wasmi -- sort`).
//!
//! Each module is compiled once per engine outside the timed part (weft: `Module::new` plus the
//! lazy lowering, forced by the warm-up; wasmi: `Module::new` with the default config, i.e. lazy
//! translation, whose functions are translated during the warm-up). The three configurations
//! (weft, weft with fuel, wasmi) run in interleaved rounds, so a drift of the machine's speed
//! during the measurement hits all three alike. Every timed run creates a fresh store/machine,
//! instantiates and calls `run(n)`; the reported time is the median (or min).
//! Every result is checked against the expected checksum and the bench aborts on a mismatch.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::Val;
use weft_exec::{Concrete, Config, Limits, Linker, Machine, NoObserver};

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
            assert_eq!(f.len(), 3, "bad line in {}: {l:?}", path.display());
            (
                f[0].to_string(),
                f[1].parse().expect("n"),
                f[2].parse().expect("checksum"),
            )
        })
        .collect()
}

/// One engine configuration under measurement: its label and a closure running the kernel.
type Runner<'a> = (&'a str, Box<dyn FnMut() -> i64 + 'a>);

/// Runs every runner once untimed, then `runs` rounds in which each runner runs once (the
/// order rotating per round), so a drift of the machine's speed during the measurement hits
/// every engine alike. Checks every result; returns per runner the median (the minimum with
/// `use_min`).
fn measure(
    use_min: bool,
    name: &str,
    n: i32,
    expected: i64,
    runs: usize,
    runners: &mut [Runner<'_>],
) -> Vec<Duration> {
    let check = |what: &str, got: i64| {
        if got != expected {
            eprintln!("CHECKSUM MISMATCH: {what} {name}({n}) = {got}, expected {expected}");
            std::process::exit(1);
        }
    };
    for (what, f) in runners.iter_mut() {
        check(what, f());
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); runners.len()];
    for round in 0..runs {
        for k in 0..runners.len() {
            let i = (k + round) % runners.len();
            let (what, f) = &mut runners[i];
            let t = Instant::now();
            let r = black_box(f());
            times[i].push(t.elapsed());
            check(what, r);
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            if use_min {
                t[0]
            } else {
                t[t.len() / 2]
            }
        })
        .collect()
}

fn weft_runner(module: Arc<weft_ir::Module>, n: i32, fuel: bool) -> impl FnMut() -> i64 {
    move || {
        let mut machine = Machine::new(
            Concrete,
            NoObserver,
            Config {
                fuel,
                limits: Limits::default(),
            },
        );
        if fuel {
            machine.set_fuel(Some(u64::MAX)).expect("set_fuel");
        }
        let inst = machine
            .instantiate(module.clone(), &Linker::new())
            .expect("weft instantiate");
        let out = machine
            .invoke(inst, "run", &[Val::I32(n)])
            .expect("weft run");
        if fuel {
            assert!(
                machine.fuel_consumed() > 0,
                "fuel metering did not count anything"
            );
        }
        match out.as_slice() {
            [Val::I64(v)] => *v,
            other => panic!("weft run returned {other:?}"),
        }
    }
}

fn wasmi_runner(engine: wasmi::Engine, module: wasmi::Module, n: i32) -> impl FnMut() -> i64 {
    let linker = wasmi::Linker::<()>::new(&engine);
    move || {
        let mut store = wasmi::Store::new(&engine, ());
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .expect("wasmi instantiate");
        let run = instance
            .get_typed_func::<i32, i64>(&store, "run")
            .expect("wasmi: export run(i32) -> i64");
        run.call(&mut store, n).expect("wasmi run")
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; accept and ignore harness flags, but allow a filter.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let quick = std::env::var("WEFT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let runs: usize = std::env::var("WEFT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(5);
    let use_min = std::env::var("WEFT_BENCH_STAT").is_ok_and(|v| v == "min");
    let expected = load_expected(if quick {
        "bench.tsv"
    } else {
        "bench-large.tsv"
    });

    println!(
        "weft vs wasmi 1.0 ({} sizes, {} of {runs} runs after a warm-up; instantiate + call timed)",
        if quick { "small" } else { "large" },
        if use_min { "min" } else { "median" },
    );
    println!(
        "{:<8} {:>9} {:>11} {:>13} {:>11} {:>12} {:>10}",
        "program", "n", "weft ms", "weft+fuel ms", "wasmi ms", "weft/wasmi", "fuel ovh %"
    );
    let (mut lw, mut lf, mut lr, mut count) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    let total = Instant::now();
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
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));

        let module = Arc::new(weft_ir::Module::new(&bytes).expect("weft: load module"));
        let engine = wasmi::Engine::default();
        let wmod = wasmi::Module::new(&engine, &bytes[..]).expect("wasmi: load module");
        let mut runners: Vec<Runner<'_>> = vec![
            ("weft", Box::new(weft_runner(module.clone(), n, false))),
            ("weft+fuel", Box::new(weft_runner(module, n, true))),
            ("wasmi", Box::new(wasmi_runner(engine, wmod, n))),
        ];
        let times = measure(use_min, name, n, sum, runs, &mut runners);
        let (t_weft, t_fuel, t_wasmi) = (times[0], times[1], times[2]);

        let (w, f, r) = (ms(t_weft), ms(t_fuel), ms(t_wasmi));
        println!(
            "{:<8} {:>9} {:>11.2} {:>13.2} {:>11.2} {:>12.2} {:>10.1}",
            name,
            n,
            w,
            f,
            r,
            w / r,
            (f / w - 1.0) * 100.0
        );
        lw += w.ln();
        lf += f.ln();
        lr += r.ln();
        count += 1;
    }
    if count > 0 {
        let c = count as f64;
        let (w, f, r) = ((lw / c).exp(), (lf / c).exp(), (lr / c).exp());
        println!(
            "{:<8} {:>9} {:>11.2} {:>13.2} {:>11.2} {:>12.2} {:>10.1}",
            "geomean",
            "",
            w,
            f,
            r,
            w / r,
            (f / w - 1.0) * 100.0
        );
    }
    println!(
        "all checksums ok; total {:.1} s",
        total.elapsed().as_secs_f64()
    );
}
