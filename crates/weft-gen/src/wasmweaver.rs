//! WasmWeaver's dataset format: per sample `<id>.wat` and `<id>.meta` (JSON with
//! `flag_states`, `return_values` and `stack_values`, values as `{type, value}` strings).
//! Export writes a weft dataset in that format; import reads one into weft's JSONL with the
//! answers as WasmWeaver stated them, so `weft gen verify` can check them.

use crate::sample::{Answers, Sample, TypedValue, SCHEMA};
use crate::verify::recompute;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use weft_core::Val;

/// A value as WasmWeaver writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WwValue {
    /// `i32`, `i64`, `f32`, `f64`, `funcref`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The value as a string.
    pub value: String,
}

/// A `.meta` file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Generation reward (unused by weft).
    #[serde(default)]
    pub reward: f64,
    /// `FLAG_k` → reached.
    #[serde(default)]
    pub flag_states: BTreeMap<String, bool>,
    /// Return values of the entry function.
    #[serde(default)]
    pub return_values: Vec<WwValue>,
    /// Values at `;;INSPECT`.
    #[serde(default)]
    pub stack_values: Vec<WwValue>,
}

fn ww_of(v: &TypedValue) -> Result<WwValue, String> {
    let val = v.to_val()?;
    let value = match val {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => py_float(f32::from_bits(b) as f64),
        Val::F64(b) => py_float(f64::from_bits(b)),
        other => other.to_string(),
    };
    Ok(WwValue {
        ty: v.ty.clone(),
        value,
    })
}

fn py_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// Whether a WasmWeaver value string denotes `v`.
pub fn ww_matches(w: &WwValue, v: Val) -> bool {
    let s = w.value.trim();
    match v {
        Val::I32(x) => s.parse::<i128>().is_ok_and(|p| p as i32 == x),
        Val::I64(x) => s.parse::<i128>().is_ok_and(|p| p as i64 == x),
        Val::F32(b) => parse_py_float(s).is_some_and(|p| {
            let f = f32::from_bits(b);
            (p.is_nan() && f.is_nan()) || (p as f32).to_bits() == b
        }),
        Val::F64(b) => parse_py_float(s).is_some_and(|p| {
            let f = f64::from_bits(b);
            (p.is_nan() && f.is_nan()) || p.to_bits() == b
        }),
        Val::FuncRef(None) | Val::ExternRef(None) => s.eq_ignore_ascii_case("null"),
        _ => false,
    }
}

