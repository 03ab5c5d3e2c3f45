//! Coverage: in a sample of programs (`WEFT_GEN_COVERAGE`, default 10,000 `result` programs)
//! every opcode and construct the generator supports appears, and the share of loops whose
//! iteration count changes the program's answer is measured and printed.

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use weft_core::Val;
use weft_exec::{Concrete, Config, Linker, Machine, Observer};
use weft_gen::ins::Ins;
use weft_gen::{build, ops, GenConfig, Task};

fn supported() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    v.extend(ops::unary_ops().map(|o| o.name().to_string()));
    v.extend(ops::binary_ops().map(|o| o.name().to_string()));
    v.extend(ops::load_ops().map(|o| o.name().to_string()));
    v.extend(ops::store_ops().map(|o| o.name().to_string()));
    for m in [
        "i32.const",
        "i64.const",
        "f32.const",
        "f64.const",
        "local.get",
        "local.set",
        "local.tee",
        "global.get",
        "global.set",
        "select",
        "drop",
        "memory.size",
        "memory.grow",
        "memory.fill",
        "memory.copy",
        "call",
        "call_indirect",
        "block",
        "if",
        "else",
        "end",
        "loop",
        "br",
        "br_if",
        "br_table",
        "return",
        "ref.null",
        "ref.func",
        "ref.is_null",
        "table.size",
        "table.get",
        "table.set",
    ] {
        v.push(m.to_string());
    }
    v
}

/// What one program contributes: its opcode histogram, its loops in `main`, those whose
/// iteration count changes the answer, those that then trap, and its recursion depth.
type Sampled = (BTreeMap<String, u32>, u32, u32, u32, Option<u32>);

/// Counts nested calls of one function.
#[derive(Default)]
struct Nesting {
    func: u32,
    now: u32,
    max: u32,
}

impl Observer<Concrete> for Nesting {
    fn on_call(&mut self, _instance: u32, func: u32) {
        if func == self.func {
            self.now += 1;
            self.max = self.max.max(self.now);
        }
    }
    fn on_return(&mut self, _instance: u32, func: u32) {
        if func == self.func {
            self.now -= 1;
        }
    }
}

/// How deeply the program's recursive function (if any) nests in the run of `main`.
fn recursion_depth(b: &weft_gen::Built) -> Option<u32> {
    let func = b.program.funcs.iter().position(|f| f.name == "rec")? as u32;
    let mut m = Machine::new(
        Concrete,
        Nesting {
            func,
            ..Nesting::default()
        },
        Config::default(),
    );
    let module = weft_ir::Module::new_lowered(&b.wasm, m.mode()).expect("module loads");
    let inst = m
        .instantiate(Arc::new(module), &Linker::new())
        .expect("module instantiates");
    m.invoke(inst, "main", &[]).expect("main completes");
    Some(m.observer.max)
}

/// The answer of `main` with loop `which` of the entry function run `delta` more times.
fn with_loop_changed(b: &weft_gen::Built, which: usize) -> Option<Result<Vec<Val>, String>> {
    let mut p = b.program.clone();
    let body = &mut p.funcs[p.entry as usize].body;
    let starts: Vec<usize> = (2..body.len())
        .filter(|&i| body[i] == Ins::Loop && matches!(body[i - 1], Ins::LocalSet(_)))
        .collect();
    let at = *starts.get(which)? - 2;
    let Ins::Const(Val::I32(k)) = body[at] else {
        return None;
    };
    body[at] = Ins::Const(Val::I32(if k >= 2 { k - 1 } else { k + 1 }));
    let wasm = p.to_wasm();
    Some(weft_gen::answer::run(&p, &wasm, 1 << 30).map(|o| o.results))
}

#[test]
fn every_supported_opcode_appears_and_loops_matter() {
    let n: u64 = std::env::var("WEFT_GEN_COVERAGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let cfg = GenConfig {
        task: Task::Result,
        ..GenConfig::default()
    };
    let per: Vec<Sampled> = (0..n)
        .into_par_iter()
        .map(|i| {
            let b = build(&cfg, 99, i).expect("generation");
            let mut loops = 0;
            let mut changed = 0;
            let mut trapped = 0;
            for w in 0.. {
                match with_loop_changed(&b, w) {
                    None => break,
                    Some(Ok(r)) => {
                        loops += 1;
                        if r != b.outcome.results {
                            changed += 1;
                        }
                    }
                    Some(Err(_)) => {
                        loops += 1;
                        trapped += 1;
                    }
                }
            }
            let depth = recursion_depth(&b);
            (b.sample.histogram, loops, changed, trapped, depth)
        })
        .collect();
    let mut hist: BTreeMap<String, u64> = BTreeMap::new();
    let (mut loops, mut changed, mut trapped) = (0u64, 0u64, 0u64);
    let (mut recursive, mut called, mut recursed) = (0u64, 0u64, 0u64);
    for (h, l, c, t, depth) in per {
        if let Some(d) = depth {
            recursive += 1;
            called += (d >= 1) as u64;
            recursed += (d >= 2) as u64;
        }
        for (k, v) in h {
            *hist.entry(k).or_default() += v as u64;
        }
        loops += l as u64;
        changed += c as u64;
        trapped += t as u64;
    }
    let missing: Vec<String> = supported()
        .into_iter()
        .filter(|m| !hist.contains_key(m))
        .collect();
    let share = changed as f64 / loops.max(1) as f64;
    eprintln!(
        "coverage over {n} programs: {} opcodes seen, missing {missing:?}; {loops} loops in entry functions, \
         answer changed with the iteration count for {changed} ({:.1}%), {trapped} trapped when changed",
        hist.len(),
        share * 100.0
    );
    eprintln!(
        "{recursive} programs have a recursive function; main calls it in {called}, \
         and it calls itself in {recursed}"
    );
    assert!(missing.is_empty(), "never generated: {missing:?}");
    // Bounded recursion is generated, and really recurses, in a fair share of programs.
    assert!(
        recursed * 50 >= n,
        "recursion ran in only {recursed} of {n} programs"
    );
    assert!(loops > 0);
    // At least half of the loops must change the answer when their iteration count changes.
    assert!(share >= 0.5, "only {:.1}% of loops matter", share * 100.0);
}
