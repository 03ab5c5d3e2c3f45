//! The witness format: every value a run computed, in execution order; rows are rebuilt on
//! reading.
//!
//! A row-per-step format pays for encoding every row while the program runs. A witness
//! trace stores only what the module and the invocation do not already fix: the result of
//! every computing operator (`unary`, `binary`, `ternary`: arithmetic, comparisons,
//! conversions, vector operators) as it came out of the run. Everything else in a row is
//! data movement or control flow that follows from those values: stack and locals (copies
//! of computed values and constants), memory (stores of them, from the module's initial
//! image), branches (conditions are computed values), calls, fuel and step numbers. The
//! recorder runs the engine's fast code with a domain that appends each result to a
//! buffer, so tracing costs little more than running.
//!
//! Reading runs the engine again in exact mode, with the [`Tracer`] as observer and a domain
//! that takes each operator's result from the trace instead of computing it. The rows that
//! come out are the rows the row-by-row formats hold, window, filter and capture options
//! applied. A trace with a changed value gives rows that follow from that value, so
//! `verify` (which recomputes every operator) names the first row where it shows.
//!
//! Layout (integers little-endian):
//! - [`MAGIC`] (8 bytes), format version `u32`, header length `u32`, the header as JSON
//!   (the same [`Header`] as the other formats);
//! - the run's limits: call depth, stack slots, memory pages, table elements, store items
//!   (`u32` each);
//! - module length `u64` and the module's bytes (its SHA-256 is in the header);
//! - value chunks, each a length `u32` and that many bytes: results back to back, each in
//!   its type's width (4 bytes for `i32`/`f32`, 8 for `i64`/`f64`, 16 for `v128`), so the
//!   operator sequence tells the reader where each one ends;
//! - a chunk of length 0 (the end mark), the summary as JSON, its length `u32` and
//!   [`END_MAGIC`]. Steps and rows in that summary are 0: the reader counts them while
//!   rebuilding. The summary sits at a known place from the end so a reader can bound its
//!   rebuild by the recorded fuel before reading any value.
//!
//! Recording needs the same deterministic host the other formats assume (WASI with the
//! header's stdin, arguments, seed and clocks); host calls are made again while reading.

use crate::error::TraceError;
use crate::info::ModuleInfo;
use crate::row::Row;
use crate::run::{run_invocation, Header, Output, FORMAT_VERSION};
use crate::sink::{RowSink, Summary};
use crate::tracer::Tracer;
use crate::TraceReader;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use weft_core::{
    BinaryOp, LoadLaneOp, LoadOp, RefValue, StoreLaneOp, StoreOp, TernaryOp, TrapCode, UnaryOp,
    Val, ValType,
};
use weft_exec::concrete::Bits;
use weft_exec::{
    Concrete, ConcreteMemory, Config, Domain, Fault, Limits, Machine, NoObserver, Observer,
};
use weft_ir::Module;

/// First bytes of a witness trace.
pub const MAGIC: &[u8; 8] = b"WEFTWIT\0";
/// Last bytes of a witness trace.
pub const END_MAGIC: &[u8; 8] = b"WEFTEND\0";

/// Values are handed to the output in chunks of this many bytes (plus at most one value).
const CHUNK: usize = 1 << 20;
/// Largest chunk, header, module or summary a reader accepts, so a corrupted length cannot
/// exhaust memory.
const MAX_CHUNK: u32 = 64 << 20;
/// Rows handed from the rebuilding thread to the reader at a time.
const BATCH: usize = 1024;
/// Batches in flight between the rebuilding thread and the reader.
const BATCHES_IN_FLIGHT: usize = 4;

/// Bytes a result of type `ty` takes in the value stream.
#[inline(always)]
fn width(ty: ValType) -> usize {
    match ty {
        ValType::I32 | ValType::F32 => 4,
        ValType::I64 | ValType::F64 | ValType::FuncRef | ValType::ExternRef => 8,
        ValType::V128 => 16,
    }
}

