//! JSON Lines traces: one JSON object per line.
//!
//! Schema (version [`FORMAT_VERSION`](crate::FORMAT_VERSION)):
//! - line 1, the header: `{"format":"weft-trace","version":1,"module_sha256":…,
//!   "invocation":…,"fuel_limit":…,"options":…,"mnemonics":[…]}`;
//! - one line per row: `{"step":N,"func":F,"offset":O,"op":"i32.add","fuel":N,
//!   "stack_depth":D,"stack":[V…],"locals_count":L,"locals":[V…]}` plus, when present,
//!   `"frames":[[func,return_offset]…]` (outermost first), `"mem":[{"kind":"read"|"write",
//!   "addr":A,"width":W,"value":"0x…"}]`, `"bytes":[{"kind":…,"source":"bulk"|"host",
//!   "addr":A,"hex":"…"}]`, `"globals":[{"kind":…,"index":I,"value":V}]`, `"call":F`,
//!   `"return":true`;
//! - the last line, `{"summary":{"steps":…,"rows":…,"fuel":…,"termination":…}}`.
//!
//! A value `V` is `{"type":"i32","value":"-1"}`: integers in signed decimal, floats as exact
//! text with `"bits":"0x…"` beside, `v128` as hex, references as `null` or an index. Stack
//! values are the kept top of the stack, bottom first.

use crate::error::TraceError;
use crate::info::hex;
use crate::row::{
    parse_type, Access, ByteSource, BytesAccess, GlobalAccess, MemAccess, Row, TypedValue,
};
use crate::run::{unhex, Header};
use crate::sink::{RowSink, Summary};
use crate::TraceReader;
use serde_json::{json, Map, Value};
use std::io::{BufRead, Write};
use weft_core::ValType;

/// Writes rows as JSON Lines.
pub struct JsonlWriter<W: Write> {
    out: W,
    with_frames: bool,
}

impl<W: Write> JsonlWriter<W> {
    /// Writes the header line.
    pub fn new(mut out: W, header: &Header) -> std::io::Result<Self> {
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        Ok(JsonlWriter {
            out,
            with_frames: header.options.frames,
        })
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The JSON form of a typed value.
pub fn value_json(v: &TypedValue) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String(v.type_name().into()));
    m.insert("value".into(), Value::String(v.value_text()));
    if matches!(v.ty, Some(ValType::F32) | Some(ValType::F64) | None) {
        m.insert("bits".into(), Value::String(format!("0x{:x}", v.bits)));
    }
    Value::Object(m)
}

fn row_json(row: &Row, with_frames: bool) -> Value {
    let mut m = Map::new();
    m.insert("step".into(), json!(row.step));
    m.insert("func".into(), json!(row.func));
    m.insert("offset".into(), json!(row.offset));
    m.insert("op".into(), json!(row.op));
    m.insert("fuel".into(), json!(row.fuel));
    m.insert("stack_depth".into(), json!(row.stack_depth));
    m.insert(
        "stack".into(),
        Value::Array(row.stack.iter().map(value_json).collect()),
    );
    m.insert("locals_count".into(), json!(row.locals_count));
    m.insert(
        "locals".into(),
        Value::Array(row.locals.iter().map(value_json).collect()),
    );
    if with_frames {
        m.insert("frames".into(), json!(row.frames));
    }
    if !row.mem.is_empty() {
        let mem = row
            .mem
            .iter()
            .map(|a| {
                json!({"kind": a.kind.name(), "addr": a.addr, "width": a.width,
                       "value": format!("0x{:x}", a.value)})
            })
            .collect();
        m.insert("mem".into(), Value::Array(mem));
    }
    if !row.bytes.is_empty() {
        let bytes = row
            .bytes
            .iter()
            .map(|b| {
                json!({"kind": b.kind.name(), "source": b.source.name(), "addr": b.addr,
                       "hex": hex(&b.bytes)})
            })
            .collect();
        m.insert("bytes".into(), Value::Array(bytes));
    }
    if !row.globals.is_empty() {
        let globals = row
            .globals
            .iter()
            .map(
                |g| json!({"kind": g.kind.name(), "index": g.index, "value": value_json(&g.value)}),
            )
            .collect();
        m.insert("globals".into(), Value::Array(globals));
    }
    if let Some(f) = row.call {
        m.insert("call".into(), json!(f));
    }
    if row.ret {
        m.insert("return".into(), json!(true));
    }
    Value::Object(m)
}

