//! Throughput measurement behind `weft gen bench`: programs per second per task, on one
//! thread and on all threads, beside the target (1,000 verified, answered programs per second
//! per core for `result` at a fuel target of 200). Every counted program is complete:
//! generated, run by the engine for its answers, and self-checked (the generator's fuel equals
//! the engine's).

use crate::config::{GenConfig, Task};
use crate::sample::build;
use rayon::prelude::*;
use std::fmt::Write;
use std::time::Instant;

/// Runs the measurement with `n` programs per task and configuration; returns the table.
pub fn run(n: u64) -> Result<String, String> {
    let threads = rayon::current_num_threads();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "weft-gen throughput: {n} programs per measurement, fuel 100..300 (target 200), {threads} threads"
    );
    let _ = writeln!(
        s,
        "{:<13} {:>12} {:>14} {:>9} {:>8} {:>11} {:>10}",
        "task", "1 thread/s", "all threads/s", "scaling", "retries", "mean fuel", "target/s"
    );
    for task in Task::ALL {
        let cfg = GenConfig::new(task, (100, 300), (0, 4096))?;
        for i in 0..20 {
            build(&cfg, 7, i).map_err(|e| e.to_string())?;
        }
        let t = Instant::now();
        let mut retries = 0;
        let mut fuel = 0;
        for i in 0..n {
            let b = build(&cfg, 1, i).map_err(|e| e.to_string())?;
            retries += b.sample.attempts - 1;
            fuel += b.sample.fuel;
        }
        let single = n as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        (0..n)
            .into_par_iter()
            .try_for_each(|i| build(&cfg, 2, i).map(|_| ()).map_err(|e| e.to_string()))?;
        let multi = n as f64 / t.elapsed().as_secs_f64();
        let target = if task == Task::Result { "1000" } else { "-" };
        let _ = writeln!(
            s,
            "{:<13} {:>12.0} {:>14.0} {:>8.2}x {:>8} {:>11.1} {:>10}",
            task.name(),
            single,
            multi,
            multi / single,
            retries,
            fuel as f64 / n as f64,
            target
        );
    }
    Ok(s)
}
