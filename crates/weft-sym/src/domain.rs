//! The symbolic domain: values are concrete bits or terms, and every place where execution
//! needs a concrete answer becomes a question to the explorer.
//!
//! When a branch condition, `select` condition, `br_table` index, address or trap condition
//! is symbolic and not yet decided on this path, the domain records a [`Query`] and answers
//! [`Fault::Fork`]: the machine stops before the instruction. The explorer asks the solver
//! which answers are feasible, clones the machine once per answer, tells each clone its
//! answer with [`Symbolic::force`] and resumes it; the re-executed instruction then finds
//! its answer, which is added to the path condition. Answers are cached per term, so an
//! instruction that needs several decisions (e.g. `memory.copy`) re-executes consistently.
//!
//! Invariant: [`Symbolic::model`] always satisfies the path condition, so one side of every
//! branch is known feasible without asking the solver.

use crate::memory::SymMemory;
use crate::term::{Op, TermId, Terms, Width};
use std::collections::{HashMap, HashSet};
use weft_core::{BinaryOp, LoadLaneOp, LoadOp, RefValue, StoreLaneOp, StoreOp, TernaryOp};
use weft_core::{TrapCode, UnaryOp, Val, ValType};
use weft_exec::concrete::{bits_ref, val_bits};
use weft_exec::{Concrete, ConcreteMemory, Domain, Fault};

/// A value: concrete bits (as the concrete domain holds them) or a term.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SymVal {
    /// Concrete bits, zero-extended.
    Con(u128),
    /// A symbolic bit-vector (floats as their bit pattern).
    Sym(TermId),
}

/// Why the domain needs a concrete value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ValueWhy {
    /// Table index, count.
    Index,
    /// `br_table` index, already clamped to the table length given here.
    BrTable(u32),
    /// Memory address.
    Address,
    /// An operator the term IR does not model (float arithmetic, SIMD), or a host call.
    Concretize,
}

/// A decision the domain asks its driver to make.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Is this Boolean term true (1) or false (0)? Trap conditions are branches too.
    Branch(TermId),
    /// Which value does this term take?
    Value(TermId, ValueWhy),
}

/// One conjunct of the path condition with the symbols it mentions.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// Boolean term.
    pub term: TermId,
    /// Symbols, sorted.
    pub vars: Vec<u32>,
}

/// A value a host import returned on this path (replayed in this order).
#[derive(Clone, Debug)]
pub struct HostInput {
    /// Import name.
    pub import: String,
    /// Result type.
    pub ty: ValType,
    /// The value returned.
    pub value: SymVal,
}

/// The symbolic domain of one path.
#[derive(Clone, Debug)]
pub struct Symbolic {
    /// The shared term table.
    pub terms: Terms,
    /// The path condition.
    pub pc: Vec<Constraint>,
    /// An assignment of symbols satisfying the path condition (absent symbols are 0).
    pub model: HashMap<u32, u64>,
    /// Values host imports returned, in call order.
    pub host_inputs: Vec<HostInput>,
    /// Values concretised by a single model (the path may miss others).
    pub concretized: u32,
    /// The path's WASI state, for modules that import WASI.
    pub wasi: Option<crate::wasi::SymWasi>,
    decided: HashMap<TermId, u64>,
    forced: Option<(TermId, u64)>,
    query: Option<Query>,
}

fn width_of(ty: ValType) -> Option<Width> {
    match ty {
        ValType::I32 | ValType::F32 => Some(32),
        ValType::I64 | ValType::F64 => Some(64),
        _ => None,
    }
}

impl Symbolic {
    /// A domain with an empty path condition over `terms`.
    pub fn new(terms: Terms) -> Self {
        Symbolic {
            terms,
            pc: Vec::new(),
            model: HashMap::new(),
            host_inputs: Vec::new(),
            concretized: 0,
            wasi: None,
            decided: HashMap::new(),
            forced: None,
            query: None,
        }
    }