impl<W: Write> RowSink for JsonlWriter<W> {
    fn row(&mut self, row: &Row) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &row_json(row, self.with_frames))?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &json!({ "summary": summary }))?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// Reads a JSON Lines trace.
pub struct JsonlReader<R: BufRead> {
    input: R,
    header: Header,
    line_no: u64,
    line: String,
    summary: Option<Summary>,
    last_step: Option<u64>,
}

impl<R: BufRead> JsonlReader<R> {
    /// Reads and checks the header line.
    pub fn new(mut input: R) -> Result<Self, TraceError> {
        let mut line = String::new();
        input
            .read_line(&mut line)
            .map_err(|e| TraceError::malformed("line 1", e.to_string()))?;
        let header: Header = serde_json::from_str(&line)
            .map_err(|e| TraceError::malformed("line 1", format!("not a trace header: {e}")))?;
        header.check()?;
        Ok(JsonlReader {
            input,
            header,
            line_no: 1,
            line,
            summary: None,
            last_step: None,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }
}

/// Field access with errors naming the line and field.
struct Fields<'a> {
    at: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Result<&'a Value, TraceError> {
        self.obj
            .get(key)
            .ok_or_else(|| TraceError::malformed(self.at, format!("missing `{key}`")))
    }
    fn u64(&self, key: &str) -> Result<u64, TraceError> {
        self.get(key)?
            .as_u64()
            .ok_or_else(|| TraceError::malformed(self.at, format!("`{key}` is not an integer")))
    }
    fn u32(&self, key: &str) -> Result<u32, TraceError> {
        u32::try_from(self.u64(key)?)
            .map_err(|_| TraceError::malformed(self.at, format!("`{key}` is out of range")))
    }
    fn str(&self, key: &str) -> Result<&'a str, TraceError> {
        self.get(key)?
            .as_str()
            .ok_or_else(|| TraceError::malformed(self.at, format!("`{key}` is not a string")))
    }
    fn array(&self, key: &str) -> Result<&'a [Value], TraceError> {
        match self.obj.get(key) {
            None => Ok(&[]),
            Some(v) => v
                .as_array()
                .map(Vec::as_slice)
                .ok_or_else(|| TraceError::malformed(self.at, format!("`{key}` is not a list"))),
        }
    }
    fn object(&self, v: &'a Value, what: &str) -> Result<Fields<'a>, TraceError> {
        Ok(Fields {
            at: self.at,
            obj: v.as_object().ok_or_else(|| {
                TraceError::malformed(self.at, format!("{what} is not an object"))
            })?,
        })
    }
}

fn parse_hex_u128(at: &str, s: &str) -> Result<u128, TraceError> {
    s.strip_prefix("0x")
        .and_then(|h| u128::from_str_radix(h, 16).ok())
        .ok_or_else(|| TraceError::malformed(at, format!("`{s}` is not 0x-prefixed hex")))
}

fn parse_access(at: &str, s: &str) -> Result<Access, TraceError> {
    match s {
        "read" => Ok(Access::Read),
        "write" => Ok(Access::Write),
        _ => Err(TraceError::malformed(at, format!("access kind `{s}`"))),
    }
}

/// Parses a value object back into raw bits.
fn parse_value(f: &Fields<'_>, v: &Value) -> Result<TypedValue, TraceError> {
    let o = f.object(v, "a value")?;
    let ty_name = o.str("type")?;
    let ty = parse_type(ty_name)
        .ok_or_else(|| TraceError::malformed(f.at, format!("value type `{ty_name}`")))?;
    if let Some(bits) = o.obj.get("bits").and_then(Value::as_str) {
        return Ok(TypedValue {
            ty,
            bits: parse_hex_u128(f.at, bits)?,
        });
    }
    let text = o.str("value")?;
    let bad = || TraceError::malformed(f.at, format!("`{text}` is not a {ty_name} value"));
    let bits = match ty {
        Some(ValType::I32) => text.parse::<i32>().map_err(|_| bad())? as u32 as u128,
        Some(ValType::I64) => text.parse::<i64>().map_err(|_| bad())? as u64 as u128,
        Some(ValType::V128) => parse_hex_u128(f.at, text)?,
        Some(t @ (ValType::FuncRef | ValType::ExternRef)) => {
            let v = if text == "null" {
                None
            } else {
                Some(text.parse::<u32>().map_err(|_| bad())?)
            };
            let val = match t {
                ValType::FuncRef => weft_core::Val::FuncRef(v),
                _ => weft_core::Val::ExternRef(v),
            };
            weft_exec::concrete::val_bits(val)
        }
        _ => return Err(bad()),
    };
    Ok(TypedValue { ty, bits })
}

