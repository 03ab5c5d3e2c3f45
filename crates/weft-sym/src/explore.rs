//! The explorer: runs symbolic machines, splits them where the domain asks, prunes
//! infeasible sides with the solver, and collects findings.
//!
//! A path state is a suspended [`Machine`]; cloning one is cheap (terms are shared, memory
//! is copy-on-write). Workers take states from one shared worklist in the order the
//! [`Strategy`] picks, each with its own solver process. Every resource is bounded: paths,
//! forks per path, fuel per path, wall-clock time, states held, terms created.

use crate::cache::Cached;
use crate::domain::{Query, SymVal, Symbolic, ValueWhy};
use crate::goals::{self, Goal, ParamSpec, Task, Watch, ASSUME_CUT, TARGET_PREFIX};
use crate::replay::{self, Inputs, Outcome};
use crate::report::{escape_bytes, Finding, InputValue, Report, Stats, Verdict};
use crate::solver::{self, SatResult, Solver, SolverConfig};
use crate::term::{Op, TermId, Terms};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use weft_core::{TrapCode, Val, ValType};
use weft_exec::concrete::bits_val;
use weft_exec::{Config, ExecError, Extern, Limits, Linker, Machine};

/// Which pending state runs next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Depth-first: the newest state.
    Dfs,
    /// Breadth-first: the oldest state.
    Bfs,
    /// A random state (seeded).
    Random,
    /// The state whose fork site has been picked least often.
    Coverage,
}

impl Strategy {
    /// Parses `dfs`, `bfs`, `random` or `coverage`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "dfs" => Ok(Strategy::Dfs),
            "bfs" => Ok(Strategy::Bfs),
            "random" => Ok(Strategy::Random),
            "coverage" => Ok(Strategy::Coverage),
            _ => Err(format!(
                "unknown strategy `{s}` (dfs, bfs, random, coverage)"
            )),
        }
    }
}

/// Bounds and choices of one exploration.
#[derive(Clone, Debug)]
pub struct ExploreConfig {
    /// Order of exploration.
    pub strategy: Strategy,
    /// Stop after this many completed paths.
    pub max_paths: u64,
    /// Forks allowed along one path.
    pub max_depth: u32,
    /// Wall-clock limit.
    pub max_time: Duration,
    /// Pending states held at once (more are dropped, making the run incomplete).
    pub max_states: usize,
    /// Fuel per path (wasmtime's cost model); bounds loops on concrete values.
    pub fuel: u64,
    /// Values enumerated for a symbolic address or index.
    pub max_models: u32,
    /// Terms in the shared table.
    pub max_terms: usize,
    /// Pages of a linear memory.
    pub max_memory_pages: u32,
    /// Worker threads (1: deterministic).
    pub jobs: usize,
    /// Seed of the random strategy.
    pub seed: u64,
    /// Stop at the first confirmed finding.
    pub stop_at_first: bool,
    /// The solver.
    pub solver: SolverConfig,
    /// Answer repeated and already-satisfied queries from a cache ([`crate::cache`]).
    pub solver_cache: bool,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        ExploreConfig {
            strategy: Strategy::Dfs,
            max_paths: 100_000,
            max_depth: 2_000,
            max_time: Duration::from_secs(60),
            max_states: 10_000,
            fuel: 50_000_000,
            max_models: 16,
            max_terms: 20_000_000,
            max_memory_pages: 1024,
            jobs: 1,
            seed: 0,
            stop_at_first: true,
            solver: SolverConfig::default(),
            solver_cache: true,
        }
    }
}

type SymMachine = Machine<Symbolic, Watch>;

struct State {
    m: SymMachine,
    started: bool,
    forks: u32,
    site: u32,
    seq: u64,
}

impl State {
    fn fork(&self) -> State {
        State {
            m: self.m.clone(),
            started: self.started,
            forks: self.forks,
            site: self.site,
            seq: self.seq,
        }
    }
}

/// What every path shares: the entry, the symbolic inputs, the bounds.
struct Ctx<'a> {
    task: &'a Task,
    cfg: &'a ExploreConfig,
    func: u32,
    args: Vec<SymVal>,
    params: Vec<(Option<TermId>, Val, ValType)>,
    mem: Vec<(u32, Vec<TermId>)>,
    /// Symbolic standard input of a WASI program.
    stdin: Vec<TermId>,
    result_ty: Option<ValType>,
    deadline: Instant,
    terms: Terms,
}

