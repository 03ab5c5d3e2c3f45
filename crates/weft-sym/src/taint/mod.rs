//! Taint tracking: a domain whose values carry label sets of input sources.
//!
//! - [`label`]: labels are interned sets of source ids (`Copy`, 32 bits).
//! - [`domain`]: [`Taint`] wraps the concrete domain; values are concrete bits plus a label.
//! - [`memory`]: per-byte shadow labels of linear memory.
//! - [`observer`]: sinks (branch conditions, addresses, import arguments) and the pc label
//!   of implicit flows, bounded by [`postdom`]inators.
//! - [`host`]: imports by summaries; WASI standard input and arguments as sources.
//! - [`run`]: one analysis from sources to a [`TaintReport`]; [`report`] renders it.

pub mod domain;
pub mod host;
pub mod label;
pub mod memory;
pub mod observer;
pub mod postdom;
pub mod report;
pub mod run;
pub mod sink;
pub mod source;

pub use domain::{Shared, Taint, TaintValue};
pub use host::ImportSummary;
pub use label::{Label, LabelTable, SourceId};
pub use memory::TaintMemory;
pub use observer::TaintObserver;
pub use run::{analyze, Flow, Outcome, TaintOptions, TaintReport, Target};
pub use sink::{Sink, SinkKind};
pub use source::{Source, Sources};

use std::fmt;

/// Why an analysis could not run (bad input or setup; traps are an [`Outcome`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaintError(pub String);

impl fmt::Display for TaintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TaintError {}
