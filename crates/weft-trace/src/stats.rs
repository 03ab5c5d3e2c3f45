//! Trace statistics: instruction mix, hottest functions and offsets, memory footprint.

use crate::error::TraceError;
use crate::row::Access;
use crate::TraceReader;
use serde::Serialize;
use std::collections::HashMap;

/// Bytes per footprint page (the WebAssembly page size).
const PAGE: u64 = 65536;

/// What a trace shows about its run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Rows read.
    pub rows: u64,
    /// Steps the run executed (from the summary).
    pub steps: u64,
    /// Fuel the run consumed (from the summary).
    pub fuel: u64,
    /// Rows per mnemonic, most frequent first.
    pub mix: Vec<(String, u64)>,
    /// Rows per function, hottest first.
    pub functions: Vec<(u32, u64)>,
    /// Rows per (function, offset), hottest first, at most `top` entries.
    pub offsets: Vec<((u32, u32), u64)>,
    /// Memory footprint.
    pub memory: Footprint,
}

/// Memory traffic and the set of bytes touched.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Footprint {
    /// Loads (and bulk or host reads).
    pub reads: u64,
    /// Stores (and bulk or host writes).
    pub writes: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Distinct bytes touched.
    pub distinct_bytes: u64,
    /// Distinct 64 KiB pages touched.
    pub pages: u64,
    /// Lowest address touched.
    pub min_addr: Option<u64>,
    /// One past the highest address touched.
    pub end_addr: Option<u64>,
}

/// A set of touched bytes, one bit per byte, kept per 64 KiB page.
#[derive(Default)]
struct ByteSet {
    pages: HashMap<u64, Box<[u64]>>,
    count: u64,
}

impl ByteSet {
    fn insert_range(&mut self, addr: u64, len: u64) {
        for a in addr..addr.saturating_add(len) {
            let page = self
                .pages
                .entry(a / PAGE)
                .or_insert_with(|| vec![0u64; (PAGE / 64) as usize].into_boxed_slice());
            let bit = a % PAGE;
            let word = &mut page[(bit / 64) as usize];
            let mask = 1u64 << (bit % 64);
            if *word & mask == 0 {
                *word |= mask;
                self.count += 1;
            }
        }
    }
}

/// Reads every row of a trace and summarises it; `top` bounds the offset list.
pub fn stats(reader: &mut dyn TraceReader, top: usize) -> Result<Stats, TraceError> {
    let mut s = Stats::default();
    let mut mix: HashMap<String, u64> = HashMap::new();
    let mut funcs: HashMap<u32, u64> = HashMap::new();
    let mut offsets: HashMap<(u32, u32), u64> = HashMap::new();
    let mut touched = ByteSet::default();
    let fp = &mut s.memory;
    let mut note = |fp: &mut Footprint, kind: Access, addr: u64, len: u64| {
        match kind {
            Access::Read => {
                fp.reads += 1;
                fp.bytes_read += len;
            }
            Access::Write => {
                fp.writes += 1;
                fp.bytes_written += len;
            }
        }
        fp.min_addr = Some(fp.min_addr.map_or(addr, |m| m.min(addr)));
        let end = addr.saturating_add(len);
        fp.end_addr = Some(fp.end_addr.map_or(end, |m| m.max(end)));
        touched.insert_range(addr, len);
    };
    while let Some(row) = reader.next_row()? {
        s.rows += 1;
        *mix.entry(row.mnemonic().to_string()).or_default() += 1;
        *funcs.entry(row.func).or_default() += 1;
        *offsets.entry((row.func, row.offset)).or_default() += 1;
        for m in &row.mem {
            note(fp, m.kind, m.addr, m.width as u64);
        }
        for b in &row.bytes {
            note(fp, b.kind, b.addr, b.bytes.len() as u64);
        }
    }
    fp.distinct_bytes = touched.count;
    fp.pages = touched.pages.len() as u64;
    if let Some(sum) = reader.summary() {
        s.steps = sum.steps;
        s.fuel = sum.fuel;
    }
    s.mix = sorted(mix);
    s.functions = sorted(funcs);
    s.offsets = sorted(offsets);
    s.offsets.truncate(top);
    Ok(s)
}

/// Entries by descending count, ties by key.
fn sorted<K: Ord>(m: HashMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

impl Stats {
    /// A readable report; `func_name` names functions.
    pub fn report(&self, func_name: &dyn Fn(u32) -> String) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "rows: {}  steps: {}  fuel: {}",
            self.rows, self.steps, self.fuel
        );
        let pct = |n: u64| 100.0 * n as f64 / self.rows.max(1) as f64;
        let _ = writeln!(o, "\ninstruction mix:");
        for (m, n) in self.mix.iter().take(30) {
            let _ = writeln!(o, "  {m:<24} {n:>14} {:>6.2}%", pct(*n));
        }
        let _ = writeln!(o, "\nhottest functions:");
        for (f, n) in self.functions.iter().take(15) {
            let _ = writeln!(o, "  {:<32} {n:>14} {:>6.2}%", func_name(*f), pct(*n));
        }
        let _ = writeln!(o, "\nhottest offsets:");
        for ((f, off), n) in &self.offsets {
            let _ = writeln!(o, "  {:<24} @{off:<8x} {n:>14}", func_name(*f));
        }
        let m = &self.memory;
        let _ = writeln!(o, "\nmemory:");
        let _ = writeln!(
            o,
            "  reads {} ({} bytes), writes {} ({} bytes)",
            m.reads, m.bytes_read, m.writes, m.bytes_written
        );
        let _ = writeln!(
            o,
            "  distinct bytes touched {} in {} pages",
            m.distinct_bytes, m.pages
        );
        if let (Some(lo), Some(hi)) = (m.min_addr, m.end_addr) {
            let _ = writeln!(o, "  address range [{lo:#x}, {hi:#x})");
        }
        o
    }
}
