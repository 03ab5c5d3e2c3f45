//! The generator: grows functions tile by tile over a typed shadow state (the operand types,
//! the open constructs, and the concrete state at every visit of the insertion point, as the
//! engine computes it), offering only tiles that keep the program valid, trap-free and inside
//! its budgets.
//!
//! Concrete values come from the engine in two ways: tiles that only compute (constants,
//! operators, reads, calls of pure helpers) are applied to each recorded state with the
//! engine's own `Concrete` domain and helper machine; tiles that change control flow, or
//! state inside a loop (where a later iteration sees the change), are followed by a probe (see
//! [`crate::probe`]) that re-runs the partial program in the engine. A state-changing tile in a
//! loop is offered only after its probe shows no trap and fuel within budget.

use crate::action::{Action, RefOperand};
use crate::config::{GenConfig, Task};
use crate::ins::{BlockTy, Ins, Marker};
use crate::nan::{self, NanWatch};
use crate::ops;
use crate::probe::{self, HoleShape, HoleState, WINDOW};
use crate::program::MEMORY_PAGES;
use crate::program::{FuncDef, Program};
use crate::rng::Rng;
use crate::strategy::{Strategy, View};
use std::sync::Arc;
use weft_core::fuel::FUNCTION_ENTRY;
use weft_core::{BinaryOp, FuncType, LoadOp, StoreOp, UnaryOp, Val, ValType};
use weft_exec::concrete::{bits_val, val_bits, Bits};
use weft_exec::ConcreteMemory;
use weft_exec::{Concrete, Config, Domain, Limits, Linker, Machine};

/// Marks a global (rather than a local) in `FuncGen::loop_written`.
const LOOP_GLOBAL: u32 = 1 << 30;

const SCALARS: [ValType; 4] = [ValType::I32, ValType::I64, ValType::F32, ValType::F64];

/// Statistics of one generated program (for coverage and benchmarks).
#[derive(Clone, Debug, Default)]
pub struct GenStats {
    /// Probes run.
    pub probes: u32,
    /// Tiles chosen by the strategy and then withdrawn because their probe trapped or
    /// exceeded the budget.
    pub withdrawn: u32,
    /// Addresses and widths of stores that ran.
    pub stores: Vec<(u32, StoreOp)>,
    /// Loops: (counter local, function id, iteration count).
    pub loops: Vec<(u32, u32, u32)>,
    /// Flags placed in code the partial program reached / did not reach.
    pub flags_reached: u32,
    /// Flags placed in code the partial program did not reach.
    pub flags_unreached: u32,
}

/// Why generation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenError(pub String);

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenError {}

fn err<T>(msg: impl Into<String>) -> Result<T, GenError> {
    Err(GenError(msg.into()))
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Block,
    If {
        in_else: bool,
    },
    /// A counted loop: its counter and its accumulator (an `i64` local only the loop's
    /// body-end fold writes).
    Loop {
        counter: u32,
        acc: u32,
    },
    Body,
}

#[derive(Clone, Debug)]
struct Ctrl {
    kind: Kind,
    results: Vec<ValType>,
    height: usize,
    start: usize,
    visits: usize,
    /// Whether a branch targets this construct's label.
    targeted: bool,
    /// For an `if` outside loops (each run passes at most once): the visits that are not in
    /// the arm being generated, in the state in which they reach the `if`'s end (those whose
    /// condition was zero while the first arm grows, with an empty stack; those that finished
    /// the first arm while the second grows). `None` where unknown.
    other_arm: Option<Arc<Vec<HoleState>>>,
    /// Where each run passes the opening at most once: per run, the enclosing block's values
    /// below the construct when it opened (they are not in the states inside it, and are
    /// back on the stack when it closes). `None` where unknown.
    below: Option<Arc<Vec<Option<Vec<Bits>>>>>,
    /// Outside loops: the visits that branched to this construct's end, each with the values
    /// its label carries, in the state in which they left. `None` where unknown (a branch
    /// from inside a loop, whose visits are probed).
    arrivals: Option<Arc<Vec<HoleState>>>,
}

/// Runs finished helper functions in the engine (pure functions of their arguments),
/// watching for NaNs whose bits engines may choose (see [`crate::nan`]).
struct Runner {
    m: Machine<Concrete, NanWatch>,
    addrs: Vec<u32>,
}

impl Runner {
    fn new(program: &Program, n: usize) -> Result<Runner, GenError> {
        let mut p = program.clone();
        p.funcs.truncate(n);
        p.entry = 0;
        if p.table.iter().any(|f| *f as usize >= n) {
            p.table.clear();
        }
        let bytes = p.to_wasm();
        let mut m = Machine::new(
            Concrete,
            NanWatch::default(),
            Config {
                fuel: true,
                limits: Limits {
                    max_call_depth: 256,
                    ..Limits::default()
                },
            },
        );
        let module = weft_ir::Module::new_lowered(&bytes, m.mode())
            .map_err(|e| GenError(format!("internal: helpers do not load: {e}")))?;
        let inst = m
            .instantiate(Arc::new(module), &Linker::new())
            .map_err(|e| GenError(format!("internal: helpers do not instantiate: {e}")))?;
        let addrs = m.store.instances[inst as usize].funcs.clone();
        Ok(Runner { m, addrs })
    }

    /// Results and fuel (entry included) of a call, or `None` if it traps or makes a NaN
    /// whose bits engines may choose.
    fn call(&mut self, id: u32, args: &[Bits], fuel: u64) -> Option<(Vec<Bits>, u64)> {
        self.m.set_fuel(Some(fuel)).ok()?;
        self.m.observer = NanWatch::default();
        let before = self.m.fuel_consumed();
        let r = self.m.call(self.addrs[id as usize], args).ok()?;
        if self.m.observer.first.is_some() {
            return None;
        }
        Some((r, self.m.fuel_consumed() - before))
    }
}

struct FuncGen {
    id: u32,
    entry: bool,
    params: Vec<ValType>,
    results: Vec<ValType>,
    locals: Vec<ValType>,
    readonly: Vec<u32>,
    code: Vec<Ins>,
    types: Vec<ValType>,
    ctrl: Vec<Ctrl>,
    states: Vec<HoleState>,
    fuel: Vec<u64>,
    runs: Vec<Vec<Val>>,
    fuel_max: u64,
    fuel_target: u64,
    size: u64,
    size_max: u64,
    size_min: u64,
    max_depth: usize,
    callable: u32,
    loop_written: Vec<u32>,
}

#[derive(Clone)]
struct Snapshot {
    code: usize,
    types: Vec<ValType>,
    ctrl: Vec<Ctrl>,
    states: Vec<HoleState>,
    fuel: Vec<u64>,
    locals: usize,
    readonly: usize,
    size: u64,
}

/// A generation in progress.
pub struct Generator<'s> {
    cfg: GenConfig,
    rng: Rng,
    strategy: &'s mut dyn Strategy,
    program: Program,
    runner: Option<Runner>,
    stats: GenStats,
    flags_placed: u32,
    inspect_placed: bool,
    check_derived: bool,
    /// The recursive function, if the program has one.
    recursive: Option<u32>,
    /// The table's slots where the code generated so far leaves them (the entry function
    /// changes them only at its top level, which runs once).
    table_now: Vec<Option<u32>>,
}

/// A finished program and what generating it took.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The program.
    pub program: Program,
    /// Fuel the generator measured for the entry function (checked against the final run).
    pub fuel: u64,
    /// Statistics.
    pub stats: GenStats,
}

fn est_len(ins: &Ins) -> u64 {
    match ins {
        Ins::Const(v) => match v.ty() {
            ValType::I32 => 6,
            ValType::I64 => 11,
            ValType::F32 => 5,
            _ => 9,
        },
        Ins::Marker(_) => 0,
        Ins::Load(_, o) | Ins::Store(_, o) => 3 + if *o < 128 { 1 } else { 2 },
        Ins::BrTable(t, _) => 3 + t.len() as u64,
        Ins::Unary(_) | Ins::Binary(_) => 3,
        Ins::MemoryFill | Ins::MemoryCopy => 4,
        _ => 3,
    }
}

fn default_const(t: ValType) -> Ins {
    Ins::Const(Val::default_of(t))
}

/// The one operator converting `from` to `to` that never traps.
fn conversion(from: ValType, to: ValType) -> Option<UnaryOp> {
    use ValType::*;
    Some(match (from, to) {
        (I32, I64) => UnaryOp::I64ExtendI32S,
        (I32, F32) => UnaryOp::F32ConvertI32S,
        (I32, F64) => UnaryOp::F64ConvertI32S,
        (I64, I32) => UnaryOp::I32WrapI64,
        (I64, F32) => UnaryOp::F32ConvertI64S,
        (I64, F64) => UnaryOp::F64ConvertI64S,
        (F32, I32) => UnaryOp::I32TruncSatF32S,
        (F32, I64) => UnaryOp::I64TruncSatF32S,
        (F32, F64) => UnaryOp::F64PromoteF32,
        (F64, I32) => UnaryOp::I32TruncSatF64S,
        (F64, I64) => UnaryOp::I64TruncSatF64S,
        (F64, F32) => UnaryOp::F32DemoteF64,
        _ => return None,
    })
}

fn combine(t: ValType) -> BinaryOp {
    match t {
        ValType::I32 => BinaryOp::I32Add,
        ValType::I64 => BinaryOp::I64Xor,
        ValType::F32 => BinaryOp::F32Add,
        _ => BinaryOp::F64Sub,
    }
}

impl<'s> Generator<'s> {
    /// A generator for one program from `seed`.
    pub fn new(cfg: &GenConfig, seed: u64, strategy: &'s mut dyn Strategy) -> Self {
        Generator {
            cfg: cfg.clone(),
            rng: Rng::new(seed),
            strategy,
            program: Program::default(),
            runner: None,
            stats: GenStats::default(),
            flags_placed: 0,
            inspect_placed: false,
            check_derived: false,
            recursive: None,
            table_now: Vec::new(),
        }
    }

    /// Makes every tile whose effect on the concrete states is derived without running the
    /// program (opening a block, an `if` or a loop) also run a probe, and fail if the two
    /// disagree: a self-test of the derivations, at the cost of speed.
    pub fn check_derived(mut self, on: bool) -> Self {
        self.check_derived = on;
        self
    }

    fn random_val(&mut self, t: ValType) -> Val {
        let r = &mut self.rng;
        match t {
            ValType::I32 => Val::I32(match r.below(10) {
                0..=3 => r.below(17) as i32,
                4 => -(r.range(1, 16) as i32),
                5 => (r.below(WINDOW as u64 / 4) * 4) as i32,
                6 => *r.pick(&[i32::MIN, i32::MAX, -1, 255, 65535, 1 << 16]),
                _ => r.next_u64() as i32 % 1000,
            }),
            ValType::I64 => Val::I64(match r.below(8) {
                0..=3 => r.below(17) as i64,
                4 => -(r.range(1, 16) as i64),
                5 => *r.pick(&[i64::MIN, i64::MAX, -1, 1 << 32, u32::MAX as i64]),
                _ => r.next_u64() as i64 % 100_000,
            }),
            ValType::F32 => Val::F32(match r.below(8) {
                0..=3 => (r.below(33) as f32 * 0.5 - 4.0).to_bits(),
                4 => *r.pick(&[
                    (-0.0f32).to_bits(),
                    f32::INFINITY.to_bits(),
                    f32::NEG_INFINITY.to_bits(),
                    0x7fc0_0000,
                    f32::MAX.to_bits(),
                    f32::MIN_POSITIVE.to_bits(),
                ]),
                _ => ((r.next_u64() as i32 % 10000) as f32 / 100.0).to_bits(),
            }),
            _ => Val::F64(match r.below(8) {
                0..=3 => (r.below(33) as f64 * 0.25 - 2.0).to_bits(),
                4 => *r.pick(&[
                    (-0.0f64).to_bits(),
                    f64::INFINITY.to_bits(),
                    f64::NEG_INFINITY.to_bits(),
                    0x7ff8_0000_0000_0000,
                    f64::MAX.to_bits(),
                    1e-310f64.to_bits(),
                ]),
                _ => ((r.next_u64() as i64 % 1_000_000) as f64 / 1000.0).to_bits(),
            }),
        }
    }

