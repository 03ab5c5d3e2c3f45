//! `weft taint`: which sources reach which sinks, by code offset.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use weft_core::Val;
use weft_ir::Module;
use weft_sym::taint::{analyze, SinkKind, TaintOptions, Target};

/// Options of `weft taint`.
#[derive(clap::Args)]
pub struct TaintArgs {
    /// Module to analyse (`.wasm` or `.wat`).
    file: PathBuf,
    /// Program arguments (each `argv[i]` is a source), or the export's parameter values
    /// with `--invoke`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
    /// Call this export instead of running `_start`; its parameters are sources `param<i>`.
    #[arg(long)]
    invoke: Option<String>,
    /// With `--invoke`: only these parameters are sources (comma-separated indices).
    #[arg(long, value_delimiter = ',')]
    params: Option<Vec<u32>>,
    /// Standard input from this file (`-`: weft's own stdin); every byte is a source.
    #[arg(long)]
    stdin: Option<PathBuf>,
    /// Memory bytes `ADDR:LEN` (decimal or 0x-hex) are sources, one per byte; repeatable.
    #[arg(long = "source-mem", value_name = "ADDR:LEN")]
    source_mem: Vec<String>,
    /// Each call of this import (`name` or `module.name`) returns a fresh source; repeatable.
    #[arg(long = "source-import", value_name = "NAME")]
    source_imports: Vec<String>,
    /// This import's results are untainted (default: they carry its arguments' sources).
    #[arg(long = "clean-import", value_name = "NAME")]
    clean_imports: Vec<String>,
    /// Values loaded (or bytes stored) through a tainted address take the address's sources.
    #[arg(long)]
    address_taint: bool,
    /// Track implicit flows: values computed under a tainted branch take its sources.
    #[arg(long)]
    implicit: bool,
    /// Report only these sink kinds (condition, address, call-index, import-arg, output,
    /// result), comma-separated.
    #[arg(long, value_delimiter = ',')]
    sinks: Option<Vec<String>>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Fuel limit (wasmtime's cost model); running out ends the run with a trap.
    #[arg(long)]
    fuel: Option<u64>,
}

fn parse_num(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Runs `weft taint`.
pub fn run(a: TaintArgs) -> Result<ExitCode> {
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let module = Arc::new(
        Module::from_bytes_or_text(&bytes).with_context(|| format!("{}", a.file.display()))?,
    );
    if let Some(list) = &a.sinks {
        for k in list {
            if !SinkKind::NAMES.contains(&k.as_str()) {
                bail!(
                    "--sinks: unknown kind `{k}` (expected {})",
                    SinkKind::NAMES.join(", ")
                );
            }
        }
    }
    let mut mem_sources = Vec::new();
    for r in &a.source_mem {
        let parsed = r
            .split_once(':')
            .and_then(|(x, y)| Some((parse_num(x)?, parse_num(y)?)));
        match parsed {
            Some((addr, len)) if addr.checked_add(len).is_some() => mem_sources.push((addr, len)),
            _ => bail!("--source-mem `{r}`: expected ADDR:LEN (decimal or 0x-hex)"),
        }
    }
    let stdin = match &a.stdin {
        None => Vec::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .context("cannot read stdin")?;
            v
        }
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
    };
    let target = match &a.invoke {
        Some(name) => {
            let export = module
                .export(name)
                .filter(|e| e.kind == weft_ir::ExternKind::Func)
                .with_context(|| format!("no exported function `{name}`"))?;
            let ty = module.func_type(export.index).clone();
            if ty.params.len() != a.args.len() {
                bail!(
                    "`{name}` takes {} arguments {ty}, {} given",
                    ty.params.len(),
                    a.args.len()
                );
            }
            let args = ty
                .params
                .iter()
                .zip(&a.args)
                .enumerate()
                .map(|(i, (t, s))| {
                    Val::parse(*t, s).map_err(|e| anyhow::anyhow!("argument {i}: {e}"))
                })
                .collect::<Result<Vec<_>>>()?;
            Target::Export {
                name: name.clone(),
                args,
                tainted: a.params.clone(),
            }
        }
        None => {
            if a.params.is_some() {
                bail!("--params needs --invoke");
            }
            Target::Command
        }
    };
    let options = TaintOptions {
        address_taint: a.address_taint,
        implicit: a.implicit,
        fuel: a.fuel,
        limits: Default::default(),
        mem_sources,
        wasi_args: if a.invoke.is_some() {
            Vec::new()
        } else {
            a.args.clone()
        },
        stdin,
        source_imports: a.source_imports.clone(),
        clean_imports: a.clean_imports.clone(),
    };
    let report = analyze(module, &target, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let filter = a.sinks.as_deref();
    if a.json {
        println!("{}", report.to_json(filter));
    } else {
        print!("{}", report.to_text(filter));
    }
    Ok(ExitCode::SUCCESS)
}