    /// A fresh symbol of `width` bits.
    pub fn fresh(&mut self, name: &str, width: Width) -> TermId {
        self.terms.fresh(name, width)
    }

    /// A fresh input byte; when `printable`, constrained to printable ASCII (0x20..=0x7e)
    /// with `A` as its model value, so the model stays valid. Used by `--sym-mem` regions
    /// and symbolic standard input alike.
    pub fn fresh_byte(&mut self, name: &str, printable: bool) -> TermId {
        let t = self.fresh(name, 8);
        if printable {
            let terms = self.terms.clone();
            let lo = terms.app(Op::Ule, 0, &[terms.constant(8, 0x20), t]);
            let hi = terms.app(Op::Ule, 0, &[t, terms.constant(8, 0x7e)]);
            self.assume(terms.app(Op::BAnd, 0, &[lo, hi]));
            if let Op::Var(v) = terms.node(t).op {
                self.model.insert(v, b'A' as u64);
            }
        }
        t
    }

    /// Adds a Boolean constraint to the path condition (the caller keeps `model` valid).
    pub fn assume(&mut self, b: TermId) {
        if self.terms.as_const(b) == Some(1) {
            return;
        }
        let vars = self.terms.vars(&[b]);
        self.pc.push(Constraint { term: b, vars });
    }

    /// The decision the machine stopped for, if any.
    pub fn take_query(&mut self) -> Option<Query> {
        self.query.take()
    }

    /// Answers the pending decision about `term` with `value`; `model` (if given) replaces
    /// the values of its symbols in the path's model and must satisfy the new path condition.
    pub fn force(&mut self, term: TermId, value: u64, model: Option<&HashMap<u32, u64>>) {
        self.forced = Some((term, value));
        if let Some(m) = model {
            for (k, v) in m {
                self.model.insert(*k, *v);
            }
        }
    }

    /// The constraints that share symbols (transitively) with `vars`.
    pub fn slice(&self, vars: &[u32]) -> Vec<TermId> {
        let mut set: HashSet<u32> = vars.iter().copied().collect();
        let mut taken = vec![false; self.pc.len()];
        let mut out = Vec::new();
        loop {
            let mut grew = false;
            for (i, c) in self.pc.iter().enumerate() {
                if !taken[i] && c.vars.iter().any(|v| set.contains(v)) {
                    taken[i] = true;
                    grew = true;
                    out.push((i, c.term));
                    set.extend(c.vars.iter().copied());
                }
            }
            if !grew {
                break;
            }
        }
        out.sort_unstable();
        out.into_iter().map(|(_, t)| t).collect()
    }

    /// Evaluates a value under the path's model.
    pub fn eval(&self, v: SymVal) -> u128 {
        match v {
            SymVal::Con(b) => b,
            SymVal::Sym(t) => self.terms.eval(t, &self.model) as u128,
        }
    }

    fn term_of(&self, v: SymVal, w: Width) -> TermId {
        match v {
            SymVal::Con(b) => self.terms.constant(w, b as u64),
            SymVal::Sym(t) => t,
        }
    }

    fn wrap(&self, t: TermId) -> SymVal {
        match self.terms.as_const(t) {
            Some(c) => SymVal::Con(c as u128),
            None => SymVal::Sym(t),
        }
    }

    /// Decides a Boolean term: cached, forced by the driver, or a fork request.
    pub fn decide_bool(&mut self, b: TermId) -> Result<bool, Fault> {
        if let Some(c) = self.terms.as_const(b) {
            return Ok(c != 0);
        }
        if let Some(v) = self.decided.get(&b) {
            return Ok(*v != 0);
        }
        match self.forced {
            Some((t, v)) if t == b => {
                self.forced = None;
                let c = if v != 0 {
                    b
                } else {
                    self.terms.app(Op::BNot, 0, &[b])
                };
                self.assume(c);
                self.decided.insert(b, v);
                Ok(v != 0)
            }
            _ => {
                self.query = Some(Query::Branch(b));
                Err(Fault::Fork)
            }
        }
    }

