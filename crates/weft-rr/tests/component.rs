//! Record and replay of a WAT component against a dynamic host: records, variants, lists,
//! options, results, flags and resources; fuzzing finds a planted trap.

use std::path::PathBuf;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::Val;
use weft_rr::component::{ComponentHost, ComponentRunner, HostCx};
use weft_rr::record::End;
use weft_rr::trace::{Event, Trace};
use weft_rr::RrError;

fn component() -> Vec<u8> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rr/components/shapes.wat");
    weft_rr::load_binary(&p).expect("the WAT component parses")
}

/// A host written the way an embedder would: plain Rust over dynamic values.
struct TestHost {
    counters: Vec<u32>,
}

impl ComponentHost for TestHost {
    fn call(
        &mut self,
        cx: &mut HostCx<'_>,
        _instance: &str,
        name: &str,
        _ty: &ComponentFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), String> {
        results[0] = match (name, args) {
            ("move", [Val::Record(f)]) => {
                let (Val::S32(x), Val::Float64(y)) = (&f[0].1, &f[1].1) else {
                    return Err("point".into());
                };
                Val::Record(vec![
                    ("x".into(), Val::S32(x + 1)),
                    ("y".into(), Val::Float64(y * -2.0)),
                ])
            }
            ("grow", [Val::Variant(case, p)]) => match (case.as_str(), p.as_deref()) {
                ("circle", Some(Val::Float64(r))) => {
                    Val::Variant("circle".into(), Some(Box::new(Val::Float64(r * 2.0))))
                }
                ("rect", Some(p)) => Val::Variant("rect".into(), Some(Box::new(p.clone()))),
                _ => Val::Variant("empty".into(), None),
            },
            ("words", [Val::List(ws)]) => {
                let mut out: Vec<Val> = ws.iter().rev().cloned().collect();
                out.push(Val::String(format!("{} wörds", ws.len())));
                Val::List(out)
            }
            ("lookup", [Val::Option(k)]) => match k.as_deref() {
                Some(Val::U32(k)) if *k < 100 => Val::Result(Ok(Some(Box::new(Val::U32(k * k))))),
                Some(_) => Val::Result(Err(Some(Box::new(Val::String("too big".into()))))),
                None => Val::Result(Err(Some(Box::new(Val::String("no key".into()))))),
            },
            ("swap", [Val::Tuple(t)]) => Val::Tuple(vec![t[1].clone(), t[0].clone()]),
            ("restrict", [Val::Flags(f)]) => {
                Val::Flags(f.iter().filter(|x| *x != "exec").cloned().collect())
            }
            ("classify", [Val::Record(_)]) => Val::Variant("empty".into(), None),
            ("make", [Val::U32(start)]) => {
                self.counters.push(*start);
                cx.new_own("host", "counter", self.counters.len() as u32)?
            }
            ("bump", [c, Val::U32(by)]) => {
                let rep = cx.rep(c).ok_or("not a counter")? as usize;
                self.counters[rep - 1] += by;
                Val::U32(self.counters[rep - 1])
            }
            other => return Err(format!("unexpected call {other:?}")),
        };
        Ok(())
    }
}

fn calls() -> Vec<(String, Vec<String>)> {
    [
        ("move", vec!["{x: 41, y: 1.5}"]),
        ("move", vec!["{x: 0, y: 1e300}"]),
        ("grow", vec!["circle(2.25)"]),
        ("grow", vec!["rect({x: -3, y: -0})"]),
        ("grow", vec!["empty"]),
        ("words", vec![r#"["alpha", "b\u{e9}ta", ""]"#]),
        ("lookup", vec!["some(9)"]),
        ("lookup", vec!["some(1000)"]),
        ("lookup", vec!["none"]),
        ("restrict", vec!["{read, exec}"]),
        ("swap", vec!["('é', green)"]),
        ("swap", vec![r"('\n', %red)"]),
        ("count", vec!["10", "3"]),
        ("count", vec!["0", "1"]),
    ]
    .into_iter()
    .map(|(n, a)| (n.to_string(), a.into_iter().map(String::from).collect()))
    .collect()
}

fn results(t: &Trace) -> Vec<String> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::ExportRet { results } => Some(results.join(", ")),
            _ => None,
        })
        .collect()
}