    fn random_types(&mut self, max: u64) -> Vec<ValType> {
        let n = match self.rng.below(10) {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        }
        .min(max);
        (0..n).map(|_| *self.rng.pick(&SCALARS)).collect()
    }

    /// Generates the program: helpers first, then the entry function.
    pub fn run(mut self) -> Result<Generated, GenError> {
        let cfg = self.cfg.clone();
        // Globals and memory contents.
        let nglobals = self.rng.below(4) as usize;
        for _ in 0..nglobals {
            let t = *self.rng.pick(&SCALARS);
            let v = self.random_val(t);
            self.program.globals.push(v);
        }
        let dlen = self.rng.range(8, 32) as usize;
        let doff = self.rng.below((WINDOW as usize - dlen) as u64) as u32;
        let bytes: Vec<u8> = (0..dlen).map(|_| self.rng.next_u64() as u8).collect();
        self.program.data = (doff, bytes);

        // Helpers.
        let nhelpers = if cfg.max_helpers == 0 {
            0
        } else {
            self.rng.below(cfg.max_helpers as u64 + 1) as u32
        };
        let helper_fuel = (cfg.fuel_max / 6).clamp(8, 60);
        // Bounded recursion: with two helpers or more, sometimes a recursive function (see
        // `recursive_body`) whose base case is an earlier helper `base` and whose step is the
        // last helper, generated with the type the template needs.
        let recursion = (nhelpers >= 2 && self.rng.below(2) == 0)
            .then(|| self.rng.below(nhelpers as u64 - 1) as u32);
        for k in 0..nhelpers {
            let np = self.rng.range(1, 3) as usize;
            let mut params: Vec<ValType> = (0..np).map(|_| *self.rng.pick(&SCALARS)).collect();
            let nr = self.rng.range(1, 2) as usize;
            let mut results: Vec<ValType> = (0..nr).map(|_| *self.rng.pick(&SCALARS)).collect();
            if let (Some(base), true) = (recursion, k + 1 == nhelpers) {
                results = self.program.func_type(base).results.clone();
                params = results.clone();
                params.push(ValType::I32);
            }
            let nl = self.rng.below(3) as usize;
            let locals: Vec<ValType> = (0..nl).map(|_| *self.rng.pick(&SCALARS)).collect();
            let runs: Vec<Vec<Val>> = (0..3)
                .map(|_| params.iter().map(|t| self.random_val(*t)).collect())
                .collect();
            let ty = self
                .program
                .type_index(&FuncType::new(params.clone(), results.clone()));
            self.program.funcs.push(FuncDef {
                ty,
                locals: locals.clone(),
                body: vec![],
                name: format!("f{k}"),
            });
            let fg = FuncGen {
                id: k,
                entry: false,
                params,
                results,
                locals,
                readonly: vec![],
                code: vec![],
                types: vec![],
                ctrl: vec![],
                states: vec![],
                fuel: vec![],
                runs,
                fuel_max: helper_fuel,
                fuel_target: helper_fuel / 2,
                size: 0,
                size_max: (cfg.size_max / 8).max(40),
                size_min: 0,
                max_depth: 2.min(cfg.max_depth as usize),
                callable: k,
                loop_written: vec![],
            };
            let (body, locals, _) = self.gen_func(fg)?;
            let f = &mut self.program.funcs[k as usize];
            f.body = body;
            f.locals = locals;
            self.runner = Some(Runner::new(&self.program, k as usize + 1)?);
        }
        if nhelpers > 0 {
            let slots = self.rng.range(1, 4);
            self.program.table = (0..slots)
                .map(|_| self.rng.below(nhelpers as u64) as u32)
                .collect();
            self.table_now = self.program.table.iter().copied().map(Some).collect();
        }
        if let Some(base) = recursion {
            let base_ty = self.program.func_type(base).clone();
            let mut params = base_ty.params.clone();
            params.push(ValType::I32);
            let ty = FuncType::new(params, base_ty.results.clone());
            let id = self.program.funcs.len() as u32;
            let body = self.recursive_body(id, base, nhelpers - 1);
            let ty = self.program.type_index(&ty);
            self.program.funcs.push(FuncDef {
                ty,
                locals: vec![],
                body,
                name: "rec".into(),
            });
            self.recursive = Some(id);
        }
        let callable = self.program.funcs.len() as u32;
        if callable > 0 {
            self.runner = Some(Runner::new(&self.program, callable as usize)?);
        }

        // The entry function.
        let nres = match cfg.task {
            Task::Result => self.rng.range(1, 3),
            _ => self.rng.below(3),
        } as usize;
        let results: Vec<ValType> = (0..nres).map(|_| *self.rng.pick(&SCALARS)).collect();
        let nl = self.rng.range(1, 4) as usize;
        let locals: Vec<ValType> = (0..nl).map(|_| *self.rng.pick(&SCALARS)).collect();
        let ty = self.program.type_index(&FuncType::new([], results.clone()));
        self.program.entry = callable;
        self.program.funcs.push(FuncDef {
            ty,
            locals: locals.clone(),
            body: vec![],
            name: "main".into(),
        });
        let base = self.program.to_wasm().len() as u64 + 16;
        let fg = FuncGen {
            id: callable,
            entry: true,
            params: vec![],
            results,
            locals,
            readonly: vec![],
            code: vec![],
            types: vec![],
            ctrl: vec![],
            states: vec![],
            fuel: vec![],
            runs: vec![vec![]],
            fuel_max: cfg.fuel_max,
            fuel_target: cfg.fuel_target,
            size: base,
            size_max: cfg.size_max,
            size_min: cfg.size_min,
            max_depth: cfg.max_depth as usize,
            callable,
            loop_written: vec![],
        };
        let (mut body, locals, fuel) = self.gen_func(fg)?;
        // A marker must precede a real instruction so the engine can observe it.
        let mut i = 0;
        while i < body.len() {
            if matches!(body[i], Ins::Marker(_))
                && !matches!(
                    body.get(i + 1),
                    Some(x) if !matches!(x, Ins::End | Ins::Else | Ins::Marker(_))
                )
            {
                body.insert(i + 1, Ins::Nop);
            }
            i += 1;
        }
        let f = &mut self.program.funcs[callable as usize];
        f.body = body;
        f.locals = locals;
        Ok(Generated {
            program: self.program,
            fuel,
            stats: self.stats,
        })
    }

    /// The body of recursive function `id` of type `(P, n: i32) -> R`: the base helper
    /// `base: P -> R` when `n <= 0`, else the step helper `step: (R, i32) -> R` applied to
    /// `id(P, n - 1)` and `n`. Every call decreases `n`, so the recursion ends after at most
    /// `n` levels; calls are offered only where the whole recursion, run in the engine for
    /// every state, neither traps nor exceeds the fuel or the call depth.
    fn recursive_body(&mut self, id: u32, base: u32, step: u32) -> Vec<Ins> {
        let ty = self.program.func_type(base).clone();
        let n = ty.params.len() as u32;
        let args = || (0..n).map(Ins::LocalGet);
        let mut body = vec![
            Ins::LocalGet(n),
            Ins::Const(Val::I32(0)),
            Ins::Binary(BinaryOp::I32LeS),
            Ins::If(self.block_ty(&ty.results)),
        ];
        body.extend(args());
        body.push(Ins::Call(base));
        body.push(Ins::Else);
        body.extend(args());
        body.extend([
            Ins::LocalGet(n),
            Ins::Const(Val::I32(1)),
            Ins::Binary(BinaryOp::I32Sub),
            Ins::Call(id),
            Ins::LocalGet(n),
            Ins::Call(step),
            Ins::End,
        ]);
        body
    }

    fn shape_globals(&self, fg: &FuncGen) -> Vec<ValType> {
        if fg.entry {
            self.program.globals.iter().map(|g| g.ty()).collect()
        } else {
            vec![]
        }
    }

    /// Builds the continuation after the hole (see [`crate::probe`]).
    fn continuation(&self, fg: &FuncGen) -> Vec<Ins> {
        let mut c = Vec::new();
        let nl = fg.params.len() + fg.locals.len();
        for i in 0..nl {
            c.push(Ins::LocalGet(i as u32));
        }
        if fg.entry {
            for g in 0..self.program.globals.len() {
                c.push(Ins::GlobalGet(g as u32));
            }
        }
        c.push(Ins::HostCall(probe::HOLE));
        let k = |c: &mut Vec<Ins>, level: isize| {
            let w = (0..=level)
                .rev()
                .find(|&i| fg.ctrl[i as usize].kind == Kind::Body);
            match w {
                Some(w) => {
                    c.push(Ins::HostCall(probe::KBR));
                    c.push(Ins::Br((level - w) as u32));
                }
                None => {
                    c.push(Ins::HostCall(probe::KSTOP));
                    for r in &fg.results {
                        c.push(default_const(*r));
                    }
                    c.push(Ins::Return);
                }
            }
        };
        let top = fg.ctrl.len() as isize - 1;
        k(&mut c, top);
        for level in (0..fg.ctrl.len()).rev() {
            let l = level as isize;
            match fg.ctrl[level].kind {
                Kind::If { in_else: false } => {
                    c.push(Ins::Else);
                    k(&mut c, l);
                    c.push(Ins::End);
                    k(&mut c, l - 1);
                }
                Kind::If { in_else: true } | Kind::Block => {
                    c.push(Ins::End);
                    k(&mut c, l - 1);
                }
                Kind::Body => c.push(Ins::End),
                Kind::Loop { counter, .. } => {
                    c.extend(loop_tail(counter));
                    c.push(Ins::End);
                    k(&mut c, l - 1);
                }
            }
        }
        c
    }

    /// Re-runs the partial program; `Ok(false)` if it traps or exceeds the fuel limit.
    fn probe(&mut self, fg: &mut FuncGen) -> Result<bool, GenError> {
        self.stats.probes += 1;
        let mut body = fg.code.clone();
        body.extend(self.continuation(fg));
        let mut all_locals = fg.params.clone();
        all_locals.extend_from_slice(&fg.locals);
        let globals = self.shape_globals(fg);
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        let shape = HoleShape {
            block: &fg.types[height..],
            locals: &all_locals,
            globals: &globals,
            results: fg.results.len(),
            memory: fg.entry,
        };
        self.program.funcs[fg.id as usize].locals = fg.locals.clone();
        let r = probe::run_probe(
            &self.program,
            fg.id,
            &body,
            &shape,
            &fg.runs,
            fg.fuel_max * 4 + 1000,
        )
        .map_err(|e| GenError(format!("internal: {e}")))?;
        if r.trapped {
            return Ok(false);
        }
        fg.states = r.states;
        fg.fuel = r.fuel;
        Ok(fg.fuel.iter().all(|f| *f <= fg.fuel_max))
    }