#[derive(Default)]
struct Out {
    children: Vec<State>,
    findings: Vec<(String, Finding)>,
    completed: u64,
    cut: u64,
    forks: u64,
    unconfirmed: u64,
    incomplete: Vec<String>,
    error: Option<String>,
}

struct Shared {
    work: VecDeque<State>,
    busy: usize,
    stop: bool,
    findings: Vec<Finding>,
    keys: HashSet<String>,
    stats: Stats,
    incomplete: BTreeSet<String>,
    rng: u64,
    next_seq: u64,
    site_picks: HashMap<u32, u64>,
    error: Option<String>,
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Explores `task` and reports what it reached.
pub fn explore(task: &Task, cfg: &ExploreConfig) -> Result<Report, String> {
    let start = Instant::now();
    // Fail early (and clearly) if the solver is missing.
    let start_solver = || -> Result<Box<dyn Solver>, String> {
        let s = solver::start(&cfg.solver).map_err(|e| e.to_string())?;
        Ok(if cfg.solver_cache {
            Box::new(Cached::new(s))
        } else {
            s
        })
    };
    let first_solver = start_solver()?;
    let terms = Terms::new(cfg.max_terms);
    let coverage: Arc<Vec<AtomicU32>> = Arc::new(
        (0..task.module.bytes.len() + 1)
            .map(|_| AtomicU32::new(0))
            .collect(),
    );
    let (m, ctx) = setup(task, cfg, terms.clone(), coverage.clone(), start)?;
    let mut shared = Shared {
        work: VecDeque::new(),
        busy: 0,
        stop: false,
        findings: Vec::new(),
        keys: HashSet::new(),
        stats: Stats::default(),
        incomplete: BTreeSet::new(),
        rng: cfg.seed,
        next_seq: 1,
        site_picks: HashMap::new(),
        error: None,
    };
    shared.work.push_back(State {
        m,
        started: false,
        forks: 0,
        site: 0,
        seq: 0,
    });
    let shared = Mutex::new(shared);
    let cv = Condvar::new();
    let jobs = cfg.jobs.max(1);
    let mut solvers: Vec<Box<dyn Solver>> = vec![first_solver];
    for _ in 1..jobs {
        solvers.push(start_solver()?);
    }
    let mut solver_stats = Vec::new();
    if jobs == 1 {
        let mut s = solvers.pop().expect("one solver");
        worker(&ctx, &shared, &cv, s.as_mut());
        solver_stats.push(s.stats());
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = solvers
                .into_iter()
                .map(|mut s| {
                    let (ctx, shared, cv) = (&ctx, &shared, &cv);
                    scope.spawn(move || {
                        worker(ctx, shared, cv, s.as_mut());
                        s.stats()
                    })
                })
                .collect();
            for h in handles {
                if let Ok(st) = h.join() {
                    solver_stats.push(st);
                }
            }
        });
    }
    let mut sh = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = sh.error {
        return Err(e);
    }
    if !sh.work.is_empty() {
        let n = sh.work.len();
        sh.incomplete
            .insert(format!("{n} pending states left unexplored"));
    }
    for s in &solver_stats {
        sh.stats.solver_queries += s.queries;
        sh.stats.solver_unknown += s.unknown;
        sh.stats.solver_cache_hits += s.cache_hits;
        sh.stats.solver_ms += s.time.as_millis() as u64;
    }
    sh.stats.elapsed_ms = start.elapsed().as_millis() as u64;
    sh.stats.offsets_covered = coverage
        .iter()
        .filter(|c| c.load(Ordering::Relaxed) > 0)
        .count() as u64;
    sh.stats.terms = terms.len() as u64;
    // Deterministic order of findings whatever the worker interleaving.
    let verdict = if !sh.findings.is_empty() {
        Verdict::Reached
    } else if sh.incomplete.is_empty() {
        Verdict::Unreachable
    } else {
        Verdict::Unknown
    };
    Ok(Report {
        verdict,
        findings: sh.findings,
        incomplete: sh.incomplete.into_iter().collect(),
        stats: sh.stats,
    })
}

