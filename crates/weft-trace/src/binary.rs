//! The compact binary trace format: a streaming writer and reader.
//!
//! Layout (all integers little-endian; `uleb` is unsigned LEB128):
//! - `MAGIC` (8 bytes), format version `u32`, header length `u32`, the header as JSON
//!   (module hash, invocation, options, mnemonic table);
//! - records, each a tag byte then its fields:
//!   - `STEP`: step delta (uleb, from the previous row's step + 1), func, offset, mnemonic
//!     index, fuel delta, stack depth, kept stack count then values, locals count, kept
//!     locals count then values (each uleb but values);
//!   - `MEM`: kind byte (0 read, 1 write), address, width, value (uleb);
//!   - `BYTES`: kind, source byte (0 bulk, 1 host), address, length, the bytes;
//!   - `GLOBAL`: kind, index, value;
//!   - `FRAMES`: frames to pop, frames to push, then (func, return offset) pairs: the call
//!     stack changed since the previous row;
//!   - `CALL` (callee) and `RETURN`: the step called or returned;
//!   - `END`: summary length `u32` then the summary as JSON; nothing may follow.
//!
//!   Records after a `STEP` up to the next `STEP` or `END` belong to that step.
//! - A value is a type byte (0 i32, 1 i64, 2 f32, 3 f64, 4 v128, 5 funcref, 6 externref,
//!   255 unknown) and its bits in 4, 8 or 16 bytes.

use crate::error::TraceError;
use crate::row::{Access, ByteSource, BytesAccess, GlobalAccess, MemAccess, Row, TypedValue};
use crate::run::{Header, FORMAT_VERSION};
use crate::sink::{RowSink, Summary};
use crate::TraceReader;
use std::io::{BufRead, Read, Write};
use weft_core::ValType;

/// First bytes of a binary trace.
pub const MAGIC: &[u8; 8] = b"WEFTTRC\0";

const STEP: u8 = 1;
const MEM: u8 = 2;
const BYTES: u8 = 3;
const GLOBAL: u8 = 4;
const FRAMES: u8 = 5;
const CALL: u8 = 6;
const RETURN: u8 = 7;
const END: u8 = 8;

/// Largest header or summary accepted, so a corrupted length cannot exhaust memory.
const MAX_JSON: u32 = 64 << 20;
/// Largest byte run or value count accepted per record, for the same reason.
const MAX_RUN: u64 = 1 << 32;

#[inline]
fn put_uleb(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn type_code(ty: Option<ValType>) -> u8 {
    match ty {
        Some(ValType::I32) => 0,
        Some(ValType::I64) => 1,
        Some(ValType::F32) => 2,
        Some(ValType::F64) => 3,
        Some(ValType::V128) => 4,
        Some(ValType::FuncRef) => 5,
        Some(ValType::ExternRef) => 6,
        None => 255,
    }
}

fn code_type(c: u8) -> Option<Option<ValType>> {
    Some(Some(match c {
        0 => ValType::I32,
        1 => ValType::I64,
        2 => ValType::F32,
        3 => ValType::F64,
        4 => ValType::V128,
        5 => ValType::FuncRef,
        6 => ValType::ExternRef,
        255 => return Some(None),
        _ => return None,
    }))
}

#[inline]
fn put_value(buf: &mut Vec<u8>, v: &TypedValue) {
    buf.push(type_code(v.ty));
    let w = TypedValue::width(v.ty);
    buf.extend_from_slice(&v.bits.to_le_bytes()[..w]);
}

fn put_access(buf: &mut Vec<u8>, kind: Access) {
    buf.push(match kind {
        Access::Read => 0,
        Access::Write => 1,
    });
}

/// Encoded rows are handed to the output in chunks of at least this many bytes: as large as
/// the 1 MiB `BufWriter` of trace files, which then writes them through without copying.
const FLUSH_AT: usize = 1 << 20;

/// Writes a binary trace to any writer, row by row; memory use does not grow with the trace.
pub struct BinaryWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    next_step: u64,
    fuel: u64,
    frames: Vec<(u32, u32)>,
    with_frames: bool,
}