    /// Decides the value of a bit-vector term.
    pub fn decide_value(&mut self, t: TermId, why: ValueWhy) -> Result<u64, Fault> {
        if let Some(c) = self.terms.as_const(t) {
            return Ok(c);
        }
        if let Some(v) = self.decided.get(&t) {
            return Ok(*v);
        }
        match self.forced {
            Some((f, v)) if f == t => {
                self.forced = None;
                let w = self.terms.width(t);
                let eq = self.terms.app(Op::Eq, 0, &[t, self.terms.constant(w, v)]);
                self.assume(eq);
                self.decided.insert(t, v);
                if why == ValueWhy::Concretize {
                    self.concretized += 1;
                }
                Ok(v)
            }
            _ => {
                self.query = Some(Query::Value(t, why));
                Err(Fault::Fork)
            }
        }
    }

    /// Concrete bits of a value, concretising a term if needed.
    pub fn concrete(&mut self, v: SymVal) -> Result<u128, Fault> {
        match v {
            SymVal::Con(b) => Ok(b),
            SymVal::Sym(t) => Ok(self.decide_value(t, ValueWhy::Concretize)? as u128),
        }
    }

    fn trap_if(&mut self, cond: TermId, code: TrapCode) -> Result<(), Fault> {
        if self.decide_bool(cond)? {
            Err(Fault::Trap(code))
        } else {
            Ok(())
        }
    }

    fn int_binary(
        &mut self,
        op: BinaryOp,
        w: Width,
        a: TermId,
        b: TermId,
    ) -> Result<SymVal, Fault> {
        use BinaryOp::*;
        let t = &self.terms;
        let cmp = |o: Op, x: TermId, y: TermId| t.bool_to_bv(t.app(o, 0, &[x, y]), 32);
        let masked = |y: TermId| t.app(Op::And, w, &[y, t.constant(w, w as u64 - 1)]);
        let r = match op {
            I32Eq | I64Eq => cmp(Op::Eq, a, b),
            I32Ne | I64Ne => {
                let e = t.app(Op::Eq, 0, &[a, b]);
                t.bool_to_bv(t.app(Op::BNot, 0, &[e]), 32)
            }
            I32LtS | I64LtS => cmp(Op::Slt, a, b),
            I32LtU | I64LtU => cmp(Op::Ult, a, b),
            I32GtS | I64GtS => cmp(Op::Slt, b, a),
            I32GtU | I64GtU => cmp(Op::Ult, b, a),
            I32LeS | I64LeS => cmp(Op::Sle, a, b),
            I32LeU | I64LeU => cmp(Op::Ule, a, b),
            I32GeS | I64GeS => cmp(Op::Sle, b, a),
            I32GeU | I64GeU => cmp(Op::Ule, b, a),
            I32Add | I64Add => t.app(Op::Add, w, &[a, b]),
            I32Sub | I64Sub => t.app(Op::Sub, w, &[a, b]),
            I32Mul | I64Mul => t.app(Op::Mul, w, &[a, b]),
            I32And | I64And => t.app(Op::And, w, &[a, b]),
            I32Or | I64Or => t.app(Op::Or, w, &[a, b]),
            I32Xor | I64Xor => t.app(Op::Xor, w, &[a, b]),
            I32Shl | I64Shl => t.app(Op::Shl, w, &[a, masked(b)]),
            I32ShrS | I64ShrS => t.app(Op::AShr, w, &[a, masked(b)]),
            I32ShrU | I64ShrU => t.app(Op::LShr, w, &[a, masked(b)]),
            I32Rotl | I64Rotl => t.app(Op::Rotl, w, &[a, masked(b)]),
            I32Rotr | I64Rotr => t.app(Op::Rotr, w, &[a, masked(b)]),
            I32DivU | I64DivU | I32RemU | I64RemU | I32DivS | I64DivS | I32RemS | I64RemS => {
                let zero = t.app(Op::Eq, 0, &[b, t.constant(w, 0)]);
                self.trap_if(zero, TrapCode::IntegerDivideByZero)?;
                let t = &self.terms;
                if matches!(op, I32DivS | I64DivS) {
                    let min = t.app(Op::Eq, 0, &[a, t.constant(w, 1u64 << (w - 1))]);
                    let m1 = t.app(Op::Eq, 0, &[b, t.constant(w, u64::MAX)]);
                    let ov = t.app(Op::BAnd, 0, &[min, m1]);
                    self.trap_if(ov, TrapCode::IntegerOverflow)?;
                }
                let t = &self.terms;
                let o = match op {
                    I32DivU | I64DivU => Op::UDiv,
                    I32RemU | I64RemU => Op::URem,
                    I32DivS | I64DivS => Op::SDiv,
                    _ => Op::SRem,
                };
                t.app(o, w, &[a, b])
            }
            _ => unreachable!("not an integer operator: {op:?}"),
        };
        Ok(self.wrap(r))
    }