fn setup<'a>(
    task: &'a Task,
    cfg: &'a ExploreConfig,
    terms: Terms,
    coverage: Arc<Vec<AtomicU32>>,
    start: Instant,
) -> Result<(SymMachine, Ctx<'a>), String> {
    let config = Config {
        fuel: true,
        limits: Limits {
            max_memory_pages: cfg.max_memory_pages,
            ..Default::default()
        },
    };
    let mut m = Machine::new(
        Symbolic::new(terms.clone()),
        Watch::new(&task.goals, Some(coverage)),
        config,
    );
    m.set_fuel(Some(cfg.fuel)).map_err(|e| e.to_string())?;
    let mut linker = Linker::new();
    goals::link_symbolic(&mut m, &task.module, &mut linker)?;
    let mut stdin = Vec::new();
    if let Some(w) = &task.wasi {
        if let Some((len, printable)) = w.sym_stdin {
            stdin = crate::wasi::stdin_symbols(&mut m.domain, len, printable);
        }
        m.domain.wasi = Some(crate::wasi::SymWasi {
            state: weft_exec::wasi::WasiState::new(wasi_config(w, &w.stdin)),
            stdin: Arc::new(stdin.clone()),
            stdin_pos: 0,
        });
    }
    let inst = m
        .instantiate(task.module.clone(), &linker)
        .map_err(|e| e.to_string())?;
    let func = match m.store.export(inst, &task.entry) {
        Some(Extern::Func(f)) => f,
        _ => return Err(format!("no exported function `{}`", task.entry)),
    };
    let ty = m.store.func_type(func);
    if ty.params.len() != task.params.len() {
        return Err(format!(
            "`{}` takes {} parameters {ty}, {} given",
            task.entry,
            ty.params.len(),
            task.params.len()
        ));
    }
    let mut args = Vec::new();
    let mut params = Vec::new();
    for (i, (spec, pty)) in task.params.iter().zip(&ty.params).enumerate() {
        match spec {
            ParamSpec::Con(v) => {
                if v.ty() != *pty {
                    return Err(format!("parameter {i} has type {pty}, value {v} given"));
                }
                args.push(SymVal::Con(weft_exec::concrete::val_bits(*v)));
                params.push((None, *v, *pty));
            }
            ParamSpec::Sym => {
                let w = match pty {
                    ValType::I32 | ValType::F32 => 32,
                    ValType::I64 | ValType::F64 => 64,
                    other => {
                        return Err(format!("parameter {i} of type {other} cannot be symbolic"))
                    }
                };
                let t = m.domain.fresh(&format!("a{i}"), w);
                args.push(SymVal::Sym(t));
                params.push((Some(t), Val::default_of(*pty), *pty));
            }
        }
    }
    let mut mem = Vec::new();
    if !task.mem.is_empty() {
        let Some(&maddr) = m.store.instances[inst as usize].memories.first() else {
            return Err("--sym-mem given but the module has no memory".into());
        };
        for spec in &task.mem {
            let size = weft_exec::LinearMemory::size_bytes(&m.store.memories[maddr as usize].mem);
            if spec.addr as u64 + spec.len as u64 > size {
                return Err(format!(
                    "symbolic region 0x{:x}+{} is outside memory ({size} bytes)",
                    spec.addr, spec.len
                ));
            }
            let mut syms = Vec::new();
            for i in 0..spec.len {
                let a = spec.addr + i;
                let t = m
                    .domain
                    .fresh_byte(&format!("mem[0x{a:x}]"), spec.printable);
                m.store.memories[maddr as usize].mem.set_sym(a as u64, t);
                syms.push(t);
            }
            mem.push((spec.addr, syms));
        }
    }
    let result_ty = ty.results.first().copied();
    for g in &task.goals {
        if let Goal::Return(v) = g {
            if Some(v.ty()) != result_ty {
                return Err(format!(
                    "goal return value {v} does not match the result type {ty}"
                ));
            }
        }
    }
    let ctx = Ctx {
        task,
        cfg,
        func,
        args,
        params,
        mem,
        stdin,
        result_ty,
        deadline: start + cfg.max_time,
        terms,
    };
    Ok((m, ctx))
}

