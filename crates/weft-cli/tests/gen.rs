//! `weft gen`, driven as a user would: determinism across --jobs, resume after an
//! interruption, verification (and detection of wrong answers), WasmWeaver round trip,
//! clear errors on bad input.

use std::fs;
use std::path::Path;
use std::process::Output;

mod common;

use common::{all_output as text, run, weft, Scratch};

fn gen(task: &str, n: u32, jobs: u32, out: &Path) -> Output {
    run(weft()
        .args(["gen", "--quiet", "--task", task, "-n"])
        .arg(n.to_string())
        .args(["--seed", "7", "--jobs"])
        .arg(jobs.to_string())
        .args(["--fuel", "100..300", "-o"])
        .arg(out))
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_bytes_for_every_jobs_and_resume() {
    let s = Scratch::new("det");
    let (a, b, c) = (s.join("a"), s.join("b"), s.join("c"));
    let o = gen("stack", 40, 1, &a);
    assert!(o.status.success(), "{}", text(&o));
    let o = gen("stack", 40, 2, &b);
    assert!(o.status.success(), "{}", text(&o));
    let ta = tree(&a);
    assert_eq!(
        ta.len(),
        40 * 2 + 2,
        "40 .wasm, 40 .wat, dataset.jsonl, manifest.json"
    );
    assert_eq!(ta, tree(&b), "--jobs 1 and --jobs 2 differ");

    // An interrupted run: 17 complete lines, a partial line, a missing sample file.
    let o = gen("stack", 40, 2, &c);
    assert!(o.status.success());
    let jsonl = c.join("dataset.jsonl");
    let full = fs::read_to_string(&jsonl).unwrap();
    let mut cut: String = full.lines().take(17).map(|l| format!("{l}\n")).collect();
    cut.push_str(&full.lines().nth(17).unwrap()[..50]);
    fs::write(&jsonl, cut).unwrap();
    fs::remove_file(c.join("samples/stack-000030.wasm")).unwrap();
    let o = gen("stack", 40, 2, &c);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("23 samples written"), "{}", text(&o));
    assert_eq!(ta, tree(&c), "resumed run differs");

    // Other settings in the same directory are refused.
    let o = gen("result", 40, 2, &c);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("other settings"), "{}", text(&o));
}

#[test]
fn verify_accepts_generated_and_reports_wrong_answers() {
    let s = Scratch::new("verify");
    for task in ["result", "stack", "flags", "memory", "trace-length"] {
        let d = s.join(task);
        let o = gen(task, 15, 2, &d);
        assert!(o.status.success(), "{}", text(&o));
        let o = run(weft().args(["gen", "verify"]).arg(&d));
        assert!(o.status.success(), "{task}: {}", text(&o));
        assert!(
            text(&o).contains("15 samples checked, 0 answers wrong"),
            "{}",
            text(&o)
        );
    }
    // Tamper with one answer and with one fuel figure.
    let d = s.join("result");
    let jsonl = d.join("dataset.jsonl");
    let t = fs::read_to_string(&jsonl).unwrap();
    let mut lines: Vec<String> = t.lines().map(String::from).collect();
    let mut v: serde_json::Value = serde_json::from_str(&lines[3]).unwrap();
    let bits = v["answers"]["results"][0]["bits"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if bits.ends_with('0') {
        format!("{}1", &bits[..bits.len() - 1])
    } else {
        format!("{}0", &bits[..bits.len() - 1])
    };
    v["answers"]["results"][0]["bits"] = serde_json::Value::String(flipped);
    lines[3] = v.to_string();
    let mut w: serde_json::Value = serde_json::from_str(&lines[5]).unwrap();
    w["fuel"] = serde_json::json!(w["fuel"].as_u64().unwrap() + 1);
    lines[5] = w.to_string();
    fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    let o = run(weft().args(["gen", "verify"]).arg(&d));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("result-000003: results: stated"), "{out}");
    assert!(out.contains("result-000005: fuel: stated"), "{out}");
    assert!(out.contains("2 answers wrong"), "{out}");
}

#[test]
fn wasmweaver_round_trip_and_wrong_meta() {
    let s = Scratch::new("ww");
    for task in ["result", "stack", "flags"] {
        let d = s.join(task);
        let ww = s.join(format!("{task}-ww"));
        let back = s.join(format!("{task}-back"));
        assert!(gen(task, 10, 2, &d).status.success());
        let o = run(weft().args(["gen", "export-wasmweaver"]).arg(&d).arg(&ww));
        assert!(o.status.success(), "{}", text(&o));
        // The WasmWeaver-format directory verifies directly...
        let o = run(weft().args(["gen", "verify"]).arg(&ww));
        assert!(o.status.success(), "{task}: {}", text(&o));
        // ...and after import into weft's format.
        let o = run(weft()
            .args(["gen", "import-wasmweaver"])
            .arg(&ww)
            .arg(&back));
        assert!(o.status.success(), "{}", text(&o));
        let o = run(weft().args(["gen", "verify"]).arg(&back));
        assert!(o.status.success(), "{task}: {}", text(&o));
        assert!(text(&o).contains("10 samples checked, 0 answers wrong"));
    }
    // A WasmWeaver-style wrong answer (a loop body run once too often) is reported.
    let ww = s.join("handmade");
    fs::create_dir_all(&ww).unwrap();
    fs::write(
        ww.join("p.wat"),
        "(module\n  (import \"env\" \"memory\" (memory 1))\n  (func $main (result i32)\n    (local i32 i32)\n    (i32.const 3)\n    local.set 0\n    loop\n    local.get 1\n    (i32.const 10)\n    i32.add\n    local.set 1\n    local.get 0\n    (i32.const 1)\n    i32.sub\n    local.tee 0\n    br_if 0\n    end\n    ;;FLAG_0\n    local.get 1\n  )\n  (export \"main\" (func $main))\n)\n",
    )
    .unwrap();
    fs::write(
        ww.join("p.meta"),
        r#"{"reward": 1.0, "flag_states": {"FLAG_0": true}, "return_values": [{"type": "i32", "value": "40"}], "stack_values": []}"#,
    )
    .unwrap();
    let o = run(weft().args(["gen", "verify"]).arg(&ww));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("p: return_values: stated [i32:40], runs [i32:30]"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_input_is_named() {
    let s = Scratch::new("bad");
    let o = run(weft()
        .args(["gen", "--fuel", "300..100", "-o"])
        .arg(s.join("x")));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--fuel `300..100`"), "{}", text(&o));
    let o = run(weft()
        .args(["gen", "--task", "sorting", "-o"])
        .arg(s.join("x")));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown task `sorting`"), "{}", text(&o));
    let o = run(weft().args(["gen", "verify"]).arg(s.join("missing")));
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("missing"), "{}", text(&o));
}
