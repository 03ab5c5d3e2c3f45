//! `weft record`, `weft replay` and `weft fuzz`, driven as a user would.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{run, text, weft, Scratch};

/// A module of `fixtures/rr/wasm`.
fn fixture(name: &str) -> PathBuf {
    common::fixture("rr/wasm").join(name)
}

fn record(dir: &Path, args: &[&str]) -> (PathBuf, Output) {
    let trace = dir.join("demo.jsonl");
    let o = run(weft()
        .args(["record", "--env", "WHO=cli"])
        .arg(fixture("demo.O2.wasm"))
        .arg("-o")
        .arg(&trace)
        .arg("--")
        .args(args));
    (trace, o)
}

#[test]
fn record_passes_stdio_through_and_replay_reproduces_it() {
    let dir = Scratch::new("rr-replay");
    let (trace, rec) = record(&dir, &["one", "two"]);
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec.stderr));
    let out = text(&rec.stdout);
    assert!(
        out.contains("arg[1]=one") && out.contains("WHO=cli") && out.contains("clock: "),
        "{out}"
    );
    assert!(text(&rec.stderr).starts_with("done\n"));
    let header = std::fs::read_to_string(&trace).unwrap();
    assert!(
        header.starts_with("{\"weft-trace\":1,\"kind\":\"core\",\"sha256\":"),
        "{header}"
    );

    let rep = run(weft()
        .arg("replay")
        .arg(fixture("demo.O2.wasm"))
        .arg(&trace));
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));
    assert_eq!(
        rep.stdout, rec.stdout,
        "clock and random bytes are reproduced"
    );
    assert!(text(&rep.stderr).contains("events matched; the run ended with exit 0"));

    // Non-zero exit status, on the other build.
    let (trace, rec) = record(&dir, &["a", "b", "c"]);
    assert_eq!(rec.status.code(), Some(3));
    let rep = run(weft()
        .args(["replay", "--other-build"])
        .arg(fixture("demo.O0.wasm"))
        .arg(&trace));
    assert_eq!(rep.status.code(), Some(3), "{}", text(&rep.stderr));
    assert_eq!(rep.stdout, rec.stdout);
}

#[test]
fn divergence_and_bad_traces_are_reported() {
    let dir = Scratch::new("rr-diverge");
    let (trace, rec) = record(&dir, &[]);
    assert!(rec.status.success());
    let original = std::fs::read_to_string(&trace).unwrap();
    // Another module without --other-build: the hash is checked.
    let o = run(weft()
        .arg("replay")
        .arg(fixture("demo.O0.wasm"))
        .arg(&trace));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("SHA-256"), "{}", text(&o.stderr));
    // A changed argument: divergence at that event.
    let line = original
        .lines()
        .find(|l| l.contains("\"name\":\"fd_write\",\"args\":[\"1\""))
        .unwrap();
    let index: usize = line[5..line.find(',').unwrap()].parse().unwrap();
    let edited = original.replacen(
        line,
        &line.replacen("\"args\":[\"1\"", "\"args\":[\"2\"", 1),
        1,
    );
    let bad = dir.join("edited.jsonl");
    std::fs::write(&bad, edited).unwrap();
    let o = run(weft()
        .args(["replay", "-q"])
        .arg(fixture("demo.O2.wasm"))
        .arg(&bad));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains(&format!("divergence at event {index}:")),
        "{}",
        text(&o.stderr)
    );
    // Truncated.
    let lines: Vec<&str> = original.lines().collect();
    std::fs::write(&bad, lines[..lines.len() - 3].join("\n")).unwrap();
    let o = run(weft().arg("replay").arg(fixture("demo.O2.wasm")).arg(&bad));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("truncated"), "{}", text(&o.stderr));
}