/// The WASI configuration of a task, with `stdin` as standard input: captured output, a
/// deterministic clock and random stream, no directories.
pub(crate) fn wasi_config(w: &goals::WasiTask, stdin: &[u8]) -> weft_exec::wasi::WasiConfig {
    use weft_exec::wasi::{InputSource, OutputSink, WasiConfig};
    WasiConfig::new()
        .args(w.args.iter().cloned())
        .stdin(InputSource::Bytes(stdin.to_vec()))
        .stdout(OutputSink::Capture)
        .stderr(OutputSink::Capture)
        .deterministic_clock(0, 1_000)
        .random_seed(0)
}

fn pick(sh: &mut Shared, strategy: Strategy) -> Option<State> {
    if sh.work.is_empty() {
        return None;
    }
    match strategy {
        Strategy::Dfs => sh.work.pop_back(),
        Strategy::Bfs => sh.work.pop_front(),
        Strategy::Random => {
            let i = (splitmix(&mut sh.rng) % sh.work.len() as u64) as usize;
            sh.work.swap_remove_back(i)
        }
        Strategy::Coverage => {
            let mut best = 0;
            let mut best_key = (u64::MAX, u64::MAX);
            for (i, s) in sh.work.iter().enumerate() {
                let key = (
                    sh.site_picks.get(&s.site).copied().unwrap_or(0),
                    u64::MAX - s.seq,
                );
                if key < best_key {
                    best_key = key;
                    best = i;
                }
            }
            let s = sh.work.remove(best)?;
            *sh.site_picks.entry(s.site).or_insert(0) += 1;
            Some(s)
        }
    }
}

fn worker(ctx: &Ctx<'_>, shared: &Mutex<Shared>, cv: &Condvar, solver: &mut dyn Solver) {
    loop {
        let st = {
            let mut sh = shared.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if sh.stop || (sh.work.is_empty() && sh.busy == 0) {
                    cv.notify_all();
                    return;
                }
                if let Some(s) = pick(&mut sh, ctx.cfg.strategy) {
                    sh.busy += 1;
                    break s;
                }
                sh = cv.wait(sh).unwrap_or_else(|e| e.into_inner());
            }
        };
        let out = run_state(st, ctx, solver);
        let mut sh = shared.lock().unwrap_or_else(|e| e.into_inner());
        sh.busy -= 1;
        sh.stats.paths_completed += out.completed;
        sh.stats.paths_cut += out.cut;
        sh.stats.forks += out.forks;
        sh.stats.unconfirmed += out.unconfirmed;
        sh.incomplete.extend(out.incomplete);
        if let Some(e) = out.error {
            sh.error = Some(e);
            sh.stop = true;
        }
        for (key, f) in out.findings {
            if sh.keys.insert(key) {
                sh.findings.push(f);
            }
        }
        if ctx.cfg.stop_at_first && !sh.findings.is_empty() {
            sh.stop = true;
        }
        for mut c in out.children {
            if sh.work.len() >= ctx.cfg.max_states {
                sh.incomplete.insert(format!(
                    "state limit ({}) reached: states dropped",
                    ctx.cfg.max_states
                ));
                continue;
            }
            c.seq = sh.next_seq;
            sh.next_seq += 1;
            sh.work.push_back(c);
        }
        if sh.stats.paths_completed >= ctx.cfg.max_paths {
            sh.incomplete
                .insert(format!("path limit ({}) reached", ctx.cfg.max_paths));
            sh.stop = true;
        }
        if Instant::now() > ctx.deadline {
            sh.incomplete.insert(format!(
                "time limit ({} s) reached",
                ctx.cfg.max_time.as_secs()
            ));
            sh.stop = true;
        }
        if ctx.terms.is_full() {
            sh.incomplete
                .insert(format!("term limit ({}) reached", ctx.cfg.max_terms));
            sh.stop = true;
        }
        cv.notify_all();
    }
}

/// Checks `cond` together with the constraints of `d` that share symbols with it.
fn check_with(
    d: &Symbolic,
    cond: TermId,
    solver: &mut dyn Solver,
    out: &mut Out,
) -> Option<HashMap<u32, u64>> {
    let vars = d.terms.vars(&[cond]);
    let mut asserts = d.slice(&vars);
    asserts.push(cond);
    match solver.check(&d.terms, &asserts) {
        Ok(SatResult::Sat(m)) => Some(m),
        Ok(SatResult::Unsat) => None,
        Ok(SatResult::Unknown(why)) => {
            out.incomplete.push(format!("solver: {why}"));
            None
        }
        Err(e) => {
            out.error = Some(e.to_string());
            None
        }
    }
}