impl<W: Write> BinaryWriter<W> {
    /// Writes the magic and header.
    pub fn new(mut out: W, header: &Header) -> std::io::Result<Self> {
        let json = serde_json::to_vec(header)?;
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&(json.len() as u32).to_le_bytes())?;
        out.write_all(&json)?;
        Ok(BinaryWriter {
            out,
            buf: Vec::with_capacity(FLUSH_AT + (1 << 12)),
            next_step: 0,
            fuel: 0,
            frames: Vec::new(),
            with_frames: header.options.frames,
        })
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> RowSink for BinaryWriter<W> {
    #[inline]
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        let b = &mut self.buf;
        if self.with_frames && !row.frames_unchanged && row.frames != self.frames {
            let common = row
                .frames
                .iter()
                .zip(&self.frames)
                .take_while(|(a, b)| a == b)
                .count();
            b.push(FRAMES);
            put_uleb(b, (self.frames.len() - common) as u64);
            put_uleb(b, (row.frames.len() - common) as u64);
            for &(f, o) in &row.frames[common..] {
                put_uleb(b, f as u64);
                put_uleb(b, o as u64);
            }
            self.frames.clear();
            self.frames.extend_from_slice(&row.frames);
        }
        b.push(STEP);
        put_uleb(b, row.step.wrapping_sub(self.next_step));
        put_uleb(b, row.func as u64);
        put_uleb(b, row.offset as u64);
        put_uleb(b, row.mnemonic_id as u64);
        put_uleb(b, row.fuel.wrapping_sub(self.fuel));
        put_uleb(b, row.stack_depth as u64);
        put_uleb(b, row.stack.len() as u64);
        for v in &row.stack {
            put_value(b, v);
        }
        put_uleb(b, row.locals_count as u64);
        put_uleb(b, row.locals.len() as u64);
        for v in &row.locals {
            put_value(b, v);
        }
        for m in &row.mem {
            b.push(MEM);
            put_access(b, m.kind);
            put_uleb(b, m.addr);
            put_uleb(b, m.width as u64);
            put_uleb(b, m.value as u64);
            put_uleb(b, (m.value >> 64) as u64);
        }
        for r in &row.bytes {
            b.push(BYTES);
            put_access(b, r.kind);
            b.push(match r.source {
                ByteSource::Bulk => 0,
                ByteSource::Host => 1,
            });
            put_uleb(b, r.addr);
            put_uleb(b, r.bytes.len() as u64);
            b.extend_from_slice(&r.bytes);
        }
        for g in &row.globals {
            b.push(GLOBAL);
            put_access(b, g.kind);
            put_uleb(b, g.index as u64);
            put_value(b, &g.value);
        }
        if let Some(f) = row.call {
            b.push(CALL);
            put_uleb(b, f as u64);
        }
        if row.ret {
            b.push(RETURN);
        }
        self.next_step = row.step + 1;
        self.fuel = row.fuel;
        if b.len() >= FLUSH_AT {
            self.out.write_all(b)?;
            b.clear();
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        let json = serde_json::to_vec(summary)?;
        self.buf.push(END);
        self.buf
            .extend_from_slice(&(json.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&json);
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    fn needs_op_text(&self) -> bool {
        false
    }
}

/// Reads a binary trace row by row.
pub struct BinaryReader<R: BufRead> {
    input: R,
    header: Header,
    /// Bytes consumed so far (for error positions).
    pos: u64,
    next_step: u64,
    fuel: u64,
    frames: Vec<(u32, u32)>,
    /// A `STEP` tag read ahead while finishing the previous row.
    peeked: Option<u8>,
    summary: Option<Summary>,
}

impl<R: BufRead> BinaryReader<R> {
    /// Reads and checks the magic and header.
    pub fn new(mut input: R) -> Result<Self, TraceError> {
        let mut magic = [0u8; 8];
        input
            .read_exact(&mut magic)
            .map_err(|_| TraceError::malformed("byte 0", "too short for a binary trace"))?;
        if &magic != MAGIC {
            return Err(TraceError::malformed("byte 0", "not a weft binary trace"));
        }
        let mut word = [0u8; 4];
        input
            .read_exact(&mut word)
            .map_err(|_| TraceError::malformed("byte 8", "truncated header"))?;
        let version = u32::from_le_bytes(word);
        if version != FORMAT_VERSION {
            return Err(TraceError::malformed(
                "byte 8",
                format!("format version {version} (this build reads version {FORMAT_VERSION})"),
            ));
        }
        input
            .read_exact(&mut word)
            .map_err(|_| TraceError::malformed("byte 12", "truncated header"))?;
        let len = u32::from_le_bytes(word);
        if len > MAX_JSON {
            return Err(TraceError::malformed(
                "byte 12",
                format!("header length {len}"),
            ));
        }
        let mut json = vec![0u8; len as usize];
        input
            .read_exact(&mut json)
            .map_err(|_| TraceError::malformed("byte 16", "truncated header"))?;
        let header: Header = serde_json::from_slice(&json)
            .map_err(|e| TraceError::malformed("byte 16", format!("header: {e}")))?;
        header.check()?;
        Ok(BinaryReader {
            input,
            header,
            pos: 16 + len as u64,
            next_step: 0,
            fuel: 0,
            frames: Vec::new(),
            peeked: None,
            summary: None,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    fn err(&self, message: impl Into<String>) -> TraceError {
        TraceError::malformed(format!("byte {}", self.pos), message)
    }

    fn byte(&mut self) -> Result<u8, TraceError> {
        let mut b = [0u8; 1];
        self.input.read_exact(&mut b).map_err(|_| {
            self.err("truncated: the trace ends inside a record or before its end record")
        })?;
        self.pos += 1;
        Ok(b[0])
    }

    /// The next tag byte, or `None` at the end of the input.
    fn tag(&mut self) -> Result<Option<u8>, TraceError> {
        if let Some(t) = self.peeked.take() {
            return Ok(Some(t));
        }
        let empty = match self.input.fill_buf() {
            Ok(buf) => buf.is_empty(),
            Err(e) => return Err(self.err(e.to_string())),
        };
        if empty {
            return Ok(None);
        }
        self.byte().map(Some)
    }

    fn uleb(&mut self) -> Result<u64, TraceError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("integer longer than 64 bits"))
    }

    fn u32(&mut self) -> Result<u32, TraceError> {
        u32::try_from(self.uleb()?).map_err(|_| self.err("value out of range for u32"))
    }

    fn bounded(&mut self, what: &str) -> Result<usize, TraceError> {
        let n = self.uleb()?;
        if n > MAX_RUN {
            return Err(self.err(format!("{what} {n} is implausibly large")));
        }
        Ok(n as usize)
    }

    fn value(&mut self) -> Result<TypedValue, TraceError> {
        let code = self.byte()?;
        let ty = code_type(code).ok_or_else(|| self.err(format!("value type code {code}")))?;
        let w = TypedValue::width(ty);
        let mut bytes = [0u8; 16];
        self.input
            .read_exact(&mut bytes[..w])
            .map_err(|_| self.err("truncated value"))?;
        self.pos += w as u64;
        Ok(TypedValue {
            ty,
            bits: u128::from_le_bytes(bytes),
        })
    }

    fn access(&mut self) -> Result<Access, TraceError> {
        match self.byte()? {
            0 => Ok(Access::Read),
            1 => Ok(Access::Write),
            k => Err(self.err(format!("access kind {k}"))),
        }
    }

    fn read_summary(&mut self) -> Result<(), TraceError> {
        let mut word = [0u8; 4];
        self.input
            .read_exact(&mut word)
            .map_err(|_| self.err("truncated end record"))?;
        let len = u32::from_le_bytes(word);
        if len > MAX_JSON {
            return Err(self.err(format!("summary length {len}")));
        }
        let mut json = vec![0u8; len as usize];
        self.input
            .read_exact(&mut json)
            .map_err(|_| self.err("truncated summary"))?;
        self.pos += 4 + len as u64;
        self.summary =
            Some(serde_json::from_slice(&json).map_err(|e| self.err(format!("summary: {e}")))?);
        let trailing = match self.input.fill_buf() {
            Ok(rest) => !rest.is_empty(),
            Err(e) => return Err(self.err(e.to_string())),
        };
        if trailing {
            return Err(self.err("bytes after the end record"));
        }
        Ok(())
    }
}

impl<R: BufRead> TraceReader for BinaryReader<R> {
    fn next_row(&mut self) -> Result<Option<Row>, TraceError> {
        if self.summary.is_some() {
            return Ok(None);
        }
        // Frame changes come before the step they apply to.
        let tag = loop {
            match self.tag()? {
                None => return Err(self.err("truncated: no end record")),
                Some(FRAMES) => {
                    let pop = self.bounded("frame count")?;
                    let push = self.bounded("frame count")?;
                    if pop > self.frames.len() {
                        return Err(self.err("pops more frames than there are"));
                    }
                    self.frames.truncate(self.frames.len() - pop);
                    for _ in 0..push {
                        let f = self.u32()?;
                        let o = self.u32()?;
                        self.frames.push((f, o));
                    }
                }
                Some(t) => break t,
            }
        };
        match tag {
            STEP => {}
            END => {
                self.read_summary()?;
                return Ok(None);
            }
            t => return Err(self.err(format!("record tag {t} where a step was expected"))),
        }
        let step = self.next_step.wrapping_add(self.uleb()?);
        let func = self.u32()?;
        let offset = self.u32()?;
        let mnemonic_id = self.uleb()?;
        let op = self
            .header
            .mnemonics
            .get(mnemonic_id as usize)
            .cloned()
            .ok_or_else(|| self.err(format!("mnemonic index {mnemonic_id} not in the header")))?;
        let fuel = self.fuel.wrapping_add(self.uleb()?);
        let stack_depth = self.u32()?;
        let n = self.bounded("stack count")?;
        if n > stack_depth as usize {
            return Err(self.err("more stack values than the stack holds"));
        }
        let mut row = Row {
            step,
            func,
            offset,
            op,
            mnemonic_id: mnemonic_id as u16,
            fuel,
            stack_depth,
            stack: (0..n).map(|_| self.value()).collect::<Result<_, _>>()?,
            ..Row::default()
        };
        row.locals_count = self.u32()?;
        let n = self.bounded("locals count")?;
        if n > row.locals_count as usize {
            return Err(self.err("more locals than the function has"));
        }
        row.locals = (0..n).map(|_| self.value()).collect::<Result<_, _>>()?;
        if self.header.options.frames {
            row.frames = self.frames.clone();
        }
        loop {
            match self.tag()? {
                None => return Err(self.err("truncated: no end record")),
                Some(MEM) => {
                    let kind = self.access()?;
                    let addr = self.uleb()?;
                    let width = self.u32()?;
                    let lo = self.uleb()? as u128;
                    let hi = self.uleb()? as u128;
                    row.mem.push(MemAccess {
                        kind,
                        addr,
                        width,
                        value: lo | hi << 64,
                    });
                }
                Some(BYTES) => {
                    let kind = self.access()?;
                    let source = match self.byte()? {
                        0 => ByteSource::Bulk,
                        1 => ByteSource::Host,
                        s => return Err(self.err(format!("byte source {s}"))),
                    };
                    let addr = self.uleb()?;
                    let len = self.bounded("byte run length")?;
                    let mut bytes = Vec::new();
                    (&mut self.input)
                        .take(len as u64)
                        .read_to_end(&mut bytes)
                        .map_err(|e| self.err(e.to_string()))?;
                    if bytes.len() != len {
                        return Err(self.err("truncated byte run"));
                    }
                    self.pos += len as u64;
                    row.bytes.push(BytesAccess {
                        kind,
                        source,
                        addr,
                        bytes,
                    });
                }
                Some(GLOBAL) => {
                    let kind = self.access()?;
                    let index = self.u32()?;
                    let value = self.value()?;
                    row.globals.push(GlobalAccess { kind, index, value });
                }
                Some(CALL) => row.call = Some(self.u32()?),
                Some(RETURN) => row.ret = true,
                Some(t @ (STEP | END | FRAMES)) => {
                    self.peeked = Some(t);
                    break;
                }
                Some(t) => return Err(self.err(format!("unknown record tag {t}"))),
            }
        }
        self.next_step = step + 1;
        self.fuel = fuel;
        Ok(Some(row))
    }

    fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }
}
