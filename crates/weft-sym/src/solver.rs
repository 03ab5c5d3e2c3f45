//! SMT solvers behind one trait, spoken to in SMT-LIB2 through a pipe.
//!
//! Each solver runs as a child process (a crash or a runaway query cannot take the explorer
//! down), is used incrementally (`push`, query, `pop`), and every answer is awaited with a
//! deadline: a solver that does not answer in time is killed, restarted on the next query,
//! and the query counts as `unknown`.

use crate::smt;
use crate::term::{TermId, Terms};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Which solver binary to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SolverKind {
    /// cvc5 (the default: fastest on the bit-vector queries we measured).
    Cvc5,
    /// z3.
    Z3,
}

impl SolverKind {
    /// Parses `cvc5` or `z3`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "cvc5" => Ok(SolverKind::Cvc5),
            "z3" => Ok(SolverKind::Z3),
            _ => Err(format!("unknown solver `{s}` (expected cvc5 or z3)")),
        }
    }

    /// The binary's name.
    pub fn binary(self) -> &'static str {
        match self {
            SolverKind::Cvc5 => "cvc5",
            SolverKind::Z3 => "z3",
        }
    }
}

/// How to start a solver.
#[derive(Clone, Debug)]
pub struct SolverConfig {
    /// Which solver.
    pub kind: SolverKind,
    /// Explicit binary path (default: looked up on `PATH`).
    pub path: Option<PathBuf>,
    /// Time limit per query.
    pub timeout: Duration,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            kind: SolverKind::Cvc5,
            path: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// A solver's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SatResult {
    /// Satisfiable, with a value for every symbol of the query.
    Sat(HashMap<u32, u64>),
    /// Unsatisfiable.
    Unsat,
    /// No answer (timeout, resource limit, solver gave up).
    Unknown(String),
}

/// Why a solver could not be used at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SolverError {
    /// The binary is not installed.
    #[error("solver `{0}` not found: install it (e.g. `apt-get install cvc5 z3`) or choose another with --solver")]
    NotInstalled(String),
    /// The solver answered something we did not expect.
    #[error("solver protocol error: {0}")]
    Protocol(String),
}

/// Counters of a solver's work.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SolverStats {
    /// Queries sent.
    pub queries: u64,
    /// Queries answered `unknown` (including timeouts).
    pub unknown: u64,
    /// Time spent waiting for answers.
    pub time: Duration,
}

/// A satisfiability oracle for conjunctions of Boolean terms.
pub trait Solver: Send {
    /// Checks the conjunction of `assertions`; on `sat`, returns values of their symbols.
    fn check(&mut self, terms: &Terms, assertions: &[TermId]) -> Result<SatResult, SolverError>;
    /// Work done so far.
    fn stats(&self) -> SolverStats;
}

