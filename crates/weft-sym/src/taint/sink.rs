//! Sinks: the places where a report says which sources arrive.

use std::fmt;

/// What kind of place a sink is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SinkKind {
    /// The condition of `if`, `br_if`, `br_table` or `select`.
    Condition,
    /// The address operand of a load, store or bulk memory operation.
    Address,
    /// The table index of `call_indirect`.
    CallIndex,
    /// Argument `arg` of a call to the imported function `import` (`module.name`).
    ImportArg {
        /// `module.name` of the import.
        import: String,
        /// Parameter index.
        arg: u32,
    },
    /// Bytes written to a file descriptor (`fd_write`), e.g. 1 for standard output.
    Output {
        /// The file descriptor.
        fd: u32,
    },
    /// Result `index` of the invoked export.
    ExportResult {
        /// Export name.
        export: String,
        /// Result index.
        index: u32,
    },
}

impl SinkKind {
    /// A short kind name, as the `--sinks` filter and JSON use it.
    pub fn name(&self) -> &'static str {
        match self {
            SinkKind::Condition => "condition",
            SinkKind::Address => "address",
            SinkKind::CallIndex => "call-index",
            SinkKind::ImportArg { .. } => "import-arg",
            SinkKind::Output { .. } => "output",
            SinkKind::ExportResult { .. } => "result",
        }
    }

    /// Every kind name.
    pub const NAMES: [&'static str; 6] = [
        "condition",
        "address",
        "call-index",
        "import-arg",
        "output",
        "result",
    ];
}

impl fmt::Display for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SinkKind::Condition => write!(f, "branch condition"),
            SinkKind::Address => write!(f, "memory address"),
            SinkKind::CallIndex => write!(f, "indirect call index"),
            SinkKind::ImportArg { import, arg } => write!(f, "argument {arg} of {import}"),
            SinkKind::Output { fd } => write!(f, "bytes written to fd {fd}"),
            SinkKind::ExportResult { export, index } => write!(f, "result {index} of {export}"),
        }
    }
}

/// A sink at a place in the code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sink {
    /// Code-section byte offset of the instruction (`None` for an export's results).
    pub offset: Option<u32>,
    /// Function index in the module (`None` for an export's results).
    pub func: Option<u32>,
    /// What the sink is.
    pub kind: SinkKind,
}