    fn gen_func(&mut self, mut fg: FuncGen) -> Result<(Vec<Ins>, Vec<ValType>, u64), GenError> {
        self.start_states(&mut fg);
        self.confirm_derived(&mut fg)?;
        let mut steps = 0u32;
        loop {
            steps += 1;
            let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
            let reached_target = fuel_now >= fg.fuel_target && fg.size >= fg.size_min;
            let over = fg.size + self.reserve_size(&fg) >= fg.size_max
                || fuel_now + self.reserve_fuel(&fg) >= fg.fuel_max;
            let dead_end = fg.states.is_empty() && fg.ctrl.is_empty();
            if reached_target || over || steps > 2000 || dead_end {
                break;
            }
            let mut actions = self.offer(&mut fg);
            if actions.is_empty() {
                break;
            }
            loop {
                let height = fg.ctrl.last().map_or(0, |c| c.height);
                let results = fg.ctrl.last().map_or(&fg.results, |c| &c.results).clone();
                let view = View {
                    block_stack: &fg.types[height..],
                    block_results: &results,
                    depth: fg.ctrl.len(),
                    fuel: fuel_now,
                    fuel_target: fg.fuel_target,
                    visits: fg.states.len(),
                    in_entry: fg.entry,
                };
                let i = self.strategy.choose(&view, &actions, &mut self.rng) % actions.len();
                let a = actions.swap_remove(i);
                if self.apply(&mut fg, &a)? {
                    break;
                }
                self.stats.withdrawn += 1;
                if actions.is_empty() {
                    break;
                }
            }
            if fg.code.is_empty() && fg.ctrl.is_empty() && steps > 50 {
                break;
            }
        }
        // Close everything and supply the results.
        while !fg.ctrl.is_empty() {
            self.close(&mut fg)?;
        }
        if self.cfg.task == Task::Stack && fg.entry && !self.inspect_placed {
            let r = fg.results.clone();
            self.fix(&mut fg, &r)?;
            if fg.types.is_empty() {
                let v = self.random_val(ValType::I32);
                self.pure(&mut fg, Ins::Const(v))?;
            }
            self.place_inspect(&mut fg);
        }
        if self.cfg.task == Task::Flags && fg.entry && self.flags_placed == 0 {
            self.apply(&mut fg, &Action::Flag)?;
        }
        let r = fg.results.clone();
        self.fix(&mut fg, &r)?;
        self.mix_loops_into_result(&mut fg)?;
        if fg.entry {
            // wasmtime checks fuel at function entries and loop headers, and (as seen with
            // `memory.copy` last) after calls into its runtime, and traps when none is left
            // there, so a run completes within exactly its fuel only if some fuel is consumed
            // after the last check: end with a plain costing instruction.
            let plain = |i: Option<&Ins>| {
                i.is_some_and(|i| {
                    i.cost() >= 1
                        && matches!(
                            i,
                            Ins::Const(_)
                                | Ins::Unary(_)
                                | Ins::Binary(_)
                                | Ins::Select
                                | Ins::Drop
                                | Ins::LocalGet(_)
                                | Ins::LocalSet(_)
                                | Ins::LocalTee(_)
                                | Ins::GlobalGet(_)
                                | Ins::GlobalSet(_)
                                | Ins::Load(..)
                                | Ins::Store(..)
                        )
                })
            };
            if !plain(fg.code.iter().rev().find(|i| !matches!(i, Ins::Marker(_)))) {
                self.pure(&mut fg, Ins::LocalGet(0))?;
                if r.is_empty() {
                    self.pure(&mut fg, Ins::LocalSet(0))?;
                } else {
                    self.fix(&mut fg, &r)?;
                }
            }
        }
        // Every tile's effect is known by now (computed, derived or probed): a last probe
        // would find the same (`check_derived` confirms it).
        self.confirm_derived(&mut fg)?;
        if fg.fuel.iter().any(|f| *f > fg.fuel_max) {
            return err("internal: the finished function exceeds its fuel");
        }
        let fuel = fg.fuel.first().copied().unwrap_or(0);
        Ok((fg.code, fg.locals, fuel))
    }

    fn reserve_fuel(&self, fg: &FuncGen) -> u64 {
        let v = fg.states.len().max(1) as u64;
        let mut need = fg.results.len() as u64 + 2;
        for c in &fg.ctrl {
            // A loop body's end folds its values into the accumulator in every iteration.
            let fold = if c.kind == Kind::Body { 8 } else { 0 };
            need +=
                (c.results.len() as u64 + 6 + fold) * c.visits.max(fg.states.len()).max(1) as u64;
        }
        need + (fg.types.len() as u64) * v * 2
    }

    fn reserve_size(&self, fg: &FuncGen) -> u64 {
        let mut n = fg.results.len() as u64 * 11 + 4;
        for c in &fg.ctrl {
            n += c.results.len() as u64 * 11 + 12;
        }
        n + fg.types.len() as u64 * 4
    }

    fn snapshot(&self, fg: &FuncGen) -> Snapshot {
        Snapshot {
            code: fg.code.len(),
            types: fg.types.clone(),
            ctrl: fg.ctrl.clone(),
            states: fg.states.clone(),
            fuel: fg.fuel.clone(),
            locals: fg.locals.len(),
            readonly: fg.readonly.len(),
            size: fg.size,
        }
    }

    fn restore(&self, fg: &mut FuncGen, s: Snapshot) {
        fg.code.truncate(s.code);
        fg.types = s.types;
        fg.ctrl = s.ctrl;
        fg.states = s.states;
        fg.fuel = s.fuel;
        fg.locals.truncate(s.locals);
        fg.readonly.truncate(s.readonly);
        fg.size = s.size;
    }

    fn local_type(fg: &FuncGen, i: u32) -> ValType {
        let i = i as usize;
        if i < fg.params.len() {
            fg.params[i]
        } else {
            fg.locals[i - fg.params.len()]
        }
    }

    fn in_loop(fg: &FuncGen) -> bool {
        fg.ctrl.iter().any(|c| matches!(c.kind, Kind::Loop { .. }))
    }

    fn depth(fg: &FuncGen) -> usize {
        fg.ctrl.iter().filter(|c| c.kind != Kind::Body).count()
    }

    /// Label types of the construct at `level` as a branch target (`None`: not a target).
    fn label(fg: &FuncGen, level: usize) -> Option<Vec<ValType>> {
        match fg.ctrl[level].kind {
            Kind::Loop { .. } => None,
            Kind::Body => Some(vec![]),
            _ => Some(fg.ctrl[level].results.clone()),
        }
    }