/// A domain that computes like [`Concrete`] and appends the result of every computing
/// operator to a value stream written to `W`.
pub struct Recording<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
    /// Bytes of values written so far (chunks already handed to `out`).
    written: u64,
    error: Option<std::io::Error>,
}

impl<'a> Recording<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Recording {
            out,
            buf: Vec::with_capacity(CHUNK + 16),
            written: 0,
            error: None,
        }
    }

    #[inline(always)]
    fn record(&mut self, bits: Bits, ty: ValType) {
        let len = self.buf.len();
        debug_assert!(self.buf.capacity() >= len + 16);
        // SAFETY: the buffer keeps room for 16 bytes past `CHUNK` and is emptied whenever it
        // reaches `CHUNK`, so 16 bytes fit at `len`; `width` is at most 16.
        unsafe {
            std::ptr::write_unaligned(self.buf.as_mut_ptr().add(len) as *mut u128, bits.to_le());
            self.buf.set_len(len + width(ty));
        }
        if self.buf.len() >= CHUNK {
            self.flush_chunk();
        }
    }

    /// Recording never stops a run.
    #[inline(always)]
    fn always(&self) -> Result<(), Fault> {
        Ok(())
    }

    #[cold]
    fn flush_chunk(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if self.error.is_none() {
            let len = (self.buf.len() as u32).to_le_bytes();
            if let Err(e) = self
                .out
                .write_all(&len)
                .and_then(|()| self.out.write_all(&self.buf))
            {
                self.error = Some(e);
            }
        }
        self.written += self.buf.len() as u64;
        self.buf.clear();
    }

    /// Writes the last chunk, the end mark and the summary; returns the writer and the
    /// number of value bytes.
    fn finish(mut self, summary: &Summary) -> std::io::Result<u64> {
        self.flush_chunk();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let json = serde_json::to_vec(summary)?;
        self.out.write_all(&0u32.to_le_bytes())?;
        self.out.write_all(&json)?;
        self.out.write_all(&(json.len() as u32).to_le_bytes())?;
        self.out.write_all(END_MAGIC)?;
        self.out.flush()?;
        Ok(self.written)
    }
}

/// Delegates every data-movement method of [`Domain`] to [`Concrete`]; the two witness
/// domains differ only in what they do with operator results.
/// `$go_on` is called before each branch decision: the reader stops there once its caller
/// is gone, so a loop that computes nothing still ends.
macro_rules! delegate_data_movement {
    ($go_on:ident) => {
        type Value = Bits;
        type Memory = ConcreteMemory;
        const KEEPS_OPERATORS: bool = true;

        #[inline(always)]
        fn constant(&mut self, v: Val) -> Bits {
            Concrete.constant(v)
        }
        #[inline(always)]
        fn shuffle(&mut self, lanes: &[u8; 16], a: Bits, b: Bits) -> Bits {
            Concrete.shuffle(lanes, a, b)
        }
        #[inline(always)]
        fn condition(&mut self, c: Bits) -> Result<bool, Fault> {
            self.$go_on()?;
            Concrete.condition(c)
        }
        #[inline(always)]
        fn select(&mut self, c: Bits, a: Bits, b: Bits) -> Result<Bits, Fault> {
            Concrete.select(c, a, b)
        }
        #[inline(always)]
        fn index(&mut self, v: Bits) -> Result<u32, Fault> {
            Concrete.index(v)
        }
        #[inline(always)]
        fn br_table_index(&mut self, v: Bits, len: u32) -> Result<u32, Fault> {
            self.$go_on()?;
            Concrete.br_table_index(v, len)
        }
        #[inline(always)]
        fn address(&mut self, v: Bits) -> Result<u32, Fault> {
            Concrete.address(v)
        }
        #[inline(always)]
        fn load(&mut self, mem: &ConcreteMemory, addr: u64, op: LoadOp) -> Result<Bits, Fault> {
            Concrete.load(mem, addr, op)
        }
        #[inline(always)]
        fn store(&mut self, mem: &mut ConcreteMemory, addr: u64, op: StoreOp, v: Bits) {
            Concrete.store(mem, addr, op, v)
        }
        fn load_lane(
            &mut self,
            mem: &ConcreteMemory,
            addr: u64,
            op: LoadLaneOp,
            lane: u8,
            v: Bits,
        ) -> Result<Bits, Fault> {
            Concrete.load_lane(mem, addr, op, lane, v)
        }
        fn store_lane(
            &mut self,
            mem: &mut ConcreteMemory,
            addr: u64,
            op: StoreLaneOp,
            lane: u8,
            v: Bits,
        ) {
            Concrete.store_lane(mem, addr, op, lane, v)
        }
        fn fill(&mut self, mem: &mut ConcreteMemory, addr: u64, len: u64, byte: Bits) {
            Concrete.fill(mem, addr, len, byte)
        }
        fn copy(&mut self, mem: &mut ConcreteMemory, src: u64, dst: u64, len: u64) {
            Concrete.copy(mem, src, dst, len)
        }
        #[inline(always)]
        fn assign(&mut self, v: Bits) -> Bits {
            Concrete.assign(v)
        }
        fn to_ref(&mut self, v: Bits) -> RefValue {
            Concrete.to_ref(v)
        }
        fn to_val(&mut self, v: Bits, ty: ValType) -> Result<Val, Fault> {
            Concrete.to_val(v, ty)
        }
    };
}