    /// For a trapping float-to-integer conversion of `x`, an `i32` term that is 1 exactly when
    /// it does not trap (not NaN, and truncated into the target's range); `None` for other
    /// operators.
    fn conversion_in_range(&self, op: UnaryOp, x: TermId) -> Option<TermId> {
        use UnaryOp::*;
        let (signed, to) = match op {
            I32TruncF32S | I32TruncF64S => (true, 32),
            I64TruncF32S | I64TruncF64S => (true, 64),
            I32TruncF32U | I32TruncF64U => (false, 32),
            I64TruncF32U | I64TruncF64U => (false, 64),
            _ => return None,
        };
        let from64 = matches!(
            op,
            I32TruncF64S | I64TruncF64S | I32TruncF64U | I64TruncF64U
        );
        let t = &self.terms;
        let c = |v: f64| {
            if from64 {
                t.constant(64, v.to_bits())
            } else {
                t.constant(32, (v as f32).to_bits() as u64)
            }
        };
        let cmp = |f32op: BinaryOp, f64op: BinaryOp, a: TermId, b: TermId| {
            t.app(Op::FBinary(if from64 { f64op } else { f32op }), 32, &[a, b])
        };
        let high = c(2f64.powi(if signed { to - 1 } else { to }));
        let below_high = cmp(BinaryOp::F32Lt, BinaryOp::F64Lt, x, high);
        // The lowest operand that truncates into range: -2^(n-1) itself where the float has no
        // value between it and -2^(n-1) - 1 (f32 always; f64 for 64-bit targets), else
        // anything above -2^(n-1) - 1; for unsigned targets, anything above -1.
        let above_low = if !signed {
            cmp(BinaryOp::F32Gt, BinaryOp::F64Gt, x, c(-1.0))
        } else if from64 && to == 32 {
            cmp(BinaryOp::F32Gt, BinaryOp::F64Gt, x, c(-2147483649.0))
        } else {
            cmp(BinaryOp::F32Ge, BinaryOp::F64Ge, x, c(-(2f64.powi(to - 1))))
        };
        Some(t.app(Op::And, 32, &[below_high, above_low]))
    }

    fn is_int_binary(op: BinaryOp) -> bool {
        let [x, y] = op.operand_types();
        matches!(x, ValType::I32 | ValType::I64)
            && x == y
            && !matches!(op.result_type(), ValType::V128)
    }
}

fn load_scalar(bytes: &[u8], op: LoadOp) -> u128 {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= (*b as u64) << (8 * i);
    }
    let w = bytes.len() as u32 * 8;
    let s = |x: u64| -> i64 { ((x << (64 - w)) as i64) >> (64 - w) };
    use LoadOp::*;
    (match op {
        I32Load8S | I32Load16S => s(v) as i32 as u32 as u64,
        I64Load8S | I64Load16S | I64Load32S => s(v) as u64,
        _ => v,
    }) as u128
}

