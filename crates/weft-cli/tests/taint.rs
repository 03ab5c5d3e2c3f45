//! `weft taint`, driven as a user would.

use std::path::PathBuf;
use std::process::Output;

mod common;

use common::{run, stderr, stdout, weft};

/// A file of `fixtures/taint`.
fn fixture(rel: &str) -> PathBuf {
    common::fixture("taint").join(rel)
}

/// Runs `weft taint ARGS`.
fn taint(args: &[&str]) -> Output {
    run(weft().arg("taint").args(args))
}

fn flows_wasm() -> String {
    fixture("wasm/flows.wasm").display().to_string()
}

#[test]
fn text_report_names_sinks_by_offset() {
    let o = taint(&["--invoke", "check", &flows_wasm(), "5", "200"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("returned: i32:"), "{text}");
    assert!(text.contains("sources (2): param0, param1"), "{text}");
    let cond = text
        .lines()
        .find(|l| l.contains("branch condition"))
        .unwrap_or_else(|| panic!("no condition line: {text}"));
    assert!(cond.trim_start().starts_with("0x"), "{cond}");
    assert!(cond.ends_with("<- param1"), "{cond}");
    assert!(
        text.lines()
            .any(|l| l.contains("result 0 of check  <- param0")),
        "{text}"
    );
}

#[test]
fn json_report_and_sink_filter() {
    let o = taint(&[
        "--json",
        "--sinks",
        "result",
        "--address-taint",
        "--invoke",
        "lookup",
        &flows_wasm(),
        "6",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json = stdout(&o);
    assert_eq!(
        json.trim(),
        "{\"outcome\":{\"returned\":[\"i32:2\"]},\"sources\":[\"param0\"],\"flows\":[\
         {\"kind\":\"result\",\"detail\":\"result 0 of lookup\",\"func\":null,\"offset\":null,\
         \"sources\":[\"param0\"]}]}"
    );
    // Without address taint the result is clean.
    let o = taint(&[
        "--json",
        "--sinks",
        "result",
        "--invoke",
        "lookup",
        &flows_wasm(),
        "6",
    ]);
    assert!(stdout(&o).contains("\"flows\":[]"), "{}", stdout(&o));
}

#[test]
fn wasi_program_with_stdin_and_argv_sources() {
    let dir = std::env::temp_dir().join(format!("weft-taint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, b"abcdefgh").unwrap();
    let o = taint(&[
        "--stdin",
        &input.display().to_string(),
        "--sinks",
        "condition,output",
        &fixture("wasm/crackme.wasm").display().to_string(),
        "2987074",
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("exited: 0"), "{text}");
    assert!(text.contains("sources (9): stdin[0..8], argv[1]"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("branch condition  <- stdin[0..4], argv[1]")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("bytes written to fd 1  <- stdin[6]")),
        "{text}"
    );
    assert!(!text.contains("address"), "{text}");
}

#[test]
fn imports_as_sources_from_the_command_line() {
    let o = taint(&[
        "--source-import",
        "__VERIFIER_nondet_int",
        "--clean-import",
        "env.scramble",
        "--invoke",
        "tc_main",
        &flows_wasm(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("argument 0 of env.scramble  <- env.__VERIFIER_nondet_int#1"),
        "{text}"
    );
    assert!(!text.contains("argument 0 of env.report"), "{text}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--sinks", "nowhere", "--invoke", "check", "F", "1", "2"],
            "unknown kind `nowhere`",
        ),
        (&["--invoke", "check", "F", "1"], "takes 2 arguments"),
        (
            &["--invoke", "missing", "F"],
            "no exported function `missing`",
        ),
        (
            &["--source-mem", "12", "--invoke", "lookup", "F", "1"],
            "expected ADDR:LEN",
        ),
        (&["--params", "0", "F"], "--params needs --invoke"),
        (&["F"], "_start"),
        (
            &["--invoke", "check", "/nonexistent.wasm", "1", "2"],
            "cannot read",
        ),
    ];
    let f = flows_wasm();
    for (args, msg) in cases {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "F" { f.as_str() } else { a })
            .collect();
        let o = taint(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
    }
}
