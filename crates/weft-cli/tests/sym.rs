//! `weft sym`, driven as a user would: findings, exit codes, JSON, replayed inputs.

use std::path::PathBuf;

mod common;

use common::{run, stderr, stdout, weft};

/// A file of `fixtures/sym`.
fn fixture(rel: &str) -> PathBuf {
    common::fixture("sym").join(rel)
}

/// The value printed for input `name` (`    name = value`).
fn input<'a>(text: &'a str, name: &str) -> &'a str {
    let key = format!("{name} = ");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no input {name} in\n{text}"))
}

#[test]
fn arithmetic_key_is_found_and_replays_through_weft_run() {
    let o = run(weft()
        .args([
            "sym", "--invoke", "check", "--sym", "i32,i32", "--goal", "return=1",
        ])
        .arg(fixture("wasm/crackme_arith.wasm")));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("finding 1: return i32:1"), "{text}");
    assert!(text.contains("replay: confirmed: returned i32:1"), "{text}");
    // Run the model through the concrete CLI as well.
    let a = input(&text, "a0").trim_start_matches("i32:").to_string();
    let b = input(&text, "a1").trim_start_matches("i32:").to_string();
    let r = run(weft()
        .args(["run", "--invoke", "check"])
        .arg(fixture("wasm/crackme_arith.wasm"))
        .args([&a, &b]));
    assert_eq!(stdout(&r).trim(), "i32:1", "a={a} b={b}: {}", stderr(&r));
}

#[test]
fn string_crackme_reports_json_with_the_password() {
    let o = run(weft()
        .args([
            "sym",
            "--json",
            "--invoke",
            "check",
            "--sym-mem",
            "input:8",
            "--goal",
            "return=1",
        ])
        .arg(fixture("wasm/crackme_string.wasm")));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("\"verdict\": \"reached\""), "{text}");
    assert!(text.contains("\\\"w3ft-sym\\\""), "{text}");
    assert!(text.contains("\"constraints\""), "{text}");
}

#[test]
fn test_comp_target_and_unreachable_verdicts() {
    let o = run(weft().arg("sym").arg(fixture("wasm/tc_reach_simple.wasm")));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("finding 1: target reach_error"), "{text}");
    assert!(text.contains("__VERIFIER_nondet_int#0 = i32:"), "{text}");

    let o = run(weft()
        .arg("sym")
        .arg(fixture("wasm/tc_unreach_assume.wasm")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("verdict: unreachable"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn z3_and_parallel_workers_agree() {
    for extra in [
        &["--solver", "z3"][..],
        &["--jobs", "2", "--strategy", "bfs"][..],
    ] {
        let o = run(weft()
            .arg("sym")
            .args(extra)
            .args(["--traps", "--all"])
            .arg(fixture("wasm/tc_div_abort.wasm")));
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {}", stderr(&o));
        let text = stdout(&o);
        // Both the division by zero (d = 7) and abort (d = 1000) are found, whatever the order.
        assert!(text.contains(": trap integer divide by zero"), "{text}");
        assert!(text.contains("__VERIFIER_nondet_int#0 = i32:7"), "{text}");
        assert!(text.contains(": target abort"), "{text}");
        assert!(
            text.contains("__VERIFIER_nondet_int#0 = i32:1000"),
            "{text}"
        );
        assert!(text.contains("verdict: reached"), "{text}");
    }
}

#[test]
fn wasi_program_key_on_symbolic_stdin_is_found_and_unlocks_under_weft_run() {
    let o = run(weft()
        .args(["sym", "--sym-stdin", "8", "--goal", "func=unlock"])
        .arg(fixture("wasm/wasi_stdin_key.wasm")));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("finding 1: reach function unlock"), "{text}");
    assert!(text.contains("; reached function unlock"), "{text}");
    // `stdin = HEX "escaped"`: feed the model's bytes to the program.
    let hex = input(&text, "stdin")
        .split_whitespace()
        .next()
        .unwrap_or("");
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    assert_eq!(bytes.len(), 8, "{text}");
    let mut child = weft()
        .arg("run")
        .arg(fixture("wasm/wasi_stdin_key.wasm"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("weft run starts");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &bytes).expect("write");
    let r = child.wait_with_output().expect("weft run ends");
    assert_eq!(stdout(&r), "access granted\n", "input {bytes:?}");
    assert_eq!(r.status.code(), Some(0));
    // Too short an input can never be the key: every path is explored.
    let o = run(weft()
        .args(["sym", "--sym-stdin", "3", "--goal", "func=unlock"])
        .arg(fixture("wasm/wasi_stdin_key.wasm")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("verdict: unreachable (every path explored)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let o = run(weft()
        .args(["sym", "--invoke", "nope"])
        .arg(fixture("wasm/crackme_arith.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no exported function `nope`"),
        "{}",
        stderr(&o)
    );
    let o = run(weft()
        .args(["sym", "--invoke", "check", "--sym", "i32"])
        .arg(fixture("wasm/crackme_arith.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--sym lists 1 parameters"),
        "{}",
        stderr(&o)
    );
    let o = run(weft()
        .args(["sym", "--solver-path", "/nonexistent/cvc5"])
        .arg(fixture("wasm/tc_reach_simple.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not found"), "{}", stderr(&o));
    let o = run(weft()
        .args(["sym", "--invoke", "check", "--sym-stdin", "8"])
        .arg(fixture("wasm/crackme_arith.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("need a module that imports WASI"),
        "{}",
        stderr(&o)
    );
    let o = run(weft()
        .args(["sym", "--sym-stdin", "0"])
        .arg(fixture("wasm/wasi_stdin_key.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--sym-stdin `0`: length must be 1..=65536"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bench_runs_the_suite_and_prints_tasks_solved() {
    let o = run(weft().args(["sym", "--bench"]).arg(fixture("tasks.txt")));
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{text}{}", stderr(&o));
    // Every task of the manifest is solved.
    let manifest = std::fs::read_to_string(fixture("tasks.txt")).unwrap();
    let n = manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    assert!(n >= 15, "{manifest}");
    let solved = text.lines().last().unwrap_or("");
    assert!(
        solved.starts_with(&format!("solved {n}/{n} tasks in")),
        "{text}"
    );
    assert!(
        text.contains("maze") && text.contains("tc_loop_unreach") && text.contains("crackme_float"),
        "{text}"
    );
}
