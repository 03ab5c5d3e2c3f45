//! A C program wrapped as a component with the WASI adapter, recorded against wasmtime's own
//! WASI 0.2 host and replayed without it.

use std::path::PathBuf;
use weft_exec::wasi::{InputSource, OutputSink};
use weft_rr::component::ComponentRunner;
use weft_rr::record::{End, RecordOptions};
use weft_rr::trace::{Event, Trace};
use weft_rr::wasi_p2::{record_command, WasiForwarder};
use weft_rr::RrError;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rr")
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `fixtures/rr/wasm/NAME` (a wasm32-wasi command built by clang) wrapped as a component
/// with wasmtime 48's preview 1 command adapter.
fn adapt(name: &str) -> Vec<u8> {
    let core = read(fixtures().join("wasm").join(name));
    weft_rr::wasi_p2::adapt_command(&core).expect("wraps the C program as a component")
}

/// A committed component of `fixtures/rr/components`.
fn component(name: &str) -> Vec<u8> {
    read(fixtures().join("components").join(name))
}

#[test]
fn the_committed_components_are_the_adapted_c_programs() {
    // fixtures/rr/build.sh makes them; this keeps them in step with the C builds.
    for name in ["demo", "files"] {
        assert!(
            component(&format!("{name}.component.wasm")) == adapt(&format!("{name}.O2.wasm")),
            "components/{name}.component.wasm is stale: run fixtures/rr/build.sh"
        );
    }
}

struct Recorded {
    trace: Trace,
    end: End,
    stdout: String,
    stderr: String,
}

fn record(wasm: &[u8], args: &[&str]) -> Recorded {
    let opts = RecordOptions {
        args: std::iter::once("demo")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
        env: vec![("WHO".into(), "tester".into())],
        stdin: InputSource::Bytes(b"one\ntwo\nthree\n".to_vec()),
        stdout: OutputSink::Capture,
        stderr: OutputSink::Capture,
        ..Default::default()
    };
    let runner = ComponentRunner::new(wasm, false).expect("compiles");
    let rec = record_command(&runner, &WasiForwarder::new(&runner, wasm).unwrap(), &opts)
        .expect("records");
    Recorded {
        trace: rec.trace,
        end: rec.end,
        stdout: String::from_utf8(rec.stdout).unwrap(),
        stderr: String::from_utf8(rec.stderr).unwrap(),
    }
}

fn import_calls<'a>(t: &'a Trace, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
    t.events
        .iter()
        .filter(move |e| matches!(e, Event::ImportCall { name: n, .. } if n == name))
}

#[test]
fn a_c_component_recorded_against_wasmtime_wasi_replays_with_identical_output() {
    let wasm = component("demo.component.wasm");
    let rec = record(&wasm, &["alpha", "beta"]);
    assert_eq!(rec.end, End::Exit(0), "{}", rec.stderr);
    for want in [
        "argc=3",
        "arg[2]=beta",
        "WHO=tester",
        "stdin: 14 bytes, 3 lines",
        "random:",
    ] {
        assert!(rec.stdout.contains(want), "{want} in {}", rec.stdout);
    }
    assert_eq!(rec.stderr, "done\n");
    // The program's WASI 0.2 traffic is in the trace, as typed values.
    assert!(import_calls(&rec.trace, "get-arguments").count() >= 1);
    assert!(import_calls(&rec.trace, "[method]output-stream.blocking-write-and-flush").count() > 0);
    assert!(rec.trace.events.iter().any(|e| matches!(e,
        Event::ImportRet { results, .. } if results.iter().any(|r| r.contains("\"alpha\"")))));

    // Through the trace file, as a user would.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.trace");
    rec.trace.write(&path).unwrap();
    let trace = Trace::read(&path).unwrap();
    let replay = ComponentRunner::new(&wasm, false)
        .unwrap()
        .replay(&trace)
        .expect("replays without the WASI host");
    assert_eq!(replay.end, End::Exit(0));
    assert_eq!(replay.events, trace.events.len());
    assert_eq!(String::from_utf8(replay.stdout).unwrap(), rec.stdout);
    assert_eq!(String::from_utf8(replay.stderr).unwrap(), rec.stderr);
}

#[test]
fn a_failing_exit_status_is_recorded_and_replayed() {
    // Four arguments make the program return 3; WASI 0.2's `exit` carries only failure.
    let wasm = component("demo.component.wasm");
    let rec = record(&wasm, &["a", "b", "c"]);
    assert_eq!(rec.end, End::Exit(1));
    assert!(matches!(
        rec.trace.events.last(),
        Some(Event::Exit { code: 1, .. })
    ));
    assert_eq!(import_calls(&rec.trace, "exit").count(), 1);
    let replay = ComponentRunner::new(&wasm, false)
        .unwrap()
        .replay(&rec.trace)
        .unwrap();
    assert_eq!(replay.end, End::Exit(1));
}

