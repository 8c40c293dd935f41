//! The figures of one `era bench` run as JSON (`--json FILE`), for scripts that collect them
//! (`scripts/gpu-check.sh`): every figure with its unit, and every invariant the run checked.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// The value.
    pub value: f64,
    /// Its unit (`updates/s`, `images/s`, `tokens/s`, `µs/token`, `×`).
    pub unit: String,
}

/// An invariant checked during the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Whether it held.
    pub ok: bool,
    /// What was measured against what bound.
    pub detail: String,
}

/// What one `era bench` run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchRecord {
    /// The command, e.g. `bench vision`.
    pub command: String,
    /// The backend as era names it (`cuda`, `wgpu`, `ndarray`, `fast`).
    pub backend: String,
    /// The device it computed on (for wgpu, the adapters it could choose from).
    pub device: String,
    /// Whether that is a real GPU (not the CPU, not a software adapter such as lavapipe).
    pub gpu: bool,
    /// The sizes the figures were measured at (batch, width, model…).
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Figures by name, namespaced like the metric keys (`sac/update_era`, `resnet18/train_plain`).
    pub figures: BTreeMap<String, Figure>,
    /// Checks by name (`resnet18/floor_holds`).
    pub checks: BTreeMap<String, Check>,
}

impl BenchRecord {
    /// An empty record of `command` on `compute`.
    pub fn new(command: &str, compute: crate::backend::Compute) -> Self {
        let (device, gpu) = compute.device();
        Self::on(command, compute.to_string(), device, gpu)
    }

    /// An empty record of `command` that runs on the CPU without a tensor backend (environment
    /// stepping alone).
    pub fn without_backend(command: &str) -> Self {
        Self::on(command, "cpu".into(), "CPU".into(), false)
    }

    fn on(command: &str, backend: String, device: String, gpu: bool) -> Self {
        Self {
            command: command.into(),
            backend,
            device,
            gpu,
            settings: BTreeMap::new(),
            figures: BTreeMap::new(),
            checks: BTreeMap::new(),
        }
    }

    /// Records a setting.
    pub fn setting(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.settings.insert(name.into(), value.into());
    }

    /// Records a figure.
    pub fn figure(&mut self, name: &str, value: f64, unit: &str) {
        self.figures.insert(name.into(), Figure { value, unit: unit.into() });
    }

    /// Records a check.
    pub fn check(&mut self, name: &str, ok: bool, detail: String) {
        self.checks.insert(name.into(), Check { ok, detail });
    }

    /// Whether every check held.
    pub fn all_held(&self) -> bool {
        self.checks.values().all(|c| c.ok)
    }

    /// Writes the record to `path` (when given) as pretty JSON.
    pub fn write(&self, path: Option<&Path>) -> anyhow::Result<()> {
        let Some(path) = path else { return Ok(()) };
        let text = serde_json::to_string_pretty(self).context("serialising the bench record")?;
        std::fs::write(path, text + "\n").with_context(|| format!("--json: cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_figures_and_checks_as_json_and_reports_failed_checks() {
        let mut r = BenchRecord::new("bench vision", crate::backend::Compute::Ndarray);
        r.setting("batch_size", 128);
        r.figure("resnet18/train_era", 12.5, "images/s");
        r.check("resnet18/floor_holds", true, "min 0.6 ≥ 0.5".into());
        assert!(r.all_held());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        r.write(Some(&path)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["figures"]["resnet18/train_era"]["value"], 12.5);
        assert_eq!(v["figures"]["resnet18/train_era"]["unit"], "images/s");
        assert_eq!(v["settings"]["batch_size"], 128);
        assert_eq!((v["device"].as_str(), v["gpu"].as_bool()), (Some("CPU"), Some(false)));
        assert_eq!(v["checks"]["resnet18/floor_holds"]["ok"], true);
        r.check("other", false, "no".into());
        assert!(!r.all_held());
        let err = r.write(Some(&dir.path().join("missing/r.json"))).unwrap_err();
        assert!(format!("{err:#}").contains("--json: cannot write"), "{err:#}");
    }
}