impl Domain for Symbolic {
    type Value = SymVal;
    type Memory = SymMemory;

    fn constant(&mut self, v: Val) -> SymVal {
        SymVal::Con(val_bits(v))
    }

    fn unary(&mut self, op: UnaryOp, a: SymVal) -> Result<SymVal, Fault> {
        let t = match a {
            SymVal::Con(x) => return Concrete.unary(op, x).map(SymVal::Con),
            SymVal::Sym(t) => t,
        };
        use UnaryOp::*;
        let tt = &self.terms;
        let r = match op {
            I32Eqz | I64Eqz => {
                let w = tt.width(t);
                tt.bool_to_bv(tt.app(Op::Eq, 0, &[t, tt.constant(w, 0)]), 32)
            }
            I32Clz => tt.app(Op::Clz, 32, &[t]),
            I32Ctz => tt.app(Op::Ctz, 32, &[t]),
            I32Popcnt => tt.app(Op::Popcnt, 32, &[t]),
            I64Clz => tt.app(Op::Clz, 64, &[t]),
            I64Ctz => tt.app(Op::Ctz, 64, &[t]),
            I64Popcnt => tt.app(Op::Popcnt, 64, &[t]),
            I32WrapI64 => tt.extract(31, 0, t),
            I64ExtendI32S => tt.app(Op::SExt, 64, &[t]),
            I64ExtendI32U => tt.app(Op::ZExt, 64, &[t]),
            I32Extend8S => tt.app(Op::SExt, 32, &[tt.extract(7, 0, t)]),
            I32Extend16S => tt.app(Op::SExt, 32, &[tt.extract(15, 0, t)]),
            I64Extend8S => tt.app(Op::SExt, 64, &[tt.extract(7, 0, t)]),
            I64Extend16S => tt.app(Op::SExt, 64, &[tt.extract(15, 0, t)]),
            I64Extend32S => tt.app(Op::SExt, 64, &[tt.extract(31, 0, t)]),
            I32ReinterpretF32 | I64ReinterpretF64 | F32ReinterpretI32 | F64ReinterpretI64 => t,
            F32Neg => tt.app(Op::Xor, 32, &[t, tt.constant(32, 1 << 31)]),
            F64Neg => tt.app(Op::Xor, 64, &[t, tt.constant(64, 1 << 63)]),
            F32Abs => tt.app(Op::And, 32, &[t, tt.constant(32, (1 << 31) - 1)]),
            F64Abs => tt.app(Op::And, 64, &[t, tt.constant(64, (1 << 63) - 1)]),
            _ if crate::smt::encodes_unary(op) => {
                if let Some(valid) = self.conversion_in_range(op, t) {
                    let t = &self.terms;
                    let bad = t.app(Op::Eq, 0, &[valid, t.constant(32, 0)]);
                    self.trap_if(bad, TrapCode::BadConversionToInteger)?;
                }
                let w = width_of(op.result_type()).unwrap_or(32);
                self.terms.app(Op::FUnary(op), w, &[t])
            }
            _ => {
                // SIMD: concretise the operand, run the concrete operator.
                let x = self.concrete(a)?;
                return Concrete.unary(op, x).map(SymVal::Con);
            }
        };
        Ok(self.wrap(r))
    }