    /// Every action that keeps the program valid, trap-free and within budget now.
    fn offer(&mut self, fg: &mut FuncGen) -> Vec<Action> {
        let mut acts = Vec::with_capacity(96);
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        let avail = fg.types.len() - height;
        let top = |k: usize| -> Option<ValType> {
            if avail > k {
                Some(fg.types[fg.types.len() - 1 - k])
            } else {
                None
            }
        };
        let v = fg.states.len() as u64;
        let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
        let reserve = self.reserve_fuel(fg);
        let room = fg.fuel_max.saturating_sub(fuel_now + reserve);
        let fits = |cost: u64| cost * v.max(1) + 2 * v.max(1) <= room;
        let size_room = fg.size_max.saturating_sub(fg.size + self.reserve_size(fg));
        if size_room < 16 || !fits(1) {
            return acts;
        }
        let nloc = (fg.params.len() + fg.locals.len()) as u32;
        let stack_full = avail >= 6;

        if !stack_full {
            for t in SCALARS {
                let c = self.random_val(t);
                acts.push(Action::Const(c));
            }
            for i in 0..nloc {
                acts.push(Action::LocalGet(i));
            }
            if fg.entry {
                for g in 0..self.program.globals.len() as u32 {
                    acts.push(Action::GlobalGet(g));
                }
                acts.push(Action::MemorySize);
            }
        }
        if let Some(t) = top(0) {
            for i in 0..nloc {
                if Self::local_type(fg, i) == t && !fg.readonly.contains(&i) {
                    acts.push(Action::LocalSet(i));
                    acts.push(Action::LocalTee(i));
                }
            }
            if fg.entry {
                for (g, val) in self.program.globals.iter().enumerate() {
                    if val.ty() == t {
                        acts.push(Action::GlobalSet(g as u32));
                    }
                }
            }
            acts.push(Action::Drop);
            for &op in ops::unary_ops_on(t) {
                if fg.states.iter().all(|s| {
                    Concrete
                        .unary(op, s.stack[s.stack.len() - 1])
                        .is_ok_and(|r| !nan_unspecified(Ins::Unary(op), r))
                }) {
                    acts.push(Action::Unary(op));
                }
            }
            if let Some(t2) = top(1) {
                for &op in ops::binary_ops_on(t2, t) {
                    if fg.states.iter().all(|s| {
                        let n = s.stack.len();
                        Concrete
                            .binary(op, s.stack[n - 2], s.stack[n - 1])
                            .is_ok_and(|r| !nan_unspecified(Ins::Binary(op), r))
                    }) {
                        acts.push(Action::Binary(op));
                    }
                }
                if t == ValType::I32 {
                    if let Some(t3) = top(2) {
                        if t3 == t2 {
                            acts.push(Action::Select);
                        }
                    }
                }
            }
        }
        // Memory (entry function only, inside the snapshot window).
        if fg.entry {
            let addr_max = |k: usize| -> u64 {
                fg.states
                    .iter()
                    .map(|s| s.stack[s.stack.len() - 1 - k] as u32 as u64)
                    .max()
                    .unwrap_or(0)
            };
            if top(0) == Some(ValType::I32) {
                let a = addr_max(0);
                let loads: Vec<LoadOp> = ops::load_ops().collect();
                for _ in 0..3 {
                    let op = *self.rng.pick(&loads);
                    let w = op.width() as u64;
                    if a + w <= WINDOW as u64 {
                        let off = self.rng.below(WINDOW as u64 - a - w + 1).min(64) as u32;
                        acts.push(Action::Load(op, off));
                    }
                }
                acts.push(Action::MemoryGrow);
            }
            if let (Some(t), Some(ValType::I32)) = (top(0), top(1)) {
                let a = addr_max(1);
                let stores: Vec<StoreOp> =
                    ops::store_ops().filter(|o| o.operand_type() == t).collect();
                for _ in 0..2 {
                    let op = *self.rng.pick(&stores);
                    let w = op.width() as u64;
                    if a + w <= WINDOW as u64 {
                        let off = self.rng.below(WINDOW as u64 - a - w + 1).min(64) as u32;
                        acts.push(Action::Store(op, off));
                    }
                }
            }
            if (top(0), top(1), top(2))
                == (Some(ValType::I32), Some(ValType::I32), Some(ValType::I32))
            {
                let ok = |dst: usize, src: Option<usize>| {
                    fg.states.iter().all(|s| {
                        let n = s.stack.len();
                        let len = s.stack[n - 1] as u32 as u64;
                        let d = s.stack[n - 1 - dst] as u32 as u64;
                        let src_ok = src.is_none_or(|k| {
                            s.stack[n - 1 - k] as u32 as u64 + len <= WINDOW as u64
                        });
                        len <= 32 && d + len <= WINDOW as u64 && src_ok
                    })
                };
                if ok(2, None) {
                    acts.push(Action::MemoryFill);
                }
                if ok(2, Some(1)) {
                    acts.push(Action::MemoryCopy);
                }
            }
        }
        // Calls.
        for f in 0..fg.callable {
            let ty = self.program.func_type(f).clone();
            if self.args_match(fg, &ty.params, 0) && self.call_ok(fg, f, 0, room) {
                acts.push(Action::Call(f));
            }
        }
        if let Some(f) = self.recursive.filter(|f| *f < fg.callable) {
            let mut params = self.program.func_type(f).params.clone();
            params.pop();
            if self.args_match(fg, &params, 0) {
                let depth = self.rng.range(2, 6) as u32;
                if let Some(d) = [depth, 2, 1].into_iter().find(|&d| {
                    let depth = val_bits(Val::I32(d as i32));
                    self.call_ok_with(fg, f, &[depth], room)
                }) {
                    acts.push(Action::CallRecursive(f, d));
                }
            }
        }
        if fg.entry && !self.program.table.is_empty() {
            let mut seen = Vec::new();
            for (slot, f) in self.table_now.clone().into_iter().enumerate() {
                let Some(f) = f else { continue };
                if seen.contains(&f) {
                    continue;
                }
                seen.push(f);
                let ty = self.program.func_type(f).clone();
                if self.args_match(fg, &ty.params, 0) && self.call_ok(fg, f, 0, room) {
                    acts.push(Action::CallIndirect(slot as u32));
                }
            }
            if top(0) == Some(ValType::I32) && !fg.states.is_empty() {
                let table = &self.table_now;
                let fs: Option<Vec<u32>> = fg
                    .states
                    .iter()
                    .map(|s| {
                        table
                            .get(s.stack[s.stack.len() - 1] as u32 as usize)
                            .copied()
                            .flatten()
                    })
                    .collect();
                if let Some(fs) = fs {
                    let ty0 = self.program.funcs[fs[0] as usize].ty;
                    let ty = self.program.types[ty0 as usize].clone();
                    if fs.iter().all(|f| self.program.funcs[*f as usize].ty == ty0)
                        && self.args_match(fg, &ty.params, 1)
                        && self.call_dyn_ok(fg, &fs, room)
                    {
                        acts.push(Action::CallIndirectDyn(ty0));
                    }
                }
            }
            // Reference types.
            let slots = self.table_now.len() as u64;
            let declared = self.program.table.clone();
            if !stack_full {
                acts.push(Action::TableSize);
                acts.push(Action::RefIsNull(RefOperand::Null));
                acts.push(Action::RefIsNull(RefOperand::Func(
                    *self.rng.pick(&declared),
                )));
                acts.push(Action::RefIsNull(RefOperand::Slot(
                    self.rng.below(slots) as u32
                )));
            }
            if top(0) == Some(ValType::I32)
                && fg
                    .states
                    .iter()
                    .all(|s| (s.stack[s.stack.len() - 1] as u32 as u64) < slots)
            {
                acts.push(Action::TableGetIsNull);
            }
            if fg.ctrl.is_empty() && fg.states.len() == 1 {
                let slot = self.rng.below(slots) as u32;
                let f = (self.rng.below(3) > 0).then(|| *self.rng.pick(&declared));
                acts.push(Action::TableSet(slot, f));
            }
        }
        // Constructs.
        let can_open = Self::depth(fg) < fg.max_depth && size_room > 40 && room > 12 * v.max(1);
        if can_open && !stack_full {
            let r = self.random_types(2);
            acts.push(Action::Block(r));
            if avail > 0 {
                let n = self.rng.range(1, avail.min(3) as u64) as u32;
                let r = self.random_types(2);
                acts.push(Action::BlockParams(n, r));
            }
            if top(0) == Some(ValType::I32) {
                let r = self.random_types(2);
                acts.push(Action::If(r));
            }
            let per = 5 * v.max(1);
            let kmax =
                (room.saturating_sub(4 * v.max(1)) / per / 3).min(self.cfg.max_loop_iters as u64);
            if kmax >= 1 && v > 0 {
                let k = self.rng.range(1.min(kmax), kmax).max(1);
                acts.push(Action::Loop(k as u32));
            }
        }
        if let Some(c) = fg.ctrl.last() {
            let len_in = fg.code.len() - c.start;
            if len_in > 0 {
                match c.kind {
                    Kind::If { in_else: false } => {
                        acts.push(Action::Else);
                        if c.results.is_empty() {
                            acts.push(Action::End);
                        }
                    }
                    _ => acts.push(Action::End),
                }
            }
        }
        // Branches. Directly in a loop body an unconditional branch would end the body before
        // its accumulation (or leave the loop in its first iteration): only `br_if` there.
        let n = fg.ctrl.len();
        let in_body = fg.ctrl.last().is_some_and(|c| c.kind == Kind::Body);
        // `br_table` targets, grouped by the values their labels carry (all of a table's
        // targets must carry the same).
        let mut table_targets: Vec<(Vec<ValType>, Vec<u32>)> = Vec::new();
        for level in (0..n).rev() {
            let d = (n - 1 - level) as u32;
            if let Some(l) = Self::label(fg, level) {
                if top(0) == Some(ValType::I32) && self.args_match(fg, &l, 1) {
                    match table_targets.iter_mut().find(|(t, _)| *t == l) {
                        Some((_, ds)) => ds.push(d),
                        None => table_targets.push((l.clone(), vec![d])),
                    }
                }
                if self.args_match(fg, &l, 0) && n > 0 && !in_body {
                    acts.push(Action::Br(d));
                }
                if top(0) == Some(ValType::I32) && self.args_match(fg, &l, 1) {
                    acts.push(Action::BrIf(d));
                }
            }
        }
        if !table_targets.is_empty() && n > 0 && !in_body {
            let g = self.rng.below(table_targets.len() as u64) as usize;
            let targets = &table_targets[g].1;
            let k = self.rng.range(1, 3) as usize;
            let ts: Vec<u32> = (0..k).map(|_| *self.rng.pick(targets)).collect();
            let d = *self.rng.pick(targets);
            acts.push(Action::BrTable(ts, d));
        }
        let res = fg.results.clone();
        let keep_reachable = fg.entry && self.cfg.task == Task::Stack && !self.inspect_placed;
        // No early return from the entry function: its last instruction always runs (see
        // `gen_func`), which wasmtime's fuel checks need.
        if n > 0 && self.args_match(fg, &res, 0) && !keep_reachable && !fg.entry {
            acts.push(Action::Return);
        }
        // Markers.
        if fg.entry && self.cfg.task == Task::Flags && self.flags_placed < self.cfg.max_flags {
            let s = &self.stats;
            let reached = !fg.states.is_empty();
            if (reached && s.flags_reached <= s.flags_unreached)
                || (!reached && s.flags_unreached <= s.flags_reached)
            {
                acts.push(Action::Flag);
            }
        }
        if fg.entry
            && self.cfg.task == Task::Stack
            && !self.inspect_placed
            && avail > 0
            && !fg.states.is_empty()
            && fuel_now * 3 >= fg.fuel_target
        {
            acts.push(Action::Inspect);
        }
        acts
    }

    fn args_match(&self, fg: &FuncGen, want: &[ValType], skip: usize) -> bool {
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        let avail = fg.types.len() - height;
        if avail < want.len() + skip {
            return false;
        }
        let end = fg.types.len() - skip;
        fg.types[end - want.len()..end] == *want
    }

    fn call_ok(&mut self, fg: &FuncGen, f: u32, skip: usize, room: u64) -> bool {
        let np = self.program.func_type(f).params.len();
        let Some(runner) = self.runner.as_mut() else {
            return false;
        };
        let mut total = 0;
        for s in &fg.states {
            let n = s.stack.len() - skip;
            match runner.call(f, &s.stack[n - np..n], room + 1) {
                Some((_, fuel)) => total += fuel + 2,
                None => return false,
            }
        }
        total <= room
    }

    /// Whether calling `f` with its leading arguments from the stack and `tail` (pushed as
    /// constants) completes in every state, within `room` fuel.
    fn call_ok_with(&mut self, fg: &FuncGen, f: u32, tail: &[Bits], room: u64) -> bool {
        let np = self.program.func_type(f).params.len() - tail.len();
        let Some(runner) = self.runner.as_mut() else {
            return false;
        };
        let mut total = 0;
        let mut args = Vec::with_capacity(np + tail.len());
        for s in &fg.states {
            args.clear();
            args.extend_from_slice(&s.stack[s.stack.len() - np..]);
            args.extend_from_slice(tail);
            match runner.call(f, &args, room + 1) {
                Some((_, fuel)) => total += fuel + 2 + tail.len() as u64,
                None => return false,
            }
        }
        total <= room
    }

    fn call_dyn_ok(&mut self, fg: &FuncGen, fs: &[u32], room: u64) -> bool {
        let Some(runner) = self.runner.as_mut() else {
            return false;
        };
        let mut total = 0;
        for (s, f) in fg.states.iter().zip(fs) {
            let np = self.program.types[self.program.funcs[*f as usize].ty as usize]
                .params
                .len();
            let n = s.stack.len() - 1;
            match runner.call(*f, &s.stack[n - np..n], room + 1) {
                Some((_, fuel)) => total += fuel + 2,
                None => return false,
            }
        }
        total <= room
    }

