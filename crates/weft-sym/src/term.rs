//! Term IR: hash-consed bit-vector expressions with constant folding and algebraic rewrites.
//!
//! Every symbolic value the engine computes is a [`TermId`] into one shared [`Terms`] table.
//! Building a node goes through the simplifier first, so equal expressions share one id and
//! constant sub-expressions never reach the solver. Floating-point values are kept as their
//! IEEE bit patterns (32 or 64-bit vectors): bit-level float operators (`neg`, `abs`,
//! `copysign`, reinterpretations) are exact rewrites here; float arithmetic, comparisons and
//! conversions are nodes carrying the WebAssembly operator ([`Op::FUnary`], [`Op::FBinary`]),
//! folded and evaluated with the engine's concrete semantics and sent to the solver in the
//! SMT-LIB floating-point theory (see `smt.rs`).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};
use weft_core::{BinaryOp, UnaryOp};
use weft_exec::{Concrete, Domain};

/// A term: an index into a [`Terms`] table. Equal ids mean structurally equal terms.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TermId(pub u32);

/// Width of a term in bits; 0 is the Boolean sort.
pub type Width = u8;

/// The operator of a node (with its immediates).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A bit-vector constant (or Boolean 0/1 when the width is 0).
    Const(u64),
    /// An input symbol, by index into the table's symbol list.
    Var(u32),
    /// Bitwise not.
    Not,
    /// Two's-complement negation.
    Neg,
    /// Addition.
    Add,
    /// Subtraction.
    Sub,
    /// Multiplication.
    Mul,
    /// Unsigned division (divisor known non-zero on the path).
    UDiv,
    /// Signed division.
    SDiv,
    /// Unsigned remainder.
    URem,
    /// Signed remainder.
    SRem,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise xor.
    Xor,
    /// Shift left (amount already masked to the width).
    Shl,
    /// Logical shift right.
    LShr,
    /// Arithmetic shift right.
    AShr,
    /// Rotate left (amount masked).
    Rotl,
    /// Rotate right (amount masked).
    Rotr,
    /// Count leading zeros.
    Clz,
    /// Count trailing zeros.
    Ctz,
    /// Population count.
    Popcnt,
    /// Equality (Boolean).
    Eq,
    /// Unsigned less-than (Boolean).
    Ult,
    /// Unsigned less-or-equal (Boolean).
    Ule,
    /// Signed less-than (Boolean).
    Slt,
    /// Signed less-or-equal (Boolean).
    Sle,
    /// Boolean not.
    BNot,
    /// Boolean and.
    BAnd,
    /// Boolean or.
    BOr,
    /// If-then-else: Boolean condition, two operands of the result width.
    Ite,
    /// Bits `hi..=lo` of the operand.
    Extract(u8, u8),
    /// Concatenation: first operand is the high part.
    Concat,
    /// Zero extension to the node's width.
    ZExt,
    /// Sign extension to the node's width.
    SExt,
    /// A float operator of WebAssembly on bit patterns (arithmetic, rounding, conversions,
    /// promotion and demotion), with its exact semantics.
    FUnary(UnaryOp),
    /// A float operator of WebAssembly on bit patterns (arithmetic, `min`/`max`, and
    /// comparisons, which give an `i32` 0 or 1), with its exact semantics.
    FBinary(BinaryOp),
}

/// One hash-consed node.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// Operator.
    pub op: Op,
    /// Result width (0: Boolean).
    pub width: Width,
    /// Operands (unused slots hold `NONE`).
    pub args: [TermId; 3],
}

/// Marker for unused operand slots.
pub const NONE: TermId = TermId(u32::MAX);

impl Node {
    /// The operands in use.
    pub fn operands(&self) -> &[TermId] {
        let n = self.args.iter().take_while(|a| **a != NONE).count();
        &self.args[..n]
    }
}

/// An input symbol: its name and width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Readable name (`a0`, `nondet_int#3`, `mem[0x400]`).
    pub name: String,
    /// Width in bits.
    pub width: Width,
}

#[derive(Default)]
struct Inner {
    nodes: Vec<Node>,
    map: HashMap<Node, TermId>,
    symbols: Vec<Symbol>,
}