    fn binary(&mut self, op: BinaryOp, a: SymVal, b: SymVal) -> Result<SymVal, Fault> {
        if let (SymVal::Con(x), SymVal::Con(y)) = (a, b) {
            return Concrete.binary(op, x, y).map(SymVal::Con);
        }
        if Self::is_int_binary(op) {
            let w = width_of(op.operand_types()[0]).unwrap_or(32);
            let (x, y) = (self.term_of(a, w), self.term_of(b, w));
            return self.int_binary(op, w, x, y);
        }
        if matches!(op, BinaryOp::F32Copysign | BinaryOp::F64Copysign) {
            let w = if op == BinaryOp::F32Copysign { 32 } else { 64 };
            let sign = 1u64 << (w - 1);
            let t = &self.terms;
            let (x, y) = (self.term_of(a, w), self.term_of(b, w));
            let mag = t.app(Op::And, w, &[x, t.constant(w, sign - 1)]);
            let sg = t.app(Op::And, w, &[y, t.constant(w, sign)]);
            return Ok(self.wrap(t.app(Op::Or, w, &[mag, sg])));
        }
        if crate::smt::encodes_binary(op) {
            let w = width_of(op.operand_types()[0]).unwrap_or(32);
            let rw = width_of(op.result_type()).unwrap_or(32);
            let (x, y) = (self.term_of(a, w), self.term_of(b, w));
            return Ok(self.wrap(self.terms.app(Op::FBinary(op), rw, &[x, y])));
        }
        let x = self.concrete(a)?;
        let y = self.concrete(b)?;
        Concrete.binary(op, x, y).map(SymVal::Con)
    }

    fn ternary(&mut self, op: TernaryOp, a: SymVal, b: SymVal, c: SymVal) -> Result<SymVal, Fault> {
        let x = self.concrete(a)?;
        let y = self.concrete(b)?;
        let z = self.concrete(c)?;
        Concrete.ternary(op, x, y, z).map(SymVal::Con)
    }

    fn shuffle(&mut self, lanes: &[u8; 16], a: SymVal, b: SymVal) -> SymVal {
        // Vectors are never symbolic: every path that makes one concretises first.
        let x = self.eval(a);
        let y = self.eval(b);
        SymVal::Con(Concrete.shuffle(lanes, x, y))
    }

    fn condition(&mut self, c: SymVal) -> Result<bool, Fault> {
        match c {
            SymVal::Con(x) => Ok(x as u32 != 0),
            SymVal::Sym(t) => {
                let b = self.terms.nonzero(t);
                self.decide_bool(b)
            }
        }
    }

    fn index(&mut self, v: SymVal) -> Result<u32, Fault> {
        match v {
            SymVal::Con(x) => Ok(x as u32),
            SymVal::Sym(t) => Ok(self.decide_value(t, ValueWhy::Index)? as u32),
        }
    }

    fn br_table_index(&mut self, v: SymVal, len: u32) -> Result<u32, Fault> {
        match v {
            SymVal::Con(x) => Ok((x as u32).min(len)),
            SymVal::Sym(t) => {
                let tt = &self.terms;
                let n = tt.constant(32, len as u64);
                let inside = tt.app(Op::Ult, 0, &[t, n]);
                let clamped = tt.app(Op::Ite, 32, &[inside, t, n]);
                Ok(self.decide_value(clamped, ValueWhy::BrTable(len))? as u32)
            }
        }
    }

    fn address(&mut self, v: SymVal) -> Result<u32, Fault> {
        match v {
            SymVal::Con(x) => Ok(x as u32),
            SymVal::Sym(t) => Ok(self.decide_value(t, ValueWhy::Address)? as u32),
        }
    }

    fn load(&mut self, mem: &SymMemory, addr: u64, op: LoadOp) -> Result<SymVal, Fault> {
        let n = op.width() as u64;
        let rty = op.result_type();
        if rty == ValType::V128 {
            // Vector loads see concrete bytes: concretise any symbolic one.
            let mut bytes = Vec::with_capacity(n as usize);
            for i in 0..n {
                bytes.push(match mem.sym(addr + i) {
                    Some(t) => self.decide_value(t, ValueWhy::Concretize)? as u8,
                    None => mem.byte(addr + i),
                });
            }
            let tmp = ConcreteMemory { data: bytes };
            return Concrete.load(&tmp, 0, op).map(SymVal::Con);
        }
        if !mem.any_sym(addr, n) {
            let bytes: Vec<u8> = (0..n).map(|i| mem.byte(addr + i)).collect();
            return Ok(SymVal::Con(load_scalar(&bytes, op)));
        }
        let t = &self.terms;
        let mut acc: Option<TermId> = None;
        for i in (0..n).rev() {
            let b = match mem.sym(addr + i) {
                Some(s) => s,
                None => t.constant(8, mem.byte(addr + i) as u64),
            };
            acc = Some(match acc {
                None => b,
                Some(hi) => {
                    let w = t.width(hi) + 8;
                    t.app(Op::Concat, w, &[hi, b])
                }
            });
        }
        let v = acc.expect("loads are at least one byte");
        let rw = width_of(rty).unwrap_or(32);
        use LoadOp::*;
        let signed = matches!(
            op,
            I32Load8S | I32Load16S | I64Load8S | I64Load16S | I64Load32S
        );
        let r = t.app(if signed { Op::SExt } else { Op::ZExt }, rw, &[v]);
        Ok(self.wrap(r))
    }

