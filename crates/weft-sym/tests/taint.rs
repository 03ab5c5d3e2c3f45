//! Taint analysis of C programs with known flows (`fixtures/taint/`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use weft_core::Val;
use weft_ir::Module;
use weft_sym::taint::{analyze, Outcome, TaintOptions, TaintReport, Target};

fn module(name: &str) -> Arc<Module> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/taint/wasm")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Arc::new(Module::new(&bytes).expect("valid module"))
}

fn invoke(file: &str, name: &str, args: &[i32], options: &TaintOptions) -> TaintReport {
    let target = Target::Export {
        name: name.into(),
        args: args.iter().map(|&a| Val::I32(a)).collect(),
        tainted: None,
    };
    analyze(module(file), &target, options).expect("analysis runs")
}

/// The source names reaching result 0 (empty when untainted).
fn result_sources(r: &TaintReport) -> Vec<String> {
    r.result_flow(0).map(|f| r.names(f)).unwrap_or_default()
}

/// Every source name reaching sinks of `kind`.
fn reaching(r: &TaintReport, kind: &str) -> BTreeSet<String> {
    r.flows_of(kind).flat_map(|f| r.names(f)).collect()
}

/// Every single source (not ranges) reaching any sink.
fn all_reaching(r: &TaintReport) -> BTreeSet<String> {
    r.flows
        .iter()
        .flat_map(|f| f.sources.iter())
        .map(|&s| r.sources.get(s).unwrap().to_string())
        .collect()
}

#[test]
fn one_parameter_reaches_the_result_the_other_only_a_branch() {
    let r = invoke("flows.wasm", "check", &[5, 200], &TaintOptions::default());
    assert_eq!(
        r.outcome,
        Outcome::Returned(vec![Val::I32((5 * 31 + 7) ^ 0x55)])
    );
    assert_eq!(result_sources(&r), ["param0"]);
    assert_eq!(reaching(&r, "condition"), BTreeSet::from(["param1".into()]));
    // The branch's location is a real code offset inside `check`.
    let cond = r.flows_of("condition").next().unwrap();
    assert!(cond.sink.offset.unwrap() > 0);
    // The import called under the branch gets an untainted constant.
    assert!(reaching(&r, "import-arg").is_empty());
}

#[test]
fn address_flows_need_the_option() {
    let plain = invoke("flows.wasm", "lookup", &[6], &TaintOptions::default());
    assert_eq!(plain.outcome, Outcome::Returned(vec![Val::I32(2)]));
    assert!(result_sources(&plain).is_empty(), "{}", plain.to_text(None));
    assert_eq!(
        reaching(&plain, "address"),
        BTreeSet::from(["param0".into()])
    );

    let opts = TaintOptions {
        address_taint: true,
        ..Default::default()
    };
    let addr = invoke("flows.wasm", "lookup", &[6], &opts);
    assert_eq!(result_sources(&addr), ["param0"]);
}

#[test]
fn taint_goes_through_memory_byte_by_byte() {
    let r = invoke(
        "flows.wasm",
        "through_memory",
        &[41, 7],
        &TaintOptions::default(),
    );
    assert_eq!(r.outcome, Outcome::Returned(vec![Val::I32(42)]));
    assert_eq!(result_sources(&r), ["param0"]);
    // Addresses are constants: no address sink is tainted.
    assert!(reaching(&r, "address").is_empty());
}

