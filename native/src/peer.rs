//! Other frameworks timed beside era (`era bench … --against jax|torch`): a Python script embedded in
//! the binary, fed to the interpreter on its stdin once per measurement, whose last line is
//! `<number> <unit>`. One process per measurement, so that the peer's measurements interleave with
//! era's and the machine's changing load falls on both alike.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

/// `--against` of `era bench vision` and `era bench llm`: the framework timed beside era.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Framework {
    /// PyTorch, eager (`native/peers/torch_peers.py`).
    Torch,
    /// PyTorch with the model wrapped in `torch.compile` (Inductor; on a CPU it needs a C++ compiler,
    /// and each measurement's process compiles anew before it is timed).
    TorchCompile,
}

/// The options `era bench vision` and `era bench llm` share: PyTorch beside era, and the JSON record.
#[derive(Debug, clap::Args)]
pub struct TorchPeerArgs {
    /// Also time the same model in PyTorch (f32; `torch` eager, `torch-compile` through
    /// `torch.compile`; both: `torch,torch-compile`), interleaved with era's measurements, and print
    /// the ratios (set it up with `eval "$(scripts/setup-torch.sh)"`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "torch|torch-compile")]
    pub against: Vec<Framework>,
    /// The Python that has PyTorch, for `--against torch|torch-compile`.
    #[arg(long, env = "ERA_TORCH_PYTHON", default_value = "python3", value_name = "PATH")]
    pub python: std::path::PathBuf,
    /// Also write the figures (and the checks made) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

impl TorchPeerArgs {
    /// PyTorch as `--against` asks for it, each mode once, in the order given.
    pub fn peers(&self) -> Vec<Peer<'_>> {
        let mut modes = self.against.clone();
        modes.dedup();
        modes
            .into_iter()
            .map(|f| match f {
                Framework::Torch => Peer::torch(&self.python),
                Framework::TorchCompile => Peer {
                    name: "torch-compile",
                    mode: "torch.compile",
                    extra: &["--compile"],
                    ..Peer::torch(&self.python)
                },
            })
            .collect()
    }
}

/// A framework and the script that times it.
pub struct Peer<'a> {
    /// How `--against` names it (`jax`, `torch`, `torch-compile`).
    pub name: &'static str,
    /// How the model runs there, for the printed figures (`jit`, `eager`, `torch.compile`).
    pub mode: &'static str,
    /// Arguments added to every measurement (`--compile`).
    pub extra: &'static [&'static str],
    /// The Python module that must import (`jax`, `torch`).
    pub module: &'static str,
    /// The interpreter that has it.
    pub python: &'a Path,
    /// The script's text.
    pub script: &'static str,
    /// How to get such an interpreter, for the errors.
    pub setup: &'static str,
}

/// The same SAC update in JAX (`native/peers/jax_sac_update.py`).
pub const JAX_SAC_UPDATE: &str = include_str!("../peers/jax_sac_update.py");
/// The vision models and the Qwen2 update in PyTorch (`native/peers/torch_peers.py`).
pub const TORCH_PEERS: &str = include_str!("../peers/torch_peers.py");

/// dm_control's own loop on one suite task (`native/peers/dmc_steps.py`).
pub const DMC_STEPS: &str = include_str!("../peers/dmc_steps.py");

/// Where to get a Python with dm_control.
pub const DMC_SETUP: &str = "eval \"$(scripts/setup-mujoco.sh)\" makes a venv with dm-control and points ERA_GYMNASIUM_PYTHON at it (or pass --dmc-python)";

/// Where to get a Python with JAX.
pub const JAX_SETUP: &str =
    "eval \"$(scripts/setup-jax.sh)\" makes a venv with JAX and points ERA_JAX_PYTHON at it (or pass --python)";
/// Where to get a Python with PyTorch.
pub const TORCH_SETUP: &str =
    "eval \"$(scripts/setup-torch.sh)\" makes a venv with PyTorch and points ERA_TORCH_PYTHON at it (or pass --python)";