    /// Appends a computing tile and applies it to every state with the engine's domain.
    fn pure(&mut self, fg: &mut FuncGen, ins: Ins) -> Result<(), GenError> {
        let cost = ins.cost();
        let t = |fg: &FuncGen, i: u32| Self::local_type(fg, i);
        // Types.
        match &ins {
            Ins::Const(v) => fg.types.push(v.ty()),
            Ins::LocalGet(i) => {
                let ty = t(fg, *i);
                fg.types.push(ty)
            }
            Ins::LocalSet(_) | Ins::GlobalSet(_) | Ins::Drop => {
                fg.types.pop();
            }
            Ins::LocalTee(_) => {}
            Ins::GlobalGet(g) => fg.types.push(self.program.globals[*g as usize].ty()),
            Ins::Unary(op) => {
                fg.types.pop();
                fg.types.push(op.result_type());
            }
            Ins::Binary(op) => {
                fg.types.pop();
                fg.types.pop();
                fg.types.push(op.result_type());
            }
            Ins::Select => {
                fg.types.pop();
                fg.types.pop();
            }
            Ins::Load(op, _) => {
                fg.types.pop();
                fg.types.push(op.result_type());
            }
            Ins::Store(..) => {
                fg.types.pop();
                fg.types.pop();
            }
            Ins::MemorySize => fg.types.push(ValType::I32),
            Ins::Marker(_) | Ins::Nop => {}
            other => return err(format!("internal: {other:?} is not a computing tile")),
        }
        // Values.
        let mut d = Concrete;
        for s in fg.states.iter_mut() {
            let st = &mut s.stack;
            let fault = || GenError("internal: a checked tile faulted".into());
            match &ins {
                Ins::Const(v) => st.push(val_bits(*v)),
                Ins::LocalGet(i) => st.push(s.locals[*i as usize]),
                Ins::LocalSet(i) => s.locals[*i as usize] = st.pop().ok_or_else(fault)?,
                Ins::LocalTee(i) => s.locals[*i as usize] = *st.last().ok_or_else(fault)?,
                Ins::GlobalGet(g) => st.push(s.globals[*g as usize]),
                Ins::GlobalSet(g) => s.globals[*g as usize] = st.pop().ok_or_else(fault)?,
                Ins::Drop => {
                    st.pop();
                }
                Ins::Unary(op) => {
                    let a = st.pop().ok_or_else(fault)?;
                    st.push(d.unary(*op, a).map_err(|_| fault())?);
                }
                Ins::Binary(op) => {
                    let b = st.pop().ok_or_else(fault)?;
                    let a = st.pop().ok_or_else(fault)?;
                    st.push(d.binary(*op, a, b).map_err(|_| fault())?);
                }
                Ins::Select => {
                    let c = st.pop().ok_or_else(fault)?;
                    let b = st.pop().ok_or_else(fault)?;
                    let a = st.pop().ok_or_else(fault)?;
                    st.push(d.select(c, a, b).map_err(|_| fault())?);
                }
                Ins::Load(op, off) => {
                    let a = st.pop().ok_or_else(fault)? as u32 as u64 + *off as u64;
                    if a + op.width() as u64 > WINDOW as u64 {
                        return Err(fault());
                    }
                    st.push(d.load(&s.mem, a, *op).map_err(|_| fault())?);
                }
                Ins::Store(op, off) => {
                    let v = st.pop().ok_or_else(fault)?;
                    let a = st.pop().ok_or_else(fault)? as u32 as u64 + *off as u64;
                    if a + op.width() as u64 > WINDOW as u64 {
                        return Err(fault());
                    }
                    d.store(&mut s.mem, a, *op, v);
                    self.stats.stores.push((a as u32, *op));
                }
                Ins::MemorySize => st.push(s.pages as Bits),
                _ => {}
            }
            fg.fuel[s.run] += cost;
        }
        fg.size += est_len(&ins);
        fg.code.push(ins);
        Ok(())
    }

    /// Appends a call of helper `f` (through `pre` first, e.g. the slot constant), running it
    /// in the engine for every state.
    fn call(
        &mut self,
        fg: &mut FuncGen,
        f: &[u32],
        pre: Option<Ins>,
        ins: Ins,
    ) -> Result<(), GenError> {
        let skip = usize::from(matches!(ins, Ins::CallIndirect(_)) && pre.is_none());
        if let Some(p) = pre {
            self.pure(fg, p)?;
        }
        let ty = self.program.func_type(f[0]).clone();
        let runner = self
            .runner
            .as_mut()
            .ok_or_else(|| GenError("internal: no helpers to call".into()))?;
        let indirect = matches!(ins, Ins::CallIndirect(_));
        for (i, s) in fg.states.iter_mut().enumerate() {
            let fid = if f.len() > 1 { f[i] } else { f[0] };
            let n = s.stack.len();
            let np = ty.params.len();
            let (args_end, slot) = if indirect { (n - 1, 1) } else { (n, 0) };
            let args = s.stack[args_end - np..args_end].to_vec();
            let (res, fuel) = runner
                .call(fid, &args, u64::MAX / 4)
                .ok_or_else(|| GenError("internal: a checked call trapped".into()))?;
            s.stack.truncate(args_end - np);
            let _ = slot;
            s.stack.extend(res);
            fg.fuel[s.run] += fuel + 1;
        }
        let _ = skip;
        for _ in 0..ty.params.len() + usize::from(indirect) {
            fg.types.pop();
        }
        fg.types.extend(ty.results.iter().copied());
        fg.size += est_len(&ins);
        fg.code.push(ins);
        Ok(())
    }

    /// Appends a reference-types tile: `code` pops `pops` values (an `i32` slot at most) and
    /// pushes the `i32` that `result` gives for the popped value (or 0 when none).
    fn reference(
        &mut self,
        fg: &mut FuncGen,
        code: Vec<Ins>,
        pops: usize,
        result: impl Fn(Bits) -> i32,
    ) {
        let cost: u64 = code.iter().map(Ins::cost).sum();
        for s in fg.states.iter_mut() {
            let operand = if pops == 1 {
                s.stack.pop().unwrap_or(0)
            } else {
                0
            };
            s.stack.push(val_bits(Val::I32(result(operand))));
            fg.fuel[s.run] += cost;
        }
        fg.types.truncate(fg.types.len() - pops);
        fg.types.push(ValType::I32);
        fg.size += code.iter().map(est_len).sum::<u64>();
        fg.code.extend(code);
    }

    /// Appends instructions that need a probe; `Ok(false)` (and nothing changed) if the probe
    /// traps or exceeds the budget.
    fn probed(
        &mut self,
        fg: &mut FuncGen,
        snap: Snapshot,
        ins: Vec<Ins>,
    ) -> Result<bool, GenError> {
        for i in ins {
            fg.size += est_len(&i);
            fg.code.push(i);
        }
        if self.probe(fg)? {
            let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
            if fuel_now + self.reserve_fuel(fg) <= fg.fuel_max {
                return Ok(true);
            }
        }
        self.restore(fg, snap);
        Ok(false)
    }

    /// Appends instructions whose effect on the hole's states is known without running them:
    /// `update` sets the states at the new hole and the fuel of every run.
    /// `Ok(false)` (and nothing changed) if the fuel would exceed the budget. With
    /// [`Generator::check_derived`], a probe confirms every state and the fuel.
    fn derived(
        &mut self,
        fg: &mut FuncGen,
        snap: Snapshot,
        ins: Vec<Ins>,
        update: impl FnOnce(&mut FuncGen),
    ) -> Result<bool, GenError> {
        for i in ins {
            fg.size += est_len(&i);
            fg.code.push(i);
        }
        update(fg);
        self.confirm_derived(fg)?;
        let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
        if fuel_now + self.reserve_fuel(fg) <= fg.fuel_max {
            return Ok(true);
        }
        self.restore(fg, snap);
        Ok(false)
    }

    /// With [`Generator::check_derived`]: runs a probe and fails unless it finds exactly the
    /// states and fuel derived without it.
    fn confirm_derived(&mut self, fg: &mut FuncGen) -> Result<(), GenError> {
        if !self.check_derived {
            return Ok(());
        }
        let (states, fuel) = (fg.states.clone(), fg.fuel.clone());
        let ran = self.probe(fg)?;
        if !ran || !same_states(&states, &fg.states) || fuel != fg.fuel {
            return err(format!(
                "internal: after {:?} the derived states differ from the probe's \
                 (fuel {fuel:?} vs {:?}, {} vs {} visits)",
                fg.code.last(),
                fg.fuel,
                states.len(),
                fg.states.len()
            ));
        }
        Ok(())
    }

    /// The states at the start of a function: one visit per run, with the run's arguments,
    /// zeroed locals and, in the entry function, the initial globals and memory. Entering
    /// costs [`FUNCTION_ENTRY`].
    fn start_states(&self, fg: &mut FuncGen) {
        let (globals, mem, pages) = if fg.entry {
            let mut data = vec![0u8; WINDOW as usize];
            let (offset, bytes) = &self.program.data;
            for (i, b) in bytes.iter().enumerate() {
                if let Some(d) = data.get_mut(*offset as usize + i) {
                    *d = *b;
                }
            }
            let globals = self.program.globals.iter().map(|g| val_bits(*g)).collect();
            (globals, ConcreteMemory { data }, MEMORY_PAGES as u32)
        } else {
            (vec![], ConcreteMemory::default(), 0)
        };
        let zeros = fg.locals.len();
        fg.states = fg
            .runs
            .iter()
            .enumerate()
            .map(|(run, args)| HoleState {
                run,
                stack: vec![],
                locals: args
                    .iter()
                    .map(|a| val_bits(*a))
                    .chain(std::iter::repeat_n(0, zeros))
                    .collect(),
                globals: globals.clone(),
                mem: mem.clone(),
                pages,
            })
            .collect();
        fg.fuel = vec![FUNCTION_ENTRY; fg.runs.len()];
    }

    /// Maps each visit, in execution order, to the visits it becomes (pushed onto the second
    /// argument); `step` returns the fuel the new instructions cost that visit.
    fn map_visits(fg: &mut FuncGen, mut step: impl FnMut(HoleState, &mut Vec<HoleState>) -> u64) {
        let old = std::mem::take(&mut fg.states);
        let mut new = Vec::with_capacity(old.len());
        for s in old {
            let run = s.run;
            fg.fuel[run] += step(s, &mut new);
        }
        fg.states = new;
    }

    /// `states` saved earlier, with the locals declared since then (zero: outside loops, the
    /// visits that did not pass where they were declared never wrote them).
    fn with_locals(fg: &FuncGen, states: &[HoleState]) -> Vec<HoleState> {
        let n = fg.params.len() + fg.locals.len();
        states
            .iter()
            .map(|s| {
                let mut s = s.clone();
                s.locals.resize(n, 0);
                s
            })
            .collect()
    }

    /// Records that a branch of relative depth `depth` targets its construct, from a place
    /// whose branching visits are not derived (so its arrivals become unknown).
    fn mark_target(fg: &mut FuncGen, depth: u32) {
        if let Some(i) = fg.ctrl.len().checked_sub(1 + depth as usize) {
            fg.ctrl[i].targeted = true;
            fg.ctrl[i].arrivals = None;
        }
    }

    /// Records a visit that branches to the construct of relative depth `depth`, carrying its
    /// top values as the label's values (see [`Ctrl::arrivals`]).
    fn arrive(fg: &mut FuncGen, depth: u32, mut visit: HoleState) {
        let Some(i) = fg.ctrl.len().checked_sub(1 + depth as usize) else {
            return;
        };
        let carried = Self::label(fg, i).map_or(0, |l| l.len());
        let target = &mut fg.ctrl[i];
        target.targeted = true;
        if let Some(arrivals) = &mut target.arrivals {
            visit.stack.drain(..visit.stack.len() - carried);
            Arc::make_mut(arrivals).push(visit);
        }
    }

    /// Outside loops, the visits at an unconditional branch (`br`, `br_table` or `return`,
    /// already appended) leave: each pays for the branch and arrives at its target. `false`
    /// (nothing changed) inside loops, where the branch is probed.
    fn leave(fg: &mut FuncGen, branch: &Ins) -> bool {
        if Self::in_loop(fg) {
            return false;
        }
        let cost = branch.cost();
        for mut s in std::mem::take(&mut fg.states) {
            fg.fuel[s.run] += cost;
            match branch {
                Ins::Br(d) => Self::arrive(fg, *d, s),
                Ins::BrTable(ts, d) => {
                    let index = s.stack.pop().expect("the index") as u32;
                    let d = ts.get(index as usize).unwrap_or(d);
                    Self::arrive(fg, *d, s);
                }
                _ => {}
            }
        }
        true
    }

    /// Height of the block values of the construct enclosing `ctrl[level]` (0 at the top).
    fn outer_height(fg: &FuncGen, level: usize) -> usize {
        level.checked_sub(1).map_or(0, |p| fg.ctrl[p].height)
    }

