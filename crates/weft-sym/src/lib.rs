//! Symbolic execution and taint tracking: two more [`weft_exec::Domain`]s on the one engine.
//!
//! - [`term`]: hash-consed bit-vector terms with folding and rewrites; [`smt`] prints them
//!   as SMT-LIB2; [`solver`] talks to cvc5 or z3 through a pipe; [`cache`] answers repeated
//!   and already-satisfied queries without it.
//! - [`domain`]: the `Symbolic` domain (values are bits or terms, decisions fork) and
//!   [`memory`], its byte-granular copy-on-write memory.
//! - [`explore`]: the path explorer; [`goals`]: inputs, goals and Test-Comp imports;
//!   [`replay`]: concrete confirmation of findings; [`report`]: text and JSON output.
//! - [`wasi`]: WASI preview 1 on a per-path state, with symbolic standard input.
//! - [`taint`]: values carry the set of input sources that influence them.
#![deny(missing_docs)]

pub mod cache;
pub mod domain;
pub mod explore;
pub mod goals;
pub mod memory;
pub mod replay;
pub mod report;
pub mod smt;
pub mod solver;
pub mod suite;
pub mod taint;
pub mod term;
pub mod wasi;

pub use domain::{SymVal, Symbolic};
pub use explore::{explore, ExploreConfig, Strategy};
pub use goals::{Goal, MemSpec, ParamSpec, Task};
pub use report::{Finding, Report, Verdict};
