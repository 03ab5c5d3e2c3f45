//! The `weft` binary, driven as a user would.

mod common;

use common::{fixture, run, stderr, stdout, weft, Scratch};

#[test]
fn run_wasi_command_reproduces_native_output() {
    let o = run(weft()
        .arg("run")
        .arg(fixture("wasm/sha256.wasm"))
        .arg("1000"));
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = std::fs::read_to_string(fixture("expected/sha256.stdout")).unwrap();
    assert_eq!(stdout(&o), expected);
}

#[test]
fn run_passes_exit_code_env_and_stdin() {
    let mut cmd = weft();
    cmd.args(["run", "--env", "WEFT_TEST=yes"])
        .arg(fixture("wasm/wasi_io.wasm"))
        .args(["a", "b"]);
    let o = cmd
        .stdin(std::fs::File::open(fixture("data/wasi_io.stdin")).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let expected = std::fs::read_to_string(fixture("expected/wasi_io.stdout")).unwrap();
    // argv[0] is the module path; the fixture prints argv[1..] only.
    assert_eq!(stdout(&o), expected);
    assert!(stderr(&o).contains("this line goes to stderr"));
}

#[test]
fn invoke_prints_typed_results_and_fuel() {
    let o = run(weft()
        .args(["run", "--print-fuel", "--invoke", "run"])
        .arg(fixture("wasm/bench/fib.wasm"))
        .arg("20"));
    assert!(o.status.success(), "{}", stderr(&o));
    let tsv = std::fs::read_to_string(fixture("expected/bench.tsv")).unwrap();
    let line = tsv.lines().find(|l| l.starts_with("fib\t")).unwrap();
    let checksum = line.split('\t').nth(2).unwrap();
    assert_eq!(stdout(&o), format!("i64:{checksum}\n"));
    let fuel_line = stderr(&o);
    let fuel: u64 = fuel_line
        .trim()
        .strip_prefix("fuel consumed: ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(fuel > 10_000, "{fuel}");
}

#[test]
fn invoke_prints_floats_exactly() {
    let dir = Scratch::new("cli");
    let wat = dir.join("f.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "neg") (param f64) (result f64 i32) (f64.neg (local.get 0)) (i32.const -7)))"#,
    )
    .unwrap();
    let o = run(weft().args(["run", "--invoke", "neg"]).arg(&wat).arg("0"));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "f64:-0.0\ni32:-7\n");
}

#[test]
fn fuel_limit_traps() {
    let o = run(weft()
        .args(["run", "--fuel", "1000", "--invoke", "run"])
        .arg(fixture("wasm/bench/fib.wasm"))
        .arg("20"));
    assert_eq!(o.status.code(), Some(134), "{}", stderr(&o));
    assert!(stderr(&o).contains("all fuel consumed"), "{}", stderr(&o));
}

#[test]
fn trap_names_function_and_offset() {
    let dir = Scratch::new("cli");
    let wat = dir.join("t.wat");
    std::fs::write(
        &wat,
        r#"(module (func (export "f") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))"#,
    )
    .unwrap();
    let o = run(weft().args(["run", "--invoke", "f"]).arg(&wat));
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(
        err.contains("integer divide by zero") && err.contains("function 0 at offset 0x"),
        "{err}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = Scratch::new("cli");
    let bad = dir.join("bad.wasm");
    std::fs::write(&bad, b"\0asm\x01\0\0\0\x01\x05").unwrap();
    let o = run(weft().arg("validate").arg(&bad));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.wasm"), "{}", stderr(&o));
    assert!(stderr(&o).contains("offset"), "{}", stderr(&o));

    let o = run(weft()
        .args(["run", "--invoke", "nope"])
        .arg(fixture("wasm/bench/fib.wasm")));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no exported function `nope`"),
        "{}",
        stderr(&o)
    );

    let o = run(weft()
        .args(["run", "--invoke", "run"])
        .arg(fixture("wasm/bench/fib.wasm"))
        .arg("x"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a valid i32"), "{}", stderr(&o));
}

#[test]
fn wast_ends_with_summary_line() {
    let dir = Scratch::new("cli");
    let script = dir.join("s.wast");
    std::fs::write(
        &script,
        r#"(module (func (export "id") (param i32) (result i32) (local.get 0)))
           (assert_return (invoke "id" (i32.const 5)) (i32.const 5))
           (assert_return (invoke "id" (i32.const 5)) (i32.const 6))"#,
    )
    .unwrap();
    let o = run(weft().arg("wast").arg(&script));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).ends_with("2 passed, 1 failed\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn print_and_validate() {
    let o = run(weft().arg("validate").arg(fixture("wasm/bench/sort.wasm")));
    assert!(o.status.success());
    let o = run(weft()
        .args(["print", "--offsets"])
        .arg(fixture("wasm/bench/fib.wasm")));
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.starts_with("(module") || text.contains("(module"),
        "{text}"
    );
    assert!(text.contains("(;@"), "offsets are printed: {text}");
}
