//! Writing datasets: samples are generated in parallel (rayon) in chunks and written in index
//! order, so a seed fixes every byte whatever the number of threads. Each `.wasm`/`.wat` is
//! written atomically (temporary file, then rename); `dataset.jsonl` grows one complete line
//! per sample, and a rerun with the same settings resumes after the last complete line.

use crate::config::GenConfig;
use crate::sample::{build, Built, Sample};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Settings recorded in `manifest.json`; a resumed run must match them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema of the dataset lines.
    pub schema: String,
    /// Seed of the run.
    pub seed: u64,
    /// Samples asked for.
    pub count: u64,
    /// Generation settings.
    pub config: GenConfig,
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    fs::write(&tmp, bytes).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("cannot rename to {}: {e}", path.display()))
}

/// Complete lines already in `dataset.jsonl` (a partial last line is cut off).
fn existing(jsonl: &Path) -> Result<u64, String> {
    if !jsonl.exists() {
        return Ok(0);
    }
    let f = File::open(jsonl).map_err(|e| format!("cannot read {}: {e}", jsonl.display()))?;
    let mut good_bytes = 0u64;
    let mut n = 0u64;
    let mut r = BufReader::new(f);
    let mut line = String::new();
    loop {
        line.clear();
        let k = r
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {}: {e}", jsonl.display()))?;
        if k == 0 || !line.ends_with('\n') {
            break;
        }
        let s: Sample = serde_json::from_str(&line).map_err(|e| {
            format!(
                "{} line {}: not a dataset line: {e}",
                jsonl.display(),
                n + 1
            )
        })?;
        if s.index != n {
            return Err(format!(
                "{} line {}: index {} out of order",
                jsonl.display(),
                n + 1,
                s.index
            ));
        }
        good_bytes += k as u64;
        n += 1;
    }
    let f = OpenOptions::new()
        .write(true)
        .open(jsonl)
        .map_err(|e| format!("cannot open {}: {e}", jsonl.display()))?;
    f.set_len(good_bytes)
        .map_err(|e| format!("cannot truncate {}: {e}", jsonl.display()))?;
    Ok(n)
}

/// Progress callback: samples done so far and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Generates `count` samples into `dir` (`dataset.jsonl`, `manifest.json`, `samples/`),
/// resuming a previous run with the same settings. Returns how many were written now.
pub fn write_dataset(
    dir: &Path,
    cfg: &GenConfig,
    seed: u64,
    count: u64,
    progress: Progress<'_>,
) -> Result<u64, String> {
    cfg.check()?;
    let samples = dir.join("samples");
    fs::create_dir_all(&samples)
        .map_err(|e| format!("cannot create {}: {e}", samples.display()))?;
    let manifest = Manifest {
        schema: crate::sample::SCHEMA.into(),
        seed,
        count,
        config: cfg.clone(),
    };
    let mpath = dir.join("manifest.json");
    if mpath.exists() {
        let text = fs::read_to_string(&mpath)
            .map_err(|e| format!("cannot read {}: {e}", mpath.display()))?;
        let old: Manifest = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a weft-gen manifest: {e}", mpath.display()))?;
        if (Manifest {
            count,
            ..old.clone()
        }) != manifest
        {
            return Err(format!(
                "{} holds a run with other settings (seed {}, task {}); use another directory",
                dir.display(),
                old.seed,
                old.config.task
            ));
        }
    }
    let mtext = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    write_atomic(&mpath, mtext.as_bytes())?;
    let jsonl = dir.join("dataset.jsonl");
    let start = existing(&jsonl)?;
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&jsonl)
        .map_err(|e| format!("cannot open {}: {e}", jsonl.display()))?;
    let chunk = 256u64;
    let mut done = start;
    progress(done, count);
    while done < count {
        let end = (done + chunk).min(count);
        let built: Vec<Result<Built, String>> = (done..end)
            .into_par_iter()
            .map(|i| build(cfg, seed, i).map_err(|e| e.to_string()))
            .collect();
        for b in built {
            let b = b?;
            let stem: PathBuf = samples.join(&b.sample.id);
            write_atomic(&stem.with_extension("wasm"), &b.wasm)?;
            write_atomic(&stem.with_extension("wat"), b.sample.wat.as_bytes())?;
            let mut line = serde_json::to_string(&b.sample).map_err(|e| e.to_string())?;
            line.push('\n');
            out.write_all(line.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", jsonl.display()))?;
        }
        out.flush().map_err(|e| e.to_string())?;
        done = end;
        progress(done, count);
    }
    Ok(count.saturating_sub(start))
}