    fn open(&mut self, fg: &mut FuncGen, kind: Kind, results: Vec<ValType>) {
        let visits = fg.states.len();
        fg.ctrl.push(Ctrl {
            kind,
            results,
            height: fg.types.len(),
            start: fg.code.len(),
            visits,
            targeted: false,
            other_arm: None,
            below: None,
            arrivals: None,
        });
        if !Self::in_loop(fg) {
            fg.ctrl
                .last_mut()
                .expect("the construct just opened")
                .arrivals = Some(Arc::new(Vec::new()));
        }
    }

    /// Records the values below the construct just opened, `kept` of each visit's top
    /// values entering it (see [`Ctrl::below`]); nothing where a run passes more than once.
    fn save_below(fg: &mut FuncGen, kept: usize) {
        if !once_per_run(&fg.states) {
            return;
        }
        let mut below = vec![None; fg.fuel.len()];
        for s in &fg.states {
            let n = s.stack.len() - kept;
            below[s.run] = Some(s.stack[..n].to_vec());
        }
        fg.ctrl.last_mut().expect("the construct just opened").below = Some(Arc::new(below));
    }

    fn block_ty(&mut self, results: &[ValType]) -> BlockTy {
        match results.len() {
            0 => BlockTy::Empty,
            1 => BlockTy::Value(results[0]),
            _ => BlockTy::Type(
                self.program
                    .type_index(&FuncType::new([], results.to_vec())),
            ),
        }
    }

    /// Applies an action; `Ok(false)` if it was withdrawn after its probe.
    fn apply(&mut self, fg: &mut FuncGen, a: &Action) -> Result<bool, GenError> {
        let snap = self.snapshot(fg);
        let in_loop = Self::in_loop(fg);
        match a {
            Action::Const(v) => self.pure(fg, Ins::Const(*v))?,
            Action::LocalGet(i) => self.pure(fg, Ins::LocalGet(*i))?,
            Action::GlobalGet(g) => self.pure(fg, Ins::GlobalGet(*g))?,
            Action::Unary(op) => self.pure(fg, Ins::Unary(*op))?,
            Action::Binary(op) => self.pure(fg, Ins::Binary(*op))?,
            Action::Select => self.pure(fg, Ins::Select)?,
            Action::Drop => self.pure(fg, Ins::Drop)?,
            Action::Load(op, off) => self.pure(fg, Ins::Load(*op, *off))?,
            Action::MemorySize => self.pure(fg, Ins::MemorySize)?,
            Action::LocalSet(i)
            | Action::LocalTee(i)
            | Action::GlobalSet(i)
            | Action::Store(_, i) => {
                let ins = match a {
                    Action::LocalSet(_) => Ins::LocalSet(*i),
                    Action::LocalTee(_) => Ins::LocalTee(*i),
                    Action::GlobalSet(_) => Ins::GlobalSet(*i),
                    Action::Store(op, _) => Ins::Store(*op, *i),
                    _ => unreachable!(),
                };
                if in_loop {
                    let stores: Vec<(u32, StoreOp)> = match &ins {
                        Ins::Store(op, off) => fg
                            .states
                            .iter()
                            .map(|s| {
                                let n = s.stack.len();
                                (s.stack[n - 2] as u32 + off, *op)
                            })
                            .collect(),
                        _ => vec![],
                    };
                    match &ins {
                        Ins::LocalSet(_) | Ins::GlobalSet(_) => {
                            fg.types.pop();
                        }
                        Ins::Store(..) => {
                            fg.types.pop();
                            fg.types.pop();
                        }
                        _ => {}
                    }
                    let local = match ins {
                        Ins::LocalSet(l) | Ins::LocalTee(l) => Some(l),
                        Ins::GlobalSet(g) => Some(LOOP_GLOBAL + g),
                        _ => None,
                    };
                    if !self.probed(fg, snap, vec![ins])? {
                        return Ok(false);
                    }
                    if let Some(l) = local {
                        if !fg.loop_written.contains(&l) {
                            fg.loop_written.push(l);
                        }
                    }
                    self.stats.stores.extend(stores);
                } else {
                    self.pure(fg, ins)?;
                }
            }
            Action::MemoryGrow => {
                fg.types.pop();
                fg.types.push(ValType::I32);
                return self.probed(fg, snap, vec![Ins::MemoryGrow]);
            }
            Action::MemoryFill | Action::MemoryCopy => {
                fg.types.truncate(fg.types.len() - 3);
                let ins = if *a == Action::MemoryFill {
                    Ins::MemoryFill
                } else {
                    Ins::MemoryCopy
                };
                return self.probed(fg, snap, vec![ins]);
            }
            Action::Call(f) => self.call(fg, &[*f], None, Ins::Call(*f))?,
            Action::CallRecursive(f, depth) => self.call(
                fg,
                &[*f],
                Some(Ins::Const(Val::I32(*depth as i32))),
                Ins::Call(*f),
            )?,
            Action::TableSize => {
                let n = self.table_now.len() as i32;
                self.reference(fg, vec![Ins::TableSize], 0, |_| n)
            }
            Action::RefIsNull(RefOperand::Null) => {
                self.reference(fg, vec![Ins::RefNullFunc, Ins::RefIsNull], 0, |_| 1)
            }
            Action::RefIsNull(RefOperand::Func(f)) => {
                self.reference(fg, vec![Ins::RefFunc(*f), Ins::RefIsNull], 0, |_| 0)
            }
            Action::RefIsNull(RefOperand::Slot(k)) => {
                let null = self.table_now[*k as usize].is_none() as i32;
                let code = vec![
                    Ins::Const(Val::I32(*k as i32)),
                    Ins::TableGet,
                    Ins::RefIsNull,
                ];
                self.reference(fg, code, 0, |_| null)
            }
            Action::TableGetIsNull => {
                let table = self.table_now.clone();
                self.reference(fg, vec![Ins::TableGet, Ins::RefIsNull], 1, |slot| {
                    table[slot as u32 as usize].is_none() as i32
                })
            }
            Action::TableSet(k, f) => {
                let value = match f {
                    Some(f) => Ins::RefFunc(*f),
                    None => Ins::RefNullFunc,
                };
                let code = vec![Ins::Const(Val::I32(*k as i32)), value, Ins::TableSet];
                for s in &fg.states {
                    fg.fuel[s.run] += code.iter().map(Ins::cost).sum::<u64>();
                }
                fg.size += code.iter().map(est_len).sum::<u64>();
                fg.code.extend(code);
                self.table_now[*k as usize] = *f;
            }
            Action::CallIndirect(slot) => {
                let f = self.table_now[*slot as usize]
                    .ok_or_else(|| GenError("internal: indirect call of a null slot".into()))?;
                let ty = self.program.funcs[f as usize].ty;
                self.call(
                    fg,
                    &[f],
                    Some(Ins::Const(Val::I32(*slot as i32))),
                    Ins::CallIndirect(ty),
                )?
            }
            Action::CallIndirectDyn(ty) => {
                let table = self.table_now.clone();
                let fs: Vec<u32> = fg
                    .states
                    .iter()
                    .map(|s| table[s.stack[s.stack.len() - 1] as u32 as usize])
                    .collect::<Option<_>>()
                    .ok_or_else(|| GenError("internal: indirect call of a null slot".into()))?;
                if fs.is_empty() {
                    // Dead code: any function of the type will do for the types.
                    let f = (0..self.program.funcs.len() as u32)
                        .find(|f| self.program.funcs[*f as usize].ty == *ty)
                        .unwrap_or(0);
                    self.call(fg, &[f], None, Ins::CallIndirect(*ty))?;
                } else {
                    self.call(fg, &fs, None, Ins::CallIndirect(*ty))?;
                }
            }
            Action::Block(r) => {
                let bt = self.block_ty(r);
                self.open(fg, Kind::Block, r.clone());
                Self::save_below(fg, 0);
                // Every visit enters the block with no values (`block` costs nothing).
                return self.derived(fg, snap, vec![Ins::Block(bt)], |fg| {
                    Self::map_visits(fg, |mut s, out| {
                        s.stack.clear();
                        out.push(s);
                        0
                    })
                });
            }
            Action::BlockParams(n, r) => {
                let n = *n as usize;
                let params = fg.types[fg.types.len() - n..].to_vec();
                let bt = BlockTy::Type(self.program.type_index(&FuncType::new(params, r.clone())));
                self.open(fg, Kind::Block, r.clone());
                fg.ctrl.last_mut().expect("the block").height -= n;
                Self::save_below(fg, n);
                // Every visit enters the block with its top `n` values.
                return self.derived(fg, snap, vec![Ins::Block(bt)], |fg| {
                    Self::map_visits(fg, |mut s, out| {
                        let below = s.stack.len() - n;
                        s.stack.drain(..below);
                        out.push(s);
                        0
                    })
                });
            }
            Action::If(r) => {
                fg.types.pop();
                let bt = self.block_ty(r);
                self.open(fg, Kind::If { in_else: false }, r.clone());
                Self::save_below(fg, 1);
                // The visits whose condition is non-zero enter the first arm; the others go on
                // after it as before. Every visit pays for the `if`.
                let mut skipped = Vec::new();
                let ok = self.derived(fg, snap, vec![Ins::If(bt)], |fg| {
                    Self::map_visits(fg, |mut s, out| {
                        let taken = s.stack.pop().is_some_and(|c| c as u32 != 0);
                        s.stack.clear();
                        if taken {
                            out.push(s);
                        } else if !in_loop {
                            skipped.push(s);
                        }
                        1
                    })
                })?;
                if ok && !in_loop {
                    let c = fg.ctrl.last_mut().expect("the if just opened");
                    c.other_arm = Some(Arc::new(skipped));
                }
                return Ok(ok);
            }
            Action::Loop(k) => {
                let counter = (fg.params.len() + fg.locals.len()) as u32;
                fg.locals.push(ValType::I32);
                fg.readonly.push(counter);
                let acc = counter + 1;
                fg.locals.push(ValType::I64);
                fg.readonly.push(acc);
                let pre = vec![
                    Ins::Const(Val::I32(*k as i32)),
                    Ins::LocalSet(counter),
                    Ins::Loop,
                    Ins::Block(BlockTy::Empty),
                ];
                self.open(fg, Kind::Loop { counter, acc }, vec![]);
                self.open(fg, Kind::Body, vec![]);
                // Each visit becomes one visit per iteration, with the counter counting down
                // and the accumulator still zero (only the body's end will write it). It pays
                // for setting the counter and, per iteration, for the loop's tail.
                let k = *k;
                let tail: u64 = loop_tail(counter).iter().map(|i| i.cost()).sum();
                let ok = self.derived(fg, snap, pre, |fg| {
                    Self::map_visits(fg, |mut s, out| {
                        s.stack.clear();
                        s.locals.push(0);
                        s.locals.push(0);
                        for left in (1..=k).rev() {
                            let mut v = s.clone();
                            v.locals[counter as usize] = val_bits(Val::I32(left as i32));
                            out.push(v);
                        }
                        2 + tail * k as u64
                    })
                })?;
                if ok {
                    self.stats.loops.push((counter, fg.id, k));
                }
                return Ok(ok);
            }
            Action::Else => {
                let r = fg
                    .ctrl
                    .last()
                    .map(|c| c.results.clone())
                    .unwrap_or_default();
                self.fix(fg, &r)?;
                let snap = self.snapshot(fg);
                let c = fg.ctrl.last_mut().expect("else inside an if");
                c.kind = Kind::If { in_else: true };
                c.start = fg.code.len() + 1;
                let h = c.height;
                let skipped = c.other_arm.take();
                fg.types.truncate(h);
                let ok = match skipped {
                    // Outside loops: the second arm sees the visits the first arm skipped; the
                    // first arm's visits wait at the end (`else` costs nothing).
                    Some(skipped) => self.derived(fg, snap, vec![Ins::Else], |fg| {
                        let skipped = Self::with_locals(fg, &skipped);
                        let first = std::mem::replace(&mut fg.states, skipped);
                        let c = fg.ctrl.last_mut().expect("the if");
                        c.other_arm = Some(Arc::new(first));
                    })?,
                    None => self.probed(fg, snap, vec![Ins::Else])?,
                };
                if !ok {
                    return err("internal: else does not run");
                }
            }
            Action::End => self.close(fg)?,
            Action::Br(d) | Action::BrTable(_, d) => {
                let ins = match a {
                    Action::Br(_) => Ins::Br(*d),
                    Action::BrTable(ts, _) => {
                        fg.types.pop();
                        Ins::BrTable(ts.clone(), *d)
                    }
                    _ => unreachable!(),
                };
                fg.code.push(ins.clone());
                fg.size += 4;
                let left = Self::leave(fg, &ins);
                if !left {
                    if let Ins::BrTable(ts, _) = &ins {
                        for t in ts {
                            Self::mark_target(fg, *t);
                        }
                    }
                    Self::mark_target(fg, *d);
                }
                self.close_dead(fg, left)?;
            }
            Action::Return => {
                fg.code.push(Ins::Return);
                fg.size += 1;
                let left = Self::leave(fg, &Ins::Return);
                self.close_dead(fg, left)?;
            }
            Action::BrIf(d) => {
                fg.types.pop();
                if in_loop {
                    Self::mark_target(fg, *d);
                    return self.probed(fg, snap, vec![Ins::BrIf(*d)]);
                }
                // Outside loops: the visits whose condition is non-zero leave for the target,
                // the others go on without it. Every visit pays for the `br_if`.
                let d = *d;
                return self.derived(fg, snap, vec![Ins::BrIf(d)], |fg| {
                    let mut taken = Vec::new();
                    Self::map_visits(fg, |mut s, out| {
                        let c = s.stack.pop().expect("the condition");
                        if c as u32 != 0 {
                            taken.push(s);
                        } else {
                            out.push(s);
                        }
                        1
                    });
                    let level = fg.ctrl.len() - 1 - d as usize;
                    fg.ctrl[level].targeted = true;
                    for s in taken {
                        Self::arrive(fg, d, s);
                    }
                });
            }
            Action::Flag => {
                let k = self.flags_placed;
                self.flags_placed += 1;
                if fg.states.is_empty() {
                    self.stats.flags_unreached += 1;
                } else {
                    self.stats.flags_reached += 1;
                }
                fg.code.push(Ins::Marker(Marker::Flag(k)));
            }
            Action::Inspect => self.place_inspect(fg),
        }
        Ok(true)
    }

