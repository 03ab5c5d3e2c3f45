//! Probes: the engine runs the partial program to learn the concrete state at the point where
//! the next tile goes (the *hole*), every time execution reaches it.
//!
//! A probe is the program built so far with, at the hole, a call to the host function `hole`
//! that receives the current block's values, every local and every global (and reads memory),
//! followed by a continuation: a `br` to the innermost open loop's body block (so the loop's
//! counter runs and later iterations reach the hole again), or, outside loops, a return with
//! default results. Every open construct is closed the same way. The host functions `kbr` and
//! `kstop` count continuations, so the fuel of the instrumentation is subtracted exactly and
//! the probe reports the fuel of the generated code alone.

use crate::program::{Imports, MarkerMode, Program};
use std::sync::{Arc, Mutex};
use weft_core::{FuncType, Val, ValType};
use weft_exec::concrete::Bits;
use weft_exec::{Concrete, ConcreteMemory, Config, ExecError, Extern, HostFunc, Limits, Linker};
use weft_exec::{Machine, NoObserver};

/// Bytes of memory 0 the generator addresses (and snapshots at each hole visit).
pub const WINDOW: u32 = 256;

/// The concrete state at one visit of the hole.
#[derive(Clone, Debug)]
pub struct HoleState {
    /// Which run (sample call) it belongs to.
    pub run: usize,
    /// The current block's values, bottom to top.
    pub stack: Vec<Bits>,
    /// Parameters and locals.
    pub locals: Vec<Bits>,
    /// Globals (entry function only).
    pub globals: Vec<Bits>,
    /// The first [`WINDOW`] bytes of memory 0 (entry function only).
    pub mem: ConcreteMemory,
    /// Pages of memory 0.
    pub pages: u32,
}

#[derive(Default)]
struct Log {
    states: Vec<HoleState>,
    kbr: u64,
    kstop: u64,
    run: usize,
}

/// What a probe found.
#[derive(Debug)]
pub struct ProbeResult {
    /// Every visit of the hole, in execution order.
    pub states: Vec<HoleState>,
    /// Fuel of the generated code in each run, instrumentation excluded.
    pub fuel: Vec<u64>,
    /// Whether some run trapped (or ran out of the probe's fuel).
    pub trapped: bool,
}

/// Shape of the hole, needed to build and decode the probe.
pub struct HoleShape<'a> {
    /// Types of the current block's values.
    pub block: &'a [ValType],
    /// Types of the parameters and locals.
    pub locals: &'a [ValType],
    /// Types of the globals passed (empty for helpers).
    pub globals: &'a [ValType],
    /// Number of results of the function (each stop pushes that many constants).
    pub results: usize,
    /// Whether to snapshot memory.
    pub memory: bool,
}

/// Import indices in a probe.
pub const HOLE: u32 = 0;
/// Import index of the `kbr` counter.
pub const KBR: u32 = 1;
/// Import index of the `kstop` counter.
pub const KSTOP: u32 = 2;

/// Runs a probe: `program` with function `func`'s body replaced by `body` (which calls the
/// three imports), once per argument list in `runs`, with a fuel limit.
pub fn run_probe(
    program: &Program,
    func: u32,
    body: &[crate::ins::Ins],
    shape: &HoleShape<'_>,
    runs: &[Vec<Val>],
    fuel_limit: u64,
) -> Result<ProbeResult, String> {
    let mut hole_params = shape.block.to_vec();
    hole_params.extend_from_slice(shape.locals);
    hole_params.extend_from_slice(shape.globals);
    let imports = Imports {
        funcs: vec![
            ("hole".into(), FuncType::new(hole_params, [])),
            ("kbr".into(), FuncType::default()),
            ("kstop".into(), FuncType::default()),
        ],
    };
    let bytes = program.encode(&imports, &[(func, body, &[])], MarkerMode::Comment);
    let log = Arc::new(Mutex::new(Log::default()));
    let mut m: Machine<Concrete, NoObserver> = Machine::new(
        Concrete,
        NoObserver,
        Config {
            fuel: true,
            limits: Limits {
                max_call_depth: 256,
                max_memory_pages: 16,
                ..Limits::default()
            },
        },
    );
    let module = weft_ir::Module::new_lowered(&bytes, m.mode())
        .map_err(|e| format!("probe does not load: {e}"))?;
    let nb = shape.block.len();
    let nl = shape.locals.len();
    let memory = shape.memory;
    let l1 = log.clone();
    let hole = m.add_host_func(HostFunc::new(
        imports.funcs[0].1.clone(),
        move |ctx, args: &[Bits]| {
            let (mem, pages) = match (ctx.memory.as_deref(), memory) {
                (Some::<&ConcreteMemory>(mm), true) => (
                    ConcreteMemory {
                        data: mm.data[..WINDOW as usize].to_vec(),
                    },
                    (mm.data.len() / 65536) as u32,
                ),
                _ => (ConcreteMemory::default(), 0),
            };
            let mut l = l1.lock().unwrap();
            let run = l.run;
            l.states.push(HoleState {
                run,
                stack: args[..nb].to_vec(),
                locals: args[nb..nb + nl].to_vec(),
                globals: args[nb + nl..].to_vec(),
                mem,
                pages,
            });
            Ok(vec![])
        },
    ));
    let l2 = log.clone();
    let kbr = m.add_host_func(HostFunc::new(FuncType::default(), move |_, _| {
        l2.lock().unwrap().kbr += 1;
        Ok(vec![])
    }));
    let l3 = log.clone();
    let kstop = m.add_host_func(HostFunc::new(FuncType::default(), move |_, _| {
        l3.lock().unwrap().kstop += 1;
        Ok(vec![])
    }));
    let mut linker = Linker::new();
    linker.define("weft", "hole", Extern::Func(hole));
    linker.define("weft", "kbr", Extern::Func(kbr));
    linker.define("weft", "kstop", Extern::Func(kstop));
    let inst = m
        .instantiate(Arc::new(module), &linker)
        .map_err(|e| format!("probe does not instantiate: {e}"))?;
    let addr = m.store.instances[inst as usize].funcs[imports.funcs.len() + func as usize];
    let per_visit = (nl + shape.globals.len() + 1) as u64;
    let mut fuel = Vec::with_capacity(runs.len());
    let mut trapped = false;
    for (r, args) in runs.iter().enumerate() {
        {
            let mut l = log.lock().unwrap();
            l.run = r;
            l.kbr = 0;
            l.kstop = 0;
        }
        let visits_before = log.lock().unwrap().states.len() as u64;
        m.set_fuel(Some(fuel_limit)).map_err(|e| e.to_string())?;
        let before = m.fuel_consumed();
        let res = m.call_vals(addr, args);
        let consumed = m.fuel_consumed() - before;
        match res {
            Ok(_) => {}
            Err(ExecError::Trap(_)) => {
                trapped = true;
                break;
            }
            Err(e) => return Err(format!("probe failed: {e}")),
        }
        let l = log.lock().unwrap();
        let visits = l.states.len() as u64 - visits_before;
        let overhead = visits * per_visit + l.kbr * 2 + l.kstop * (1 + shape.results as u64);
        fuel.push(consumed.saturating_sub(overhead));
    }
    let states = std::mem::take(&mut log.lock().unwrap().states);
    Ok(ProbeResult {
        states,
        fuel,
        trapped,
    })
}