#[test]
fn changed_arguments_diverge_at_the_arguments_answer() {
    let wasm = component("demo.component.wasm");
    let mut trace = record(&wasm, &["alpha"]).trace;
    // A trace whose host answered other arguments (the adapter asks more than once): the
    // program then writes something else, and the first such write is the divergence.
    let asks: Vec<usize> = trace
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::ImportCall { name, .. } if name == "get-arguments"))
        .map(|(i, _)| i)
        .collect();
    assert!(!asks.is_empty());
    for &at in &asks {
        let Event::ImportRet { results, .. } = &mut trace.events[at + 1] else {
            panic!("get-arguments returns")
        };
        results[0] = results[0].replace("alpha", "omega");
    }
    let first_write = trace
        .events
        .iter()
        .position(|e| matches!(e, Event::ImportCall { args, .. } if args.iter().any(|a| a.contains("97, 108, 112, 104, 97"))))
        .expect("a write of `alpha`");
    let err = ComponentRunner::new(&wasm, false)
        .unwrap()
        .replay(&trace)
        .expect_err("diverges");
    let RrError::Diverged(d) = err else {
        panic!("{err}")
    };
    assert_eq!(d.index, first_write, "{d}");
    assert!(d.actual.contains("111, 109, 101, 103, 97"), "{d}");
}

#[test]
fn another_build_of_the_same_source_follows_the_same_trace() {
    // The -O0 and -O2 builds make the same WASI 0.2 calls with the same values.
    let o2 = component("demo.component.wasm");
    let o0 = adapt("demo.O0.wasm");
    let rec = record(&o2, &["x"]);
    let o0 = ComponentRunner::new(&o0, false).unwrap();
    assert!(matches!(
        o0.replay(&rec.trace),
        Err(RrError::HashMismatch { .. })
    ));
    let replay = o0.replay_with(&rec.trace, true).unwrap();
    assert_eq!(replay.end, End::Exit(0));
    assert_eq!(String::from_utf8(replay.stdout).unwrap(), rec.stdout);
}

#[test]
fn files_of_a_preopened_directory_are_recorded_and_not_touched_by_replay() {
    let wasm = component("files.component.wasm");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("in.txt"), "hello file\n").unwrap();
    let opts = RecordOptions {
        args: vec!["files".into()],
        dirs: vec![("data".into(), data.clone())],
        stdout: OutputSink::Capture,
        stderr: OutputSink::Capture,
        ..Default::default()
    };
    let runner = ComponentRunner::new(&wasm, false).unwrap();
    let rec = record_command(&runner, &WasiForwarder::new(&runner, &wasm).unwrap(), &opts)
        .expect("records");
    let stdout = String::from_utf8(rec.stdout.clone()).unwrap();
    assert_eq!(
        rec.end,
        End::Exit(0),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );
    assert_eq!(stdout, "read 11 bytes: hello file\nentries: 4\n");
    assert_eq!(
        std::fs::read_to_string(data.join("out.txt")).unwrap(),
        "copied 11 bytes\n"
    );
    // Descriptors, streams and the pollable of the sleep all went through the host.
    for name in [
        "[method]descriptor.open-at",
        "[method]descriptor.read-directory",
        "poll",
        "[resource-drop]pollable",
    ] {
        assert!(import_calls(&rec.trace, name).count() > 0, "{name}");
    }
    // Replay answers from the trace: the directory is not needed, nothing is written.
    std::fs::remove_dir_all(&data).unwrap();
    let replay = runner.replay(&rec.trace).expect("replays");
    assert_eq!(replay.end, End::Exit(0));
    assert_eq!(replay.stdout, rec.stdout);
    assert!(!data.exists());
}

#[test]
fn imports_that_are_not_wasi_interfaces_are_refused_by_name() {
    // shapes.wat imports an unnamed instance `host` and exports no `wasi:cli/run`.
    let wat = fixtures().join("components/shapes.wat");
    let wasm = wat::parse_file(&wat).unwrap();
    let runner = ComponentRunner::new(&wasm, false).unwrap();
    assert_eq!(weft_rr::wasi_p2::run_export(&runner), None);
    let err = WasiForwarder::new(&runner, &wasm).err().expect("refused");
    assert!(matches!(err, RrError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("`host`"), "{err}");
}
