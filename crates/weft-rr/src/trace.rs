//! The trace format: JSON Lines, one header line, then one line per event.
//!
//! ```text
//! {"weft-trace":1,"kind":"core","sha256":"…","world":null,"args":["prog","10"]}
//! {"i":0,"ev":"export-call","name":"_start","args":[]}
//! {"i":1,"ev":"import-call","module":"wasi_snapshot_preview1","name":"fd_write","args":["1","1024","1","1020"],"reads":[…]}
//! {"i":2,"ev":"import-ret","results":["0"],"writes":[{"addr":1020,"at":"arg3+0","hex":"0c000000"}]}
//! {"i":3,"ev":"export-ret","results":[]}
//! {"i":4,"ev":"exit","code":0,"memory":"<sha-256 of the final memory>"}
//! ```
//!
//! Values are text (see [`crate::codec`] for core values, WAVE for component values). For
//! core modules `writes` are the bytes the host stored into linear memory during the call
//! (`at` gives the address relative to a pointer argument, used to replay on another
//! build), `reads` the bytes it loaded, and `grow` the memory size in pages after a host
//! `memory.grow`. Every trace ends with an `exit` or `trap` event; one that does not is
//! truncated.

use crate::RrError;
use serde::{Deserialize, Serialize};

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

/// What was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A core module.
    Core,
    /// A component.
    Component,
}

/// The first line of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Format version ([`VERSION`]).
    #[serde(rename = "weft-trace")]
    pub version: u32,
    /// Module or component.
    pub kind: Kind,
    /// SHA-256 of the recorded binary.
    pub sha256: String,
    /// The component's world (the exports and imports it was run against), if any.
    #[serde(default)]
    pub world: Option<String>,
    /// Program arguments (WASI `argv`), for information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// A range of linear memory with its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Absolute address.
    pub addr: u64,
    /// The address relative to a pointer argument (`arg3+0`), to the iovec list in an
    /// argument (`iovs1+8`) or as a position in the bytes of that list's buffers (`iov1@16`),
    /// when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The bytes, hex.
    pub hex: String,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "kebab-case")]
pub enum Event {
    /// The host calls an export.
    ExportCall {
        /// Export name (for components `instance#func` or `func`).
        name: String,
        /// Arguments.
        args: Vec<String>,
    },
    /// The export returns.
    ExportRet {
        /// Results.
        results: Vec<String>,
    },
    /// The guest calls an import.
    ImportCall {
        /// Import module (core) or instance (component; empty for the root).
        module: String,
        /// Import name.
        name: String,
        /// Arguments.
        args: Vec<String>,
        /// Memory the host read during the call (core only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reads: Vec<Chunk>,
    },
    /// The import returns.
    ImportRet {
        /// Results.
        results: Vec<String>,
        /// Memory the host wrote during the call (core only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        writes: Vec<Chunk>,
        /// Memory size in pages after the call, when the host grew it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grow: Option<u64>,
    },
    /// The program exited (WASI `proc_exit`, or `_start` returned: code 0).
    Exit {
        /// Exit status.
        code: i32,
        /// SHA-256 of the final memory 0, when the program has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory: Option<String>,
    },
    /// The program trapped.
    Trap {
        /// The trap message.
        message: String,
        /// SHA-256 of the final memory 0, when the program has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory: Option<String>,
    },
}

impl Event {
    /// The event's name as written in the trace.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Event::ExportCall { .. } => "export-call",
            Event::ExportRet { .. } => "export-ret",
            Event::ImportCall { .. } => "import-call",
            Event::ImportRet { .. } => "import-ret",
            Event::Exit { .. } => "exit",
            Event::Trap { .. } => "trap",
        }
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        match self {
            Event::ExportCall { name, args } => format!("export-call {name}({})", args.join(", ")),
            Event::ExportRet { results } => format!("export-ret ({})", results.join(", ")),
            Event::ImportCall {
                module, name, args, ..
            } => {
                format!(
                    "import-call {}({})",
                    qualified(module, name),
                    args.join(", ")
                )
            }
            Event::ImportRet { results, .. } => format!("import-ret ({})", results.join(", ")),
            Event::Exit { code, .. } => format!("exit {code}"),
            Event::Trap { message, .. } => format!("trap `{message}`"),
        }
    }
}

/// `module.name`, or `name` for the root.
pub fn qualified(module: &str, name: &str) -> String {
    if module.is_empty() {
        name.to_string()
    } else {
        format!("{module}.{name}")
    }
}

#[derive(Serialize)]
struct LineOut<'a> {
    i: usize,
    #[serde(flatten)]
    ev: &'a Event,
}

#[derive(Deserialize)]
struct LineIn {
    i: usize,
    #[serde(flatten)]
    ev: Event,
}

/// A whole trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The header.
    pub header: Header,
    /// The events, in order.
    pub events: Vec<Event>,
}