impl Domain for Recording<'_> {
    delegate_data_movement!(always);

    #[inline(always)]
    fn unary(&mut self, op: UnaryOp, a: Bits) -> Result<Bits, Fault> {
        let r = Concrete.unary(op, a)?;
        self.record(r, op.result_type());
        Ok(r)
    }

    #[inline(always)]
    fn binary(&mut self, op: BinaryOp, a: Bits, b: Bits) -> Result<Bits, Fault> {
        let r = Concrete.binary(op, a, b)?;
        self.record(r, op.result_type());
        Ok(r)
    }

    #[inline(always)]
    fn ternary(&mut self, op: TernaryOp, a: Bits, b: Bits, c: Bits) -> Result<Bits, Fault> {
        let r = Concrete.ternary(op, a, b, c)?;
        self.record(r, op.result_type());
        Ok(r)
    }
}

/// What a witness recording produced.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Fuel, termination and results (steps and rows are 0: counted on reading).
    pub summary: Summary,
    /// Bytes of computed values in the trace.
    pub value_bytes: u64,
}

/// Writes a witness trace of `invocation` to `out`: the header, limits and module, then the
/// values of a run of the engine's fast code (exact code under a fuel limit), then the
/// summary. `pass_output` lets the guest's output through to this process's.
pub fn record<W: Write>(
    module: Arc<Module>,
    header: &Header,
    limits: Limits,
    mut out: W,
    pass_output: bool,
) -> Result<(Recorded, W), TraceError> {
    // One instantiation of the engine per observer, whatever the writer.
    let recorded = record_to(module, header, limits, &mut out, pass_output)?;
    Ok((recorded, out))
}

fn record_to(
    module: Arc<Module>,
    header: &Header,
    limits: Limits,
    out: &mut dyn Write,
    pass_output: bool,
) -> Result<Recorded, TraceError> {
    let write_err = |e: std::io::Error| TraceError::Run(format!("writing the trace: {e}"));
    let json = serde_json::to_vec(header).map_err(|e| TraceError::Run(e.to_string()))?;
    let mut preamble = Vec::with_capacity(64 + json.len());
    preamble.extend_from_slice(MAGIC);
    preamble.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    preamble.extend_from_slice(&(json.len() as u32).to_le_bytes());
    preamble.extend_from_slice(&json);
    for v in limit_words(&limits) {
        preamble.extend_from_slice(&v.to_le_bytes());
    }
    preamble.extend_from_slice(&(module.bytes.len() as u64).to_le_bytes());
    out.write_all(&preamble).map_err(write_err)?;
    out.write_all(&module.bytes).map_err(write_err)?;
    // Fuel is metered so the reader can bound its run by the recorded fuel. Fast code runs
    // out of fuel at the start of a block, exact code at the instruction that exhausts it,
    // so a run with a fuel limit is recorded in exact mode, where the reader will stop.
    let output = if pass_output {
        Output::Inherit
    } else {
        Output::Discard
    };
    let config = Config { fuel: true, limits };
    let (summary, domain) = if header.fuel_limit.is_some() {
        let machine = Machine::new(Recording::new(out), EveryStep, config);
        run_recording(machine, module, header, output)?
    } else {
        let machine = Machine::new(Recording::new(out), NoObserver, config);
        run_recording(machine, module, header, output)?
    };
    let value_bytes = domain.finish(&summary).map_err(write_err)?;
    Ok(Recorded {
        summary,
        value_bytes,
    })
}

