//! Every generated program checked in wasmtime 48: it instantiates, completes without trap
//! within exactly the stated fuel, consumes exactly that fuel, and its answers match:
//! results and memory directly, `stack` and `flags` through an instrumented copy whose markers
//! call host functions.
//!
//! `WEFT_GEN_CASES` sets the number of programs per task (default below).

use rayon::prelude::*;
use std::sync::{Arc, Mutex};
use weft_core::{Val, ValType};
use weft_gen::ins::{Ins, Marker};
use weft_gen::program::{Imports, MarkerMode};
use weft_gen::sample::TypedValue;
use weft_gen::{build, Built, GenConfig, Task};

const DEFAULT_CASES: u64 = 10_000;

fn cases() -> u64 {
    std::env::var("WEFT_GEN_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn engine() -> wasmtime::Engine {
    let mut c = wasmtime::Config::new();
    c.consume_fuel(true);
    c.cranelift_opt_level(wasmtime::OptLevel::None);
    wasmtime::Engine::new(&c).expect("wasmtime engine")
}

fn wt_val(v: &wasmtime::Val) -> Val {
    match v {
        wasmtime::Val::I32(x) => Val::I32(*x),
        wasmtime::Val::I64(x) => Val::I64(*x),
        wasmtime::Val::F32(b) => Val::F32(*b),
        wasmtime::Val::F64(b) => Val::F64(*b),
        other => panic!("unexpected value {other:?}"),
    }
}

fn wt_ty(t: ValType) -> wasmtime::ValType {
    match t {
        ValType::I32 => wasmtime::ValType::I32,
        ValType::I64 => wasmtime::ValType::I64,
        ValType::F32 => wasmtime::ValType::F32,
        ValType::F64 => wasmtime::ValType::F64,
        other => panic!("unexpected type {other}"),
    }
}

fn zero(t: ValType) -> wasmtime::Val {
    match t {
        ValType::I32 => wasmtime::Val::I32(0),
        ValType::I64 => wasmtime::Val::I64(0),
        ValType::F32 => wasmtime::Val::F32(0),
        _ => wasmtime::Val::F64(0),
    }
}

/// Runs the dataset binary: results, fuel consumed, memory after.
fn run_plain(engine: &wasmtime::Engine, b: &Built) -> Result<(Vec<Val>, u64, Vec<u8>), String> {
    let module = wasmtime::Module::new(engine, &b.wasm).map_err(|e| format!("compile: {e}"))?;
    let mut store = wasmtime::Store::new(engine, ());
    store.set_fuel(1 << 40).unwrap();
    let inst = wasmtime::Instance::new(&mut store, &module, &[])
        .map_err(|e| format!("instantiate: {e}"))?;
    // Exactly the stated fuel, after instantiation.
    store.set_fuel(b.sample.fuel).unwrap();
    let main = inst.get_func(&mut store, "main").ok_or("no main")?;
    let nres = main.ty(&store).results().len();
    let results_ty: Vec<_> = b
        .program
        .func_type(b.program.entry)
        .results
        .iter()
        .map(|t| zero(*t))
        .collect();
    let mut out = results_ty;
    assert_eq!(out.len(), nres);
    main.call(&mut store, &[], &mut out)
        .map_err(|e| format!("main traps within the stated fuel {}: {e:?}", b.sample.fuel))?;
    let left = store.get_fuel().unwrap();
    let consumed = b.sample.fuel - left;
    let mem = inst
        .get_memory(&mut store, "memory")
        .ok_or("no memory")?
        .data(&store)
        .to_vec();
    Ok((out.iter().map(wt_val).collect(), consumed, mem))
}

#[derive(Default)]
struct Seen {
    flags: Vec<bool>,
    inspect: Option<Vec<Val>>,
}

/// Runs the instrumented copy: markers call `weft.flag(k)` and `weft.inspect(values)`.
fn run_instrumented(engine: &wasmtime::Engine, b: &Built) -> Result<Seen, String> {
    let body = &b.program.funcs[b.program.entry as usize].body;
    let inspect_tys: Option<Vec<ValType>> = body.iter().find_map(|i| match i {
        Ins::Marker(Marker::Inspect(t)) => Some(t.clone()),
        _ => None,
    });
    let nflags = body
        .iter()
        .filter(|i| matches!(i, Ins::Marker(Marker::Flag(_))))
        .count();
    let mut imports = Imports::default();
    imports
        .funcs
        .push(("flag".into(), weft_core::FuncType::new([ValType::I32], [])));
    if let Some(t) = &inspect_tys {
        imports
            .funcs
            .push(("inspect".into(), weft_core::FuncType::new(t.clone(), [])));
    }
    let wasm = b.program.encode(
        &imports,
        &[],
        MarkerMode::Instrument {
            flag_import: 0,
            inspect_import: inspect_tys.as_ref().map(|_| 1),
        },
    );
    let module = wasmtime::Module::new(engine, &wasm).map_err(|e| format!("compile: {e}"))?;
    let seen = Arc::new(Mutex::new(Seen {
        flags: vec![false; nflags],
        inspect: None,
    }));
    let mut linker = wasmtime::Linker::new(engine);
    let s1 = seen.clone();
    linker
        .func_wrap("weft", "flag", move |k: i32| {
            s1.lock().unwrap().flags[k as usize] = true;
        })
        .unwrap();
    if let Some(t) = &inspect_tys {
        let s2 = seen.clone();
        let ty = wasmtime::FuncType::new(engine, t.iter().map(|x| wt_ty(*x)), []);
        linker
            .func_new("weft", "inspect", ty, move |_, params, _| {
                let mut s = s2.lock().unwrap();
                if s.inspect.is_none() {
                    s.inspect = Some(params.iter().map(wt_val).collect());
                }
                Ok(())
            })
            .unwrap();
    }
    let mut store = wasmtime::Store::new(engine, ());
    store.set_fuel(1 << 40).unwrap();
    let inst = linker
        .instantiate(&mut store, &module)
        .map_err(|e| format!("instantiate: {e}"))?;
    let main = inst.get_func(&mut store, "main").ok_or("no main")?;
    let mut out: Vec<_> = b
        .program
        .func_type(b.program.entry)
        .results
        .iter()
        .map(|t| zero(*t))
        .collect();
    main.call(&mut store, &[], &mut out)
        .map_err(|e| format!("instrumented main traps: {e}"))?;
    drop(store);
    drop(linker);
    let s = std::mem::take(&mut *seen.lock().unwrap());
    Ok(s)
}

fn vals(tv: &[TypedValue]) -> Vec<Val> {
    tv.iter().map(|t| t.to_val().unwrap()).collect()
}

fn check(engine: &wasmtime::Engine, b: &Built) -> Result<(), String> {
    let (results, fuel, mem) = run_plain(engine, b)?;
    if fuel != b.sample.fuel {
        return Err(format!(
            "wasmtime consumed {fuel}, stated {}",
            b.sample.fuel
        ));
    }
    if results != b.outcome.results {
        return Err(format!(
            "results {results:?} vs weft {:?}",
            b.outcome.results
        ));
    }
    let a = &b.sample.answers;
    match b.sample.task {
        Task::Result => {
            if vals(a.results.as_ref().unwrap()) != results {
                return Err("result answers differ from wasmtime".into());
            }
        }
        Task::TraceLength => {
            if a.fuel != Some(fuel) {
                return Err("trace-length answer differs from wasmtime's fuel".into());
            }
        }
        Task::Memory => {
            for m in a.memory.as_ref().unwrap() {
                let v = m.value.to_val().unwrap();
                let ty = v.ty();
                let got = weft_gen::answer::memory_value(&mem, m.address, ty);
                if got != Some(v) {
                    return Err(format!("memory at {}: {got:?} vs {v:?}", m.address));
                }
            }
        }
        Task::Stack | Task::Flags => {
            let seen = run_instrumented(engine, b)?;
            if b.sample.task == Task::Stack {
                let want = vals(a.stack.as_ref().unwrap());
                if seen.inspect.as_ref() != Some(&want) {
                    return Err(format!("stack {want:?} vs wasmtime {:?}", seen.inspect));
                }
            } else {
                let flags = a.flags.as_ref().unwrap();
                for (k, r) in seen.flags.iter().enumerate() {
                    if flags.get(&format!("FLAG_{k}")) != Some(r) {
                        return Err(format!("FLAG_{k}: wasmtime says {r}"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn run_task(task: Task) {
    let engine = engine();
    let n = cases();
    let cfg = GenConfig {
        task,
        ..GenConfig::default()
    };
    let failures: Vec<String> = (0..n)
        .into_par_iter()
        .filter_map(|i| {
            let b = match build(&cfg, 42, i) {
                Ok(b) => b,
                Err(e) => return Some(format!("sample {i}: generation failed: {e}")),
            };
            check(&engine, &b)
                .err()
                .map(|e| format!("sample {i}: {e}\n{}", b.sample.wat))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {n} {task} programs failed; first:\n{}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn result_task_in_wasmtime() {
    run_task(Task::Result);
}

#[test]
fn stack_task_in_wasmtime() {
    run_task(Task::Stack);
}

#[test]
fn flags_task_in_wasmtime() {
    run_task(Task::Flags);
}

#[test]
fn memory_task_in_wasmtime() {
    run_task(Task::Memory);
}

#[test]
fn trace_length_task_in_wasmtime() {
    run_task(Task::TraceLength);
}
