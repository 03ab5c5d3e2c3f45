//! Rendering a [`TaintReport`] as text or JSON.

use super::run::{Outcome, TaintReport};
use std::fmt::Write;

/// Escapes a string for JSON.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: &[String]) -> String {
    let v: Vec<String> = items.iter().map(|s| json_str(s)).collect();
    format!("[{}]", v.join(","))
}

fn keep(filter: Option<&[String]>, kind: &str) -> bool {
    filter.is_none_or(|f| f.iter().any(|k| k == kind))
}

impl TaintReport {
    /// A readable report: the outcome, then one line per reached sink
    /// (`offset  function  sink  <- sources`). `filter` keeps only the named sink kinds.
    pub fn to_text(&self, filter: Option<&[String]>) -> String {
        let mut out = String::new();
        match &self.outcome {
            Outcome::Returned(vals) => {
                let v: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(out, "returned: {}", v.join(" "));
            }
            Outcome::Exited(c) => {
                let _ = writeln!(out, "exited: {c}");
            }
            Outcome::Trapped(t) => {
                let _ = writeln!(out, "trapped: {t}");
            }
        }
        let all: Vec<u32> = (0..self.sources.len() as u32).collect();
        let names = self.sources.describe(&all);
        let _ = writeln!(
            out,
            "sources ({}): {}",
            self.sources.len(),
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        let flows: Vec<_> = self
            .flows
            .iter()
            .filter(|f| keep(filter, f.sink.kind.name()))
            .collect();
        let _ = writeln!(out, "flows ({}):", flows.len());
        for f in flows {
            let at = match (f.sink.offset, f.sink.func) {
                (Some(o), Some(func)) => format!("{o:#08x}  func {func:<4}"),
                _ => format!("{:<18}", "-"),
            };
            let _ = writeln!(
                out,
                "  {at}  {}  <- {}",
                f.sink.kind,
                self.names(f).join(", ")
            );
        }
        out
    }

    /// The report as one JSON object: `outcome`, `sources` (every source's name, by id) and
    /// `flows` (`kind`, `detail`, `func`, `offset`, `sources` as names with byte ranges).
    pub fn to_json(&self, filter: Option<&[String]>) -> String {
        let mut out = String::from("{");
        let outcome = match &self.outcome {
            Outcome::Returned(vals) => {
                let v: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
                format!("{{\"returned\":{}}}", json_list(&v))
            }
            Outcome::Exited(c) => format!("{{\"exited\":{c}}}"),
            Outcome::Trapped(t) => format!("{{\"trapped\":{}}}", json_str(t)),
        };
        let _ = write!(out, "\"outcome\":{outcome},");
        let names: Vec<String> = (0..self.sources.len() as u32)
            .filter_map(|i| self.sources.get(i).map(|s| s.to_string()))
            .collect();
        let _ = write!(out, "\"sources\":{},", json_list(&names));
        out.push_str("\"flows\":[");
        let mut first = true;
        for f in self
            .flows
            .iter()
            .filter(|f| keep(filter, f.sink.kind.name()))
        {
            if !first {
                out.push(',');
            }
            first = false;
            let opt = |v: Option<u32>| v.map_or("null".to_string(), |x| x.to_string());
            let _ = write!(
                out,
                "{{\"kind\":{},\"detail\":{},\"func\":{},\"offset\":{},\"sources\":{}}}",
                json_str(f.sink.kind.name()),
                json_str(&f.sink.kind.to_string()),
                opt(f.sink.func),
                opt(f.sink.offset),
                json_list(&self.names(f))
            );
        }
        out.push_str("]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::json_str;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
