//! SMT-LIB2 printing of terms.
//!
//! A query is printed as declarations of the symbols it mentions, one `define-fun` per
//! internal node in post-order (so shared sub-terms are printed once and deep terms never
//! recurse), and the assertions. Local names depend only on the structure of the query, not
//! on term ids, so the same query prints the same text in every run.

use crate::term::{Op, TermId, Terms, Width};
use std::collections::HashMap;
use std::fmt::Write as _;

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
                let expr = expr(n.op, n.width, aw, &a);
                let local = format!("_{next}");
                next += 1;
                let _ = writeln!(defs, "(define-fun {local} () {} {expr})", sort(n.width));
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
