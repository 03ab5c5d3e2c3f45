//! Sources: where taint comes from, and how sets of them are named in reports.

use super::label::SourceId;
use std::fmt;

/// One source of taint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Parameter `i` of the invoked export.
    Param(u32),
    /// One byte of a memory region marked as input.
    Mem(u32),
    /// Byte `i` of standard input (in the order the program read it).
    Stdin(u64),
    /// Program argument `i` (`argv[i]`, all its bytes).
    Arg(u32),
    /// The results of call `n` (counted from 0) of an imported function.
    Import {
        /// `module.name` of the import.
        name: String,
        /// Which call.
        call: u32,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Param(i) => write!(f, "param{i}"),
            Source::Mem(a) => write!(f, "mem[{a:#x}]"),
            Source::Stdin(i) => write!(f, "stdin[{i}]"),
            Source::Arg(i) => write!(f, "argv[{i}]"),
            Source::Import { name, call } => write!(f, "{name}#{call}"),
        }
    }
}

/// Every source of a run, indexed by [`SourceId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    list: Vec<Source>,
}

impl Sources {
    /// Registers a source and returns its id.
    pub fn add(&mut self, s: Source) -> SourceId {
        self.list.push(s);
        self.list.len() as SourceId - 1
    }

    /// The source with id `id`.
    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.list.get(id as usize)
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there is no source.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Names a set of sources compactly: consecutive bytes of stdin or memory become ranges
    /// (`stdin[0..4]` is bytes 0 to 3, `mem[0x400..0x408]`), the rest are listed in order.
    pub fn describe(&self, ids: &[SourceId]) -> Vec<String> {
        let mut srcs: Vec<&Source> = ids.iter().filter_map(|&i| self.get(i)).collect();
        srcs.sort();
        srcs.dedup();
        let mut out = Vec::new();
        let mut i = 0;
        while i < srcs.len() {
            let (start, kind) = match srcs[i] {
                Source::Stdin(s) => (*s, 0),
                Source::Mem(a) => (*a as u64, 1),
                other => {
                    out.push(other.to_string());
                    i += 1;
                    continue;
                }
            };
            let mut end = start + 1;
            let mut j = i + 1;
            while j < srcs.len() {
                let next = match (srcs[j], kind) {
                    (Source::Stdin(s), 0) => *s,
                    (Source::Mem(a), 1) => *a as u64,
                    _ => break,
                };
                if next != end {
                    break;
                }
                end += 1;
                j += 1;
            }
            out.push(match (kind, end - start) {
                (0, 1) => format!("stdin[{start}]"),
                (0, _) => format!("stdin[{start}..{end}]"),
                (_, 1) => format!("mem[{start:#x}]"),
                _ => format!("mem[{start:#x}..{end:#x}]"),
            });
            i = j;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_bytes_become_ranges() {
        let mut s = Sources::default();
        let ids: Vec<SourceId> = [
            Source::Stdin(2),
            Source::Param(1),
            Source::Stdin(0),
            Source::Stdin(1),
            Source::Mem(0x10),
            Source::Mem(0x11),
            Source::Stdin(5),
            Source::Import {
                name: "env.get".into(),
                call: 0,
            },
        ]
        .into_iter()
        .map(|x| s.add(x))
        .collect();
        assert_eq!(
            s.describe(&ids),
            [
                "param1",
                "mem[0x10..0x12]",
                "stdin[0..3]",
                "stdin[5]",
                "env.get#0"
            ]
        );
    }
}
