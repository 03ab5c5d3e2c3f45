//! SMT-LIB2 printing of terms.
//!
//! A query is printed as declarations of the symbols it mentions, one `define-fun` per
//! internal node in post-order (so shared sub-terms are printed once and deep terms never
//! recurse), and the assertions. Local names depend only on the structure of the query, not
//! on term ids, so the same query prints the same text in every run.
//!
//! Float operators use the SMT-LIB floating-point theory (`QF_FPBV`): operands are bit
//! patterns turned into floats with `to_fp`. A float-valued node is a declared bit-vector
//! constrained to be the result's bits; when the result is a NaN, any NaN pattern (WebAssembly
//! leaves NaN bits open, so a model may pick other bits than the concrete engine; the replay
//! check reports only what the engine reproduces).

use crate::term::{Op, TermId, Terms, Width};
use std::collections::HashMap;
use std::fmt::Write as _;
use weft_core::{BinaryOp, UnaryOp};

/// A printed query: the SMT-LIB2 commands and the symbols it declares.
#[derive(Clone, Debug)]
pub struct Script {
    /// Commands to send inside a `push`/`pop` scope.
    pub text: String,
    /// Symbols declared, with their SMT names (`v<index>`).
    pub symbols: Vec<u32>,
}

fn sort(w: Width) -> String {
    if w == 0 {
        "Bool".to_string()
    } else {
        format!("(_ BitVec {w})")
    }
}

fn bv(w: Width, v: u64) -> String {
    if w.is_multiple_of(4) {
        format!("#x{:0width$x}", v, width = w as usize / 4)
    } else {
        format!("#b{:0width$b}", v, width = w as usize)
    }
}

/// The SMT name of symbol `i`.
pub fn symbol_name(i: u32) -> String {
    format!("v{i}")
}

/// Prints `assertions` (Boolean terms) as SMT-LIB2.
pub fn print(terms: &Terms, assertions: &[TermId]) -> Script {
    let mut names: HashMap<TermId, String> = HashMap::new();
    let mut text = String::new();
    let mut symbols = Vec::new();
    let mut defs = String::new();
    let mut next = 0usize;
    let mut stack: Vec<(TermId, bool)> = assertions.iter().rev().map(|a| (*a, false)).collect();
    while let Some((t, done)) = stack.pop() {
        if names.contains_key(&t) {
            continue;
        }
        let n = terms.node(t);
        let ops = n.operands().to_vec();
        if !done {
            stack.push((t, true));
            for a in ops.iter().rev() {
                if !names.contains_key(a) {
                    stack.push((*a, false));
                }
            }
            continue;
        }
        let name = match n.op {
            Op::Const(v) => {
                if n.width == 0 {
                    (if v != 0 { "true" } else { "false" }).to_string()
                } else {
                    bv(n.width, v)
                }
            }
            Op::Var(i) => {
                symbols.push(i);
                let _ = writeln!(
                    text,
                    "(declare-fun {} () {})",
                    symbol_name(i),
                    sort(n.width)
                );
                symbol_name(i)
            }
            _ => {
                let a: Vec<&str> = ops.iter().map(|x| names[x].as_str()).collect();
                let aw = ops.first().map(|x| terms.width(*x)).unwrap_or(n.width);
                let local = format!("_{next}");
                next += 1;
                match float_expr(n.op, n.width, aw, &a) {
                    Some(Float::Value(fp)) => {
                        // The node's bits: exactly the result's, or any NaN for a NaN.
                        let s = sort(n.width);
                        let back = format!("({} {local})", to_fp(n.width));
                        let _ = writeln!(
                            defs,
                            "(declare-fun {local} () {s})\n(assert (let ((r {fp})) \
                             (ite (fp.isNaN r) (fp.isNaN {back}) (= {back} r))))"
                        );
                    }
                    Some(Float::Bits(e)) => {
                        let _ = writeln!(defs, "(define-fun {local} () {} {e})", sort(n.width));
                    }
                    None => {
                        let expr = expr(n.op, n.width, aw, &a);
                        let _ = writeln!(defs, "(define-fun {local} () {} {expr})", sort(n.width));
                    }
                }
                local
            }
        };
        names.insert(t, name);
    }
    text.push_str(&defs);
    for a in assertions {
        let _ = writeln!(text, "(assert {})", names[a]);
    }
    symbols.sort_unstable();
    symbols.dedup();
    Script { text, symbols }
}

