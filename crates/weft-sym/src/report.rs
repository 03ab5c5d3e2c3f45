//! Findings and reports, as text and JSON.

use serde::Serialize;
use std::fmt::Write as _;

/// One input's value in a finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InputValue {
    /// Input name (`a0`, `mem[0x400..0x410]`, `__VERIFIER_nondet_int#0`).
    pub name: String,
    /// Value, exactly (`i32:-5`, or bytes as hex and as an escaped string).
    pub value: String,
}

/// Something the explorer reached, with the inputs that reach it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Finding {
    /// `target`, `trap`, `return` or `reach`.
    pub kind: String,
    /// What was reached: the target's name, the trap message, the value, the goal.
    pub what: String,
    /// Function index and code offset where it happened, if known.
    pub location: Option<String>,
    /// The path condition, readable.
    pub constraints: Vec<String>,
    /// A model of every input.
    pub inputs: Vec<InputValue>,
    /// What the concrete replay did (always a confirmation: unconfirmed findings are dropped).
    pub replay: String,
    /// Symbolic branches forked on the way.
    pub forks: u32,
}

/// Counters of one exploration.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Paths that ran to an end (return, trap, exit, target).
    pub paths_completed: u64,
    /// Paths cut by a false assumption.
    pub paths_cut: u64,
    /// Forks (decisions with more than one feasible answer).
    pub forks: u64,
    /// Solver queries.
    pub solver_queries: u64,
    /// Queries answered unknown (timeouts included).
    pub solver_unknown: u64,
    /// Queries answered from the solver cache (not counted in `solver_queries`).
    pub solver_cache_hits: u64,
    /// Milliseconds waiting for solvers (summed over workers).
    pub solver_ms: u64,
    /// Wall-clock milliseconds.
    pub elapsed_ms: u64,
    /// Distinct code offsets executed.
    pub offsets_covered: u64,
    /// Terms in the shared table.
    pub terms: u64,
    /// Findings whose replay did not reproduce them (not reported).
    pub unconfirmed: u64,
}

/// The overall answer.
#[derive(Copy, Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// At least one target or goal was reached (and confirmed by replay).
    Reached,
    /// Every path was explored without reaching a target: none is reachable.
    Unreachable,
    /// Nothing reached, but the exploration was incomplete (see `incomplete`).
    Unknown,
}

/// The result of one exploration.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// Overall answer.
    pub verdict: Verdict,
    /// Confirmed findings.
    pub findings: Vec<Finding>,
    /// Why the exploration is incomplete (empty when it covered every path).
    pub incomplete: Vec<String>,
    /// Counters.
    pub stats: Stats,
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (i, f) in self.findings.iter().enumerate() {
            let _ = writeln!(s, "finding {}: {} {}", i + 1, f.kind, f.what);
            if let Some(l) = &f.location {
                let _ = writeln!(s, "  at: {l}");
            }
            let _ = writeln!(s, "  inputs:");
            for v in &f.inputs {
                let _ = writeln!(s, "    {} = {}", v.name, v.value);
            }
            let _ = writeln!(
                s,
                "  path condition ({} constraints, {} forks):",
                f.constraints.len(),
                f.forks
            );
            for c in f.constraints.iter().take(40) {
                let _ = writeln!(s, "    {c}");
            }
            if f.constraints.len() > 40 {
                let _ = writeln!(s, "    … {} more", f.constraints.len() - 40);
            }
            let _ = writeln!(s, "  replay: {}", f.replay);
        }
        let verdict = match self.verdict {
            Verdict::Reached => "reached",
            Verdict::Unreachable => "unreachable (every path explored)",
            Verdict::Unknown => "unknown (exploration incomplete)",
        };
        let _ = writeln!(s, "verdict: {verdict}");
        for r in &self.incomplete {
            let _ = writeln!(s, "  incomplete: {r}");
        }
        let st = &self.stats;
        let _ = writeln!(
            s,
            "stats: {} paths, {} cut, {} forks, {} solver queries ({} unknown, {} ms; {} more from the cache), {} offsets covered, {} terms, {} ms",
            st.paths_completed,
            st.paths_cut,
            st.forks,
            st.solver_queries,
            st.solver_unknown,
            st.solver_ms,
            st.solver_cache_hits,
            st.offsets_covered,
            st.terms,
            st.elapsed_ms
        );
        s
    }
}

/// Bytes as an escaped string (`"ab\x01"`).
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for b in bytes {
        match *b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(*b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}
