//! Errors: bad input (what and where) and divergences between a run and its trace.

use std::fmt;

/// The first point where a replayed run differs from its trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the trace event that was expected (0 = first event after the header).
    pub index: usize,
    /// What the trace says at that point.
    pub expected: String,
    /// What the program did instead.
    pub actual: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "divergence at event {}: expected {}, got {}",
            self.index, self.expected, self.actual
        )
    }
}

/// Everything that can go wrong in weft-rr.
#[derive(Debug, thiserror::Error)]
pub enum RrError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A trace is malformed: `line` is 1-based, `event` the event index when known.
    #[error("bad trace at line {line}{}: {message}", event.map(|e| format!(" (event {e})")).unwrap_or_default())]
    Trace {
        /// 1-based line of the trace file.
        line: usize,
        /// The event index, for event lines.
        event: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The trace was recorded from another module or component.
    #[error("trace was recorded from a module with SHA-256 {expected}, this one has {actual} (use --other-build to replay on another build of the same source)")]
    HashMismatch {
        /// Hash in the trace header.
        expected: String,
        /// Hash of the given binary.
        actual: String,
    },
    /// The replayed run differs from the trace.
    #[error("{0}")]
    Diverged(Divergence),
    /// Bad input other than a trace (module, arguments, options).
    #[error("{0}")]
    Input(String),
    /// Something this tool does not support (named).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// wasmtime refused the module or failed outside the guest.
    #[error("wasmtime: {0}")]
    Engine(String),
}

impl From<Divergence> for RrError {
    fn from(d: Divergence) -> Self {
        RrError::Diverged(d)
    }
}
