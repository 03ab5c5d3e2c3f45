//! The fixture suite end to end: every task reaches its known verdict, and every finding's
//! inputs are replayed through the concrete engine here again (independently of the
//! explorer's own replay check).

use std::path::PathBuf;
use std::sync::Arc;
use weft_sym::goals::build_task;
use weft_sym::replay::{replay, Inputs, Outcome};
use weft_sym::suite;
use weft_sym::{ExploreConfig, Verdict};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sym/tasks.txt")
}

fn parse_val(ty: weft_core::ValType, shown: &str) -> weft_core::Val {
    let v = shown.split_once(':').map(|x| x.1).unwrap_or(shown);
    weft_core::Val::parse(ty, v).expect("printed values parse back")
}

#[test]
fn every_task_reaches_its_verdict_and_findings_replay() {
    let tasks = suite::load(&manifest()).unwrap();
    assert!(tasks.len() >= 10);
    let cfg = ExploreConfig::default();
    for t in &tasks {
        let r = suite::run_task(t, &cfg).unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(r.verdict, t.expected, "{}: {}", t.name, r.to_text());
        if t.expected == Verdict::Unreachable {
            assert!(r.incomplete.is_empty(), "{}: {:?}", t.name, r.incomplete);
            continue;
        }
        // Rebuild the concrete inputs from the report and run them again.
        let f = &r.findings[0];
        let bytes = std::fs::read(&t.module).unwrap();
        let module = Arc::new(weft_ir::Module::from_bytes_or_text(&bytes).unwrap());
        let task = build_task(module.clone(), &t.options).unwrap();
        let ty = module
            .func_type(module.export(&task.entry).unwrap().index)
            .clone();
        let mut inputs = Inputs::default();
        for (i, p) in ty.params.iter().enumerate() {
            let shown = f.inputs.iter().find(|v| v.name == format!("a{i}")).unwrap();
            inputs.params.push(parse_val(*p, &shown.value));
        }
        for m in &task.mem {
            let shown = f
                .inputs
                .iter()
                .find(|v| v.name.starts_with(&format!("mem[0x{:x}..", m.addr)))
                .unwrap();
            let hex = shown.value.split(' ').next().unwrap();
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            assert_eq!(bytes.len(), m.len as usize);
            if m.printable {
                assert!(
                    bytes.iter().all(|b| (0x20..=0x7e).contains(b)),
                    "{}: {bytes:?}",
                    t.name
                );
            }
            inputs.mem.push((m.addr, bytes));
        }
        if let Some(shown) = f.inputs.iter().find(|v| v.name == "stdin") {
            let hex = shown.value.split(' ').next().unwrap();
            inputs.stdin = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let (len, _) = task.wasi.as_ref().unwrap().sym_stdin.unwrap();
            assert_eq!(inputs.stdin.len(), len, "{}", t.name);
        }
        for v in f.inputs.iter().filter(|v| v.name.contains('#')) {
            let (ty, _) = v.value.split_once(':').unwrap();
            let ty = match ty {
                "i64" => weft_core::ValType::I64,
                _ => weft_core::ValType::I32,
            };
            inputs.host.push(parse_val(ty, &v.value));
        }
        let (outcome, hit) = replay(&task, &inputs, 10_000_000, 1024);
        match f.kind.as_str() {
            "reach" => {
                let Some(weft_sym::Goal::Func(g)) = hit else {
                    panic!("{}: goal not reproduced: {hit:?} {outcome:?}", t.name)
                };
                assert_eq!(
                    f.what,
                    format!("function {}", module.func_name(g)),
                    "{}",
                    t.name
                );
            }
            "return" => assert_eq!(
                outcome,
                Outcome::Returned(vec![parse_val(ty.results[0], &f.what)]),
                "{}",
                t.name
            ),
            "target" => match &outcome {
                Outcome::Trapped(tr) => assert!(
                    tr.detail.as_deref().unwrap_or("").ends_with(&f.what),
                    "{}: {tr}",
                    t.name
                ),
                other => panic!("{}: target not reproduced: {other:?}", t.name),
            },
            "trap" => match &outcome {
                Outcome::Trapped(tr) => assert_eq!(tr.code.to_string(), f.what, "{}", t.name),
                other => panic!("{}: trap not reproduced: {other:?}", t.name),
            },
            k => panic!("unexpected finding kind {k}"),
        }
    }
}