    fn place_inspect(&mut self, fg: &mut FuncGen) {
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        let tys = fg.types[height..].to_vec();
        fg.code.push(Ins::Marker(Marker::Inspect(tys)));
        self.inspect_placed = true;
    }

    /// Makes the current block's values exactly `want`, keeping computed values where it can:
    /// surplus values are folded together with non-trapping operators, a value of the wrong
    /// type is converted, and missing values are constants.
    fn fix(&mut self, fg: &mut FuncGen, want: &[ValType]) -> Result<(), GenError> {
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        loop {
            let avail = fg.types.len() - height;
            let prefix_ok = avail <= want.len() && fg.types[height..] == want[..avail];
            if prefix_ok {
                break;
            }
            if avail >= 2 {
                let t = fg.types[fg.types.len() - 2];
                let top = fg.types[fg.types.len() - 1];
                self.convert(fg, top, t)?;
                self.combine(fg, t)?;
            } else if want.is_empty() {
                self.pure(fg, Ins::Drop)?;
            } else {
                let top = fg.types[fg.types.len() - 1];
                self.convert(fg, top, want[0])?;
            }
        }
        let avail = fg.types.len() - height;
        for &t in &want[avail..] {
            let v = self.random_val(t);
            self.pure(fg, Ins::Const(v))?;
        }
        Ok(())
    }

    /// At the end of a loop body: folds the body's values and the loop counter into the
    /// loop's accumulator (`acc = acc ^ (values + counter)`), so the iteration count shows in
    /// it: the counter differs in every iteration, so the folded value is rarely neutral, and
    /// no other code writes the accumulator. Withdrawn (values dropped instead) if the engine
    /// finds a trap or the budget exceeded.
    fn accumulate(&mut self, fg: &mut FuncGen) -> Result<(), GenError> {
        let snap = self.snapshot(fg);
        let height = fg.ctrl.last().map_or(0, |c| c.height);
        let Some((counter, acc)) =
            fg.ctrl
                .len()
                .checked_sub(2)
                .and_then(|i| match fg.ctrl[i].kind {
                    Kind::Loop { counter, acc } => Some((counter, acc)),
                    _ => None,
                })
        else {
            return Ok(());
        };
        self.pure(fg, Ins::LocalGet(counter))?;
        while fg.types.len() - height >= 2 {
            let t = fg.types[fg.types.len() - 2];
            let top = fg.types[fg.types.len() - 1];
            self.convert(fg, top, t)?;
            self.combine(fg, t)?;
        }
        let top = fg.types[fg.types.len() - 1];
        self.convert(fg, top, ValType::I64)?;
        self.pure(fg, Ins::LocalGet(acc))?;
        self.combine(fg, ValType::I64)?;
        let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
        // The reserve still counts this body's fold, which is now paid.
        let body_visits = fg.ctrl.last().map_or(0, |c| c.visits.max(fg.states.len()));
        let reserve = self
            .reserve_fuel(fg)
            .saturating_sub(8 * body_visits.max(1) as u64);
        if fuel_now + reserve > fg.fuel_max {
            self.restore(fg, snap);
            return Ok(());
        }
        // The accumulator is written only here. If the only read of it is this fold's, the
        // write changes no other value, branch or fuel: each visit's accumulator is the
        // previous visit's (in the same run; zero at first) folded with this visit's value.
        // `combine` folds `i64`s by `xor`, and the states read the accumulator as zero.
        let body = fg.ctrl.last().map_or(0, |c| c.start);
        let reads = fg.code[body..]
            .iter()
            .filter(|i| **i == Ins::LocalGet(acc))
            .count();
        let ok = if reads == 1 && combine(ValType::I64) == BinaryOp::I64Xor {
            fg.types.pop();
            let a = acc as usize;
            let snap2 = self.snapshot(fg);
            self.derived(fg, snap2, vec![Ins::LocalSet(acc)], |fg| {
                let mut running = vec![0 as Bits; fg.fuel.len()];
                Self::map_visits(fg, |mut s, out| {
                    let folded = s.stack.pop().unwrap_or_default() as u64;
                    let value = (running[s.run] as u64 ^ folded) as Bits;
                    running[s.run] = value;
                    s.locals[a] = value;
                    out.push(s);
                    1
                })
            })?
        } else {
            self.apply(fg, &Action::LocalSet(acc))?
        };
        if !ok {
            self.restore(fg, snap);
        } else if !fg.loop_written.contains(&acc) {
            fg.loop_written.push(acc);
        }
        Ok(())
    }

    /// At the end of a function with results: folds the values its loops computed (their
    /// accumulators and the locals and globals written inside loops) into one `i64` and mixes
    /// that into the last result, so the loops' iteration counts show in the answer. Integer
    /// results take it by addition; finite float results by flipping low mantissa bits (exact
    /// in every engine, unlike float arithmetic). Withdrawn if it would exceed the budget.
    fn mix_loops_into_result(&mut self, fg: &mut FuncGen) -> Result<(), GenError> {
        // Every loop accumulator (the read-only `i64` locals written in loops), then the
        // latest other locals and globals written in loops.
        let is_acc = |l: &u32| fg.readonly.contains(l) && Self::local_type(fg, *l) == ValType::I64;
        let written: Vec<u32> = fg
            .loop_written
            .iter()
            .filter(|l| is_acc(l))
            .chain(fg.loop_written.iter().rev().filter(|l| !is_acc(l)).take(4))
            .copied()
            .collect();
        let Some(&last) = fg.results.last() else {
            return Ok(());
        };
        if written.is_empty() {
            return Ok(());
        }
        let snap = self.snapshot(fg);
        let finite = fg.states.iter().all(|s| {
            let bits = s.stack.last().copied().unwrap_or_default();
            match last {
                ValType::F32 => f32::from_bits(bits as u32).is_finite(),
                ValType::F64 => f64::from_bits(bits as u64).is_finite(),
                _ => true,
            }
        });
        let float = matches!(last, ValType::F32 | ValType::F64);
        // A float result moves to a fresh local while the digest is computed.
        let scratch = (fg.params.len() + fg.locals.len()) as u32;
        if float && finite {
            fg.locals.push(last);
            for s in fg.states.iter_mut() {
                s.locals.push(0);
            }
            self.pure(fg, Ins::LocalSet(scratch))?;
        }
        for (i, &l) in written.iter().enumerate() {
            let t = if l >= LOOP_GLOBAL {
                self.pure(fg, Ins::GlobalGet(l - LOOP_GLOBAL))?;
                self.program.globals[(l - LOOP_GLOBAL) as usize].ty()
            } else {
                self.pure(fg, Ins::LocalGet(l))?;
                Self::local_type(fg, l)
            };
            self.convert(fg, t, ValType::I64)?;
            if i > 0 {
                self.combine(fg, ValType::I64)?;
            }
        }
        match last {
            ValType::I64 => self.pure(fg, Ins::Binary(BinaryOp::I64Add))?,
            ValType::I32 => {
                self.pure(fg, Ins::Unary(UnaryOp::I32WrapI64))?;
                self.pure(fg, Ins::Binary(BinaryOp::I32Add))?;
            }
            ValType::F32 if finite => {
                self.pure(fg, Ins::Unary(UnaryOp::I32WrapI64))?;
                self.pure(fg, Ins::Const(Val::I32(0xFFFF)))?;
                self.pure(fg, Ins::Binary(BinaryOp::I32And))?;
                self.pure(fg, Ins::LocalGet(scratch))?;
                self.pure(fg, Ins::Unary(UnaryOp::I32ReinterpretF32))?;
                self.pure(fg, Ins::Binary(BinaryOp::I32Xor))?;
                self.pure(fg, Ins::Unary(UnaryOp::F32ReinterpretI32))?;
            }
            ValType::F64 if finite => {
                self.pure(fg, Ins::Const(Val::I64(0xFFFF_FFFF)))?;
                self.pure(fg, Ins::Binary(BinaryOp::I64And))?;
                self.pure(fg, Ins::LocalGet(scratch))?;
                self.pure(fg, Ins::Unary(UnaryOp::I64ReinterpretF64))?;
                self.pure(fg, Ins::Binary(BinaryOp::I64Xor))?;
                self.pure(fg, Ins::Unary(UnaryOp::F64ReinterpretI64))?;
            }
            _ => {
                self.convert(fg, ValType::I64, last)?;
                self.combine(fg, last)?;
            }
        }
        let fuel_now = fg.fuel.iter().copied().max().unwrap_or(0);
        if fuel_now + self.reserve_fuel(fg) > fg.fuel_max {
            self.restore(fg, snap);
        }
        Ok(())
    }