/// An observer that watches nothing but makes the machine run exact-mode code.
struct EveryStep;

impl<D: Domain> Observer<D> for EveryStep {}

fn run_recording<'a, O: Observer<Recording<'a>>>(
    mut machine: Machine<Recording<'a>, O>,
    module: Arc<Module>,
    header: &Header,
    output: Output,
) -> Result<(Summary, Recording<'a>), TraceError> {
    let (summary, _) = run_invocation(
        &mut machine,
        module,
        &header.invocation,
        header.fuel_limit,
        output,
    )?;
    let Machine { domain, .. } = machine;
    Ok((summary, domain))
}

fn limit_words(l: &Limits) -> [u32; 5] {
    [
        l.max_call_depth,
        l.max_stack_slots,
        l.max_memory_pages,
        l.max_table_elements,
        l.max_store_items,
    ]
}

/// The value stream of a witness trace, read chunk by chunk.
struct ValueStream {
    input: Box<dyn BufRead + Send>,
    chunk: Vec<u8>,
    at: usize,
    /// Byte offset in the file of the start of `chunk`.
    chunk_pos: u64,
    /// The end mark was read.
    ended: bool,
}

impl ValueStream {
    fn position(&self) -> u64 {
        self.chunk_pos + self.at as u64
    }

    /// The next `n` bytes of values, reading the next chunk when this one is used up.
    fn take(&mut self, n: usize) -> Result<&[u8], TraceError> {
        while self.at + n > self.chunk.len() {
            if self.at != self.chunk.len() {
                return Err(TraceError::malformed(
                    format!("byte {}", self.position()),
                    "a value runs past the end of its chunk",
                ));
            }
            if self.ended {
                return Err(TraceError::malformed(
                    format!("byte {}", self.position()),
                    "the values end before the run does (truncated or altered trace)",
                ));
            }
            self.next_chunk()?;
        }
        let s = &self.chunk[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn next_chunk(&mut self) -> Result<(), TraceError> {
        let pos = self.chunk_pos + self.chunk.len() as u64;
        let mut word = [0u8; 4];
        self.input
            .read_exact(&mut word)
            .map_err(|_| TraceError::malformed(format!("byte {pos}"), "truncated: no end mark"))?;
        let len = u32::from_le_bytes(word);
        if len > MAX_CHUNK {
            return Err(TraceError::malformed(
                format!("byte {pos}"),
                format!("chunk length {len} is implausibly large"),
            ));
        }
        self.chunk.resize(len as usize, 0);
        self.input
            .read_exact(&mut self.chunk)
            .map_err(|_| TraceError::malformed(format!("byte {pos}"), "truncated chunk"))?;
        self.chunk_pos = pos + 4;
        self.at = 0;
        if len == 0 {
            self.ended = true;
        }
        Ok(())
    }
}

/// A domain that moves data like [`Concrete`] but takes every computing operator's result
/// from a witness trace. Traps are still decided by the operands (a division by zero traps),
/// so a trace that ends in a trap ends in the same place when rebuilt.
struct Replaying {
    values: ValueStream,
    /// Set when the reader is dropped: the rebuild stops at the next value.
    cancel: Arc<AtomicBool>,
    /// Why the rebuild stopped early, when it was the trace's fault.
    error: Option<TraceError>,
}

impl Replaying {
    /// Stops the rebuild once the reader is gone or the trace proved bad.
    fn stopped(&self) -> Result<(), Fault> {
        if self.error.is_some() || self.cancel.load(Ordering::Relaxed) {
            return Err(Fault::Trap(TrapCode::Unreachable));
        }
        Ok(())
    }

    fn take(&mut self, ty: ValType) -> Result<Bits, Fault> {
        self.stopped()?;
        match self.values.take(width(ty)) {
            Ok(bytes) => {
                let mut b = [0u8; 16];
                b[..bytes.len()].copy_from_slice(bytes);
                Ok(u128::from_le_bytes(b))
            }
            Err(e) => {
                self.error = Some(e);
                Err(Fault::Trap(TrapCode::Unreachable))
            }
        }
    }
}

impl Domain for Replaying {
    delegate_data_movement!(stopped);

    fn unary(&mut self, op: UnaryOp, a: Bits) -> Result<Bits, Fault> {
        Concrete.unary(op, a)?;
        self.take(op.result_type())
    }

    fn binary(&mut self, op: BinaryOp, a: Bits, b: Bits) -> Result<Bits, Fault> {
        Concrete.binary(op, a, b)?;
        self.take(op.result_type())
    }

    fn ternary(&mut self, op: TernaryOp, a: Bits, b: Bits, c: Bits) -> Result<Bits, Fault> {
        Concrete.ternary(op, a, b, c)?;
        self.take(op.result_type())
    }
}

/// What the rebuilding thread sends to the reader.
enum Batch {
    Rows(Vec<Row>),
    End(Result<Summary, TraceError>),
}

/// Hands rebuilt rows to the reader in batches.
struct BatchSink {
    tx: SyncSender<Batch>,
    rows: Vec<Row>,
    cancel: Arc<AtomicBool>,
}

impl BatchSink {
    fn send(&mut self) -> std::io::Result<()> {
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(BATCH));
        self.tx.send(Batch::Rows(rows)).map_err(|_| {
            self.cancel.store(true, Ordering::Relaxed);
            std::io::Error::other("the reader is gone")
        })
    }
}

impl RowSink for BatchSink {
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        let mut row = row.clone();
        // Readers of stored rows cannot know this; rows compare equal across formats.
        row.frames_unchanged = false;
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.send()?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        self.send()
    }

