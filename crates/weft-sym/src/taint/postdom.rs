//! Immediate post-dominators of a lowered (exact-mode) function body.
//!
//! A tainted branch influences, implicitly, everything executed until control reaches the
//! branch's immediate post-dominator (the first instruction every path from the branch must
//! pass). Nodes are instruction indices plus a virtual exit (`Return` and traps lead there);
//! the algorithm is Cooper, Harvey and Kennedy's iterative one on the reversed graph.

use weft_ir::{Instr, LoweredFunc};

/// The virtual exit: the function returns (or traps) before any merge point is reached.
pub const EXIT: u32 = u32::MAX;

/// Control-flow successors of instruction `i` (`EXIT` for returns and traps).
fn successors(code: &LoweredFunc, i: usize) -> Vec<u32> {
    let n = code.code.len() as u32;
    let next = if i as u32 + 1 < n { i as u32 + 1 } else { EXIT };
    match code.code[i] {
        Instr::Br(t) => vec![t.pc],
        Instr::BrIf(t) | Instr::BrIfNot(t) => vec![next, t.pc],
        Instr::BrTable { first, len } => {
            let mut v: Vec<u32> = code.br_tables[first as usize..=(first + len) as usize]
                .iter()
                .map(|t| t.pc)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        Instr::Return | Instr::Unreachable => vec![EXIT],
        _ => vec![next],
    }
}

/// The immediate post-dominator of every instruction (`EXIT` when it is the function's exit,
/// or when the instruction cannot reach the exit, e.g. inside an endless loop).
pub fn immediate_post_dominators(code: &LoweredFunc) -> Vec<u32> {
    let n = code.code.len();
    let exit = n; // node index of the virtual exit
                  // Reversed graph: the "predecessors" of a node there are its successors here.
    let succ: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            successors(code, i)
                .into_iter()
                .map(|s| if s == EXIT { exit } else { s as usize })
                .filter(|&s| s <= n)
                .collect()
        })
        .collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n + 1];
    for (i, ss) in succ.iter().enumerate() {
        for &s in ss {
            preds[s].push(i);
        }
    }
    // Post-order of the reversed graph from the exit (iterative DFS).
    let mut order = vec![usize::MAX; n + 1];
    let mut post = Vec::with_capacity(n + 1);
    let mut seen = vec![false; n + 1];
    let mut stack: Vec<(usize, usize)> = vec![(exit, 0)];
    seen[exit] = true;
    while let Some(&mut (v, ref mut k)) = stack.last_mut() {
        if *k < preds[v].len() {
            let w = preds[v][*k];
            *k += 1;
            if !seen[w] {
                seen[w] = true;
                stack.push((w, 0));
            }
        } else {
            order[v] = post.len();
            post.push(v);
            stack.pop();
        }
    }
    const UNDEF: usize = usize::MAX;
    let mut idom = vec![UNDEF; n + 1];
    idom[exit] = exit;
    let intersect = |idom: &[usize], mut a: usize, mut b: usize| {
        while a != b {
            while order[a] < order[b] {
                a = idom[a];
            }
            while order[b] < order[a] {
                b = idom[b];
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &v in post.iter().rev() {
            if v == exit {
                continue;
            }
            let mut new = UNDEF;
            for &s in &succ[v] {
                if idom[s] == UNDEF {
                    continue;
                }
                new = if new == UNDEF {
                    s
                } else {
                    intersect(&idom, s, new)
                };
            }
            if new != UNDEF && idom[v] != new {
                idom[v] = new;
                changed = true;
            }
        }
    }
    (0..n)
        .map(|i| match idom[i] {
            d if d == exit || d == UNDEF => EXIT,
            d => d as u32,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_ir::{LowerMode, Module};

    fn body(wat: &str) -> std::sync::Arc<LoweredFunc> {
        let m = Module::from_bytes_or_text(wat.as_bytes()).unwrap();
        m.lowered(LowerMode::EXACT).unwrap()[0].clone()
    }

    #[test]
    fn if_else_merges_after_end() {
        let f = body(
            r#"(module (func (param i32) (result i32) (local i32)
                 local.get 0
                 if
                   i32.const 1
                   local.set 1
                 else
                   i32.const 2
                   local.set 1
                 end
                 local.get 1))"#,
        );
        let ipd = immediate_post_dominators(&f);
        let br = f
            .code
            .iter()
            .position(|i| matches!(i, Instr::BrIfNot(_)))
            .unwrap();
        let merge = ipd[br] as usize;
        assert!(merge > br && merge < f.code.len());
        // Every instruction from the merge point on is outside the region: the merge is the
        // `end` (or the `local.get 1` right after it).
        assert!(matches!(
            f.code[merge],
            Instr::Marker(weft_ir::Marker::End) | Instr::LocalGet(1)
        ));
    }

    #[test]
    fn early_return_extends_to_exit() {
        let f = body(
            r#"(module (func (param i32) (result i32)
                 local.get 0
                 if
                   i32.const 7
                   return
                 end
                 i32.const 8))"#,
        );
        let ipd = immediate_post_dominators(&f);
        let br = f
            .code
            .iter()
            .position(|i| matches!(i, Instr::BrIfNot(_)))
            .unwrap();
        assert_eq!(ipd[br], EXIT);
    }
}
