//! Samples and the dataset schema (`weft-gen/1`, documented in `crates/weft-gen/SCHEMA.md`):
//! one JSON object per line with the id, seed, task, flat text, exact typed answers, fuel,
//! size, depth and opcode histogram.

use crate::answer::{self, Outcome};
use crate::config::{GenConfig, Task};
use crate::gen::{GenError, Generated, Generator};
use crate::ins::Ins;
use crate::program::Program;
use crate::rng::Rng;
use crate::strategy::{Strategy, Weighted};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use weft_core::{Val, ValType};

/// Version tag of the dataset schema.
pub const SCHEMA: &str = "weft-gen/1";

/// A value with its type, printed exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypedValue {
    /// `i32`, `i64`, `f32`, `f64`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Integers in signed decimal; floats in shortest round-trip decimal, `inf`, `-inf`,
    /// or `nan:0x…` (with sign) carrying the payload.
    pub value: String,
    /// The raw bits in hex (`0x…`), so every value, NaN payloads and -0.0 included, is exact.
    pub bits: String,
}

impl TypedValue {
    /// The exact form of a value.
    pub fn of(v: Val) -> TypedValue {
        let (value, bits) = match v {
            Val::I32(x) => (x.to_string(), format!("0x{:08x}", x as u32)),
            Val::I64(x) => (x.to_string(), format!("0x{:016x}", x as u64)),
            Val::F32(b) => (crate::program::const_value_text(v), format!("0x{b:08x}")),
            Val::F64(b) => (crate::program::const_value_text(v), format!("0x{b:016x}")),
            other => (other.to_string(), String::new()),
        };
        TypedValue {
            ty: v.ty().name().to_string(),
            value,
            bits,
        }
    }

    /// The value back, from type and bits.
    pub fn to_val(&self) -> Result<Val, String> {
        let hex = self
            .bits
            .strip_prefix("0x")
            .ok_or_else(|| format!("bits `{}` do not start with 0x", self.bits))?;
        let b = u64::from_str_radix(hex, 16).map_err(|_| format!("bad bits `{}`", self.bits))?;
        Ok(match self.ty.as_str() {
            "i32" => Val::I32(b as u32 as i32),
            "i64" => Val::I64(b as i64),
            "f32" => Val::F32(b as u32),
            "f64" => Val::F64(b),
            t => return Err(format!("unsupported type `{t}`")),
        })
    }
}

/// A memory query and its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryAnswer {
    /// Byte address in memory 0.
    pub address: u32,
    /// The value stored there (little-endian, full width of its type) after the run.
    #[serde(flatten)]
    pub value: TypedValue,
}

/// Answers of a sample; only the task's field is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// `result`: the entry function's return values.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub results: Option<Vec<TypedValue>>,
    /// `stack`: the block's values at `;;INSPECT`, bottom to top.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stack: Option<Vec<TypedValue>>,
    /// `flags`: `FLAG_k` → reached.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flags: Option<BTreeMap<String, bool>>,
    /// `memory`: values at addresses after the run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub memory: Option<Vec<MemoryAnswer>>,
    /// `trace-length`: fuel consumed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fuel: Option<u64>,
}

/// One dataset line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Schema version ([`SCHEMA`]).
    pub schema: String,
    /// Sample id; also the stem of its `.wasm` and `.wat` files.
    pub id: String,
    /// Index within the run.
    pub index: u64,
    /// The seed of this sample (derived from the run's seed and the index).
    pub seed: u64,
    /// The task.
    pub task: Task,
    /// Flat text of the program.
    pub wat: String,
    /// Exact answers.
    pub answers: Answers,
    /// Fuel the entry function consumes (wasmtime's cost model).
    pub fuel: u64,
    /// Size of the `.wasm` in bytes.
    pub size: u64,
    /// Maximum nesting depth of blocks, ifs and loops.
    pub depth: u32,
    /// Instruction counts by opcode name (static).
    pub histogram: BTreeMap<String, u32>,
    /// Generation attempts this sample took (1 almost always).
    pub attempts: u32,
}

/// A sample with its binary and its program.
#[derive(Clone, Debug)]
pub struct Built {
    /// The dataset line.
    pub sample: Sample,
    /// The `.wasm` bytes.
    pub wasm: Vec<u8>,
    /// The program.
    pub program: Program,
    /// What running it gave.
    pub outcome: Outcome,
    /// What generating it took.
    pub generated: Generated,
}

fn depth_of(program: &Program) -> u32 {
    let mut max = 0u32;
    for f in &program.funcs {
        let mut d = 0u32;
        for i in &f.body {
            match i {
                Ins::Block(_) | Ins::If(_) | Ins::Loop => {
                    d += 1;
                    max = max.max(d);
                }
                Ins::End => d = d.saturating_sub(1),
                _ => {}
            }
        }
    }
    max
}

fn histogram(program: &Program) -> BTreeMap<String, u32> {
    let mut h = BTreeMap::new();
    for f in &program.funcs {
        for i in &f.body {
            let m = i.mnemonic();
            if !m.is_empty() {
                *h.entry(m.to_string()).or_insert(0) += 1;
            }
        }
    }
    h
}

