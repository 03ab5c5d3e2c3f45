//! Record and replay of C programs compiled for wasm32-wasi (fixtures/rr).

use std::path::PathBuf;
use wasmtime::{Engine, Instance, Module, Store, Val};
use weft_exec::wasi::{InputSource, OutputSink};
use weft_rr::record::{record_wasi, End, RecordOptions, Recording};
use weft_rr::replay::{replay, ReplayOptions};
use weft_rr::trace::{Event, Trace};
use weft_rr::RrError;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/rr/wasm")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn opts(args: &[&str]) -> RecordOptions {
    RecordOptions {
        args: std::iter::once("demo")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        env: vec![("WHO".into(), "tester".into())],
        stdin: InputSource::Bytes(b"one\ntwo\nthree\n".to_vec()),
        stdout: OutputSink::Capture,
        stderr: OutputSink::Capture,
        ..Default::default()
    }
}

fn record(name: &str, args: &[&str]) -> Recording {
    record_wasi(&fixture(name), &opts(args)).expect("records")
}

fn final_memory(t: &Trace) -> Option<String> {
    match t.events.last() {
        Some(Event::Exit { memory, .. } | Event::Trap { memory, .. }) => memory.clone(),
        _ => None,
    }
}

/// Index of the first `fd_write` whose bytes read by the host contain `needle`.
fn write_event(t: &Trace, needle: &str) -> usize {
    let hex = weft_rr::hex(needle.as_bytes());
    t.events
        .iter()
        .position(|e| matches!(e, Event::ImportCall { name, reads, .. } if name == "fd_write" && reads.iter().any(|r| r.hex.contains(&hex))))
        .expect("an fd_write with that text")
}