    fn store(&mut self, mem: &mut SymMemory, addr: u64, op: StoreOp, v: SymVal) {
        let n = op.width() as u64;
        match v {
            SymVal::Con(x) => {
                let bytes = x.to_le_bytes();
                for i in 0..n {
                    mem.set_byte(addr + i, bytes[i as usize]);
                }
            }
            SymVal::Sym(t) => {
                for i in 0..n {
                    let lo = (8 * i) as u8;
                    let b = self.terms.extract(lo + 7, lo, t);
                    match self.terms.as_const(b) {
                        Some(c) => mem.set_byte(addr + i, c as u8),
                        None => mem.set_sym(addr + i, b),
                    }
                }
            }
        }
    }

    fn load_lane(
        &mut self,
        mem: &SymMemory,
        addr: u64,
        op: LoadLaneOp,
        lane: u8,
        v: SymVal,
    ) -> Result<SymVal, Fault> {
        let n = op.width() as u64;
        let mut bytes = Vec::with_capacity(n as usize);
        for i in 0..n {
            bytes.push(match mem.sym(addr + i) {
                Some(t) => self.decide_value(t, ValueWhy::Concretize)? as u8,
                None => mem.byte(addr + i),
            });
        }
        let vec = self.concrete(v)?;
        let tmp = ConcreteMemory { data: bytes };
        Concrete.load_lane(&tmp, 0, op, lane, vec).map(SymVal::Con)
    }

    fn store_lane(&mut self, mem: &mut SymMemory, addr: u64, op: StoreLaneOp, lane: u8, v: SymVal) {
        let w = op.width() as usize;
        let bytes = self.eval(v).to_le_bytes();
        let at = lane as usize * w;
        for i in 0..w {
            mem.set_byte(addr + i as u64, bytes[at + i]);
        }
    }

    fn fill(&mut self, mem: &mut SymMemory, addr: u64, len: u64, byte: SymVal) {
        let b = match byte {
            SymVal::Con(x) => SymVal::Con(x & 0xff),
            SymVal::Sym(t) => self.wrap(self.terms.extract(7, 0, t)),
        };
        for i in 0..len {
            match b {
                SymVal::Con(x) => mem.set_byte(addr + i, x as u8),
                SymVal::Sym(t) => mem.set_sym(addr + i, t),
            }
        }
    }

    fn to_ref(&mut self, v: SymVal) -> RefValue {
        bits_ref(self.eval(v))
    }