/// A float node in SMT-LIB: a float-sorted result, or a bit-vector one.
enum Float {
    Value(String),
    Bits(String),
}

/// `(_ to_fp e s)` for the float of `w` bits.
fn to_fp(w: Width) -> &'static str {
    if w == 32 {
        "(_ to_fp 8 24)"
    } else {
        "(_ to_fp 11 53)"
    }
}

/// The NaN of the float of `w` bits.
fn nan(w: Width) -> &'static str {
    if w == 32 {
        "(_ NaN 8 24)"
    } else {
        "(_ NaN 11 53)"
    }
}

/// The float constant `v` (exactly representable) of `w` bits.
fn float_const(w: Width, v: f64) -> String {
    if w == 32 {
        format!("({} {})", to_fp(w), bv(32, (v as f32).to_bits() as u64))
    } else {
        format!("({} {})", to_fp(w), bv(64, v.to_bits()))
    }
}

/// SMT-LIB for a float node of result width `w` and operand width `aw`; `None` for other
/// nodes. Rounding is to nearest-even except where WebAssembly says otherwise.
fn float_expr(op: Op, w: Width, aw: Width, a: &[&str]) -> Option<Float> {
    let f = |i: usize| format!("({} {})", to_fp(aw), a[i]);
    let bool_bv = |b: String| format!("(ite {b} {} {})", bv(32, 1), bv(32, 0));
    Some(match op {
        Op::FBinary(o) => {
            use BinaryOp::*;
            let (x, y) = (f(0), f(1));
            let arith = |name: &str| Float::Value(format!("({name} RNE {x} {y})"));
            match o {
                F32Add | F64Add => arith("fp.add"),
                F32Sub | F64Sub => arith("fp.sub"),
                F32Mul | F64Mul => arith("fp.mul"),
                F32Div | F64Div => arith("fp.div"),
                F32Min | F64Min | F32Max | F64Max => {
                    // NaN if either is; of two zeros, -0 for min and +0 for max. Written with
                    // comparisons: SMT-LIB's fp.min/fp.max leave the zeros open, and cvc5
                    // answers `unknown` about them.
                    let (less, pick) = if matches!(o, F32Min | F64Min) {
                        ("fp.lt", "fp.isNegative")
                    } else {
                        ("fp.gt", "fp.isPositive")
                    };
                    Float::Value(format!(
                        "(ite (or (fp.isNaN {x}) (fp.isNaN {y})) {nan} \
                         (ite (and (fp.isZero {x}) (fp.isZero {y})) (ite ({pick} {x}) {x} {y}) \
                         (ite ({less} {x} {y}) {x} {y})))",
                        nan = nan(aw)
                    ))
                }
                F32Eq | F64Eq => Float::Bits(bool_bv(format!("(fp.eq {x} {y})"))),
                F32Ne | F64Ne => Float::Bits(bool_bv(format!("(not (fp.eq {x} {y}))"))),
                F32Lt | F64Lt => Float::Bits(bool_bv(format!("(fp.lt {x} {y})"))),
                F32Gt | F64Gt => Float::Bits(bool_bv(format!("(fp.gt {x} {y})"))),
                F32Le | F64Le => Float::Bits(bool_bv(format!("(fp.leq {x} {y})"))),
                F32Ge | F64Ge => Float::Bits(bool_bv(format!("(fp.geq {x} {y})"))),
                _ => return None,
            }
        }
        Op::FUnary(o) => {
            use UnaryOp::*;
            let x = f(0);
            let round = |mode: &str| Float::Value(format!("(fp.roundToIntegral {mode} {x})"));
            let from_int = |signed: bool| {
                let conv = if signed {
                    to_fp(w).to_string()
                } else {
                    to_fp(w).replace("to_fp", "to_fp_unsigned")
                };
                Float::Value(format!("({conv} RNE {})", a[0]))
            };
            // Truncation towards zero to `w` bits. The trapping forms are guarded by the
            // domain (the path excludes NaN and out-of-range operands); the saturating forms
            // clamp like WebAssembly.
            let trunc = |signed: bool, sat: bool| {
                let to = if signed { "fp.to_sbv" } else { "fp.to_ubv" };
                let t = format!("((_ {to} {w}) RTZ {x})");
                if !sat {
                    return Float::Bits(t);
                }
                let (lo, hi, min, max) = if signed {
                    let h = 2f64.powi(w as i32 - 1);
                    (-h, h, 1u64 << (w - 1), (1u64 << (w - 1)) - 1)
                } else {
                    (0.0, 2f64.powi(w as i32), 0, u64::MAX >> (64 - w))
                };
                Float::Bits(format!(
                    "(ite (fp.isNaN {x}) {zero} (ite (fp.lt {x} {lo}) {min} \
                     (ite (fp.geq {x} {hi}) {max} {t})))",
                    zero = bv(w, 0),
                    lo = float_const(aw, lo),
                    hi = float_const(aw, hi),
                    min = bv(w, min),
                    max = bv(w, max),
                ))
            };
            match o {
                F32Sqrt | F64Sqrt => Float::Value(format!("(fp.sqrt RNE {x})")),
                F32Ceil | F64Ceil => round("RTP"),
                F32Floor | F64Floor => round("RTN"),
                F32Trunc | F64Trunc => round("RTZ"),
                F32Nearest | F64Nearest => round("RNE"),
                F32ConvertI32S | F32ConvertI64S | F64ConvertI32S | F64ConvertI64S => from_int(true),
                F32ConvertI32U | F32ConvertI64U | F64ConvertI32U | F64ConvertI64U => {
                    from_int(false)
                }
                F64PromoteF32 | F32DemoteF64 => Float::Value(format!("({} RNE {x})", to_fp(w))),
                I32TruncF32S | I32TruncF64S | I64TruncF32S | I64TruncF64S => trunc(true, false),
                I32TruncF32U | I32TruncF64U | I64TruncF32U | I64TruncF64U => trunc(false, false),
                I32TruncSatF32S | I32TruncSatF64S | I64TruncSatF32S | I64TruncSatF64S => {
                    trunc(true, true)
                }
                I32TruncSatF32U | I32TruncSatF64U | I64TruncSatF32U | I64TruncSatF64U => {
                    trunc(false, true)
                }
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The float operators the solver encodes exactly (the domain concretises others).
pub fn encodes_unary(op: UnaryOp) -> bool {
    float_expr(Op::FUnary(op), 32, 32, &["x"]).is_some()
}

/// The float operators the solver encodes exactly (the domain concretises others).
pub fn encodes_binary(op: BinaryOp) -> bool {
    float_expr(Op::FBinary(op), 32, 32, &["x", "y"]).is_some()
}

fn expr(op: Op, w: Width, aw: Width, a: &[&str]) -> String {
    let bin = |f: &str| format!("({f} {} {})", a[0], a[1]);
    match op {
        Op::Const(_) | Op::Var(_) => unreachable!("leaves are named directly"),
        Op::Not => format!("(bvnot {})", a[0]),
        Op::Neg => format!("(bvneg {})", a[0]),
        Op::Add => bin("bvadd"),
        Op::Sub => bin("bvsub"),
        Op::Mul => bin("bvmul"),
        Op::UDiv => bin("bvudiv"),
        Op::SDiv => bin("bvsdiv"),
        Op::URem => bin("bvurem"),
        Op::SRem => bin("bvsrem"),
        Op::And => bin("bvand"),
        Op::Or => bin("bvor"),
        Op::Xor => bin("bvxor"),
        Op::Shl => bin("bvshl"),
        Op::LShr => bin("bvlshr"),
        Op::AShr => bin("bvashr"),
        Op::Rotl | Op::Rotr => {
            // Amount already masked to the width: x << k | x >> (w - k) (k = 0 gives x).
            let wc = bv(w, w as u64);
            let (l, r) = if op == Op::Rotl {
                ("bvshl", "bvlshr")
            } else {
                ("bvlshr", "bvshl")
            };
            format!(
                "(bvor ({l} {x} {k}) ({r} {x} (bvsub {wc} {k})))",
                x = a[0],
                k = a[1]
            )
        }
        Op::Popcnt => {
            let terms: Vec<String> = (0..w)
                .map(|i| format!("((_ zero_extend {}) ((_ extract {i} {i}) {}))", w - 1, a[0]))
                .collect();
            format!("(bvadd {} {})", bv(w, 0), terms.join(" "))
        }
        Op::Clz | Op::Ctz => {
            // Nested ite over bit positions.
            let mut s = bv(w, w as u64);
            let bits: Vec<u8> = if op == Op::Clz {
                (0..w).collect()
            } else {
                (0..w).rev().collect()
            };
            for i in bits {
                let count = if op == Op::Clz { w - 1 - i } else { i };
                s = format!(
                    "(ite (= ((_ extract {i} {i}) {}) #b1) {} {s})",
                    a[0],
                    bv(w, count as u64)
                );
            }
            s
        }
        Op::Eq => bin("="),
        Op::Ult => bin("bvult"),
        Op::Ule => bin("bvule"),
        Op::Slt => bin("bvslt"),
        Op::Sle => bin("bvsle"),
        Op::BNot => format!("(not {})", a[0]),
        Op::BAnd => bin("and"),
        Op::BOr => bin("or"),
        Op::Ite => format!("(ite {} {} {})", a[0], a[1], a[2]),
        Op::Extract(hi, lo) => format!("((_ extract {hi} {lo}) {})", a[0]),
        Op::Concat => bin("concat"),
        Op::ZExt => format!("((_ zero_extend {}) {})", w - aw, a[0]),
        Op::SExt => format!("((_ sign_extend {}) {})", w - aw, a[0]),
        Op::FUnary(_) | Op::FBinary(_) => unreachable!("float nodes are printed by float_expr"),
    }
}

/// Parses an SMT-LIB2 bit-vector or Boolean literal (`#x..`, `#b..`, `(_ bvN w)`, `true`).
pub fn parse_value(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("#x") {
        return u64::from_str_radix(h, 16).ok();
    }
    if let Some(b) = s.strip_prefix("#b") {
        return u64::from_str_radix(b, 2).ok();
    }
    if let Some(rest) = s.strip_prefix("(_ bv") {
        return rest.split_whitespace().next()?.parse().ok();
    }
    match s {
        "true" => Some(1),
        "false" => Some(0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_declarations_definitions_and_assertions() {
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let y = t.fresh("y", 8);
        let yz = t.app(Op::ZExt, 32, &[y]);
        let s = t.app(Op::Add, 32, &[x, yz]);
        let c = t.app(Op::Eq, 0, &[s, t.constant(32, 7)]);
        let p = print(&t, &[c]);
        assert_eq!(p.symbols, vec![0, 1]);
        assert!(
            p.text.contains("(declare-fun v0 () (_ BitVec 32))"),
            "{}",
            p.text
        );
        assert!(p.text.contains("((_ zero_extend 24) v1)"), "{}", p.text);
        assert!(p.text.contains("(= _1 #x00000007)"), "{}", p.text);
        assert!(p.text.trim_end().ends_with("(assert _2)"), "{}", p.text);
        assert_eq!(parse_value("#x0000002a"), Some(42));
        assert_eq!(parse_value("(_ bv42 32)"), Some(42));
        assert_eq!(parse_value("#b101"), Some(5));
    }
}