impl Trace {
    /// The JSON Lines text.
    pub fn to_jsonl(&self) -> String {
        let mut out = serde_json::to_string(&self.header).expect("header serialises");
        out.push('\n');
        for (i, ev) in self.events.iter().enumerate() {
            out.push_str(&serde_json::to_string(&LineOut { i, ev }).expect("event serialises"));
            out.push('\n');
        }
        out
    }

    /// Writes the trace to `path` atomically.
    pub fn write(&self, path: &std::path::Path) -> Result<(), RrError> {
        crate::write_atomic(path, self.to_jsonl().as_bytes())
    }

    /// Reads a trace file.
    pub fn read(path: &std::path::Path) -> Result<Trace, RrError> {
        let bytes = std::fs::read(path).map_err(|e| RrError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            RrError::Trace {
                line,
                event: None,
                message: "not UTF-8 text".into(),
            }
        })?;
        Trace::parse(text)
    }

    /// Parses JSON Lines text, checking the version, the event indices and that the trace
    /// ends with `exit` or `trap`.
    pub fn parse(text: &str) -> Result<Trace, RrError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(RrError::Trace {
                line: 1,
                event: None,
                message: "empty trace".into(),
            });
        };
        let header: Header = serde_json::from_str(first).map_err(|e| RrError::Trace {
            line: 1,
            event: None,
            message: format!("bad header: {e}"),
        })?;
        if header.version != VERSION {
            return Err(RrError::Trace {
                line: 1,
                event: None,
                message: format!(
                    "format version {} (this weft reads {VERSION})",
                    header.version
                ),
            });
        }
        let mut events = Vec::new();
        let mut last_line = 1;
        for (n, l) in lines {
            let line = n + 1;
            last_line = line;
            let index = events.len();
            if let Some(Event::Exit { .. } | Event::Trap { .. }) = events.last() {
                return Err(RrError::Trace {
                    line,
                    event: Some(index),
                    message: "event after the final exit/trap".into(),
                });
            }
            let parsed: LineIn = serde_json::from_str(l).map_err(|e| RrError::Trace {
                line,
                event: Some(index),
                message: format!("bad event: {e}"),
            })?;
            if parsed.i != index {
                return Err(RrError::Trace {
                    line,
                    event: Some(index),
                    message: format!(
                        "event numbered {} where {index} was expected (lines missing or reordered)",
                        parsed.i
                    ),
                });
            }
            check_hex(&parsed.ev).map_err(|message| RrError::Trace {
                line,
                event: Some(index),
                message,
            })?;
            events.push(parsed.ev);
        }
        match events.last() {
            Some(Event::Exit { .. } | Event::Trap { .. }) => Ok(Trace { header, events }),
            _ => Err(RrError::Trace {
                line: last_line,
                event: events.len().checked_sub(1),
                message: format!(
                    "truncated: the trace ends after {} event(s) without an exit or trap event",
                    events.len()
                ),
            }),
        }
    }
}

fn check_hex(ev: &Event) -> Result<(), String> {
    let chunks = match ev {
        Event::ImportCall { reads, .. } => reads,
        Event::ImportRet { writes, .. } => writes,
        _ => return Ok(()),
    };
    for c in chunks {
        if crate::unhex(&c.hex).is_none() {
            return Err(format!("bad hex bytes at address {}", c.addr));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Trace {
        Trace {
            header: Header {
                version: VERSION,
                kind: Kind::Core,
                sha256: "ab".into(),
                world: None,
                args: vec!["p".into()],
            },
            events: vec![
                Event::ExportCall {
                    name: "_start".into(),
                    args: vec![],
                },
                Event::ImportCall {
                    module: "m".into(),
                    name: "f".into(),
                    args: vec!["1".into()],
                    reads: vec![],
                },
                Event::ImportRet {
                    results: vec!["2".into()],
                    writes: vec![Chunk {
                        addr: 8,
                        at: Some("arg0+0".into()),
                        hex: "ff00".into(),
                    }],
                    grow: None,
                },
                Event::ExportRet { results: vec![] },
                Event::Exit {
                    code: 0,
                    memory: None,
                },
            ],
        }
    }

    #[test]
    fn round_trip_and_errors() {
        let t = sample();
        let text = t.to_jsonl();
        assert_eq!(Trace::parse(&text).unwrap(), t);
        let lines: Vec<&str> = text.lines().collect();
        // Truncated: last line missing.
        let cut = lines[..lines.len() - 1].join("\n");
        let e = Trace::parse(&cut).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("event 3"), "{e}");
        // Corrupted JSON on line 3 (event 1).
        let bad = text.replacen("\"import-call\"", "\"import-cal", 1);
        let e = Trace::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("event 1"), "{e}");
        // A missing line.
        let mut skip = lines.clone();
        skip.remove(2);
        let e = Trace::parse(&skip.join("\n")).unwrap_err().to_string();
        assert!(e.contains("numbered 2 where 1"), "{e}");
        // Bad hex.
        let e = Trace::parse(&text.replace("ff00", "fg00"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad hex"), "{e}");
    }
}