/// The shared, hash-consed term table. Cloning shares the table (paths forked from one
/// exploration share their terms, so cloning a path state never copies expressions).
#[derive(Clone)]
pub struct Terms {
    inner: Arc<Mutex<Inner>>,
    max_nodes: usize,
}

impl fmt::Debug for Terms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Terms({} nodes)", self.len())
    }
}

/// The term table is full (bounded memory).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TableFull;

fn mask(w: Width) -> u64 {
    if w >= 64 {
        u64::MAX
    } else if w == 0 {
        1
    } else {
        (1u64 << w) - 1
    }
}

fn sext(v: u64, w: Width) -> i64 {
    if w == 0 || w >= 64 {
        v as i64
    } else {
        let s = 64 - w as u32;
        ((v << s) as i64) >> s
    }
}

impl Default for Terms {
    fn default() -> Self {
        Terms::new(20_000_000)
    }
}

impl Terms {
    /// An empty table holding at most `max_nodes` nodes.
    pub fn new(max_nodes: usize) -> Self {
        Terms {
            inner: Arc::new(Mutex::new(Inner::default())),
            max_nodes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.lock().nodes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the table has reached its size bound.
    pub fn is_full(&self) -> bool {
        self.len() >= self.max_nodes
    }

    /// The node of a term.
    pub fn node(&self, t: TermId) -> Node {
        self.lock().nodes[t.0 as usize]
    }

    /// The width of a term (0: Boolean).
    pub fn width(&self, t: TermId) -> Width {
        self.node(t).width
    }

    /// The constant value of a term, if it is one.
    pub fn as_const(&self, t: TermId) -> Option<u64> {
        match self.node(t).op {
            Op::Const(v) => Some(v),
            _ => None,
        }
    }

    /// A symbol's description.
    pub fn symbol(&self, index: u32) -> Symbol {
        self.lock().symbols[index as usize].clone()
    }

    /// A fresh input symbol of `width` bits, named `name`.
    pub fn fresh(&self, name: &str, width: Width) -> TermId {
        let idx = {
            let mut g = self.lock();
            g.symbols.push(Symbol {
                name: name.to_string(),
                width,
            });
            g.symbols.len() as u32 - 1
        };
        self.intern(Node {
            op: Op::Var(idx),
            width,
            args: [NONE; 3],
        })
    }

    fn intern(&self, n: Node) -> TermId {
        let mut g = self.lock();
        if let Some(id) = g.map.get(&n) {
            return *id;
        }
        let id = TermId(g.nodes.len() as u32);
        g.nodes.push(n);
        g.map.insert(n, id);
        id
    }

    /// A constant of width `w` (masked).
    pub fn constant(&self, w: Width, v: u64) -> TermId {
        self.intern(Node {
            op: Op::Const(v & mask(w)),
            width: w,
            args: [NONE; 3],
        })
    }

    /// The Boolean constant.
    pub fn bool(&self, b: bool) -> TermId {
        self.constant(0, b as u64)
    }

    fn raw(&self, op: Op, width: Width, args: &[TermId]) -> TermId {
        let mut a = [NONE; 3];
        a[..args.len()].copy_from_slice(args);
        self.intern(Node { op, width, args: a })
    }

    /// Builds `op(args)` of result width `width`, simplified.
    pub fn app(&self, op: Op, width: Width, args: &[TermId]) -> TermId {
        // Constant folding.
        let consts: Vec<Option<u64>> = args.iter().map(|a| self.as_const(*a)).collect();
        if consts.iter().all(|c| c.is_some()) && !matches!(op, Op::Const(_) | Op::Var(_)) {
            let vals: Vec<u64> = consts.iter().map(|c| c.unwrap_or(0)).collect();
            let ws: Vec<Width> = args.iter().map(|a| self.width(*a)).collect();
            if let Some(v) = fold(op, width, &vals, &ws) {
                return self.constant(width, v);
            }
        }
        self.rewrite(op, width, args, &consts)
    }

    fn rewrite(&self, op: Op, w: Width, args: &[TermId], c: &[Option<u64>]) -> TermId {
        let m = mask(w);
        match op {
            Op::Add | Op::Mul | Op::And | Op::Or | Op::Xor | Op::Eq | Op::BAnd | Op::BOr => {
                // Commutative: constant on the right, otherwise ordered by id.
                let (a, b, ca, cb) = (args[0], args[1], c[0], c[1]);
                if ca.is_some() && cb.is_none() || (ca.is_none() && cb.is_none() && a > b) {
                    return self.app(op, w, &[b, a]);
                }
                self.commutative(op, w, a, b, cb, m)
            }
            Op::Sub => {
                if args[0] == args[1] {
                    return self.constant(w, 0);
                }
                if let Some(k) = c[1] {
                    return self.app(Op::Add, w, &[args[0], self.constant(w, k.wrapping_neg())]);
                }
                self.raw(op, w, args)
            }
            Op::Shl | Op::LShr | Op::AShr | Op::Rotl | Op::Rotr => {
                if c[1] == Some(0) {
                    return args[0];
                }
                self.raw(op, w, args)
            }
            Op::Not => {
                let n = self.node(args[0]);
                if n.op == Op::Not {
                    return n.args[0];
                }
                self.raw(op, w, args)
            }
            Op::BNot => {
                let n = self.node(args[0]);
                match n.op {
                    Op::BNot => n.args[0],
                    _ => self.raw(op, w, args),
                }
            }
            Op::Ite => {
                if let Some(k) = c[0] {
                    return if k != 0 { args[1] } else { args[2] };
                }
                if args[1] == args[2] {
                    return args[1];
                }
                if w == 0 {
                    // Boolean ite with constant branches.
                    match (c[1], c[2]) {
                        (Some(1), Some(0)) => return args[0],
                        (Some(0), Some(1)) => return self.app(Op::BNot, 0, &[args[0]]),
                        _ => {}
                    }
                }
                let cn = self.node(args[0]);
                if cn.op == Op::BNot {
                    return self.app(Op::Ite, w, &[cn.args[0], args[2], args[1]]);
                }
                self.raw(op, w, args)
            }
            Op::Ult | Op::Ule | Op::Slt | Op::Sle => {
                if args[0] == args[1] {
                    return self.bool(matches!(op, Op::Ule | Op::Sle));
                }
                let aw = self.width(args[0]);
                // x <u 0 is false, x <=u max is true, 0 <=u x is true.
                match (op, c[0], c[1]) {
                    (Op::Ult, _, Some(0)) => return self.bool(false),
                    (Op::Ule, _, Some(k)) if k == mask(aw) => return self.bool(true),
                    (Op::Ule, Some(0), _) => return self.bool(true),
                    _ => {}
                }
                self.raw(op, w, args)
            }
            Op::Extract(hi, lo) => self.extract(hi, lo, args[0]),
            Op::Concat => {
                let (a, b) = (self.node(args[0]), self.node(args[1]));
                if let (Op::Extract(h1, l1), Op::Extract(h2, l2)) = (a.op, b.op) {
                    if a.args[0] == b.args[0] && l1 == h2 + 1 {
                        return self.extract(h1, l2, a.args[0]);
                    }
                }
                // concat(extract(h, l1, x), concat(extract(l1-1, l2, x), rest)): merge leftwards.
                if let (Op::Extract(h1, l1), Op::Concat) = (a.op, b.op) {
                    let b0 = self.node(b.args[0]);
                    if let Op::Extract(h2, l2) = b0.op {
                        if b0.args[0] == a.args[0] && l1 == h2 + 1 {
                            let merged = self.extract(h1, l2, a.args[0]);
                            let ww = self.width(merged) + self.width(b.args[1]);
                            return self.app(Op::Concat, ww, &[merged, b.args[1]]);
                        }
                    }
                }
                // concat(concat(x, c1), c2) -> concat(x, c1::c2) for constants c1, c2.
                if let (Op::Concat, Some(k2)) = (a.op, c[1]) {
                    if let Some(k1) = self.as_const(a.args[1]) {
                        let w1 = self.width(a.args[1]);
                        let w2 = self.width(args[1]);
                        if w1 + w2 <= 64 {
                            let k = self.constant(w1 + w2, (k1 << w2) | k2);
                            return self.app(Op::Concat, w, &[a.args[0], k]);
                        }
                    }
                }
                // concat(0, x) is a zero extension.
                if c[0] == Some(0) {
                    return self.app(Op::ZExt, w, &[args[1]]);
                }
                self.raw(op, w, args)
            }
            Op::ZExt | Op::SExt => {
                let aw = self.width(args[0]);
                if aw == w {
                    return args[0];
                }
                let n = self.node(args[0]);
                if n.op == Op::ZExt || (n.op == Op::SExt && op == Op::SExt) {
                    return self.app(n.op, w, &[n.args[0]]);
                }
                // Extending an ite of constants distributes (keeps `ite(b,1,0)` shapes).
                if n.op == Op::Ite {
                    if let (Some(x), Some(y)) = (self.as_const(n.args[1]), self.as_const(n.args[2]))
                    {
                        let f = |v: u64| {
                            if op == Op::SExt {
                                sext(v, aw) as u64
                            } else {
                                v
                            }
                        };
                        return self.app(
                            Op::Ite,
                            w,
                            &[n.args[0], self.constant(w, f(x)), self.constant(w, f(y))],
                        );
                    }
                }
                self.raw(op, w, args)
            }
            _ => self.raw(op, w, args),
        }
    }

    fn commutative(
        &self,
        op: Op,
        w: Width,
        a: TermId,
        b: TermId,
        cb: Option<u64>,
        m: u64,
    ) -> TermId {
        match (op, cb) {
            (Op::Add, Some(0)) | (Op::Or, Some(0)) | (Op::Xor, Some(0)) | (Op::Mul, Some(1)) => {
                return a
            }
            (Op::Mul, Some(0)) | (Op::And, Some(0)) => return self.constant(w, 0),
            (Op::And, Some(k)) if k == m => return a,
            (Op::Or, Some(k)) if k == m => return self.constant(w, m),
            (Op::Xor, Some(k)) if k == m => return self.app(Op::Not, w, &[a]),
            (Op::BAnd, Some(1)) | (Op::BOr, Some(0)) => return a,
            (Op::BAnd, Some(0)) => return self.bool(false),
            (Op::BOr, Some(1)) => return self.bool(true),
            _ => {}
        }
        if a == b {
            match op {
                Op::And | Op::Or | Op::BAnd | Op::BOr => return a,
                Op::Xor => return self.constant(w, 0),
                Op::Eq => return self.bool(true),
                _ => {}
            }
        }
        let na = self.node(a);
        if let Some(k) = cb {
            match (op, na.op) {
                // (x + c1) + c2
                (Op::Add, Op::Add) => {
                    if let Some(k1) = self.as_const(na.args[1]) {
                        let s = self.constant(w, k1.wrapping_add(k));
                        return self.app(Op::Add, w, &[na.args[0], s]);
                    }
                }
                (Op::Xor, Op::Xor) | (Op::And, Op::And) | (Op::Or, Op::Or) => {
                    if let Some(k1) = self.as_const(na.args[1]) {
                        let v = fold(op, w, &[k1, k], &[w, w]).unwrap_or(0);
                        let s = self.constant(w, v);
                        return self.app(op, w, &[na.args[0], s]);
                    }
                }
                // (x + c1) == c2  ->  x == c2 - c1
                (Op::Eq, Op::Add) => {
                    if let Some(k1) = self.as_const(na.args[1]) {
                        let aw = na.width;
                        let s = self.constant(aw, k.wrapping_sub(k1));
                        return self.app(Op::Eq, 0, &[na.args[0], s]);
                    }
                }
                (Op::Eq, Op::Xor) => {
                    if let Some(k1) = self.as_const(na.args[1]) {
                        let s = self.constant(na.width, k ^ k1);
                        return self.app(Op::Eq, 0, &[na.args[0], s]);
                    }
                }
                // ite(b, x, y) == k with constant x, y
                (Op::Eq, Op::Ite) => {
                    if let (Some(x), Some(y)) =
                        (self.as_const(na.args[1]), self.as_const(na.args[2]))
                    {
                        return match (x == k, y == k) {
                            (true, true) => self.bool(true),
                            (false, false) => self.bool(false),
                            (true, false) => na.args[0],
                            (false, true) => self.app(Op::BNot, 0, &[na.args[0]]),
                        };
                    }
                }
                // zext(x) == k
                (Op::Eq, Op::ZExt) => {
                    let inner = na.args[0];
                    let iw = self.width(inner);
                    if k & !mask(iw) != 0 {
                        return self.bool(false);
                    }
                    return self.app(Op::Eq, 0, &[inner, self.constant(iw, k)]);
                }
                (Op::Eq, Op::SExt) => {
                    let inner = na.args[0];
                    let iw = self.width(inner);
                    let kw = mask(na.width) & k;
                    if (sext(kw & mask(iw), iw) as u64) & mask(na.width) != kw {
                        return self.bool(false);
                    }
                    return self.app(Op::Eq, 0, &[inner, self.constant(iw, k)]);
                }
                (Op::And, Op::Ite) | (Op::Or, Op::Ite) | (Op::Xor, Op::Ite) => {
                    if let (Some(x), Some(y)) =
                        (self.as_const(na.args[1]), self.as_const(na.args[2]))
                    {
                        let f = |v| fold(op, w, &[v, k], &[w, w]).unwrap_or(0);
                        return self.app(
                            Op::Ite,
                            w,
                            &[na.args[0], self.constant(w, f(x)), self.constant(w, f(y))],
                        );
                    }
                }
                _ => {}
            }
        }
        // Two 0/1 ites combined bitwise become one ite of a Boolean combination.
        if matches!(op, Op::And | Op::Or | Op::Xor) {
            let nb = self.node(b);
            if na.op == Op::Ite && nb.op == Op::Ite {
                let one = self.constant(w, 1);
                let zero = self.constant(w, 0);
                if na.args[1] == one
                    && na.args[2] == zero
                    && nb.args[1] == one
                    && nb.args[2] == zero
                {
                    let (x, y) = (na.args[0], nb.args[0]);
                    let c = match op {
                        Op::And => self.app(Op::BAnd, 0, &[x, y]),
                        Op::Or => self.app(Op::BOr, 0, &[x, y]),
                        _ => {
                            let e = self.app(Op::Eq, 0, &[x, y]);
                            self.app(Op::BNot, 0, &[e])
                        }
                    };
                    return self.app(Op::Ite, w, &[c, one, zero]);
                }
            }
        }
        self.raw(op, w, &[a, b])
    }

    /// Bits `hi..=lo` of `t`, simplified through concatenations, extensions and extractions.
    pub fn extract(&self, hi: u8, lo: u8, t: TermId) -> TermId {
        let n = self.node(t);
        let w = hi - lo + 1;
        if lo == 0 && w == n.width {
            return t;
        }
        match n.op {
            Op::Const(v) => return self.constant(w, v >> lo),
            Op::Extract(_, l0) => return self.extract(hi + l0, lo + l0, n.args[0]),
            Op::Concat => {
                let lw = self.width(n.args[1]);
                if hi < lw {
                    return self.extract(hi, lo, n.args[1]);
                }
                if lo >= lw {
                    return self.extract(hi - lw, lo - lw, n.args[0]);
                }
            }
            Op::ZExt | Op::SExt => {
                let iw = self.width(n.args[0]);
                if hi < iw {
                    return self.extract(hi, lo, n.args[0]);
                }
                if n.op == Op::ZExt && lo >= iw {
                    return self.constant(w, 0);
                }
            }
            Op::And | Op::Or | Op::Xor => {
                // Bitwise operators commute with extraction when one side is constant.
                if let Some(k) = self.as_const(n.args[1]) {
                    let x = self.extract(hi, lo, n.args[0]);
                    return self.app(n.op, w, &[x, self.constant(w, k >> lo)]);
                }
            }
            Op::Ite => {
                if let (Some(x), Some(y)) = (self.as_const(n.args[1]), self.as_const(n.args[2])) {
                    return self.app(
                        Op::Ite,
                        w,
                        &[
                            n.args[0],
                            self.constant(w, x >> lo),
                            self.constant(w, y >> lo),
                        ],
                    );
                }
            }
            _ => {}
        }
        self.raw(Op::Extract(hi, lo), w, &[t])
    }

    /// The Boolean `t != 0` for a bit-vector `t`.
    pub fn nonzero(&self, t: TermId) -> TermId {
        let w = self.width(t);
        let z = self.app(Op::Eq, 0, &[t, self.constant(w, 0)]);
        self.app(Op::BNot, 0, &[z])
    }

    /// `ite(b, 1, 0)` of width `w`: a Boolean as a wasm integer.
    pub fn bool_to_bv(&self, b: TermId, w: Width) -> TermId {
        let one = self.constant(w, 1);
        let zero = self.constant(w, 0);
        self.app(Op::Ite, w, &[b, one, zero])
    }

    /// Symbols a term depends on, sorted.
    pub fn vars(&self, roots: &[TermId]) -> Vec<u32> {
        let g = self.lock();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut stack: Vec<TermId> = roots.to_vec();
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            let n = g.nodes[t.0 as usize];
            if let Op::Var(i) = n.op {
                out.push(i);
            }
            stack.extend_from_slice(n.operands());
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Evaluates a term under an assignment of symbols (missing symbols are 0).
    pub fn eval(&self, root: TermId, model: &HashMap<u32, u64>) -> u64 {
        let g = self.lock();
        let mut memo: HashMap<TermId, u64> = HashMap::new();
        let mut stack = vec![(root, false)];
        while let Some((t, done)) = stack.pop() {
            if memo.contains_key(&t) {
                continue;
            }
            let n = g.nodes[t.0 as usize];
            let ops = n.operands();
            if !done {
                stack.push((t, true));
                for a in ops {
                    if !memo.contains_key(a) {
                        stack.push((*a, false));
                    }
                }
                continue;
            }
            let v = match n.op {
                Op::Const(v) => v,
                Op::Var(i) => model.get(&i).copied().unwrap_or(0) & mask(n.width),
                Op::Ite => {
                    if memo[&ops[0]] != 0 {
                        memo[&ops[1]]
                    } else {
                        memo[&ops[2]]
                    }
                }
                op => {
                    let vals: Vec<u64> = ops.iter().map(|a| memo[a]).collect();
                    let ws: Vec<Width> = ops.iter().map(|a| g.nodes[a.0 as usize].width).collect();
                    fold(op, n.width, &vals, &ws).unwrap_or(0)
                }
            };
            memo.insert(t, v);
        }
        memo[&root]
    }

    /// Readable infix form, e.g. `(a0 + 0xffffffc7) != 0`. Long terms are cut with `…`.
    pub fn display(&self, t: TermId) -> String {
        let mut s = String::new();
        self.fmt_term(t, &mut s, 0);
        s
    }

    fn fmt_term(&self, t: TermId, s: &mut String, depth: usize) {
        if s.len() > 2000 || depth > 60 {
            s.push('…');
            return;
        }
        let n = self.node(t);
        let a = n.operands();
        let infix = |s: &mut String, sym: &str| {
            s.push('(');
            self.fmt_term(a[0], s, depth + 1);
            let _ = write!(s, " {sym} ");
            self.fmt_term(a[1], s, depth + 1);
            s.push(')');
        };
        match n.op {
            Op::Const(v) => {
                if n.width == 0 {
                    s.push_str(if v != 0 { "true" } else { "false" });
                } else if v < 1024
                    || n.width >= 32 && sext(v, n.width) > -1024 && sext(v, n.width) < 0
                {
                    let _ = write!(s, "{}", sext(v, n.width));
                } else {
                    let _ = write!(s, "0x{v:x}");
                }
            }
            Op::Var(i) => s.push_str(&self.symbol(i).name),
            Op::Add => infix(s, "+"),
            Op::Sub => infix(s, "-"),
            Op::Mul => infix(s, "*"),
            Op::UDiv => infix(s, "/u"),
            Op::SDiv => infix(s, "/s"),
            Op::URem => infix(s, "%u"),
            Op::SRem => infix(s, "%s"),
            Op::And => infix(s, "&"),
            Op::Or => infix(s, "|"),
            Op::Xor => infix(s, "^"),
            Op::Shl => infix(s, "<<"),
            Op::LShr => infix(s, ">>u"),
            Op::AShr => infix(s, ">>s"),
            Op::Rotl => infix(s, "rotl"),
            Op::Rotr => infix(s, "rotr"),
            Op::Eq => infix(s, "=="),
            Op::Ult => infix(s, "<u"),
            Op::Ule => infix(s, "<=u"),
            Op::Slt => infix(s, "<s"),
            Op::Sle => infix(s, "<=s"),
            Op::BAnd => infix(s, "&&"),
            Op::BOr => infix(s, "||"),
            Op::Concat => infix(s, "::"),
            Op::BNot => {
                let inner = self.node(a[0]);
                if inner.op == Op::Eq {
                    let ia = inner.operands();
                    s.push('(');
                    self.fmt_term(ia[0], s, depth + 1);
                    s.push_str(" != ");
                    self.fmt_term(ia[1], s, depth + 1);
                    s.push(')');
                } else {
                    s.push('!');
                    self.fmt_term(a[0], s, depth + 1);
                }
            }
            Op::Not => {
                s.push('~');
                self.fmt_term(a[0], s, depth + 1);
            }
            Op::Neg => {
                s.push('-');
                self.fmt_term(a[0], s, depth + 1);
            }
            Op::Ite => {
                s.push_str("ite(");
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.fmt_term(*x, s, depth + 1);
                }
                s.push(')');
            }
            Op::Extract(hi, lo) => {
                self.fmt_term(a[0], s, depth + 1);
                let _ = write!(s, "[{hi}:{lo}]");
            }
            Op::FUnary(o) => {
                let _ = write!(s, "{}(", o.name());
                self.fmt_term(a[0], s, depth + 1);
                s.push(')');
            }
            Op::FBinary(o) => {
                let _ = write!(s, "{}(", o.name());
                self.fmt_term(a[0], s, depth + 1);
                s.push_str(", ");
                self.fmt_term(a[1], s, depth + 1);
                s.push(')');
            }
            Op::ZExt | Op::SExt | Op::Clz | Op::Ctz | Op::Popcnt => {
                let name = match n.op {
                    Op::ZExt => "zext",
                    Op::SExt => "sext",
                    Op::Clz => "clz",
                    Op::Ctz => "ctz",
                    _ => "popcnt",
                };
                let _ = write!(s, "{name}{}(", n.width);
                self.fmt_term(a[0], s, depth + 1);
                s.push(')');
            }
        }
    }
}

/// Folds an operator over constant operands (`ws`: operand widths). `None` for operators
/// that have no constant meaning here (division by zero is never folded: the domain has
/// already split it off).
pub fn fold(op: Op, w: Width, v: &[u64], ws: &[Width]) -> Option<u64> {
    let m = mask(w);
    let aw = ws.first().copied().unwrap_or(w);
    let am = mask(aw);
    let sh = |x: u64| (x & (aw.max(1) as u64 - 1)) as u32;
    let r = match op {
        Op::Const(c) => c,
        Op::Var(_) => return None,
        Op::Not => !v[0],
        Op::Neg => v[0].wrapping_neg(),
        Op::Add => v[0].wrapping_add(v[1]),
        Op::Sub => v[0].wrapping_sub(v[1]),
        Op::Mul => v[0].wrapping_mul(v[1]),
        // SMT-LIB's bvudiv by zero is all ones.
        Op::UDiv => (v[0] & am).checked_div(v[1] & am).unwrap_or(am),
        Op::URem => {
            if v[1] & am == 0 {
                v[0]
            } else {
                (v[0] & am) % (v[1] & am)
            }
        }
        Op::SDiv => {
            let (a, b) = (sext(v[0], aw), sext(v[1], aw));
            if b == 0 {
                if a < 0 {
                    1
                } else {
                    u64::MAX
                }
            } else {
                a.wrapping_div(b) as u64
            }
        }
        Op::SRem => {
            let (a, b) = (sext(v[0], aw), sext(v[1], aw));
            if b == 0 {
                a as u64
            } else {
                a.wrapping_rem(b) as u64
            }
        }
        Op::And => v[0] & v[1],
        Op::Or => v[0] | v[1],
        Op::Xor => v[0] ^ v[1],
        Op::Shl => {
            if v[1] >= aw as u64 {
                0
            } else {
                v[0] << v[1]
            }
        }
        Op::LShr => {
            if v[1] >= aw as u64 {
                0
            } else {
                (v[0] & am) >> v[1]
            }
        }
        Op::AShr => {
            let s = v[1].min(aw as u64 - 1) as u32;
            (sext(v[0], aw) >> s) as u64
        }
        Op::Rotl | Op::Rotr => {
            let k = sh(v[1]);
            let x = v[0] & am;
            let k = if op == Op::Rotr {
                (aw as u32 - k) % aw as u32
            } else {
                k
            };
            if k == 0 {
                x
            } else {
                (x << k | x >> (aw as u32 - k)) & am
            }
        }
        Op::Clz => ((v[0] & am).leading_zeros() - (64 - aw as u32)) as u64,
        Op::Ctz => ((v[0] & am).trailing_zeros().min(aw as u32)) as u64,
        Op::Popcnt => (v[0] & am).count_ones() as u64,
        Op::Eq => ((v[0] & am) == (v[1] & am)) as u64,
        Op::Ult => ((v[0] & am) < (v[1] & am)) as u64,
        Op::Ule => ((v[0] & am) <= (v[1] & am)) as u64,
        Op::Slt => (sext(v[0], aw) < sext(v[1], aw)) as u64,
        Op::Sle => (sext(v[0], aw) <= sext(v[1], aw)) as u64,
        Op::BNot => (v[0] == 0) as u64,
        Op::BAnd => (v[0] != 0 && v[1] != 0) as u64,
        Op::BOr => (v[0] != 0 || v[1] != 0) as u64,
        Op::Ite => {
            if v[0] != 0 {
                v[1]
            } else {
                v[2]
            }
        }
        Op::Extract(_, lo) => v[0] >> lo,
        Op::Concat => {
            let lw = ws[1];
            if lw >= 64 {
                v[1]
            } else {
                (v[0] << lw) | (v[1] & mask(lw))
            }
        }
        Op::ZExt => v[0] & am,
        Op::SExt => sext(v[0], aw) as u64,
        // The engine's own operators, so folding and model evaluation agree with the concrete
        // run bit for bit (NaN payloads included). A trapping conversion has no value.
        Op::FUnary(o) => Concrete.unary(o, (v[0] & am) as u128).ok()? as u64,
        Op::FBinary(o) => {
            let bm = mask(ws.get(1).copied().unwrap_or(aw));
            Concrete
                .binary(o, (v[0] & am) as u128, (v[1] & bm) as u128)
                .ok()? as u64
        }
    };
    Some(r & m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_consing_and_folding() {
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let c = t.constant(32, 57);
        let a = t.app(Op::Sub, 32, &[x, c]);
        let b = t.app(Op::Sub, 32, &[x, c]);
        assert_eq!(a, b);
        assert_eq!(t.display(t.nonzero(a)), "(x != 57)");
        let two = t.constant(32, 2);
        let three = t.constant(32, 3);
        assert_eq!(t.app(Op::Add, 32, &[two, three]), t.constant(32, 5));
        assert_eq!(t.app(Op::Xor, 32, &[x, x]), t.constant(32, 0));
        assert_eq!(t.app(Op::Add, 32, &[x, t.constant(32, 0)]), x);
    }

    #[test]
    fn bytes_reassemble() {
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let bytes: Vec<TermId> = (0..4).map(|i| t.extract(8 * i + 7, 8 * i, x)).collect();
        let mut acc = bytes[3];
        for i in (0..3).rev() {
            let w = t.width(acc) + 8;
            acc = t.app(Op::Concat, w, &[acc, bytes[i]]);
        }
        assert_eq!(acc, x);
    }

    #[test]
    fn comparisons_become_booleans() {
        let t = Terms::default();
        let b = t.fresh("b", 8);
        let z = t.app(Op::ZExt, 32, &[b]);
        let e = t.app(Op::Eq, 0, &[z, t.constant(32, 0x41)]);
        assert_eq!(t.display(e), "(b == 65)");
        let as_int = t.bool_to_bv(e, 32);
        assert_eq!(t.nonzero(as_int), e);
        let big = t.app(Op::Eq, 0, &[z, t.constant(32, 0x141)]);
        assert_eq!(t.as_const(big), Some(0));
        let mut m = HashMap::new();
        m.insert(0, 0x41);
        assert_eq!(t.eval(e, &m), 1);
    }

    #[test]
    fn fold_matches_wasm() {
        assert_eq!(fold(Op::Rotl, 32, &[0x8000_0001, 1], &[32, 32]), Some(3));
        assert_eq!(fold(Op::Clz, 32, &[1, 0], &[32]), Some(31));
        assert_eq!(
            fold(Op::SDiv, 32, &[(-7i32) as u32 as u64, 2], &[32, 32]),
            Some((-3i32) as u32 as u64)
        );
        assert_eq!(fold(Op::AShr, 8, &[0x80, 7], &[8, 8]), Some(0xff));
    }
}