#[test]
fn record_then_replay_reproduces_output_memory_and_exit() {
    let rec = record("demo.O2.wasm", &["alpha", "beta"]);
    assert_eq!(rec.end, End::Exit(0));
    let out = String::from_utf8(rec.stdout.clone()).unwrap();
    assert!(
        out.contains("arg[2]=beta") && out.contains("WHO=tester"),
        "{out}"
    );
    assert!(out.contains("stdin: 14 bytes, 3 lines"), "{out}");
    assert_eq!(rec.stderr, b"done\n");
    // The trace survives its text form.
    let text = rec.trace.to_jsonl();
    let trace = Trace::parse(&text).unwrap();
    assert_eq!(trace, rec.trace);
    // Every import of the run is in the trace, with host memory writes.
    let calls: Vec<&str> = trace
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ImportCall { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for f in [
        "args_get",
        "environ_get",
        "fd_read",
        "clock_time_get",
        "random_get",
        "fd_write",
    ] {
        assert!(calls.contains(&f), "{f} missing from {calls:?}");
    }
    assert!(trace
        .events
        .iter()
        .any(|e| matches!(e, Event::ImportRet { writes, .. } if !writes.is_empty())));

    let r = replay(&fixture("demo.O2.wasm"), &trace, &ReplayOptions::default()).expect("replays");
    assert_eq!(r.end, End::Exit(0));
    assert_eq!(
        r.stdout, rec.stdout,
        "same output, clock and random bytes included"
    );
    assert_eq!(r.stderr, rec.stderr);
    assert_eq!(r.memory_sha256, final_memory(&trace));
    assert_eq!(r.events, trace.events.len());
}

#[test]
fn exit_status_through_proc_exit_is_replayed() {
    let rec = record("demo.O0.wasm", &["a", "b", "c"]);
    assert_eq!(rec.end, End::Exit(3));
    let n = rec.trace.events.len();
    assert!(
        matches!(&rec.trace.events[n - 2], Event::ImportCall { name, .. } if name == "proc_exit")
    );
    let r = replay(
        &fixture("demo.O0.wasm"),
        &rec.trace,
        &ReplayOptions::default(),
    )
    .unwrap();
    assert_eq!(r.end, End::Exit(3));
    assert_eq!(r.stdout, rec.stdout);
    assert_eq!(r.memory_sha256, final_memory(&rec.trace));
}

#[test]
fn changed_argument_diverges_at_its_event() {
    let rec = record("demo.O2.wasm", &["x"]);
    // Change the descriptor of the fd_write that prints the clock line.
    let k = write_event(&rec.trace, "clock: ");
    let mut t = rec.trace.clone();
    if let Event::ImportCall { args, .. } = &mut t.events[k] {
        args[0] = "2".into();
    }
    match replay(&fixture("demo.O2.wasm"), &t, &ReplayOptions::default()) {
        Err(RrError::Diverged(d)) => {
            assert_eq!(d.index, k, "{d}");
            assert!(
                d.expected.contains("fd_write(2,") && d.actual.contains("fd_write(1,"),
                "{d}"
            );
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn changed_host_answer_diverges_where_output_differs() {
    let rec = record("demo.O2.wasm", &[]);
    // Change the random bytes the host wrote: the program prints other bytes.
    let mut t = rec.trace.clone();
    let k = t
        .events
        .iter()
        .position(|e| matches!(e, Event::ImportCall { name, .. } if name == "random_get"))
        .unwrap();
    if let Event::ImportRet { writes, .. } = &mut t.events[k + 1] {
        writes[0].hex = "00".repeat(writes[0].hex.len() / 2);
    }
    let printed = write_event(&rec.trace, "random:");
    match replay(&fixture("demo.O2.wasm"), &t, &ReplayOptions::default()) {
        Err(RrError::Diverged(d)) => assert_eq!(d.index, printed, "{d}"),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn bad_traces_are_clear_errors() {
    let rec = record("demo.O2.wasm", &[]);
    let text = rec.trace.to_jsonl();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines[..lines.len() / 2].join("\n");
    let e = Trace::parse(&half).unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
    let corrupt = text.replacen("\"import-ret\"", "\"import-r€t\"", 1);
    let e = Trace::parse(&corrupt).unwrap_err().to_string();
    assert!(e.contains("bad event") && e.contains("(event "), "{e}");
    // Another module: the hash is checked.
    let e = replay(
        &fixture("demo.O0.wasm"),
        &rec.trace,
        &ReplayOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, RrError::HashMismatch { .. }), "{e}");
    // A result that does not parse names its event.
    let mut t = rec.trace.clone();
    let k = t
        .events
        .iter()
        .position(|e| matches!(e, Event::ImportRet { .. }))
        .unwrap();
    if let Event::ImportRet { results, .. } = &mut t.events[k] {
        results[0] = "zero".into();
    }
    let e = replay(&fixture("demo.O2.wasm"), &t, &ReplayOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("event {k}")), "{e}");
}

#[test]
fn trace_of_one_build_replays_on_another() {
    let rec = record("demo.O0.wasm", &["cross", "build"]);
    let o = ReplayOptions {
        other_build: true,
        ..Default::default()
    };
    let r = replay(&fixture("demo.O2.wasm"), &rec.trace, &o).expect("O0 trace replays on O2");
    assert_eq!(r.stdout, rec.stdout);
    assert_eq!(r.end, End::Exit(0));
    let rec2 = record("demo.O2.wasm", &["a", "b", "c"]);
    let r = replay(&fixture("demo.O0.wasm"), &rec2.trace, &o).expect("O2 trace replays on O0");
    assert_eq!(r.stdout, rec2.stdout);
    assert_eq!(r.end, End::Exit(3));
    // A build that really behaves differently diverges where its output differs.
    let e = replay(&fixture("demo_variant.O2.wasm"), &rec.trace, &o).unwrap_err();
    let k = write_event(&rec.trace, "hash=");
    match e {
        RrError::Diverged(d) => assert_eq!(d.index, k, "{d}"),
        other => panic!("expected a divergence, got {other}"),
    }
}

fn run_standalone(bytes: &[u8]) -> (Result<(), String>, i32, String) {
    let engine = Engine::default();
    let module = Module::new(&engine, bytes).expect("valid standalone module");
    assert_eq!(module.imports().len(), 0, "no imports");
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).expect("instantiates with no host");
    let start = inst.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let r = start.call(&mut store, ()).map_err(|e| e.to_string());
    let code = match inst
        .get_global(&mut store, weft_rr::standalone::EXIT_GLOBAL)
        .unwrap()
        .get(&mut store)
    {
        Val::I32(c) => c,
        _ => unreachable!(),
    };
    let mem = inst.get_memory(&mut store, "memory").unwrap();
    (r, code, weft_rr::sha256_hex(mem.data(&store)))
}

#[test]
fn standalone_module_replays_without_a_host() {
    let rec = record("demo.O2.wasm", &["solo"]);
    let bytes = weft_rr::standalone::emit(&fixture("demo.O2.wasm"), &rec.trace).unwrap();
    let (r, code, mem) = run_standalone(&bytes);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(code, 0);
    assert_eq!(
        Some(mem),
        final_memory(&rec.trace),
        "same final memory as the recorded run"
    );

    let rec = record("demo.O2.wasm", &["a", "b", "c"]);
    let bytes = weft_rr::standalone::emit(&fixture("demo.O2.wasm"), &rec.trace).unwrap();
    let (r, code, mem) = run_standalone(&bytes);
    assert!(r.is_err(), "proc_exit ends the standalone run");
    assert_eq!(code, 3);
    assert_eq!(Some(mem), final_memory(&rec.trace));
}

#[test]
fn fuzzing_finds_the_planted_traps_and_their_traces_reproduce_them() {
    let wasm = fixture("planted.O2.wasm");
    let opts = weft_rr::fuzz::FuzzOptions {
        seed: 7,
        iterations: 400,
        ..Default::default()
    };
    let report = weft_rr::fuzz::fuzz_core(&wasm, &opts).unwrap();
    let distinct = report.distinct();
    assert!(
        distinct.iter().any(|m| m.contains("unreachable")),
        "{distinct:?}"
    );
    assert!(
        distinct.iter().any(|m| m.contains("divide by zero")),
        "{distinct:?}"
    );
    for f in report.failures.iter().take(20) {
        let text = f.trace.to_jsonl();
        let t = Trace::parse(&text).unwrap();
        let r = replay(&wasm, &t, &ReplayOptions::default()).expect("failure replays");
        assert_eq!(r.end, End::Trap(f.message.clone()));
    }
    // A failing run also replays standalone, with no host: same trap.
    let f = report
        .failures
        .iter()
        .find(|f| f.message.contains("divide by zero"))
        .unwrap();
    let bytes = weft_rr::standalone::emit(&wasm, &f.trace).unwrap();
    let engine = Engine::default();
    let module = Module::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let start = inst.get_typed_func::<(), ()>(&mut store, "_start").unwrap();
    let e = start.call(&mut store, ()).unwrap_err();
    assert_eq!(
        e.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::IntegerDivisionByZero)
    );
    // Same seed, same runs.
    let again = weft_rr::fuzz::fuzz_core(&wasm, &opts).unwrap();
    assert_eq!(again.failures.len(), report.failures.len());
    assert_eq!(again.failures[0].trace, report.failures[0].trace);
}

#[test]
fn corrupted_traces_never_panic() {
    use rand::{Rng, SeedableRng};
    let wasm = fixture("demo.O2.wasm");
    let text = record("demo.O2.wasm", &["z"]).trace.to_jsonl();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (mut parsed, mut diverged) = (0, 0);
    let engine = weft_rr::record::engine(false).unwrap();
    let module = Module::new(&engine, &wasm).unwrap();
    for round in 0..300 {
        let mut bytes = text.clone().into_bytes();
        match rng.gen_range(0..3) {
            0 => bytes.truncate(rng.gen_range(0..bytes.len())),
            1 => {
                for _ in 0..rng.gen_range(1..4) {
                    let i = rng.gen_range(0..bytes.len());
                    bytes[i] = b"0123456789abcdef\",:{}[]-x"[rng.gen_range(0..25)];
                }
            }
            _ => {
                // Replace one digit of a number or hex string: still well-formed JSON.
                let digits: Vec<usize> = (0..bytes.len())
                    .filter(|&i| bytes[i].is_ascii_digit())
                    .collect();
                let i = digits[rng.gen_range(0..digits.len())];
                bytes[i] = b'0' + (bytes[i] - b'0' + 1) % 10;
            }
        }
        let Ok(s) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(t) = Trace::parse(&s) else { continue };
        parsed += 1;
        if weft_rr::replay::replay_module(&engine, &module, &t, &ReplayOptions::default()).is_err()
        {
            diverged += 1;
        }
        let other = ReplayOptions {
            other_build: true,
            ..Default::default()
        };
        let _ = weft_rr::replay::replay_module(&engine, &module, &t, &other);
        if round % 20 == 0 {
            let _ = weft_rr::standalone::emit(&wasm, &t);
        }
    }
    assert!(
        parsed > 50 && diverged > 0,
        "{parsed} parsed, {diverged} diverged"
    );
}