type Choice = (TermId, u64, Option<HashMap<u32, u64>>);

fn resolve(
    q: Query,
    d: &Symbolic,
    ctx: &Ctx<'_>,
    solver: &mut dyn Solver,
    out: &mut Out,
) -> Vec<Choice> {
    let t = &d.terms;
    match q {
        Query::Branch(b) => {
            let cur = t.eval(b, &d.model) != 0;
            let other = if cur { t.app(Op::BNot, 0, &[b]) } else { b };
            let mut v = vec![(b, cur as u64, None)];
            if let Some(m) = check_with(d, other, solver, out) {
                v.push((b, !cur as u64, Some(m)));
            }
            v
        }
        Query::Value(term, why) => {
            let k = match why {
                ValueWhy::Concretize => 1,
                // Every target of a jump table is a path (the table bounds the count).
                ValueWhy::BrTable(len) => len.saturating_add(1).min(4096),
                _ => ctx.cfg.max_models.max(1),
            };
            let w = t.width(term);
            let first = t.eval(term, &d.model);
            let mut v: Vec<Choice> = vec![(term, first, None)];
            let mut excluded = t.bool(true);
            loop {
                let last = v.last().map(|c| c.1).unwrap_or(first);
                let ne = t.app(
                    Op::BNot,
                    0,
                    &[t.app(Op::Eq, 0, &[term, t.constant(w, last)])],
                );
                excluded = t.app(Op::BAnd, 0, &[excluded, ne]);
                let Some(m) = check_with(d, excluded, solver, out) else {
                    break;
                };
                if v.len() as u32 >= k {
                    out.incomplete.push(match why {
                        ValueWhy::Concretize => {
                            "a symbolic value was concretised (SIMD or host operand)".to_string()
                        }
                        _ => format!(
                            "more than {k} values for a symbolic {}",
                            if why == ValueWhy::Address {
                                "address"
                            } else {
                                "index"
                            }
                        ),
                    });
                    break;
                }
                let mut merged = d.model.clone();
                merged.extend(m.iter().map(|(a, b)| (*a, *b)));
                let val = t.eval(term, &merged);
                v.push((term, val, Some(m)));
            }
            v
        }
    }
}