#[test]
fn imports_as_sources_and_by_summaries() {
    let target = Target::Export {
        name: "tc_main".into(),
        args: vec![],
        tainted: None,
    };
    let opts = TaintOptions {
        source_imports: vec!["__VERIFIER_nondet_int".into()],
        ..Default::default()
    };
    let r = analyze(module("flows.wasm"), &target, &opts).unwrap();
    let x = "env.__VERIFIER_nondet_int#0".to_string();
    let y = "env.__VERIFIER_nondet_int#1".to_string();
    assert_eq!(result_sources(&r), std::slice::from_ref(&x));
    assert_eq!(reaching(&r, "condition"), BTreeSet::from([x.clone()]));
    // y is scramble's argument, and flows through `scramble` (propagating summary) into
    // `report`'s argument.
    let args: Vec<_> = r.flows_of("import-arg").collect();
    assert_eq!(args.len(), 2, "{}", r.to_text(None));
    assert_eq!(args[0].sink.kind.to_string(), "argument 0 of env.scramble");
    assert_eq!(args[1].sink.kind.to_string(), "argument 0 of env.report");
    assert!(args[0].sink.offset < args[1].sink.offset);
    for a in args {
        assert_eq!(r.names(a), std::slice::from_ref(&y));
    }

    // With `scramble` summarised as clean, y reaches nothing.
    let clean = TaintOptions {
        clean_imports: vec!["env.scramble".into()],
        ..opts
    };
    let r = analyze(module("flows.wasm"), &target, &clean).unwrap();
    let args: Vec<_> = r.flows_of("import-arg").collect();
    assert_eq!(args.len(), 1, "{}", r.to_text(None));
    assert_eq!(args[0].sink.kind.to_string(), "argument 0 of env.scramble");
    assert!(reaching(&r, "result").contains(&x));
}

#[test]
fn implicit_flows_only_with_the_option() {
    let implicit = TaintOptions {
        implicit: true,
        ..Default::default()
    };
    for (func, arg, expect) in [("leak_bit", 42, 1), ("leak_bit", 7, 0), ("count_up", 5, 5)] {
        let plain = invoke("implicit.wasm", func, &[arg], &TaintOptions::default());
        assert_eq!(plain.outcome, Outcome::Returned(vec![Val::I32(expect)]));
        assert!(
            result_sources(&plain).is_empty(),
            "{func}({arg}) explicit: {}",
            plain.to_text(None)
        );
        assert_eq!(
            reaching(&plain, "condition"),
            BTreeSet::from(["param0".into()])
        );
        let imp = invoke("implicit.wasm", func, &[arg], &implicit);
        assert_eq!(imp.outcome, Outcome::Returned(vec![Val::I32(expect)]));
        assert_eq!(result_sources(&imp), ["param0"], "{func}({arg}) implicit");
    }
    // An explicit flow is there either way; implicit tracking adds nothing to it.
    for opts in [TaintOptions::default(), implicit] {
        let r = invoke("implicit.wasm", "add", &[2, 3], &opts);
        assert_eq!(result_sources(&r), ["param0", "param1"]);
    }
}

#[test]
fn only_listed_parameters_are_sources() {
    let target = Target::Export {
        name: "check".into(),
        args: vec![Val::I32(1), Val::I32(500)],
        tainted: Some(vec![1]),
    };
    let r = analyze(module("flows.wasm"), &target, &TaintOptions::default()).unwrap();
    assert!(result_sources(&r).is_empty());
    assert_eq!(r.sources.len(), 1);
}

fn crackme(stdin: &[u8], key: &str, implicit: bool) -> TaintReport {
    let opts = TaintOptions {
        wasi_args: vec![key.into()],
        stdin: stdin.to_vec(),
        implicit,
        ..Default::default()
    };
    analyze(module("crackme.wasm"), &Target::Command, &opts).unwrap()
}

