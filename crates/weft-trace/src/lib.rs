//! Execution traces: every executed instruction of a run as one row, streamed to disk.
//!
//! A [`Tracer`] is an [`Observer`](weft_exec::Observer) of the engine, so an untraced run
//! pays nothing for it. Each row holds the step number, function, code offset, operator, the
//! operand stack before the step, the locals, the call stack, memory and global accesses and
//! the fuel consumed so far; [`TraceOptions`] choose how much of the stack and locals to keep
//! and which rows to write.
//!
//! Formats ([`Format`]): JSON Lines ([`jsonl`]), a compact binary stream ([`binary`]),
//! zkVM-style tables as CSV and Parquet ([`tables`]), and the witness ([`witness`]): only
//! the values the run computed, written from the engine's fast code, with rows rebuilt on
//! reading. Readers give rows back ([`read_trace`]),
//! [`verify`] re-executes the recorded invocation and checks every row, and [`stats`]
//! summarises a trace.
#![deny(missing_docs)]

mod atomic;
pub mod binary;
mod error;
mod info;
pub mod jsonl;
mod options;
mod row;
mod run;
mod sink;
pub mod stats;
pub mod tables;
mod tracer;
pub mod verify;
pub mod witness;

pub use atomic::AtomicFile;
pub use error::TraceError;
pub use info::ModuleInfo;
pub use options::{Capture, Filter, Format, TraceOptions};
pub use row::{Access, ByteSource, BytesAccess, GlobalAccess, MemAccess, Row, TypedValue};
pub use run::{run_traced, Header, Invocation, Outcome, FORMAT_VERSION};
pub use sink::{CountingSink, RowSink, Summary};
pub use tracer::Tracer;

/// Reads any trace file written by this crate (JSON Lines, binary or witness, told apart
/// by the first bytes), returning its header and a streaming row reader.
pub fn read_trace(path: &std::path::Path) -> Result<(Header, Box<dyn TraceReader>), TraceError> {
    let mut file =
        std::io::BufReader::new(std::fs::File::open(path).map_err(|e| TraceError::io(path, e))?);
    let (binary, witness) = {
        use std::io::BufRead;
        let buf = file.fill_buf().map_err(|e| TraceError::io(path, e))?;
        (
            buf.starts_with(binary::MAGIC),
            buf.starts_with(witness::MAGIC),
        )
    };
    if binary {
        let r = binary::BinaryReader::new(file)?;
        Ok((r.header().clone(), Box::new(r)))
    } else if witness {
        let r = witness::WitnessReader::new(file)?;
        Ok((r.header().clone(), Box::new(r)))
    } else {
        let r = jsonl::JsonlReader::new(file)?;
        Ok((r.header().clone(), Box::new(r)))
    }
}

/// A streaming reader of trace rows.
pub trait TraceReader {
    /// The next row, `Ok(None)` at the end of the rows.
    fn next_row(&mut self) -> Result<Option<Row>, TraceError>;
    /// The run's summary, once every row has been read (`None` if the trace has none).
    fn summary(&self) -> Option<&Summary>;
}