fn run_state(mut st: State, ctx: &Ctx<'_>, solver: &mut dyn Solver) -> Out {
    let mut out = Out::default();
    loop {
        if Instant::now() > ctx.deadline {
            out.incomplete.push(format!(
                "time limit ({} s) reached",
                ctx.cfg.max_time.as_secs()
            ));
            return out;
        }
        let r = if st.started {
            st.m.resume()
        } else {
            st.started = true;
            st.m.call(ctx.func, &ctx.args)
        };
        if let Some(g) = st.m.observer.hit.take() {
            let what = goal_text(ctx, &g);
            finding(
                &mut out,
                ctx,
                &st,
                "reach",
                what,
                None,
                None,
                Expect::Goal(g),
            );
            return out;
        }
        match r {
            Ok(results) => {
                out.completed += 1;
                for g in &ctx.task.goals {
                    if let Goal::Return(v) = g {
                        returns(&mut out, ctx, &st, results.first().copied(), *v, solver);
                    }
                }
                return out;
            }
            Err(ExecError::Suspended) => {
                let Some(q) = st.m.domain.take_query() else {
                    out.error = Some("machine suspended without a pending decision".into());
                    return out;
                };
                let choices = resolve(q, &st.m.domain, ctx, solver, &mut out);
                if out.error.is_some() {
                    return out;
                }
                if choices.len() == 1 {
                    let (t, v, m) = &choices[0];
                    st.m.domain.force(*t, *v, m.as_ref());
                    continue;
                }
                st.forks += 1;
                out.forks += 1;
                if st.forks > ctx.cfg.max_depth {
                    out.incomplete
                        .push(format!("depth limit ({} forks) reached", ctx.cfg.max_depth));
                    return out;
                }
                st.site = st.m.observer.last_offset;
                let n = choices.len();
                let mut rest = Some(st);
                for (i, (t, v, m)) in choices.into_iter().enumerate() {
                    let mut c = if i + 1 == n {
                        rest.take().expect("last choice takes the original")
                    } else {
                        rest.as_ref()
                            .expect("original kept until the last choice")
                            .fork()
                    };
                    c.m.domain.force(t, v, m.as_ref());
                    out.children.push(c);
                }
                return out;
            }
            Err(ExecError::Trap(trap)) => {
                let detail = trap.detail.clone().unwrap_or_default();
                let location = trap.func.map(|f| match trap.offset {
                    Some(o) => format!(
                        "function {} at offset 0x{o:x}",
                        ctx.task.module.func_name(f)
                    ),
                    None => format!("function {}", ctx.task.module.func_name(f)),
                });
                if let Some(name) = detail.strip_prefix(TARGET_PREFIX) {
                    out.completed += 1;
                    let e = Expect::Trap(trap.code, trap.offset, Some(detail.clone()));
                    finding(
                        &mut out,
                        ctx,
                        &st,
                        "target",
                        name.to_string(),
                        location,
                        None,
                        e,
                    );
                } else if detail == ASSUME_CUT {
                    out.cut += 1;
                } else if trap.code == TrapCode::OutOfFuel {
                    out.incomplete
                        .push(format!("fuel limit ({}) per path reached", ctx.cfg.fuel));
                } else if trap.code == TrapCode::HostError {
                    out.incomplete.push(format!("host error: {trap}"));
                } else if trap.code == TrapCode::StackExhausted {
                    out.completed += 1;
                    out.incomplete.push("call stack exhausted on a path".into());
                } else {
                    out.completed += 1;
                    if ctx.task.traps {
                        let e = Expect::Trap(trap.code, trap.offset, None);
                        finding(
                            &mut out,
                            ctx,
                            &st,
                            "trap",
                            trap.code.to_string(),
                            location,
                            None,
                            e,
                        );
                    }
                }
                return out;
            }
            Err(ExecError::Exit(_)) => {
                out.completed += 1;
                return out;
            }
            Err(ExecError::Usage(e)) => {
                out.error = Some(e);
                return out;
            }
        }
    }
}

/// A goal as the report names it.
fn goal_text(ctx: &Ctx<'_>, g: &Goal) -> String {
    match g {
        Goal::Func(f) => format!("function {}", ctx.task.module.func_name(*f)),
        Goal::Offset(o) => format!("offset 0x{o:x}"),
        Goal::Return(v) => format!("return {v}"),
    }
}

/// The return-value goal at the end of a path.
fn returns(
    out: &mut Out,
    ctx: &Ctx<'_>,
    st: &State,
    r: Option<SymVal>,
    want: Val,
    solver: &mut dyn Solver,
) {
    let Some(r) = r else { return };
    let d = &st.m.domain;
    let wb = weft_exec::concrete::val_bits(want);
    let what = format!("{want}");
    match r {
        SymVal::Con(b) => {
            if b == wb {
                finding(
                    out,
                    ctx,
                    st,
                    "return",
                    what,
                    None,
                    None,
                    Expect::Return(want),
                );
            }
        }
        SymVal::Sym(t) => {
            let w = d.terms.width(t);
            let eq = d.terms.app(Op::Eq, 0, &[t, d.terms.constant(w, wb as u64)]);
            if d.terms.eval(eq, &d.model) == 1 {
                finding(
                    out,
                    ctx,
                    st,
                    "return",
                    what,
                    None,
                    None,
                    Expect::Return(want),
                );
            } else if let Some(m) = check_with(d, eq, solver, out) {
                let mut merged = d.model.clone();
                merged.extend(m);
                finding(
                    out,
                    ctx,
                    st,
                    "return",
                    what,
                    None,
                    Some((merged, eq)),
                    Expect::Return(want),
                );
            }
        }
    }
}

enum Expect {
    Trap(TrapCode, Option<u32>, Option<String>),
    Return(Val),
    Goal(Goal),
}