#[test]
fn record_then_replay_every_type_and_resources() {
    let runner = ComponentRunner::new(&component(), false).unwrap();
    let (trace, end) = runner
        .record(
            Box::new(TestHost {
                counters: Vec::new(),
            }),
            &calls(),
            None,
        )
        .unwrap();
    assert_eq!(end, End::Exit(0));
    let got = results(&trace);
    assert_eq!(
        got,
        [
            "{x: 42, y: -3.0}",
            "{x: 1, y: -2e300}",
            "circle(4.5)",
            "rect({x: -3, y: -0.0})",
            "empty",
            r#"["", "béta", "alpha", "3 wörds"]"#,
            "ok(81)",
            r#"err("too big")"#,
            r#"err("no key")"#,
            "{read}",
            "(green, 'é')",
            r"(red, '\n')",
            "16",
            "2",
        ]
    );
    // Resources: created with labels, borrowed, dropped.
    let text = trace.to_jsonl();
    assert!(text.contains(r#""name":"make","args":["10"]"#), "{text}");
    assert!(text.contains(r#""results":["own-h1"]"#), "{text}");
    assert!(
        text.contains(r#""name":"bump","args":["borrow-h1","2"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#""name":"[resource-drop]counter","args":["own-h2"]"#),
        "{text}"
    );
    assert!(trace
        .header
        .world
        .as_deref()
        .unwrap()
        .contains("host.counter"));

    // Replay with no host at all.
    let parsed = Trace::parse(&text).unwrap();
    let r = runner.replay(&parsed).expect("replays");
    assert_eq!(r.end, End::Exit(0));
    assert_eq!(r.events, trace.events.len());
    let r2 = weft_rr::component::replay_component(&component(), &parsed, false).unwrap();
    assert_eq!(r2.events, r.events);
}

#[test]
fn component_divergence_names_its_event() {
    let runner = ComponentRunner::new(&component(), false).unwrap();
    let (trace, _) = runner
        .record(
            Box::new(TestHost {
                counters: Vec::new(),
            }),
            &calls(),
            None,
        )
        .unwrap();
    // Change an export argument: the import it is forwarded to no longer matches.
    let mut t = trace.clone();
    let k = t
        .events
        .iter()
        .position(|e| matches!(e, Event::ExportCall { name, .. } if name == "lookup"))
        .unwrap();
    if let Event::ExportCall { args, .. } = &mut t.events[k] {
        args[0] = "some(10)".into();
    }
    match runner.replay(&t) {
        Err(RrError::Diverged(d)) => {
            assert_eq!(d.index, k + 1, "{d}");
            assert!(
                d.expected.contains("host.lookup(some(9))")
                    && d.actual.contains("host.lookup(some(10))"),
                "{d}"
            );
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    // Change a host answer: the export result differs.
    let mut t = trace.clone();
    let k = t
        .events
        .iter()
        .position(|e| matches!(e, Event::ImportCall { name, .. } if name == "restrict"))
        .unwrap();
    if let Event::ImportRet { results, .. } = &mut t.events[k + 1] {
        results[0] = "{write}".into();
    }
    match runner.replay(&t) {
        Err(RrError::Diverged(d)) => assert_eq!(d.index, k + 2, "{d}"),
        other => panic!("expected a divergence, got {other:?}"),
    }
    // A value that does not fit its type is a clear error naming the event.
    let mut t = trace.clone();
    if let Event::ImportRet { results, .. } = &mut t.events[k + 1] {
        results[0] = "{bogus}".into();
    }
    let e = runner.replay(&t).unwrap_err().to_string();
    assert!(
        e.contains(&format!("event {}", k + 1)) && e.contains("bogus"),
        "{e}"
    );
}

#[test]
fn component_fuzzing_finds_the_planted_trap() {
    let opts = weft_rr::fuzz::FuzzOptions {
        seed: 3,
        iterations: 300,
        export: Some("check".into()),
        ..Default::default()
    };
    let report = weft_rr::component::fuzz_component(&component(), &opts).unwrap();
    let f = report
        .failures
        .iter()
        .find(|f| f.message.contains("unreachable"))
        .unwrap_or_else(|| {
            panic!(
                "no planted trap in {} runs: {:?}",
                report.runs,
                report.distinct()
            )
        });
    let t = Trace::parse(&f.trace.to_jsonl()).unwrap();
    let r = weft_rr::component::replay_component(&component(), &t, false)
        .expect("the failing run replays");
    assert_eq!(r.end, End::Trap(f.message.clone()));
    // All exports with generated values, depth and size bounded.
    let opts = weft_rr::fuzz::FuzzOptions {
        seed: 1,
        iterations: 60,
        max_size: 3,
        max_depth: 2,
        ..Default::default()
    };
    let report = weft_rr::component::fuzz_component(&component(), &opts).unwrap();
    assert_eq!(report.runs, 60);
    for f in &report.failures {
        let r =
            weft_rr::component::replay_component(&component(), &f.trace, false).expect("replays");
        assert_eq!(r.end, End::Trap(f.message.clone()));
    }
}
