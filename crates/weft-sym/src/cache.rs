//! A cache in front of a solver: a query seen before, or one that a model found earlier
//! already satisfies, is answered without the solver (the two simplest forms of KLEE's
//! counterexample cache).
//!
//! Sibling paths ask many of the same questions (a loop's bound, the same guard reached from
//! both sides of an earlier branch), and a model that satisfied one path's constraints often
//! satisfies the next path's as well. Both answers are exact: a cached `unsat` is for the very
//! same set of assertions, and a reused model is checked by evaluating every assertion under
//! it with the engine's own semantics ([`Terms::eval`]), which is also what the replay check
//! trusts. `unknown` is never cached. With one worker the answers, and so the exploration,
//! stay deterministic.

use crate::solver::{SatResult, Solver, SolverError, SolverStats};
use crate::term::{TermId, Terms};
use std::collections::{HashMap, VecDeque};

/// Models kept for reuse, newest first tried.
const MODELS_KEPT: usize = 8;
/// Answers kept before the exact cache is emptied (bounds its memory).
const ANSWERS_KEPT: usize = 50_000;

/// A [`Solver`] that answers from its cache when it can and asks `inner` otherwise.
pub struct Cached {
    inner: Box<dyn Solver>,
    answers: HashMap<Vec<TermId>, SatResult>,
    models: VecDeque<HashMap<u32, u64>>,
    hits: u64,
}

impl Cached {
    /// Puts a cache in front of `inner`.
    pub fn new(inner: Box<dyn Solver>) -> Self {
        Cached {
            inner,
            answers: HashMap::new(),
            models: VecDeque::new(),
            hits: 0,
        }
    }

    /// A kept model under which every assertion holds, completed with zeros for the query's
    /// symbols it does not mention (the value [`Terms::eval`] gave them).
    fn reuse_model(&self, terms: &Terms, assertions: &[TermId]) -> Option<HashMap<u32, u64>> {
        let m = self.models.iter().find(|m| {
            // The newest assertion (the condition being decided) is last: it fails most often.
            assertions.iter().rev().all(|a| terms.eval(*a, m) != 0)
        })?;
        Some(
            terms
                .vars(assertions)
                .into_iter()
                .map(|v| (v, m.get(&v).copied().unwrap_or(0)))
                .collect(),
        )
    }

    fn remember(&mut self, key: Vec<TermId>, answer: &SatResult) {
        if let SatResult::Unknown(_) = answer {
            return;
        }
        if let SatResult::Sat(m) = answer {
            if self.models.len() == MODELS_KEPT {
                self.models.pop_back();
            }
            self.models.push_front(m.clone());
        }
        if self.answers.len() >= ANSWERS_KEPT {
            self.answers.clear();
        }
        self.answers.insert(key, answer.clone());
    }
}

impl Solver for Cached {
    fn check(&mut self, terms: &Terms, assertions: &[TermId]) -> Result<SatResult, SolverError> {
        let mut key = assertions.to_vec();
        key.sort_unstable();
        key.dedup();
        if let Some(answer) = self.answers.get(&key) {
            self.hits += 1;
            return Ok(answer.clone());
        }
        if let Some(model) = self.reuse_model(terms, assertions) {
            self.hits += 1;
            let answer = SatResult::Sat(model);
            self.answers.insert(key, answer.clone());
            return Ok(answer);
        }
        let answer = self.inner.check(terms, assertions)?;
        self.remember(key, &answer);
        Ok(answer)
    }

    fn stats(&self) -> SolverStats {
        SolverStats {
            cache_hits: self.hits,
            ..self.inner.stats()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::Op;
    use std::time::Duration;

    /// A solver that must not be asked more than its script says, and answers from it.
    struct Scripted {
        answers: Vec<SatResult>,
        asked: u64,
    }

    impl Solver for Scripted {
        fn check(&mut self, _: &Terms, _: &[TermId]) -> Result<SatResult, SolverError> {
            self.asked += 1;
            Ok(self.answers.remove(0))
        }
        fn stats(&self) -> SolverStats {
            SolverStats {
                queries: self.asked,
                unknown: 0,
                time: Duration::ZERO,
                cache_hits: 0,
            }
        }
    }

    fn cached(answers: Vec<SatResult>) -> Cached {
        Cached::new(Box::new(Scripted { answers, asked: 0 }))
    }

    #[test]
    fn repeated_queries_and_satisfied_ones_skip_the_solver() {
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let y = t.fresh("y", 32);
        let x_is_7 = t.app(Op::Eq, 0, &[x, t.constant(32, 7)]);
        let x_small = t.app(Op::Ult, 0, &[x, t.constant(32, 10)]);
        let x_big = t.app(Op::Ult, 0, &[t.constant(32, 100), x]);
        let y_is_3 = t.app(Op::Eq, 0, &[y, t.constant(32, 3)]);
        let (xv, yv) = (t.vars(&[x])[0], t.vars(&[y])[0]);
        let mut s = cached(vec![
            SatResult::Sat(HashMap::from([(xv, 7)])),
            SatResult::Unsat,
            SatResult::Sat(HashMap::from([(yv, 3)])),
        ]);
        // Asked: x == 7 (sat, x = 7).
        assert!(matches!(s.check(&t, &[x_is_7]).unwrap(), SatResult::Sat(_)));
        // x < 10 holds under x = 7: answered from the model, with a value for x.
        match s.check(&t, &[x_small]).unwrap() {
            SatResult::Sat(m) => assert_eq!(m.get(&xv), Some(&7)),
            other => panic!("expected sat, got {other:?}"),
        }
        // x == 7 and x > 100: no kept model fits, the solver says unsat.
        assert_eq!(s.check(&t, &[x_is_7, x_big]).unwrap(), SatResult::Unsat);
        // The same set in another order: the cached unsat.
        assert_eq!(s.check(&t, &[x_big, x_is_7]).unwrap(), SatResult::Unsat);
        // y == 3 is not satisfied by x = 7 (y would be 0): the solver is asked.
        match s.check(&t, &[y_is_3]).unwrap() {
            SatResult::Sat(m) => assert_eq!(m.get(&yv), Some(&3)),
            other => panic!("expected sat, got {other:?}"),
        }
        let st = s.stats();
        assert_eq!((st.queries, st.cache_hits), (3, 2));
    }

    #[test]
    fn unknown_is_asked_again() {
        let t = Terms::default();
        let x = t.fresh("x", 32);
        let c = t.app(Op::Eq, 0, &[x, t.constant(32, 1)]);
        let mut s = cached(vec![SatResult::Unknown("timeout".into()), SatResult::Unsat]);
        assert!(matches!(s.check(&t, &[c]).unwrap(), SatResult::Unknown(_)));
        assert_eq!(s.check(&t, &[c]).unwrap(), SatResult::Unsat);
        assert_eq!(s.stats().cache_hits, 0);
    }
}