/// Builds a finding from a path (its model, or `extra`: a model with one more constraint),
/// replays it concretely and keeps it only if the replay reproduces it.
#[allow(clippy::too_many_arguments)]
fn finding(
    out: &mut Out,
    ctx: &Ctx<'_>,
    st: &State,
    kind: &str,
    what: String,
    location: Option<String>,
    extra: Option<(HashMap<u32, u64>, TermId)>,
    expect: Expect,
) {
    let d = &st.m.domain;
    let t = &d.terms;
    let (model, extra_c) = match extra {
        Some((m, c)) => (m, Some(c)),
        None => (d.model.clone(), None),
    };
    let mut inputs = Inputs::default();
    let mut shown = Vec::new();
    for (i, (sym, v, ty)) in ctx.params.iter().enumerate() {
        let val = match sym {
            Some(s) => bits_val(t.eval(*s, &model) as u128, *ty),
            None => *v,
        };
        shown.push(InputValue {
            name: format!("a{i}"),
            value: val.to_string(),
        });
        inputs.params.push(val);
    }
    for (addr, syms) in &ctx.mem {
        let bytes: Vec<u8> = syms.iter().map(|s| t.eval(*s, &model) as u8).collect();
        shown.push(InputValue {
            name: format!("mem[0x{addr:x}..0x{:x}]", *addr as usize + bytes.len()),
            value: format!(
                "{} {}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                escape_bytes(&bytes)
            ),
        });
        inputs.mem.push((*addr, bytes));
    }
    if !ctx.stdin.is_empty() {
        let bytes: Vec<u8> = ctx.stdin.iter().map(|s| t.eval(*s, &model) as u8).collect();
        shown.push(InputValue {
            name: "stdin".into(),
            value: format!(
                "{} {}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                escape_bytes(&bytes)
            ),
        });
        inputs.stdin = bytes;
    }
    for (k, h) in d.host_inputs.iter().enumerate() {
        let bits = match h.value {
            SymVal::Con(b) => b,
            SymVal::Sym(s) => t.eval(s, &model) as u128,
        };
        let val = bits_val(bits, h.ty);
        shown.push(InputValue {
            name: format!("{}#{k}", h.import),
            value: val.to_string(),
        });
        inputs.host.push(val);
    }
    let key = format!("{kind}|{what}|{}", location.clone().unwrap_or_default());
    if out.findings.iter().any(|(k, _)| *k == key) {
        return;
    }
    let (outcome, hit) = replay::replay(
        ctx.task,
        &inputs,
        ctx.cfg.fuel.saturating_mul(2),
        ctx.cfg.max_memory_pages,
    );
    let confirmed = match (&expect, &outcome) {
        (Expect::Trap(code, off, detail), Outcome::Trapped(tr)) => {
            tr.code == *code && tr.offset == *off && (detail.is_none() || tr.detail == *detail)
        }
        (Expect::Return(v), Outcome::Returned(r)) => {
            r.first().map(|x| x.to_string()) == Some(v.to_string())
        }
        (Expect::Goal(g), _) => hit.as_ref() == Some(g),
        _ => false,
    };
    if !confirmed {
        out.unconfirmed += 1;
        out.incomplete.push(format!(
            "a {kind} finding was not reproduced by concrete replay ({outcome:?})"
        ));
        return;
    }
    let replay_text = match &outcome {
        Outcome::Returned(v) if v.is_empty() => "confirmed: returned".to_string(),
        Outcome::Returned(v) => format!(
            "confirmed: returned {}",
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::Trapped(tr) => format!("confirmed: trap: {tr}"),
        Outcome::Exited(c) => format!("confirmed: exit {c}"),
        Outcome::Failed(e) => format!("confirmed: {e}"),
    };
    let replay_text = match (&expect, hit) {
        (Expect::Goal(_), Some(g)) => format!("{replay_text}; reached {}", goal_text(ctx, &g)),
        _ => replay_text,
    };
    let mut constraints: Vec<String> = d.pc.iter().map(|c| t.display(c.term)).collect();
    if let Some(c) = extra_c {
        constraints.push(t.display(c));
    }
    out.findings.push((
        key,
        Finding {
            kind: kind.to_string(),
            what,
            location,
            constraints,
            inputs: shown,
            replay: replay_text,
            forks: st.forks,
        },
    ));
    let _ = ctx.result_ty;
}