fn parse_row(at: &str, obj: &Map<String, Value>, header: &Header) -> Result<Row, TraceError> {
    let f = Fields { at, obj };
    let op = f.str("op")?.to_string();
    let mnemonic = op.split(' ').next().unwrap_or("");
    let mnemonic_id = header
        .mnemonics
        .iter()
        .position(|m| m == mnemonic)
        .unwrap_or(u16::MAX as usize) as u16;
    let values = |key: &str| -> Result<Vec<TypedValue>, TraceError> {
        f.array(key)?.iter().map(|v| parse_value(&f, v)).collect()
    };
    let mut row = Row {
        step: f.u64("step")?,
        func: f.u32("func")?,
        offset: f.u32("offset")?,
        op,
        mnemonic_id,
        fuel: f.u64("fuel")?,
        stack_depth: f.u32("stack_depth")?,
        stack: values("stack")?,
        locals_count: f.u32("locals_count")?,
        locals: values("locals")?,
        ..Row::default()
    };
    for fr in f.array("frames")? {
        let pair = fr
            .as_array()
            .filter(|a| a.len() == 2)
            .and_then(|a| {
                Some((
                    u32::try_from(a[0].as_u64()?).ok()?,
                    u32::try_from(a[1].as_u64()?).ok()?,
                ))
            })
            .ok_or_else(|| TraceError::malformed(at, "a frame is not [func, offset]"))?;
        row.frames.push(pair);
    }
    for m in f.array("mem")? {
        let o = f.object(m, "a memory access")?;
        row.mem.push(MemAccess {
            kind: parse_access(at, o.str("kind")?)?,
            addr: o.u64("addr")?,
            width: o.u32("width")?,
            value: parse_hex_u128(at, o.str("value")?)?,
        });
    }
    for b in f.array("bytes")? {
        let o = f.object(b, "a byte run")?;
        let source = match o.str("source")? {
            "bulk" => ByteSource::Bulk,
            "host" => ByteSource::Host,
            s => return Err(TraceError::malformed(at, format!("byte source `{s}`"))),
        };
        row.bytes.push(BytesAccess {
            kind: parse_access(at, o.str("kind")?)?,
            source,
            addr: o.u64("addr")?,
            bytes: unhex(o.str("hex")?)
                .ok_or_else(|| TraceError::malformed(at, "`hex` is not hex"))?,
        });
    }
    for g in f.array("globals")? {
        let o = f.object(g, "a global access")?;
        row.globals.push(GlobalAccess {
            kind: parse_access(at, o.str("kind")?)?,
            index: o.u32("index")?,
            value: parse_value(&f, o.get("value")?)?,
        });
    }
    if obj.contains_key("call") {
        row.call = Some(f.u32("call")?);
    }
    row.ret = obj.get("return").and_then(Value::as_bool).unwrap_or(false);
    Ok(row)
}

impl<R: BufRead> TraceReader for JsonlReader<R> {
    fn next_row(&mut self) -> Result<Option<Row>, TraceError> {
        if self.summary.is_some() {
            return Ok(None);
        }
        self.line.clear();
        self.line_no += 1;
        let at = format!("line {}", self.line_no);
        let n = self
            .input
            .read_line(&mut self.line)
            .map_err(|e| TraceError::malformed(&at, e.to_string()))?;
        if n == 0 {
            return Err(TraceError::malformed(
                &at,
                "the trace ends without a summary line (truncated?)",
            ));
        }
        let value: Value = serde_json::from_str(&self.line)
            .map_err(|e| TraceError::malformed(&at, format!("not JSON: {e}")))?;
        let obj = value
            .as_object()
            .ok_or_else(|| TraceError::malformed(&at, "not a JSON object"))?;
        if let Some(s) = obj.get("summary") {
            let summary: Summary = serde_json::from_value(s.clone())
                .map_err(|e| TraceError::malformed(&at, format!("summary: {e}")))?;
            self.summary = Some(summary);
            return Ok(None);
        }
        let row = parse_row(&at, obj, &self.header)?;
        if let Some(last) = self.last_step {
            if row.step <= last {
                return Err(TraceError::malformed(
                    &at,
                    format!("step {} does not follow step {last}", row.step),
                ));
            }
        }
        self.last_step = Some(row.step);
        Ok(Some(row))
    }

    fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }
}