#[test]
fn emitted_standalone_module_runs_in_another_runtime() {
    let dir = Scratch::new("rr-emit");
    let (trace, rec) = record(&dir, &["x"]);
    assert!(rec.status.success());
    let out = dir.join("standalone.wasm");
    let o = run(weft()
        .arg("replay")
        .arg(fixture("demo.O2.wasm"))
        .arg(&trace)
        .arg("--emit")
        .arg(&out));
    assert!(o.status.success(), "{}", text(&o.stderr));
    // weft's own interpreter runs it with no host at all.
    let o = run(weft().arg("run").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn fuzz_keeps_failing_runs_that_replay_reproduces() {
    let dir = Scratch::new("rr-fuzz");
    let o = run(weft()
        .args(["fuzz", "-n", "300", "--seed", "7", "-o"])
        .arg(&dir)
        .arg(fixture("planted.O0.wasm")));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let report = text(&o.stdout);
    assert!(
        report.contains("300 runs") && report.contains("unreachable"),
        "{report}"
    );
    let mut traces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    traces.sort();
    assert!(!traces.is_empty());
    for t in traces.iter().take(5) {
        let r = run(weft().arg("replay").arg(fixture("planted.O0.wasm")).arg(t));
        assert_eq!(r.status.code(), Some(134), "{}", text(&r.stderr));
        assert!(
            text(&r.stderr).contains("ended with trap"),
            "{}",
            text(&r.stderr)
        );
    }
}

#[test]
fn component_record_replay_and_fuzz_from_the_command_line() {
    let dir = Scratch::new("rr-component");
    let wat =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rr/components/shapes.wat");
    let trace = dir.join("c.jsonl");
    let o = run(weft().arg("record").arg(&wat).arg("-o").arg(&trace).args([
        "--seed",
        "5",
        "--invoke",
        "count(10, 3)",
        "--invoke",
        r#"words(["a, b", "c"])"#,
    ]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(
        t.contains("\"kind\":\"component\"") && t.contains("own-h1"),
        "{t}"
    );
    assert!(t.contains(r#""args":["[\"a, b\", \"c\"]"]"#), "{t}");
    let r = run(weft().arg("replay").arg(&wat).arg(&trace));
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let o = run(weft()
        .args([
            "fuzz", "-n", "200", "--seed", "3", "--export", "check", "-o",
        ])
        .arg(dir.join("f"))
        .arg(&wat));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("unreachable"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_wasi_component_records_against_wasmtime_wasi_and_replays_its_output() {
    let dir = Scratch::new("rr-wasi-component");
    let component = common::fixture("rr/components").join("demo.component.wasm");
    let trace = dir.join("p2.jsonl");
    let rec = run(weft()
        .args(["record", "--env", "WHO=p2"])
        .arg(&component)
        .arg("-o")
        .arg(&trace)
        .args(["--", "one", "two"]));
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec.stderr));
    let out = text(&rec.stdout);
    assert!(
        out.contains("arg[2]=two") && out.contains("WHO=p2") && out.contains("random: "),
        "{out}"
    );
    let t = std::fs::read_to_string(&trace).unwrap();
    assert!(
        t.contains("\"module\":\"wasi:cli/environment@0.2.12\"") && t.contains("own-h1"),
        "{t}"
    );
    let rep = run(weft().arg("replay").arg(&component).arg(&trace));
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));
    assert_eq!(
        rep.stdout, rec.stdout,
        "clock and random bytes are reproduced"
    );
    assert!(
        text(&rep.stderr).starts_with("done\n"),
        "{}",
        text(&rep.stderr)
    );

    // A failing status goes through WASI 0.2's `exit` (which carries only failure).
    let rec = run(weft()
        .arg("record")
        .arg(&component)
        .arg("-o")
        .arg(&trace)
        .args(["--", "a", "b", "c"]));
    assert_eq!(rec.status.code(), Some(1), "{}", text(&rec.stderr));
    let rep = run(weft().args(["replay", "-q"]).arg(&component).arg(&trace));
    assert_eq!(rep.status.code(), Some(1), "{}", text(&rep.stderr));
    assert!(rep.stdout.is_empty());
}
