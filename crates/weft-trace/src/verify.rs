//! Trace verification: the recorded invocation is run again under the engine and every row of
//! the trace is checked against the row execution produces at that point, so each row's
//! contents must follow from the semantics and the state the previous rows led to. A flipped
//! value, a dropped, inserted or swapped row, a truncated file or a wrong summary is caught,
//! and the first bad row is named.

use crate::error::TraceError;
use crate::info::ModuleInfo;
use crate::row::Row;
use crate::run::run_traced;
use crate::sink::{RowSink, Summary};
use crate::TraceReader;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use weft_exec::Limits;
use weft_ir::Module;

/// The verdict on a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every row and the summary agree with execution.
    Valid {
        /// Rows checked.
        rows: u64,
        /// Steps the run executed.
        steps: u64,
    },
    /// The trace disagrees with execution.
    Invalid {
        /// Index of the first bad row in the file (0-based), or of the missing row.
        row: u64,
        /// Step number the execution was at.
        step: Option<u64>,
        /// What is wrong.
        reason: String,
    },
}

/// Compares each row execution produces with the trace's next row.
struct Comparer {
    reader: Box<dyn TraceReader>,
    with_frames: bool,
    index: u64,
    /// The first failure, shared with [`verify`] (the sink is gone when writing fails).
    failure: Arc<Mutex<Option<Failure>>>,
}

type Failure = (u64, Option<u64>, String);

impl Comparer {
    fn fail(&mut self, step: Option<u64>, reason: String) -> std::io::Result<()> {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((self.index, step, reason));
        // Stops further rows: the tracer keeps the first error and writes nothing more.
        Err(std::io::Error::other("verification failed"))
    }
}

impl RowSink for Comparer {
    fn row(&mut self, expected: &Row) -> std::io::Result<()> {
        let got = match self.reader.next_row() {
            Ok(Some(r)) => r,
            Ok(None) => {
                return self.fail(
                    Some(expected.step),
                    format!(
                        "the trace ends but execution goes on (step {} at offset {:#x})",
                        expected.step, expected.offset
                    ),
                )
            }
            Err(e) => return self.fail(Some(expected.step), e.to_string()),
        };
        if let Some(diff) = got.first_difference(expected, self.with_frames) {
            return self.fail(Some(expected.step), diff);
        }
        self.index += 1;
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        match self.reader.next_row() {
            Ok(None) => {}
            Ok(Some(r)) => {
                return self.fail(
                    None,
                    format!(
                        "the trace has a row for step {} after execution ended",
                        r.step
                    ),
                )
            }
            Err(e) => return self.fail(None, e.to_string()),
        }
        match self.reader.summary() {
            Some(s) if s == summary => Ok(()),
            Some(s) => self.fail(
                None,
                format!("summary: the trace has {s:?}, execution gives {summary:?}"),
            ),
            None => self.fail(None, "the trace has no summary".into()),
        }
    }
}

/// Verifies the trace at `path` against `module`: the module must be the one the trace was
/// recorded from, and re-running its invocation must give the same rows and summary.
pub fn verify(path: &Path, module: Arc<Module>, limits: Limits) -> Result<Verdict, TraceError> {
    let (header, reader) = crate::read_trace(path)?;
    let info = Arc::new(ModuleInfo::new(&module)?);
    if info.sha256 != header.module_sha256 {
        return Err(TraceError::WrongModule {
            expected: header.module_sha256,
            found: info.sha256.clone(),
        });
    }
    let failure = Arc::new(Mutex::new(None));
    let comparer = Comparer {
        reader,
        with_frames: header.options.frames,
        index: 0,
        failure: failure.clone(),
    };
    let result = run_traced(
        module,
        info,
        &header.invocation,
        header.fuel_limit,
        limits,
        header.options,
        comparer,
        false,
        false,
    );
    let failure = failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some((row, step, reason)) = failure {
        return Ok(Verdict::Invalid { row, step, reason });
    }
    let (outcome, comparer) = result?;
    Ok(Verdict::Valid {
        rows: comparer.index,
        steps: outcome.summary.steps,
    })
}
