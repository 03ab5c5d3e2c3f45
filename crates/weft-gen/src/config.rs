//! Generation settings: the task, the budgets and the shape limits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a sample asks about its program.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// The return values of the entry function.
    Result,
    /// The block's operand stack at the `;;INSPECT` marker, the first time it is reached.
    Stack,
    /// Which `;;FLAG_k` markers execution reaches.
    Flags,
    /// Values at given memory addresses after the run.
    Memory,
    /// The fuel the run consumes.
    TraceLength,
}

impl Task {
    /// Every task.
    pub const ALL: [Task; 5] = [
        Task::Result,
        Task::Stack,
        Task::Flags,
        Task::Memory,
        Task::TraceLength,
    ];

    /// The task's name on the command line and in datasets.
    pub fn name(self) -> &'static str {
        match self {
            Task::Result => "result",
            Task::Stack => "stack",
            Task::Flags => "flags",
            Task::Memory => "memory",
            Task::TraceLength => "trace-length",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown task `{s}` (expected result, stack, flags, memory or trace-length)"
                )
            })
    }
}

/// Budgets and limits of one generation run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenConfig {
    /// The task.
    pub task: Task,
    /// Soft lower limit on fuel: the generator keeps adding code until it is reached.
    pub fuel_min: u64,
    /// Hard upper limit on fuel (wasmtime's cost model).
    pub fuel_max: u64,
    /// The fuel the generator steers towards.
    pub fuel_target: u64,
    /// Soft lower limit on binary size in bytes.
    pub size_min: u64,
    /// Hard upper limit on binary size in bytes.
    pub size_max: u64,
    /// Maximum nesting depth of blocks, ifs and loops.
    pub max_depth: u32,
    /// Maximum number of helper functions.
    pub max_helpers: u32,
    /// Maximum number of `;;FLAG_k` markers (flags task).
    pub max_flags: u32,
    /// Maximum iterations of one loop.
    pub max_loop_iters: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            task: Task::Result,
            fuel_min: 100,
            fuel_max: 400,
            fuel_target: 200,
            size_min: 0,
            size_max: 4096,
            max_depth: 4,
            max_helpers: 3,
            max_flags: 4,
            max_loop_iters: 8,
        }
    }
}

impl GenConfig {
    /// A configuration for `task` with fuel in `fuel_min..=fuel_max` (target in the middle)
    /// and size in `size_min..=size_max`.
    pub fn new(task: Task, fuel: (u64, u64), size: (u64, u64)) -> Result<Self, String> {
        let c = GenConfig {
            task,
            fuel_min: fuel.0,
            fuel_max: fuel.1,
            fuel_target: (fuel.0 + fuel.1) / 2,
            size_min: size.0,
            size_max: size.1,
            ..GenConfig::default()
        };
        c.check()?;
        Ok(c)
    }

    /// Rejects impossible settings with a message naming the setting.
    pub fn check(&self) -> Result<(), String> {
        if self.fuel_min > self.fuel_max {
            return Err(format!(
                "fuel range {}..{} is empty",
                self.fuel_min, self.fuel_max
            ));
        }
        if self.fuel_max < 20 {
            return Err(format!(
                "fuel maximum {} is too small: at least 20 is needed",
                self.fuel_max
            ));
        }
        if self.size_min > self.size_max {
            return Err(format!(
                "size range {}..{} is empty",
                self.size_min, self.size_max
            ));
        }
        if self.size_max < 200 {
            return Err(format!(
                "size maximum {} is too small: at least 200 bytes are needed",
                self.size_max
            ));
        }
        if self.fuel_target < self.fuel_min || self.fuel_target > self.fuel_max {
            return Err(format!(
                "fuel target {} is outside {}..{}",
                self.fuel_target, self.fuel_min, self.fuel_max
            ));
        }
        if self.max_depth == 0 || self.max_depth > 16 {
            return Err(format!("maximum depth {} is outside 1..16", self.max_depth));
        }
        if self.max_loop_iters == 0 || self.max_loop_iters > 1000 {
            return Err(format!(
                "maximum loop iterations {} is outside 1..1000",
                self.max_loop_iters
            ));
        }
        Ok(())
    }
}

/// Parses `MIN..MAX` (or a single number `N`, meaning `N..N`).
pub fn parse_range(text: &str, what: &str) -> Result<(u64, u64), String> {
    let bad = || format!("{what} `{text}` is not a range like 100..400");
    let (a, b) = match text.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim().trim_start_matches('=')),
        None => (text.trim(), text.trim()),
    };
    let a: u64 = a.parse().map_err(|_| bad())?;
    let b: u64 = b.parse().map_err(|_| bad())?;
    if a > b {
        return Err(format!("{what} `{text}` is empty (minimum above maximum)"));
    }
    Ok((a, b))
}
