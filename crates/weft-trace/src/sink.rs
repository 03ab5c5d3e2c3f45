//! Where rows go.

use crate::row::Row;
use serde::{Deserialize, Serialize};

/// How a traced run ended, written at the end of every trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Instructions executed (every step, free ones included).
    pub steps: u64,
    /// Rows written (fewer than `steps` with a window or a filter).
    pub rows: u64,
    /// Fuel consumed by the whole run.
    pub fuel: u64,
    /// `exit N`, `trap: MESSAGE`, or `returned` with `results`.
    pub termination: String,
    /// Results of an invoked export, as typed text (`i32:5`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
}

/// A consumer of trace rows. Rows arrive in step order; `finish` comes once, last.
pub trait RowSink {
    /// Takes one row.
    fn row(&mut self, row: &Row) -> std::io::Result<()>;
    /// Ends the trace.
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()>;
    /// Whether rows must carry the operator's text in [`Row::op`]. A sink that writes only
    /// [`Row::mnemonic_id`] says no, and the tracer skips copying a string per row.
    fn needs_op_text(&self) -> bool {
        true
    }
}

impl<S: RowSink + ?Sized> RowSink for Box<S> {
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        (**self).row(row)
    }
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        (**self).finish(summary)
    }
    fn needs_op_text(&self) -> bool {
        (**self).needs_op_text()
    }
}

/// Counts rows and drops them (for measuring the tracer alone).
#[derive(Default)]
pub struct CountingSink {
    /// Rows seen.
    pub rows: u64,
}

impl RowSink for CountingSink {
    fn row(&mut self, _row: &Row) -> std::io::Result<()> {
        self.rows += 1;
        Ok(())
    }
    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        Ok(())
    }
    fn needs_op_text(&self) -> bool {
        false
    }
}