#[test]
fn wasi_stdin_bytes_and_arguments_are_sources() {
    // h("abcd") = ((97*31+98)*31+99)*31+100 = 2987074
    for (key, exit, last) in [("2987074", 0, "ok"), ("5", 1, "no")] {
        let r = crackme(b"abcdefgh", key, false);
        assert_eq!(r.outcome, Outcome::Exited(exit));
        let out = String::from_utf8(r.stdout.clone()).unwrap();
        assert_eq!(out, format!("tag {}\n{last}\n", b'g' ^ 0x20));
        let reached = all_reaching(&r);
        for b in 0..4 {
            assert!(
                reached.contains(&format!("stdin[{b}]")),
                "{}",
                r.to_text(None)
            );
        }
        assert!(reached.contains("argv[1]"));
        for b in [4, 5, 7] {
            assert!(
                !reached.contains(&format!("stdin[{b}]")),
                "{}",
                r.to_text(None)
            );
        }
        // The comparison with the key is one branch reached by bytes 0..3 and argv[1].
        assert!(
            r.flows_of("condition")
                .any(|f| r.names(f) == ["stdin[0..4]", "argv[1]"]),
            "{}",
            r.to_text(None)
        );
        // stdout: byte 6 explicitly; the verdict's bytes are constants.
        assert_eq!(reaching(&r, "output"), BTreeSet::from(["stdin[6]".into()]));
    }
    // With implicit flows the verdict printed depends on the key and bytes 0..3.
    let r = crackme(b"abcdefgh", "5", true);
    let out = reaching(&r, "output");
    assert!(
        out.contains("argv[1]") && out.contains("stdin[6]"),
        "{out:?}"
    );
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let m = module("flows.wasm");
    let bad = |target: Target, opts: TaintOptions| analyze(m.clone(), &target, &opts).unwrap_err();
    let check = |args: Vec<Val>, tainted| Target::Export {
        name: "check".into(),
        args,
        tainted,
    };
    let e = bad(check(vec![Val::I32(1)], None), TaintOptions::default());
    assert!(e.0.contains("takes 2 arguments"), "{e}");
    let e = bad(
        check(vec![Val::I32(1), Val::I64(2)], None),
        TaintOptions::default(),
    );
    assert!(e.0.contains("argument 1"), "{e}");
    let e = bad(
        check(vec![Val::I32(1), Val::I32(2)], Some(vec![5])),
        TaintOptions::default(),
    );
    assert!(e.0.contains("no parameter 5"), "{e}");
    let e = bad(Target::Command, TaintOptions::default());
    assert!(e.0.contains("_start"), "{e}");
    let e = bad(
        check(vec![Val::I32(1), Val::I32(2)], None),
        TaintOptions {
            mem_sources: vec![(u32::MAX - 2, 2)],
            ..Default::default()
        },
    );
    assert!(e.0.contains("outside the memory"), "{e}");
}

#[test]
fn memory_regions_are_sources() {
    // `lookup(6)` reads table[6]: marking those 4 bytes as sources taints the result.
    let m = module("flows.wasm");
    let target = Target::Export {
        name: "lookup".into(),
        args: vec![Val::I32(6)],
        tainted: Some(vec![]),
    };
    // table[] lives in a data segment; find its address.
    let needle: Vec<u8> = [3i32, 1, 4, 1, 5, 9, 2, 6]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let start = m
        .datas
        .iter()
        .find_map(|seg| {
            let off = seg
                .bytes
                .windows(needle.len())
                .position(|w| w == needle.as_slice())?;
            match &seg.mode {
                weft_ir::DataMode::Active { offset, .. } => match offset.0.first() {
                    Some(weft_ir::ConstOp::Const(Val::I32(v))) => Some(*v as u32 + off as u32),
                    _ => None,
                },
                _ => None,
            }
        })
        .expect("table in an active data segment");
    let opts = TaintOptions {
        mem_sources: vec![(start + 6 * 4, 4)],
        ..Default::default()
    };
    let r = analyze(m.clone(), &target, &opts).unwrap();
    assert_eq!(r.sources.len(), 4);
    assert_eq!(
        result_sources(&r),
        [format!("mem[{:#x}..{:#x}]", start + 24, start + 28)]
    );
    // Another element of the table is not a source.
    let opts = TaintOptions {
        mem_sources: vec![(start, 4)],
        ..Default::default()
    };
    assert!(result_sources(&analyze(m, &target, &opts).unwrap()).is_empty());
}