fn parse_py_float(s: &str) -> Option<f64> {
    match s {
        "nan" | "-nan" | "NaN" => Some(f64::NAN),
        "inf" | "Infinity" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Rewrites weft's flat text in WasmWeaver's style: imported `env.memory`, every function
/// exported, constants in parentheses, globals `$global_<n>`, tables `$tab_<n>`.
pub fn to_ww_text(wat: &str) -> String {
    let mut out = String::new();
    let mut funcs = Vec::new();
    for line in wat.lines() {
        let t = line.trim();
        if t.starts_with("(memory") || t.starts_with("(export \"memory\"") {
            continue;
        }
        if t == "(module" {
            out.push_str("(module\n  (import \"env\" \"memory\" (memory 1 2))\n");
            continue;
        }
        if let Some(rest) = t.strip_prefix("(func $") {
            funcs.push(rest.split_whitespace().next().unwrap_or("").to_string());
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut body = t.replace("$g", "$global_").replace("$tab0", "$tab_0");
        if !body.starts_with('(') && body.contains(".const ") && !body.starts_with(";;") {
            body = format!("({body})");
        }
        if t == ")" && indent.is_empty() {
            for f in &funcs {
                if f != "main" {
                    out.push_str(&format!("  (export \"{f}\" (func ${f}))\n"));
                }
            }
        }
        out.push_str(indent);
        out.push_str(&body);
        out.push('\n');
    }
    out
}

/// Writes a weft dataset in WasmWeaver's format; returns the number of samples.
pub fn export(dir: &Path, out: &Path) -> Result<u64, String> {
    let jsonl = dir.join("dataset.jsonl");
    let text = std::fs::read_to_string(&jsonl)
        .map_err(|e| format!("cannot read {}: {e}", jsonl.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let s: Sample = serde_json::from_str(line)
            .map_err(|e| format!("{} line {}: {e}", jsonl.display(), i + 1))?;
        let a = &s.answers;
        let conv = |v: &Option<Vec<TypedValue>>| -> Result<Vec<WwValue>, String> {
            v.iter().flatten().map(ww_of).collect()
        };
        let meta = Meta {
            reward: 0.0,
            flag_states: a.flags.clone().unwrap_or_default(),
            return_values: conv(&a.results)?,
            stack_values: conv(&a.stack)?,
        };
        let stem = out.join(&s.id);
        crate::dataset::write_atomic(&stem.with_extension("wat"), to_ww_text(&s.wat).as_bytes())?;
        let m = serde_json::to_string_pretty(&meta).map_err(|e| e.to_string())?;
        crate::dataset::write_atomic(&stem.with_extension("meta"), m.as_bytes())?;
        n += 1;
    }
    Ok(n)
}

/// Reads every `<id>.wat` with its `<id>.meta` in `dir`, sorted by id.
pub fn read_dir(dir: &Path) -> Result<Vec<(String, String, Meta)>, String> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for e in rd {
        let p = e.map_err(|e| e.to_string())?.path();
        if p.extension().and_then(|x| x.to_str()) != Some("meta") {
            continue;
        }
        let id = p
            .file_stem()
            .and_then(|x| x.to_str())
            .unwrap_or_default()
            .to_string();
        let wat_path = p.with_extension("wat");
        let wat = std::fs::read_to_string(&wat_path)
            .map_err(|e| format!("cannot read {}: {e}", wat_path.display()))?;
        let text =
            std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        let meta: Meta =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        out.push((id, wat, meta));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Checks a WasmWeaver sample's stated answers; returns the wrong ones.
pub fn check(wat: &str, meta: &Meta) -> Result<Vec<String>, String> {
    let r = recompute(wat, 100_000_000)?;
    let mut wrong = Vec::new();
    let cmp = |what: &str, stated: &[WwValue], got: &[Val], wrong: &mut Vec<String>| {
        if stated.len() != got.len() || stated.iter().zip(got).any(|(s, g)| !ww_matches(s, *g)) {
            let s: Vec<String> = stated
                .iter()
                .map(|v| format!("{}:{}", v.ty, v.value))
                .collect();
            let g: Vec<String> = got.iter().map(|v| v.to_string()).collect();
            wrong.push(format!(
                "{what}: stated [{}], runs [{}]",
                s.join(", "),
                g.join(", ")
            ));
        }
    };
    if !meta.return_values.is_empty() || r.results.is_empty() {
        cmp("return_values", &meta.return_values, &r.results, &mut wrong);
    }
    if !meta.stack_values.is_empty() {
        let got = r.stack.clone().unwrap_or_default();
        cmp("stack_values", &meta.stack_values, &got, &mut wrong);
    }
    for (k, v) in &meta.flag_states {
        let got = r.flags.get(k).copied();
        if got != Some(*v) {
            wrong.push(format!("{k}: stated {v}, runs {got:?}"));
        }
    }
    Ok(wrong)
}

/// Reads a WasmWeaver dataset into weft's format (answers as WasmWeaver stated them; fuel,
/// size and histogram from running the program). Returns the number of samples.
pub fn import(dir: &Path, out: &Path) -> Result<u64, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut lines = String::new();
    let mut n = 0u64;
    for (index, (id, wat, meta)) in read_dir(dir)?.into_iter().enumerate() {
        let r = recompute(&wat, 100_000_000).map_err(|e| format!("{id}: {e}"))?;
        let conv = |vs: &[WwValue], got: &[Val]| -> Vec<TypedValue> {
            vs.iter()
                .enumerate()
                .map(|(i, w)| {
                    // Keep WasmWeaver's statement; take exact bits only where it matches.
                    match got.get(i) {
                        Some(g) if ww_matches(w, *g) => TypedValue::of(*g),
                        _ => TypedValue {
                            ty: w.ty.clone(),
                            value: w.value.clone(),
                            bits: stated_bits(w),
                        },
                    }
                })
                .collect()
        };
        let (task, answers) = if !meta.stack_values.is_empty() {
            let got = r.stack.clone().unwrap_or_default();
            (
                crate::Task::Stack,
                Answers {
                    stack: Some(conv(&meta.stack_values, &got)),
                    ..Answers::default()
                },
            )
        } else if !meta.flag_states.is_empty() || meta.return_values.is_empty() {
            (
                crate::Task::Flags,
                Answers {
                    flags: Some(meta.flag_states.clone()),
                    ..Answers::default()
                },
            )
        } else {
            (
                crate::Task::Result,
                Answers {
                    results: Some(conv(&meta.return_values, &r.results)),
                    ..Answers::default()
                },
            )
        };
        let wasm = wat::parse_str(&wat).map_err(|e| format!("{id}: {e}"))?;
        let s = Sample {
            schema: SCHEMA.into(),
            id,
            index: index as u64,
            seed: 0,
            task,
            wat,
            answers,
            fuel: r.fuel,
            size: wasm.len() as u64,
            depth: 0,
            histogram: BTreeMap::new(),
            attempts: 1,
        };
        lines.push_str(&serde_json::to_string(&s).map_err(|e| e.to_string())?);
        lines.push('\n');
        n += 1;
    }
    crate::dataset::write_atomic(&out.join("dataset.jsonl"), lines.as_bytes())?;
    Ok(n)
}

fn stated_bits(w: &WwValue) -> String {
    let s = w.value.trim();
    match w.ty.as_str() {
        "i32" => s
            .parse::<i128>()
            .map(|p| format!("0x{:08x}", p as u32))
            .unwrap_or_default(),
        "i64" => s
            .parse::<i128>()
            .map(|p| format!("0x{:016x}", p as u64))
            .unwrap_or_default(),
        "f32" => parse_py_float(s)
            .map(|p| format!("0x{:08x}", (p as f32).to_bits()))
            .unwrap_or_default(),
        "f64" => parse_py_float(s)
            .map(|p| format!("0x{:016x}", p.to_bits()))
            .unwrap_or_default(),
        _ => String::new(),
    }
}