/// Starts the configured solver, failing early with a clear message if it is not installed.
pub fn start(config: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    let mut p = SmtProcess {
        config: config.clone(),
        proc: None,
        stats: SolverStats::default(),
    };
    p.ensure()?;
    Ok(Box::new(p))
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

/// A solver as a child process speaking SMT-LIB2 on stdin/stdout.
pub struct SmtProcess {
    config: SolverConfig,
    proc: Option<Running>,
    stats: SolverStats,
}

impl Drop for SmtProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl SmtProcess {
    fn kill(&mut self) {
        if let Some(mut r) = self.proc.take() {
            let _ = r.stdin.write_all(b"(exit)\n");
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }

    fn ensure(&mut self) -> Result<&mut Running, SolverError> {
        if self.proc.is_none() {
            let bin = self
                .config
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(self.config.kind.binary()));
            let ms = self.config.timeout.as_millis().max(1);
            let mut cmd = Command::new(&bin);
            match self.config.kind {
                SolverKind::Cvc5 => {
                    cmd.args([
                        "--lang=smt2",
                        "--incremental",
                        "--produce-models",
                        &format!("--tlimit-per={ms}"),
                    ]);
                }
                SolverKind::Z3 => {
                    cmd.args(["-in", "-smt2"]);
                }
            }
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        SolverError::NotInstalled(bin.display().to_string())
                    } else {
                        SolverError::Protocol(format!("cannot start {}: {e}", bin.display()))
                    }
                })?;
            let stdin = child.stdin.take().expect("piped stdin");
            let stdout = child.stdout.take().expect("piped stdout");
            let (tx, rx) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    match line {
                        Ok(l) => {
                            if tx.send(l).is_err() {
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            });
            let mut r = Running {
                child,
                stdin,
                lines: rx,
            };
            let mut init = String::from("(set-option :print-success false)\n");
            if self.config.kind == SolverKind::Z3 {
                init.push_str(&format!(
                    "(set-option :produce-models true)\n(set-option :timeout {ms})\n"
                ));
            }
            init.push_str("(set-logic QF_FPBV)\n");
            r.stdin
                .write_all(init.as_bytes())
                .map_err(|e| SolverError::Protocol(format!("write to solver: {e}")))?;
            self.proc = Some(r);
        }
        Ok(self.proc.as_mut().expect("just started"))
    }

    /// Reads one complete s-expression or atom (balanced parentheses) before `deadline`.
    fn read_answer(&mut self, deadline: Instant) -> Option<String> {
        let r = self.proc.as_mut()?;
        let mut acc = String::new();
        let mut depth: i64 = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match r.lines.recv_timeout(left) {
                Ok(line) => {
                    for ch in line.chars() {
                        match ch {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                    }
                    acc.push_str(&line);
                    acc.push(' ');
                    if depth <= 0 && !acc.trim().is_empty() {
                        return Some(acc.trim().to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None
                }
            }
        }
    }

    fn query(&mut self, script: &smt::Script) -> Result<SatResult, SolverError> {
        let deadline = Instant::now() + self.config.timeout + Duration::from_secs(2);
        let r = self.ensure()?;
        let mut text = String::with_capacity(script.text.len() + 64);
        text.push_str("(push 1)\n");
        text.push_str(&script.text);
        text.push_str("(check-sat)\n");
        if r.stdin
            .write_all(text.as_bytes())
            .and_then(|_| r.stdin.flush())
            .is_err()
        {
            self.kill();
            return Ok(SatResult::Unknown("solver exited".into()));
        }
        let Some(ans) = self.read_answer(deadline) else {
            self.kill();
            return Ok(SatResult::Unknown("timeout".into()));
        };
        let result = match ans.as_str() {
            "unsat" => SatResult::Unsat,
            "unknown" => SatResult::Unknown("solver answered unknown".into()),
            "sat" => {
                let mut model = HashMap::new();
                if !script.symbols.is_empty() {
                    let names: Vec<String> = script
                        .symbols
                        .iter()
                        .map(|i| smt::symbol_name(*i))
                        .collect();
                    let cmd = format!("(get-value ({}))\n", names.join(" "));
                    let r = self.proc.as_mut().expect("running");
                    if r.stdin
                        .write_all(cmd.as_bytes())
                        .and_then(|_| r.stdin.flush())
                        .is_err()
                    {
                        self.kill();
                        return Ok(SatResult::Unknown("solver exited".into()));
                    }
                    let Some(vals) = self.read_answer(deadline) else {
                        self.kill();
                        return Ok(SatResult::Unknown("timeout in get-value".into()));
                    };
                    model = parse_model(&vals).ok_or_else(|| {
                        SolverError::Protocol(format!("cannot parse model `{vals}`"))
                    })?;
                }
                SatResult::Sat(model)
            }
            other => {
                self.kill();
                return Err(SolverError::Protocol(format!(
                    "unexpected answer `{other}`"
                )));
            }
        };
        let r = self.proc.as_mut().expect("running");
        if r.stdin
            .write_all(b"(pop 1)\n")
            .and_then(|_| r.stdin.flush())
            .is_err()
        {
            self.kill();
        }
        Ok(result)
    }
}

/// Parses `((v0 #x01) (v3 (_ bv5 8)))` into symbol values.
fn parse_model(s: &str) -> Option<HashMap<u32, u64>> {
    let mut out = HashMap::new();
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let r = rest.strip_prefix('(')?;
        // Find the matching close parenthesis of this pair.
        let mut depth = 1;
        let mut end = 0;
        for (i, ch) in r.char_indices() {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let pair = r[..end].trim();
        let (name, val) = pair.split_once(char::is_whitespace)?;
        let idx: u32 = name.strip_prefix('v')?.parse().ok()?;
        out.insert(idx, smt::parse_value(val)?);
        rest = r[end + 1..].trim();
    }
    Some(out)
}

impl Solver for SmtProcess {
    fn check(&mut self, terms: &Terms, assertions: &[TermId]) -> Result<SatResult, SolverError> {
        let start = Instant::now();
        let script = smt::print(terms, assertions);
        let r = self.query(&script);
        self.stats.queries += 1;
        self.stats.time += start.elapsed();
        if let Ok(SatResult::Unknown(_)) = r {
            self.stats.unknown += 1;
        }
        r
    }

    fn stats(&self) -> SolverStats {
        self.stats.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::Op;
    use weft_core::ValType;

    #[test]
    fn parses_models() {
        let m = parse_model("((v0 #x41) (v12 (_ bv7 32)))").unwrap();
        assert_eq!(m[&0], 0x41);
        assert_eq!(m[&12], 7);
    }

    #[test]
    fn missing_binary_is_a_clear_error() {
        let cfg = SolverConfig {
            path: Some(PathBuf::from("/nonexistent/solver-binary")),
            ..Default::default()
        };
        match start(&cfg) {
            Err(SolverError::NotInstalled(p)) => assert!(p.contains("solver-binary")),
            other => panic!("expected NotInstalled, got {:?}", other.map(|_| ())),
        }
    }

    fn solve_with(kind: SolverKind) {
        let cfg = SolverConfig {
            kind,
            ..Default::default()
        };
        let mut s = start(&cfg).expect("solver installed");
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let y = t.fresh("y", 32);
        let prod = t.app(Op::Mul, 32, &[x, y]);
        let c1 = t.app(Op::Eq, 0, &[prod, t.constant(32, 391)]);
        let c2 = t.app(Op::Ult, 0, &[t.constant(32, 1), x]);
        let c3 = t.app(Op::Ult, 0, &[x, y]);
        let c4 = t.app(Op::Ult, 0, &[y, t.constant(32, 1000)]);
        match s.check(&t, &[c1, c2, c3, c4]).unwrap() {
            SatResult::Sat(m) => {
                for c in [c1, c2, c3, c4] {
                    assert_eq!(t.eval(c, &m), 1, "model {m:?} violates a constraint");
                }
            }
            other => panic!("expected sat, got {other:?}"),
        }
        let neq = t.app(Op::Eq, 0, &[x, y]);
        assert_eq!(s.check(&t, &[c3, neq]).unwrap(), SatResult::Unsat);
        assert_eq!(s.stats().queries, 2);
    }

    macro_rules! op_lists {
        (
            { }
            unary { $($u:ident $un:literal $ua:ident -> $ur:ident,)* }
            binary { $($b:ident $bn:literal $ba:ident $bb:ident -> $br:ident,)* }
            $($rest:tt)*
        ) => {
            const ALL_UNARY: &[weft_core::UnaryOp] = &[$(weft_core::UnaryOp::$u,)*];
            const ALL_BINARY: &[weft_core::BinaryOp] = &[$(weft_core::BinaryOp::$b,)*];
        };
    }
    weft_core::for_each_op!(op_lists {});

    fn is_float(t: ValType) -> bool {
        matches!(t, ValType::F32 | ValType::F64)
    }

    /// Operand values that exercise the corners of float semantics.
    fn float_operands(w: u8) -> Vec<u64> {
        let f64s = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            2.5,
            -2.5,
            0.1,
            3e9,
            -3e9,
            1e19,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut v: Vec<u64> = if w == 32 {
            f64s.iter().map(|x| (*x as f32).to_bits() as u64).collect()
        } else {
            f64s.iter().map(|x| x.to_bits()).collect()
        };
        v.push(1); // the smallest subnormal
        v
    }

    fn is_nan(bits: u64, w: u8) -> bool {
        if w == 32 {
            f32::from_bits(bits as u32).is_nan()
        } else {
            f64::from_bits(bits).is_nan()
        }
    }

    fn width(t: ValType) -> u8 {
        match t {
            ValType::I32 | ValType::F32 => 32,
            _ => 64,
        }
    }

    /// Every float operator the solver encodes, on corner-case operands pinned by
    /// constraints (so nothing folds): the solver's value of each node must be the engine's,
    /// or a NaN where the engine's is a NaN.
    fn float_encoding_matches_the_engine(kind: SolverKind) {
        use weft_exec::{Concrete, Domain};
        let cfg = SolverConfig {
            kind,
            ..Default::default()
        };
        let mut s = start(&cfg).expect("solver installed");
        let mut checked = 0;
        // (node, the engine's bits, result width, float result) under the pins.
        let mut check = |t: &Terms, pins: Vec<TermId>, cases: Vec<(TermId, u64, u8, bool)>| {
            let mut cs = pins;
            let mut results = Vec::new();
            for (node, _, rw, _) in &cases {
                let r = t.fresh("r", *rw);
                cs.push(t.app(Op::Eq, 0, &[r, *node]));
                let Op::Var(ri) = t.node(r).op else {
                    unreachable!("a fresh symbol")
                };
                results.push(ri);
            }
            match s.check(t, &cs).unwrap() {
                SatResult::Sat(m) => {
                    for ((node, want, rw, float), ri) in cases.iter().zip(results) {
                        let got = m[&ri];
                        let ok = if *float && is_nan(*want, *rw) {
                            is_nan(got, *rw)
                        } else {
                            got == *want
                        };
                        assert!(
                            ok,
                            "{}: solver {got:#x}, engine {want:#x}",
                            t.display(*node)
                        );
                        checked += 1;
                    }
                }
                other => panic!("{}: expected sat, got {other:?}", t.display(cases[0].0)),
            }
        };
        let ints = [
            0u64,
            1,
            7,
            u64::MAX,
            1 << 31,
            (1 << 31) - 1,
            1 << 63,
            0x1234_5678_9abc,
        ];
        let unary: Vec<_> = ALL_UNARY
            .iter()
            .copied()
            .filter(|o| smt::encodes_unary(*o))
            .collect();
        for at in [ValType::I32, ValType::I64, ValType::F32, ValType::F64] {
            let aw = width(at);
            let operands: Vec<u64> = if is_float(at) {
                float_operands(aw)
            } else {
                ints.iter().map(|v| v & (u64::MAX >> (64 - aw))).collect()
            };
            for a in operands {
                let t = Terms::default();
                let x = t.fresh("x", aw);
                let pin = t.app(Op::Eq, 0, &[x, t.constant(aw, a)]);
                for op in unary.iter().copied().filter(|o| o.operand_type() == at) {
                    // A trapping conversion is split off by the domain before the node exists.
                    let Ok(want) = Concrete.unary(op, a as u128) else {
                        continue;
                    };
                    let rw = width(op.result_type());
                    let node = t.app(Op::FUnary(op), rw, &[x]);
                    let case = (node, want as u64, rw, is_float(op.result_type()));
                    check(&t, vec![pin], vec![case]);
                }
            }
        }
        let binary: Vec<_> = ALL_BINARY
            .iter()
            .copied()
            .filter(|o| smt::encodes_binary(*o))
            .collect();
        for at in [ValType::F32, ValType::F64] {
            let aw = width(at);
            // Every pair of a smaller set: zeros of both signs, ordinary values, an infinity
            // and a NaN.
            let few: Vec<u64> = float_operands(aw)
                .into_iter()
                .enumerate()
                .filter(|(i, _)| [0, 1, 3, 4, 10, 12].contains(i))
                .map(|(_, v)| v)
                .collect();
            for &a in &few {
                for &b in &few {
                    let t = Terms::default();
                    let x = t.fresh("x", aw);
                    let y = t.fresh("y", aw);
                    let pins = vec![
                        t.app(Op::Eq, 0, &[x, t.constant(aw, a)]),
                        t.app(Op::Eq, 0, &[y, t.constant(aw, b)]),
                    ];
                    for op in binary
                        .iter()
                        .copied()
                        .filter(|o| o.operand_types()[0] == at)
                    {
                        let want = Concrete.binary(op, a as u128, b as u128).unwrap() as u64;
                        let rw = width(op.result_type());
                        let node = t.app(Op::FBinary(op), rw, &[x, y]);
                        let case = (node, want, rw, is_float(op.result_type()));
                        check(&t, pins.clone(), vec![case]);
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} cases");
    }

    #[test]
    fn cvc5_float_encoding_matches_the_engine() {
        float_encoding_matches_the_engine(SolverKind::Cvc5);
    }

    #[test]
    fn z3_float_encoding_matches_the_engine() {
        float_encoding_matches_the_engine(SolverKind::Z3);
    }

    #[test]
    fn cvc5_solves_and_refutes() {
        solve_with(SolverKind::Cvc5);
    }

    #[test]
    fn z3_solves_and_refutes() {
        solve_with(SolverKind::Z3);
    }
}