    /// Whether `ins` applied to every state gives a NaN whose bits the spec leaves open.
    fn nan_open(&self, fg: &FuncGen, ins: &Ins) -> bool {
        fg.states.iter().any(|s| {
            let n = s.stack.len();
            let r = match ins {
                Ins::Unary(op) => Concrete.unary(*op, s.stack[n - 1]),
                Ins::Binary(op) => Concrete.binary(*op, s.stack[n - 2], s.stack[n - 1]),
                _ => return false,
            };
            r.is_ok_and(|r| nan_unspecified(ins.clone(), r))
        })
    }

    /// Converts the top value from `from` to `to` without trapping and without a NaN of
    /// unspecified bits (through an integer where a float conversion would give one).
    fn convert(&mut self, fg: &mut FuncGen, from: ValType, to: ValType) -> Result<(), GenError> {
        let Some(op) = conversion(from, to) else {
            return Ok(());
        };
        if self.nan_open(fg, &Ins::Unary(op)) {
            self.pure(
                fg,
                Ins::Unary(conversion(from, ValType::I64).expect("float to int")),
            )?;
            if let Some(op2) = conversion(ValType::I64, to) {
                self.pure(fg, Ins::Unary(op2))?;
            }
            return Ok(());
        }
        self.pure(fg, Ins::Unary(op))
    }

    /// Folds the top two values of type `t` into one (copysign where addition would give a
    /// NaN of unspecified bits).
    fn combine(&mut self, fg: &mut FuncGen, t: ValType) -> Result<(), GenError> {
        let op = combine(t);
        if self.nan_open(fg, &Ins::Binary(op)) {
            let cs = if t == ValType::F32 {
                BinaryOp::F32Copysign
            } else {
                BinaryOp::F64Copysign
            };
            return self.pure(fg, Ins::Binary(cs));
        }
        self.pure(fg, Ins::Binary(op))
    }

    /// Closes the innermost construct normally.
    fn close(&mut self, fg: &mut FuncGen) -> Result<(), GenError> {
        let c = fg.ctrl.last().cloned().expect("a construct to close");
        if c.kind == (Kind::If { in_else: false }) && !c.results.is_empty() {
            self.apply(fg, &Action::Else)?;
        }
        let c = fg.ctrl.last().cloned().expect("a construct to close");
        if c.kind == Kind::Body {
            self.accumulate(fg)?;
        }
        self.fix(fg, &c.results)?;
        let snap = self.snapshot(fg);
        let mut ins = vec![Ins::End];
        fg.ctrl.pop();
        let mut the_loop = None;
        if let Kind::Body = c.kind {
            if let Some(lp) = fg.ctrl.pop() {
                if let Kind::Loop { counter, .. } = lp.kind {
                    ins.extend(loop_tail(counter));
                    ins.push(Ins::End);
                }
                the_loop = Some(lp);
            }
        }
        fg.types.truncate(c.height);
        fg.types.extend(c.results.iter().copied());
        let ok = match Self::states_after_close(fg, &c, the_loop.as_ref()) {
            Some(states) => self.derived(fg, snap, ins, |fg| fg.states = states)?,
            None => self.probed(fg, snap, ins)?,
        };
        if !ok {
            return err("internal: closing a construct trapped or exceeded the fuel");
        }
        Ok(())
    }

    /// The visits after closing `c` (already popped, with its loop for a body), where they
    /// follow from the visits at its end without running the program: no branch targets it,
    /// and the enclosing block's values below it are known (none, or saved per run when it
    /// opened). Closing costs no fuel (`end`; a loop's tail is already paid by every
    /// iteration).
    fn states_after_close(
        fg: &FuncGen,
        c: &Ctrl,
        the_loop: Option<&Ctrl>,
    ) -> Option<Vec<HoleState>> {
        let arrivals = match (c.targeted, &c.arrivals) {
            (false, _) => Vec::new(),
            (true, Some(a)) => Self::with_locals(fg, a),
            (true, None) => return None,
        };
        let mut states = match &c.kind {
            // Every visit at the end leaves the block, with its results; outside loops, those
            // that branched to it join them, one per run, in run order.
            Kind::Block if arrivals.is_empty() => fg.states.clone(),
            Kind::Block => Self::in_run_order(fg.states.iter().cloned().chain(arrivals))?,
            // Outside loops, the visits of both arms (and those that branched to the end)
            // meet, one per run, in run order.
            Kind::If { .. } => {
                let other = Self::with_locals(fg, c.other_arm.as_ref()?);
                Self::in_run_order(fg.states.iter().cloned().chain(other).chain(arrivals))?
            }
            // The last iteration's visit leaves the loop, its counter now zero.
            Kind::Body => {
                let lp = the_loop?;
                let Kind::Loop { counter, .. } = lp.kind else {
                    return None;
                };
                if c.targeted || lp.targeted || Self::outer_height(fg, fg.ctrl.len()) != lp.height {
                    return None;
                }
                let last = val_bits(Val::I32(1));
                let done = val_bits(Val::I32(0));
                let c = counter as usize;
                return Some(
                    fg.states
                        .iter()
                        .filter(|s| s.locals[c] == last)
                        .map(|s| {
                            let mut s = s.clone();
                            s.locals[c] = done;
                            s.stack.clear();
                            s
                        })
                        .collect(),
                );
            }
            Kind::Loop { .. } => return None,
        };
        if Self::outer_height(fg, fg.ctrl.len()) != c.height {
            // Put back the values that were below the construct, run by run.
            let below = c.below.as_ref()?;
            for s in &mut states {
                let lower = below.get(s.run)?.as_ref()?;
                s.stack.splice(0..0, lower.iter().copied());
            }
        }
        Some(states)
    }

    /// Visits that meet at a construct's end, sorted by run; `None` unless each run comes
    /// at most once.
    fn in_run_order(visits: impl Iterator<Item = HoleState>) -> Option<Vec<HoleState>> {
        let mut all: Vec<HoleState> = visits.collect();
        all.sort_by_key(|s| s.run);
        once_per_run(&all).then_some(all)
    }

    /// After an unconditional branch: the rest of the construct is dead, so it ends at once.
    /// `left`: the branch's visits already left (see [`Generator::leave`]), so the states
    /// after the end may follow without a probe.
    fn close_dead(&mut self, fg: &mut FuncGen, left: bool) -> Result<(), GenError> {
        let Some(c) = fg.ctrl.last().cloned() else {
            // `return` at the top level ends the function: nothing follows.
            fg.types.clear();
            fg.types.extend(fg.results.iter().copied());
            let snap = self.snapshot(fg);
            if !self.probed(fg, snap, vec![])? {
                return err("internal: return does not run");
            }
            return Ok(());
        };
        let snap = self.snapshot(fg);
        fg.types.truncate(c.height);
        let mut ins = vec![];
        let states = if c.kind == (Kind::If { in_else: false }) && !c.results.is_empty() {
            let cl = fg.ctrl.last_mut().expect("if");
            cl.kind = Kind::If { in_else: true };
            cl.start = fg.code.len() + 1;
            ins.push(Ins::Else);
            // None of the first arm's visits reach the end (the branch left it): the second
            // arm sees the visits the first skipped.
            let skipped = cl.other_arm.take();
            if skipped.is_some() {
                cl.other_arm = Some(Arc::new(Vec::new()));
            }
            match skipped {
                Some(skipped) if left => Some(Self::with_locals(fg, &skipped)),
                _ => None,
            }
        } else {
            ins.push(Ins::End);
            fg.ctrl.pop();
            let mut the_loop = None;
            if let Kind::Body = c.kind {
                if let Some(lp) = fg.ctrl.pop() {
                    if let Kind::Loop { counter, .. } = lp.kind {
                        ins.extend(loop_tail(counter));
                        ins.push(Ins::End);
                    }
                    the_loop = Some(lp);
                }
            }
            fg.types.extend(c.results.iter().copied());
            // Only the visits that branched to the end go on after it.
            if left {
                fg.states.clear();
                Self::states_after_close(fg, &c, the_loop.as_ref())
            } else {
                None
            }
        };
        let ok = match states {
            Some(states) => self.derived(fg, snap, ins, |fg| fg.states = states)?,
            None => self.probed(fg, snap, ins)?,
        };
        if !ok {
            return err("internal: a branch trapped or exceeded the fuel");
        }
        Ok(())
    }
}

/// Whether a float result is a NaN whose sign and payload the spec leaves to the engine
/// (every float operator except the bitwise `neg`, `abs` and `copysign`), so engines may
/// disagree on its bits: such tiles are not offered.
fn nan_unspecified(ins: Ins, r: Bits) -> bool {
    let (ty, bitwise) = match &ins {
        Ins::Unary(op) => (op.result_type(), nan::bitwise_unary(*op)),
        Ins::Binary(op) => (op.result_type(), nan::bitwise_binary(*op)),
        _ => return false,
    };
    !bitwise && nan::is_nan(ty, r)
}

/// Whether two lists of hole states are the same visits with the same values.
fn same_states(a: &[HoleState], b: &[HoleState]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.run == y.run
                && x.stack == y.stack
                && x.locals == y.locals
                && x.globals == y.globals
                && x.mem.data == y.mem.data
                && x.pages == y.pages
        })
}

/// The counter update closing a loop: the body runs exactly the chosen number of times.
fn loop_tail(counter: u32) -> Vec<Ins> {
    vec![
        Ins::LocalGet(counter),
        Ins::Const(Val::I32(1)),
        Ins::Binary(BinaryOp::I32Sub),
        Ins::LocalTee(counter),
        Ins::BrIf(0),
    ]
}

/// Typed value of state bits (for answers and views).
pub fn typed(bits: Bits, t: ValType) -> Val {
    bits_val(bits, t)
}

/// Whether `visits` (sorted by run) hold each run at most once: the condition under which a
/// construct's per-run bookkeeping (saved lower stacks, arrivals) is exact.
fn once_per_run(visits: &[HoleState]) -> bool {
    visits.windows(2).all(|w| w[0].run < w[1].run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Weighted;

    /// The states derived for opened blocks, `if`s and loops are exactly what running the
    /// program gives: each derivation is confirmed by a probe, over many programs of every
    /// task and several fuel budgets.
    #[test]
    fn derived_states_match_probes() {
        let mut opened = 0;
        for (task, fuel) in Task::ALL
            .into_iter()
            .zip([(100, 300), (300, 900)].iter().cycle())
        {
            let cfg = GenConfig::new(task, *fuel, (0, 4096)).expect("config");
            for seed in 0..300 {
                let mut strategy = Weighted::default();
                let g = Generator::new(&cfg, seed, &mut strategy)
                    .check_derived(true)
                    .run()
                    .unwrap_or_else(|e| panic!("{task} seed {seed}: {e}"));
                opened += g
                    .program
                    .funcs
                    .iter()
                    .flat_map(|f| &f.body)
                    .filter(|i| matches!(i, Ins::Block(_) | Ins::If(_) | Ins::Loop))
                    .count();
            }
        }
        assert!(opened > 1000, "only {opened} constructs opened");
    }
}