#[test]
fn arguments_of_an_import_called_through_a_table_are_sinks() {
    let wat = r#"(module
        (import "env" "report" (func $report (param i32 i32)))
        (type $sig (func (param i32 i32)))
        (table 2 funcref)
        (elem (i32.const 1) $report)
        (func (export "go") (param i32 i32)
            i32.const 7
            local.get 1
            i32.const 1
            call_indirect (type $sig)))"#;
    let module = Arc::new(Module::from_bytes_or_text(wat.as_bytes()).expect("valid module"));
    let target = Target::Export {
        name: "go".into(),
        args: vec![Val::I32(0), Val::I32(5)],
        tainted: None,
    };
    let r = analyze(module, &target, &TaintOptions::default()).expect("analysis runs");
    let args: Vec<_> = r.flows_of("import-arg").collect();
    assert_eq!(args.len(), 1, "{}", r.to_text(None));
    assert_eq!(args[0].sink.kind.to_string(), "argument 1 of env.report");
    assert_eq!(r.names(args[0]), ["param1".to_string()]);
    // The table index is untainted: no call-index sink.
    assert!(
        r.flows_of("call-index").next().is_none(),
        "{}",
        r.to_text(None)
    );
}

fn invoke_wat(wat: &str, name: &str, args: &[i32], options: &TaintOptions) -> TaintReport {
    let module = Arc::new(Module::from_bytes_or_text(wat.as_bytes()).expect("valid module"));
    let target = Target::Export {
        name: name.into(),
        args: args.iter().map(|&a| Val::I32(a)).collect(),
        tainted: None,
    };
    analyze(module, &target, options).expect("analysis runs")
}

#[test]
fn implicit_flows_reach_plain_copies_into_locals_globals_and_memory() {
    // Under a branch on param 0, clean param 1 is only copied: into a local, a global, and
    // (memory.copy) from one clean memory cell to another.
    let wat = r#"(module
        (memory 1)
        (global $g (mut i32) (i32.const 0))
        (func (export "local") (param i32 i32) (result i32) (local i32)
            local.get 0
            if
                local.get 1
                local.set 2
            end
            local.get 2)
        (func (export "global") (param i32 i32) (result i32)
            local.get 0
            if
                local.get 1
                global.set $g
            end
            global.get $g)
        (func (export "memory") (param i32 i32) (result i32)
            i32.const 100
            local.get 1
            i32.store
            local.get 0
            if
                i32.const 200
                i32.const 100
                i32.const 4
                memory.copy
            end
            i32.const 200
            i32.load))"#;
    let implicit = TaintOptions {
        implicit: true,
        ..Default::default()
    };
    for func in ["local", "global", "memory"] {
        let plain = invoke_wat(wat, func, &[1, 9], &TaintOptions::default());
        assert_eq!(
            plain.outcome,
            Outcome::Returned(vec![Val::I32(9)]),
            "{func}"
        );
        assert_eq!(result_sources(&plain), ["param1"], "{func} explicit only");
        let imp = invoke_wat(wat, func, &[1, 9], &implicit);
        assert_eq!(
            result_sources(&imp),
            ["param0", "param1"],
            "{func} with implicit flows: {}",
            imp.to_text(None)
        );
    }
}

#[test]
fn memory_copy_addresses_taint_the_copied_bytes_with_the_option() {
    // Four clean bytes copied to a destination chosen by param 0, a length from param 1.
    let wat = r#"(module
        (memory 1)
        (data (i32.const 100) "\05\00\00\00")
        (func (export "copy_to") (param i32 i32) (result i32)
            local.get 0
            i32.const 100
            local.get 1
            memory.copy
            local.get 0
            i32.load))"#;
    let plain = invoke_wat(wat, "copy_to", &[200, 4], &TaintOptions::default());
    assert_eq!(plain.outcome, Outcome::Returned(vec![Val::I32(5)]));
    assert!(result_sources(&plain).is_empty(), "{}", plain.to_text(None));
    let opts = TaintOptions {
        address_taint: true,
        ..Default::default()
    };
    let addr = invoke_wat(wat, "copy_to", &[200, 4], &opts);
    assert_eq!(result_sources(&addr), ["param0"], "{}", addr.to_text(None));
}