    fn to_val(&mut self, v: SymVal, ty: ValType) -> Result<Val, Fault> {
        let b = self.concrete(v)?;
        Ok(weft_exec::concrete::bits_val(b, ty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The no-trap condition of every trapping float-to-integer conversion, evaluated on
    /// operands around the range limits, agrees with the concrete engine trapping or not.
    #[test]
    fn conversion_guards_match_the_engine() {
        use UnaryOp::*;
        let d = Symbolic::new(Terms::default());
        let f64s = [
            -2147483649.0,
            -2147483648.9,
            -2147483648.0,
            -1.0,
            -0.9,
            -0.0,
            2147483647.9,
            2147483648.0,
            4294967295.9,
            4294967296.0,
            -9223372036854775808.0,
            9223372036854775807.0,
            18446744073709551615.0,
            f64::NAN,
            f64::INFINITY,
        ];
        let x32 = d.terms.fresh("x32", 32);
        let x64 = d.terms.fresh("x64", 64);
        let ops = [
            I32TruncF32S,
            I32TruncF32U,
            I32TruncF64S,
            I32TruncF64U,
            I64TruncF32S,
            I64TruncF32U,
            I64TruncF64S,
            I64TruncF64U,
        ];
        let mut seen = [0; 2];
        for op in ops {
            let from64 = op.operand_type() == ValType::F64;
            let x = if from64 { x64 } else { x32 };
            let guard = d.conversion_in_range(op, x).expect("a trapping conversion");
            for v in f64s {
                let bits = if from64 {
                    v.to_bits()
                } else {
                    (v as f32).to_bits() as u64
                };
                let sym = if from64 { 1 } else { 0 };
                let model = HashMap::from([(sym, bits)]);
                let ok = weft_exec::Concrete.unary(op, bits as u128).is_ok();
                assert_eq!(d.terms.eval(guard, &model) == 1, ok, "{} of {v}", op.name());
                seen[ok as usize] += 1;
            }
        }
        assert!(seen[0] > 20 && seen[1] > 20, "{seen:?}");
    }

    #[test]
    fn branch_forks_then_takes_the_forced_side() {
        let mut d = Symbolic::new(Terms::default());
        let x = d.fresh("x", 32);
        let c = d
            .binary(BinaryOp::I32Eq, SymVal::Sym(x), SymVal::Con(57))
            .unwrap();
        assert_eq!(d.condition(c), Err(Fault::Fork));
        let Some(Query::Branch(b)) = d.take_query() else {
            panic!("expected a branch query")
        };
        assert_eq!(d.terms.display(b), "(x == 57)");
        d.force(b, 1, None);
        assert_eq!(d.condition(c), Ok(true));
        assert_eq!(d.condition(c), Ok(true), "decisions are cached");
        assert_eq!(d.pc.len(), 1);
    }

    #[test]
    fn division_by_symbolic_zero_is_a_trap_condition() {
        let mut d = Symbolic::new(Terms::default());
        let x = d.fresh("x", 32);
        assert_eq!(
            d.binary(BinaryOp::I32DivU, SymVal::Con(10), SymVal::Sym(x)),
            Err(Fault::Fork)
        );
        let Some(Query::Branch(b)) = d.take_query() else {
            panic!("expected a trap-condition query")
        };
        d.force(b, 1, None);
        assert_eq!(
            d.binary(BinaryOp::I32DivU, SymVal::Con(10), SymVal::Sym(x)),
            Err(Fault::Trap(TrapCode::IntegerDivideByZero))
        );
    }

    #[test]
    fn symbolic_stores_and_loads_round_trip() {
        let mut d = Symbolic::new(Terms::default());
        let mut mem = <SymMemory as weft_exec::LinearMemory>::with_pages(1);
        let x = d.fresh("x", 32);
        d.store(&mut mem, 100, StoreOp::I32Store, SymVal::Sym(x));
        assert_eq!(d.load(&mem, 100, LoadOp::I32Load), Ok(SymVal::Sym(x)));
        let lo = d.load(&mem, 100, LoadOp::I32Load8U).unwrap();
        let SymVal::Sym(t) = lo else {
            panic!("symbolic byte")
        };
        assert_eq!(d.terms.display(t), "zext32(x[7:0])");
        d.store(&mut mem, 100, StoreOp::I32Store16, SymVal::Con(0xabcd));
        let SymVal::Sym(t) = d.load(&mem, 100, LoadOp::I32Load).unwrap() else {
            panic!("still symbolic above")
        };
        assert_eq!(d.terms.display(t), "(x[31:16] :: 0xabcd)");
    }
}