/// The id of sample `index` of `task`.
pub fn sample_id(task: Task, index: u64) -> String {
    format!("{}-{index:06}", task.name())
}

/// Generates sample `index` of a run with `seed` using the default strategy.
pub fn build(cfg: &GenConfig, seed: u64, index: u64) -> Result<Built, GenError> {
    build_with(cfg, seed, index, &mut Weighted::default())
}

/// Attempts per sample before giving up. About one attempt in 300 is refused by the final
/// run's NaN check (see [`crate::nan`]: a value fed back through a loop can reach a float
/// operator after it was offered); twelve make a refused sample vanishingly rare.
const MAX_ATTEMPTS: u32 = 12;

/// Generates sample `index` with a given strategy. A failed attempt (the count is reported in
/// `attempts`) is retried with the next derived seed.
pub fn build_with(
    cfg: &GenConfig,
    seed: u64,
    index: u64,
    strategy: &mut dyn Strategy,
) -> Result<Built, GenError> {
    let sseed = Rng::derive(seed, index);
    let mut last = GenError("no attempt".into());
    for attempt in 0..MAX_ATTEMPTS {
        let aseed = if attempt == 0 {
            sseed
        } else {
            Rng::derive(sseed, attempt as u64)
        };
        match attempt_build(cfg, aseed, strategy) {
            Ok((generated, wasm, outcome, answers)) => {
                let program = generated.program.clone();
                let sample = Sample {
                    schema: SCHEMA.into(),
                    id: sample_id(cfg.task, index),
                    index,
                    seed: sseed,
                    task: cfg.task,
                    wat: program.to_wat(),
                    answers,
                    fuel: outcome.fuel,
                    size: wasm.len() as u64,
                    depth: depth_of(&program),
                    histogram: histogram(&program),
                    attempts: attempt + 1,
                };
                return Ok(Built {
                    sample,
                    wasm,
                    program,
                    outcome,
                    generated,
                });
            }
            Err(e) => {
                if std::env::var_os("WEFT_GEN_DEBUG").is_some() {
                    eprintln!("attempt {attempt}: {e}");
                }
                last = e
            }
        }
    }
    Err(GenError(format!("sample {index}: {last}")))
}

type Attempt = (Generated, Vec<u8>, Outcome, Answers);

fn attempt_build(
    cfg: &GenConfig,
    seed: u64,
    strategy: &mut dyn Strategy,
) -> Result<Attempt, GenError> {
    let generated = Generator::new(cfg, seed, strategy).run()?;
    let program = &generated.program;
    let wasm = program.to_wasm();
    let outcome = answer::run(program, &wasm, cfg.fuel_max).map_err(GenError)?;
    if outcome.fuel != generated.fuel {
        return Err(GenError(format!(
            "internal: generator measured fuel {} but the run consumed {}",
            generated.fuel, outcome.fuel
        )));
    }
    if outcome.fuel > cfg.fuel_max {
        return Err(GenError(format!("fuel {} above the maximum", outcome.fuel)));
    }
    if wasm.len() as u64 > cfg.size_max {
        return Err(GenError(format!("size {} above the maximum", wasm.len())));
    }
    let answers = answers_for(cfg.task, &generated, &outcome)?;
    Ok((generated, wasm, outcome, answers))
}

fn answers_for(task: Task, g: &Generated, o: &Outcome) -> Result<Answers, GenError> {
    let mut a = Answers::default();
    match task {
        Task::Result => a.results = Some(o.results.iter().map(|v| TypedValue::of(*v)).collect()),
        Task::Stack => {
            let s = o
                .inspect
                .as_ref()
                .ok_or_else(|| GenError("no INSPECT answer".into()))?;
            a.stack = Some(s.iter().map(|v| TypedValue::of(*v)).collect());
        }
        Task::Flags => {
            a.flags = Some(
                o.flags
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (format!("FLAG_{k}"), *r))
                    .collect(),
            )
        }
        Task::Memory => {
            let mut addrs: Vec<(u32, ValType)> = Vec::new();
            for (addr, op) in &g.stats.stores {
                let ty = match op.operand_type() {
                    ValType::I64 | ValType::F64 if op.width() < 8 => ValType::I64,
                    t if op.width() < 4 => {
                        if t == ValType::I64 {
                            ValType::I64
                        } else {
                            ValType::I32
                        }
                    }
                    t => t,
                };
                if !addrs.iter().any(|(a, _)| a == addr) && addrs.len() < 4 {
                    addrs.push((*addr, ty));
                }
            }
            if addrs.is_empty() {
                let (off, bytes) = &g.program.data;
                addrs.push((off + (bytes.len() as u32 / 2) / 4 * 4, ValType::I32));
            }
            let mut out = Vec::new();
            for (addr, ty) in addrs {
                let v = answer::memory_value(&o.memory, addr, ty)
                    .ok_or_else(|| GenError(format!("address {addr} out of memory")))?;
                out.push(MemoryAnswer {
                    address: addr,
                    value: TypedValue::of(v),
                });
            }
            a.memory = Some(out);
        }
        Task::TraceLength => a.fuel = Some(o.fuel),
    }
    Ok(a)
}
