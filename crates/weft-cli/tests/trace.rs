//! `weft trace`, `weft trace verify` and `weft trace stats`, driven as a user would.

mod common;

use common::{fixture, run, text, weft};

#[test]
fn trace_verify_and_tamper_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fib.jsonl");
    let wasm = fixture("wasm/bench/fib.wasm");
    let o = run(weft()
        .args(["trace"])
        .arg(&wasm)
        .args(["--invoke", "run", "6", "--format", "jsonl", "-o"])
        .arg(&out));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "i64:8\n");
    let trace = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    assert!(lines[0].contains("\"format\":\"weft-trace\""));
    assert!(lines.last().unwrap().starts_with("{\"summary\""));

    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&out)
        .arg("--module")
        .arg(&wasm));
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let rows = lines.len() - 2;
    assert_eq!(
        text(&o.stdout).trim(),
        format!("valid: {rows} rows checked, {rows} steps")
    );

    // Change one stack value of a row past the 40th: verification names that row and field.
    let pattern = "\"stack\":[{\"type\":\"i32\",\"value\":\"";
    let line = (41..lines.len() - 1)
        .find(|&i| lines[i].contains(pattern))
        .expect("a row with an i32 at the stack bottom");
    let mut tampered: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let row = &mut tampered[line];
    let digit_at = row.find(pattern).unwrap() + pattern.len();
    let old = row.as_bytes()[digit_at];
    let new = if old == b'7' { '8' } else { '7' };
    row.replace_range(digit_at..digit_at + 1, &new.to_string());
    std::fs::write(&out, tampered.join("\n") + "\n").unwrap();
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&out)
        .arg("--module")
        .arg(&wasm));
    assert_eq!(o.status.code(), Some(1));
    let expected = format!("invalid: row {0} (step {0}): stack", line - 1);
    assert!(
        text(&o.stdout).starts_with(&expected),
        "{}",
        text(&o.stdout)
    );

    // Another module: a clear error.
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&out)
        .arg("--module")
        .arg(fixture("wasm/bench/sort.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("recorded from module"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn trace_wasi_command_to_binary_and_tables_with_stats() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("sha.bin");
    let wasm = fixture("wasm/sha256.wasm");
    let o = run(weft()
        .arg("trace")
        .arg(&wasm)
        .arg("2")
        .args(["--stack", "top:2", "--locals", "none", "-o"])
        .arg(&bin));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("all ok"),
        "program output passes through"
    );
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&bin)
        .arg("--module")
        .arg(&wasm));
    assert!(o.status.success(), "{}", text(&o.stdout));

    let o = run(weft()
        .args(["trace", "stats"])
        .arg(&bin)
        .arg("--module")
        .arg(&wasm)
        .arg("--json"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(stats["rows"].as_u64().unwrap() > 100_000);
    assert_eq!(stats["rows"], stats["steps"]);

    let tables = dir.path().join("tables");
    let o = run(weft()
        .arg("trace")
        .arg(&wasm)
        .arg("2")
        .args(["--format", "tables", "--only", "memory", "-o"])
        .arg(&tables));
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "exec.csv",
        "exec.parquet",
        "memory.csv",
        "memory.parquet",
        "control.csv",
        "control.parquet",
        "header.json",
        "summary.json",
    ] {
        assert!(tables.join(f).is_file(), "{f}");
    }
    let mem = std::fs::read_to_string(tables.join("memory.csv")).unwrap();
    assert!(mem.starts_with("step,kind,source,addr,width,bytes_hex\n"));
    assert!(
        mem.contains(",write,host,"),
        "WASI writes appear as host rows"
    );

    // A truncated binary trace is a clear error naming the byte.
    let bytes = std::fs::read(&bin).unwrap();
    std::fs::write(&bin, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&bin)
        .arg("--module")
        .arg(&wasm));
    assert_ne!(o.status.code(), Some(0));
    let all = text(&o.stdout) + &text(&o.stderr);
    assert!(all.contains("malformed trace at byte"), "{all}");
}

#[test]
fn trace_wasi_command_to_a_witness_verifies_and_counts_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("sha.bin");
    let wit = dir.path().join("sha.wit");
    let wasm = fixture("wasm/sha256.wasm");
    for (format, out) in [("bin", &bin), ("witness", &wit)] {
        let o = run(weft()
            .arg("trace")
            .arg(&wasm)
            .arg("2")
            .args([
                "--stack", "top:1", "--locals", "none", "--format", format, "-o",
            ])
            .arg(out));
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("all ok"),
            "{format}: output passes through"
        );
    }
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&wit)
        .arg("--module")
        .arg(&wasm));
    assert!(o.status.success(), "{}", text(&o.stdout));
    // Statistics read from the witness count what the row trace holds.
    let stats = |trace: &std::path::Path| {
        let o = run(weft().args(["trace", "stats"]).arg(trace).arg("--json"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let (from_rows, from_witness) = (stats(&bin), stats(&wit));
    assert!(from_witness["rows"].as_u64().unwrap() > 100_000);
    assert_eq!(from_witness, from_rows);
    // Verifying against another module is refused.
    let o = run(weft()
        .args(["trace", "verify"])
        .arg(&wit)
        .arg("--module")
        .arg(fixture("wasm/bench/fib.wasm")));
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn trace_bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(weft()
        .arg("trace")
        .arg(fixture("wasm/bench/fib.wasm"))
        .args(["--invoke", "run", "3"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("-o"), "{}", text(&o.stderr));
    let o = run(weft()
        .arg("trace")
        .arg(fixture("wasm/bench/fib.wasm"))
        .args(["--invoke", "nope", "-o"])
        .arg(dir.path().join("x.bin")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no exported function `nope`"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.path().join("x.bin").exists(), "no partial output");
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"not a trace at all").unwrap();
    let o = run(weft().args(["trace", "stats"]).arg(&junk));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("malformed trace at line 1"),
        "{}",
        text(&o.stderr)
    );
}