    fn needs_op_text(&self) -> bool {
        true
    }
}

/// Reads a witness trace: checks the header and module, then rebuilds rows on a thread of
/// its own and hands them out in order. Memory stays bounded by a few batches of rows.
pub struct WitnessReader {
    header: Header,
    rx: Receiver<Batch>,
    batch: std::vec::IntoIter<Row>,
    summary: Option<Summary>,
    cancel: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WitnessReader {
    /// Reads the header, limits, module and summary from `input` and starts rebuilding
    /// rows.
    pub fn new<R: BufRead + Seek + Send + 'static>(mut input: R) -> Result<Self, TraceError> {
        let (recorded, tail_at) = read_tail(&mut input)?;
        input
            .seek(SeekFrom::Start(0))
            .map_err(|e| TraceError::Run(e.to_string()))?;
        let mut pos = 0u64;
        let read = |input: &mut R, pos: &mut u64, n: usize, what: &str| {
            let mut v = vec![0u8; n];
            input.read_exact(&mut v).map_err(|_| {
                TraceError::malformed(format!("byte {pos}"), format!("truncated {what}"))
            })?;
            *pos += n as u64;
            Ok::<_, TraceError>(v)
        };
        let word = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
        let magic = read(&mut input, &mut pos, 8, "magic")?;
        if magic != MAGIC {
            return Err(TraceError::malformed("byte 0", "not a weft witness trace"));
        }
        let version = word(&read(&mut input, &mut pos, 4, "header")?);
        if version != FORMAT_VERSION {
            return Err(TraceError::malformed(
                "byte 8",
                format!("format version {version} (this build reads version {FORMAT_VERSION})"),
            ));
        }
        let len = word(&read(&mut input, &mut pos, 4, "header")?);
        if len > MAX_CHUNK {
            return Err(TraceError::malformed(
                "byte 12",
                format!("header length {len}"),
            ));
        }
        let json = read(&mut input, &mut pos, len as usize, "header")?;
        let header: Header = serde_json::from_slice(&json)
            .map_err(|e| TraceError::malformed("byte 16", format!("header: {e}")))?;
        header.check()?;
        let words = read(&mut input, &mut pos, 20, "limits")?;
        let w: Vec<u32> = words.chunks(4).map(word).collect();
        let limits = Limits {
            max_call_depth: w[0],
            max_stack_slots: w[1],
            max_memory_pages: w[2],
            max_table_elements: w[3],
            max_store_items: w[4],
        };
        let module_len = u64::from_le_bytes(
            read(&mut input, &mut pos, 8, "module length")?
                .try_into()
                .expect("8 bytes"),
        );
        if module_len > MAX_CHUNK as u64 {
            return Err(TraceError::malformed(
                format!("byte {}", pos - 8),
                format!("module length {module_len} is implausibly large"),
            ));
        }
        let module_at = pos;
        let bytes = read(&mut input, &mut pos, module_len as usize, "module")?;
        let module = Module::new(&bytes).map_err(|e| {
            TraceError::malformed(format!("byte {module_at}"), format!("module: {e}"))
        })?;
        let module = Arc::new(module);
        let info = Arc::new(ModuleInfo::new(&module)?);
        if info.sha256 != header.module_sha256 {
            return Err(TraceError::WrongModule {
                expected: header.module_sha256.clone(),
                found: info.sha256.clone(),
            });
        }
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        let cancel = Arc::new(AtomicBool::new(false));
        let values = ValueStream {
            input: Box::new(input),
            chunk: Vec::new(),
            at: 0,
            chunk_pos: pos,
            ended: false,
        };
        let thread = {
            let header = header.clone();
            let cancel = cancel.clone();
            std::thread::Builder::new()
                .name("weft-witness".into())
                .spawn(move || {
                    let rebuild = Rebuild {
                        module,
                        info,
                        header,
                        limits,
                        recorded,
                        tail_at,
                    };
                    rebuild.run(values, tx, cancel)
                })
                .map_err(|e| TraceError::Run(format!("cannot start the reader thread: {e}")))?
        };
        Ok(WitnessReader {
            header,
            rx,
            batch: Vec::new().into_iter(),
            summary: None,
            cancel,
            thread: Some(thread),
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }
}

/// Reads the summary at the end of a witness trace; returns it and the offset where it
/// starts (the end mark comes just before).
fn read_tail<R: Read + Seek>(input: &mut R) -> Result<(Summary, u64), TraceError> {
    let io = |e: std::io::Error| TraceError::Run(e.to_string());
    let len = input.seek(SeekFrom::End(0)).map_err(io)?;
    let bad = |m: String| TraceError::malformed("the end of the trace", m);
    if len < 16 + 12 {
        return Err(bad("too short for a witness trace".into()));
    }
    input.seek(SeekFrom::Start(len - 12)).map_err(io)?;
    let mut tail = [0u8; 12];
    input.read_exact(&mut tail).map_err(io)?;
    if &tail[4..] != END_MAGIC {
        return Err(bad("no end record (the trace is truncated)".into()));
    }
    let json_len = u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")) as u64;
    if json_len > len - 12 || json_len > MAX_CHUNK as u64 {
        return Err(bad(format!("summary length {json_len}")));
    }
    let at = len - 12 - json_len;
    input.seek(SeekFrom::Start(at)).map_err(io)?;
    let mut json = vec![0u8; json_len as usize];
    input.read_exact(&mut json).map_err(io)?;
    let summary = serde_json::from_slice(&json).map_err(|e| bad(format!("summary: {e}")))?;
    Ok((summary, at))
}

/// Everything the rebuilding thread needs besides the values.
struct Rebuild {
    module: Arc<Module>,
    info: Arc<ModuleInfo>,
    header: Header,
    limits: Limits,
    /// The summary the recorder wrote.
    recorded: Summary,
    /// Where that summary starts: the values' end mark must end just there.
    tail_at: u64,
}

impl Rebuild {
    /// Runs the recorded invocation with the replaying domain and the tracer; sends rows,
    /// then the rebuilt summary or the first error.
    fn run(self, values: ValueStream, tx: SyncSender<Batch>, cancel: Arc<AtomicBool>) {
        let sink = BatchSink {
            tx: tx.clone(),
            rows: Vec::with_capacity(BATCH),
            cancel: cancel.clone(),
        };
        let domain = Replaying {
            values,
            cancel: cancel.clone(),
            error: None,
        };
        let tracer = Tracer::new(self.info.clone(), self.header.options, sink, false);
        let mut machine = Machine::new(
            domain,
            tracer,
            Config {
                fuel: true,
                limits: self.limits.clone(),
            },
        );
        // A trace whose values were altered cannot run longer than the recorded run did.
        let fuel_limit = self.header.fuel_limit.or(Some(self.recorded.fuel));
        let outcome = run_invocation(
            &mut machine,
            self.module.clone(),
            &self.header.invocation,
            fuel_limit,
            Output::Discard,
        );
        let Machine {
            domain, observer, ..
        } = machine;
        let result = self.check(domain, observer, outcome, &cancel);
        let _ = tx.send(Batch::End(result));
    }

    fn check(
        &self,
        domain: Replaying,
        observer: Tracer<BatchSink>,
        outcome: Result<(Summary, Vec<u8>), TraceError>,
        cancel: &AtomicBool,
    ) -> Result<Summary, TraceError> {
        if cancel.load(Ordering::Relaxed) {
            return Err(TraceError::Run("reading stopped".into()));
        }
        let Replaying {
            mut values, error, ..
        } = domain;
        if let Some(e) = error {
            return Err(e);
        }
        let (rebuilt, _) = outcome?;
        let (_, rebuilt) = observer
            .finish(rebuilt)
            .map_err(|e| TraceError::Run(format!("handing rows over: {e}")))?;
        let left_over = |at: u64| {
            TraceError::malformed(
                format!("byte {at}"),
                "values left over after the run ended (altered trace)",
            )
        };
        if values.at != values.chunk.len() {
            return Err(left_over(values.position()));
        }
        if !values.ended {
            let at = values.position();
            values.next_chunk()?;
            if !values.ended {
                return Err(left_over(at));
            }
        }
        if values.position() != self.tail_at {
            return Err(TraceError::malformed(
                format!("byte {}", values.position()),
                "the end mark is not followed by the summary",
            ));
        }
        let recorded = &self.recorded;
        if recorded.termination != rebuilt.termination || recorded.results != rebuilt.results {
            return Err(TraceError::malformed(
                "summary",
                format!(
                    "the trace says the run ended `{}` {:?}, its values lead to `{}` {:?}",
                    recorded.termination, recorded.results, rebuilt.termination, rebuilt.results
                ),
            ));
        }
        Ok(rebuilt)
    }
}

impl TraceReader for WitnessReader {
    fn next_row(&mut self) -> Result<Option<Row>, TraceError> {
        loop {
            if let Some(row) = self.batch.next() {
                return Ok(Some(row));
            }
            if self.summary.is_some() {
                return Ok(None);
            }
            match self.rx.recv() {
                Ok(Batch::Rows(rows)) => self.batch = rows.into_iter(),
                Ok(Batch::End(Ok(summary))) => self.summary = Some(summary),
                Ok(Batch::End(Err(e))) => return Err(e),
                Err(_) => {
                    return Err(TraceError::Run(
                        "the thread rebuilding the rows stopped without an answer".into(),
                    ))
                }
            }
        }
    }

    fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }
}

impl Drop for WitnessReader {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        // Unblock a sender waiting on a full channel, then wait for the thread.
        while self.rx.try_recv().is_ok() {}
        drop(std::mem::replace(&mut self.rx, sync_channel(0).1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