impl Peer<'_> {
    /// JAX through `python`.
    pub fn jax(python: &Path) -> Peer<'_> {
        Peer { name: "jax", mode: "jit", extra: &[], module: "jax", python, script: JAX_SAC_UPDATE, setup: JAX_SETUP }
    }

    /// dm_control through `python`.
    pub fn dm_control(python: &Path) -> Peer<'_> {
        Peer {
            name: "dm-control",
            mode: "python",
            extra: &[],
            module: "dm_control",
            python,
            script: DMC_STEPS,
            setup: DMC_SETUP,
        }
    }

    /// PyTorch through `python`.
    pub fn torch(python: &Path) -> Peer<'_> {
        Peer {
            name: "torch",
            mode: "eager",
            extra: &[],
            module: "torch",
            python,
            script: TORCH_PEERS,
            setup: TORCH_SETUP,
        }
    }

    /// Runs the interpreter with `args`, the script on its stdin if `script`; its stdout.
    fn python(&self, args: &[&str], script: Option<&str>) -> anyhow::Result<String> {
        let (name, python, setup) = (self.name, self.python.display(), self.setup);
        let mut child = Command::new(self.python)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("--against {name}: cannot run {python}; {setup}"))?;
        let mut stdin = child.stdin.take().context("the interpreter's stdin")?;
        // An interpreter that exits early closes its stdin; its exit status then says why.
        match stdin.write_all(script.unwrap_or("").as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(e).with_context(|| format!("writing to {python}"));
            }
            _ => drop(stdin),
        }
        let out = child.wait_with_output().with_context(|| format!("waiting for {python}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            anyhow::bail!("--against {name}: {python} failed ({}): {last}; {setup}", out.status);
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The framework's version (its distribution's, which every package has; `dm_control` has no
    /// `__version__`).
    pub fn version(&self) -> anyhow::Result<String> {
        let (m, dist) = (self.module, self.module.replace('_', "-"));
        let probe = format!("import {m}, importlib.metadata as md; print(md.version('{dist}'))");
        Ok(self.python(&["-c", &probe], None)?.trim().to_string())
    }

    /// The device it computes on by default (`cpu`, `gpu`, `cuda`).
    pub fn platform(&self) -> anyhow::Result<String> {
        let probe = match self.module {
            "jax" => "import jax; print(jax.default_backend())",
            _ => "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')",
        };
        Ok(self.python(&["-c", probe], None)?.trim().to_string())
    }

    /// One measurement: the script run with `args`, its last line read as `<number> <unit>`.
    pub fn measure(&self, args: &[&str], unit: &str) -> anyhow::Result<f64> {
        Ok(self.measure_with_peak(args, unit)?.0)
    }

    /// [`Peer::measure`], and the peak memory in MiB the script reported on a line
    /// `peak_rss_mib <MiB>` (its process) or `peak_gpu_mib <MiB>` (its device), if it did.
    pub fn measure_with_peak(&self, args: &[&str], unit: &str) -> anyhow::Result<(f64, Option<f64>)> {
        let out = self.python(&[&["-"], args, self.extra].concat(), Some(self.script))?;
        let line = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        let value = line
            .strip_suffix(&format!(" {unit}"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .with_context(|| {
                format!("--against {}: expected `<number> {unit}` from the script, got {line:?}", self.name)
            })?;
        let peak = out.lines().find_map(|l| {
            let v = l.strip_prefix("peak_rss_mib ").or_else(|| l.strip_prefix("peak_gpu_mib "))?;
            v.trim().parse::<f64>().ok().filter(|v| v.is_finite())
        });
        Ok((value, peak))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measurement_is_the_last_line_and_a_bad_one_is_named() {
        // Python reads the script from stdin (`-`), then the arguments, as with the real peers.
        let python = Path::new("python3");
        let peer = |script| Peer {
            name: "test",
            mode: "eager",
            extra: &[],
            module: "test",
            python,
            script,
            setup: "no setup",
        };
        let ok = peer("import sys\nprint('warming up')\nprint(sys.argv[1] + ' images/s')\n");
        assert_eq!(ok.measure(&["12.5"], "images/s").unwrap(), 12.5);
        assert_eq!(ok.measure_with_peak(&["12.5"], "images/s").unwrap(), (12.5, None));
        let with_peak = peer("print('peak_rss_mib 812.5')\nprint('3 tokens/s')\n");
        assert_eq!(with_peak.measure_with_peak(&[], "tokens/s").unwrap(), (3.0, Some(812.5)));
        let err = format!("{:#}", ok.measure(&["nan"], "images/s").unwrap_err());
        assert!(err.contains("expected `<number> images/s`"), "{err}");
        let failing = peer("import sys\nsys.stderr.write('broken\\n')\nsys.exit(3)\n");
        let err = format!("{:#}", failing.measure(&[], "images/s").unwrap_err());
        assert!(
            err.contains("--against test: python3 failed") && err.contains("broken") && err.contains("no setup"),
            "{err}"
        );
        let missing = Peer { python: Path::new("/nonexistent/python3"), ..peer("") };
        let err = format!("{:#}", missing.measure(&[], "x").unwrap_err());
        assert!(err.contains("cannot run /nonexistent/python3"), "{err}");
    }
}
