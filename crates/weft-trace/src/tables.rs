//! zkVM-style tables: an execution table, a memory-access table and a control-flow (jump and
//! call) table, each written as CSV and as Parquet into one directory, with the trace header
//! beside them as `header.json` and the run's summary as `summary.json`.
//!
//! - `exec`: `step, func, offset, op, fuel, stack_depth, top_type, top_bits` (top of the
//!   stack before the step, when kept).
//! - `memory`: `step, kind (read|write), source (instr|bulk|host), addr, width, bytes_hex`
//!   (the bytes in memory order).
//! - `control`: `step, op, kind (call|return|branch), from_func, from_offset, to_func,
//!   to_offset`: one row per control instruction, `to` being where execution went next
//!   (empty when the next step was not written).
//!
//! Rows are buffered a batch at a time, so memory stays bounded however long the run.

use crate::atomic::AtomicFile;
use crate::info::hex;
use crate::row::Row;
use crate::run::Header;
use crate::sink::{RowSink, Summary};
use crate::ByteSource;
use arrow_array::builder::{StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Rows per Parquet batch.
const BATCH: usize = 1 << 16;

/// Mnemonics after which control moves somewhere other than the next instruction (or may).
fn is_control(mnemonic: &str) -> bool {
    matches!(
        mnemonic,
        "br" | "br_if" | "br_table" | "if" | "else" | "call" | "call_indirect" | "return"
    )
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// One table: CSV file and Parquet file written side by side.
struct Table {
    csv: AtomicFile,
    parquet: ArrowWriter<AtomicFile>,
    schema: Arc<Schema>,
    columns: Vec<Column>,
    rows: usize,
}

enum Column {
    U64(UInt64Builder),
    U32(UInt32Builder),
    Str(StringBuilder),
}

/// A cell value for [`Table::push`].
enum Cell<'a> {
    U64(Option<u64>),
    U32(Option<u32>),
    Str(Option<&'a str>),
}

impl Table {
    fn create(dir: &Path, name: &str, fields: &[(&str, DataType)]) -> std::io::Result<Table> {
        let schema = Arc::new(Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        ));
        let mut csv = AtomicFile::create(&dir.join(format!("{name}.csv")))?;
        let header: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
        writeln!(csv, "{}", header.join(","))?;
        let file = AtomicFile::create(&dir.join(format!("{name}.parquet")))?;
        let parquet =
            ArrowWriter::try_new(file, schema.clone(), None).map_err(std::io::Error::other)?;
        let columns = fields
            .iter()
            .map(|(_, t)| match t {
                DataType::UInt64 => Column::U64(UInt64Builder::new()),
                DataType::UInt32 => Column::U32(UInt32Builder::new()),
                _ => Column::Str(StringBuilder::new()),
            })
            .collect();
        Ok(Table {
            csv,
            parquet,
            schema,
            columns,
            rows: 0,
        })
    }

    fn push(&mut self, cells: &[Cell<'_>]) -> std::io::Result<()> {
        let w = self.csv.writer();
        for (i, (cell, col)) in cells.iter().zip(&mut self.columns).enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            match (cell, col) {
                (Cell::U64(v), Column::U64(b)) => {
                    if let Some(v) = v {
                        write!(w, "{v}")?;
                    }
                    b.append_option(*v);
                }
                (Cell::U32(v), Column::U32(b)) => {
                    if let Some(v) = v {
                        write!(w, "{v}")?;
                    }
                    b.append_option(*v);
                }
                (Cell::Str(v), Column::Str(b)) => {
                    if let Some(v) = v {
                        w.write_all(csv_field(v).as_bytes())?;
                    }
                    b.append_option(*v);
                }
                _ => return Err(std::io::Error::other("table cell of the wrong type")),
            }
        }
        w.write_all(b"\n")?;
        self.rows += 1;
        if self.rows >= BATCH {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> std::io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Column::U64(b) => Arc::new(b.finish()),
                    Column::U32(b) => Arc::new(b.finish()),
                    Column::Str(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(std::io::Error::other)?;
        self.parquet.write(&batch).map_err(std::io::Error::other)?;
        self.rows = 0;
        Ok(())
    }

    fn commit(mut self) -> std::io::Result<()> {
        self.flush_batch()?;
        let file = self.parquet.into_inner().map_err(std::io::Error::other)?;
        file.commit()?;
        self.csv.commit()
    }
}

/// Writes the three tables into a directory.
pub struct TablesWriter {
    exec: Option<Table>,
    memory: Option<Table>,
    control: Option<Table>,
    /// The previous row, while its control-flow target (the next row) is unknown.
    pending_control: Option<(u64, String, &'static str, u32, u32)>,
    dir: std::path::PathBuf,
}

impl TablesWriter {
    /// Creates `dir` if needed and writes `header.json` into it.
    pub fn create(dir: &Path, header: &Header) -> std::io::Result<TablesWriter> {
        std::fs::create_dir_all(dir)?;
        let mut h = AtomicFile::create(&dir.join("header.json"))?;
        serde_json::to_writer_pretty(&mut h, header)?;
        h.commit()?;
        use DataType::{UInt32, UInt64, Utf8};
        let exec = Table::create(
            dir,
            "exec",
            &[
                ("step", UInt64),
                ("func", UInt32),
                ("offset", UInt32),
                ("op", Utf8),
                ("fuel", UInt64),
                ("stack_depth", UInt32),
                ("top_type", Utf8),
                ("top_bits", Utf8),
            ],
        )?;
        let memory = Table::create(
            dir,
            "memory",
            &[
                ("step", UInt64),
                ("kind", Utf8),
                ("source", Utf8),
                ("addr", UInt64),
                ("width", UInt64),
                ("bytes_hex", Utf8),
            ],
        )?;
        let control = Table::create(
            dir,
            "control",
            &[
                ("step", UInt64),
                ("op", Utf8),
                ("kind", Utf8),
                ("from_func", UInt32),
                ("from_offset", UInt32),
                ("to_func", UInt32),
                ("to_offset", UInt32),
            ],
        )?;
        Ok(TablesWriter {
            exec: Some(exec),
            memory: Some(memory),
            control: Some(control),
            pending_control: None,
            dir: dir.to_path_buf(),
        })
    }

    fn close_control(&mut self, next: Option<(u64, u32, u32)>) -> std::io::Result<()> {
        if let Some((step, op, kind, func, offset)) = self.pending_control.take() {
            let to = next.filter(|n| n.0 == step + 1);
            self.control.as_mut().expect("open until finish").push(&[
                Cell::U64(Some(step)),
                Cell::Str(Some(&op)),
                Cell::Str(Some(kind)),
                Cell::U32(Some(func)),
                Cell::U32(Some(offset)),
                Cell::U32(to.map(|t| t.1)),
                Cell::U32(to.map(|t| t.2)),
            ])?;
        }
        Ok(())
    }
}

impl RowSink for TablesWriter {
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        self.close_control(Some((row.step, row.func, row.offset)))?;
        let top = row.stack.last();
        let top_bits = top.map(|v| format!("0x{:x}", v.bits));
        self.exec.as_mut().expect("open until finish").push(&[
            Cell::U64(Some(row.step)),
            Cell::U32(Some(row.func)),
            Cell::U32(Some(row.offset)),
            Cell::Str(Some(&row.op)),
            Cell::U64(Some(row.fuel)),
            Cell::U32(Some(row.stack_depth)),
            Cell::Str(top.map(|v| v.type_name())),
            Cell::Str(top_bits.as_deref()),
        ])?;
        let memory = self.memory.as_mut().expect("open until finish");
        for m in &row.mem {
            let bytes = hex(&m.value.to_le_bytes()[..m.width.min(16) as usize]);
            memory.push(&[
                Cell::U64(Some(row.step)),
                Cell::Str(Some(m.kind.name())),
                Cell::Str(Some("instr")),
                Cell::U64(Some(m.addr)),
                Cell::U64(Some(m.width as u64)),
                Cell::Str(Some(&bytes)),
            ])?;
        }
        for b in &row.bytes {
            let bytes = hex(&b.bytes);
            memory.push(&[
                Cell::U64(Some(row.step)),
                Cell::Str(Some(b.kind.name())),
                Cell::Str(Some(match b.source {
                    ByteSource::Bulk => "bulk",
                    ByteSource::Host => "host",
                })),
                Cell::U64(Some(b.addr)),
                Cell::U64(Some(b.bytes.len() as u64)),
                Cell::Str(Some(&bytes)),
            ])?;
        }
        let mnemonic = row.mnemonic();
        if row.call.is_some() || row.ret || is_control(mnemonic) {
            let kind = if row.call.is_some() {
                "call"
            } else if row.ret {
                "return"
            } else {
                "branch"
            };
            self.pending_control =
                Some((row.step, mnemonic.to_string(), kind, row.func, row.offset));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        self.close_control(None)?;
        for t in [self.exec.take(), self.memory.take(), self.control.take()]
            .into_iter()
            .flatten()
        {
            t.commit()?;
        }
        let mut s = AtomicFile::create(&self.dir.join("summary.json"))?;
        serde_json::to_writer_pretty(&mut s, summary)?;
        s.commit()
    }
}
