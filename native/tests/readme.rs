//! The README's "One example per domain" lines run as written, in their order (the later ones read the
//! runs the first ones make), each with a tiny budget added, in an empty folder with this build's `era`
//! first on the PATH. Needs the MuJoCo build: the first lines train on DeepMind Control.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// The shell lines of the README's first code block after `heading`, comments stripped.
fn example_lines(readme: &str, heading: &str) -> Vec<String> {
    let after = &readme[readme.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"))..];
    let block = after.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    block
        .lines()
        // A comment starts at two spaces and a '#' (no example has '#' elsewhere).
        .map(|l| l.split("  #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The options that make `line` take seconds, by command; none for commands without a budget.
fn tiny_budget(line: &str) -> &'static str {
    if line.starts_with("era train control") {
        "--steps 300 --learning-starts 100 --batch-size 16 --hidden 16,16 --eval-every 300 --eval-episodes 1 --log-every 100 --quiet"
    } else if line.starts_with("era train vision") {
        "--epochs 1 --batch-size 200 --log-every 20 --quiet"
    } else if line.starts_with("era eval control") {
        "--episodes 1 --video-every 20"
    } else if line.starts_with("era train llm") {
        "--steps 2 --warmup-steps 4 --digits 2 --prompts 2 --group 4 --eval-every 2 --eval-prompts 4 --log-every 1 --quiet"
    } else {
        ""
    }
}

#[test]
fn the_readme_examples_run_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let lines = example_lines(&readme, "## One example per domain");
    assert!(lines.len() >= 6, "{lines:?}");
    let era_dir = Path::new(env!("CARGO_BIN_EXE_era")).parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(era_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for line in &lines {
        assert!(line.starts_with("era ") || line.contains("| era "), "not an era command: {line}");
        let run = format!("{line} {}", tiny_budget(line));
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", &run])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README line failed: {run}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(String::from_utf8_lossy(&out.stdout).to_string());
    }
    // What the lines promise: the runs the later lines name, the plots, the TensorBoard files and CSV.
    let d = dir.path();
    for run in ["sac-era-dmc-walker-run", "sac-dmc-walker-run", "mnist-embedded-small-cnn-era", "grpo-era-arithmetic"] {
        assert!(d.join("runs").join(run).join("run.jsonl").is_file(), "no runs/{run}/run.jsonl");
    }
    let plots = std::fs::read_dir(d.join("plots"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "svg"));
    assert!(plots.count() > 0, "no plots/*.svg");
    let events = walk(&d.join("tb")).into_iter().filter(|p| p.to_string_lossy().contains("tfevents")).count();
    assert!(events > 0, "no event file under tb/");
    assert!(std::fs::metadata(d.join("walker.gif")).unwrap().len() > 1000, "no walker.gif");
    let csv = std::fs::read_to_string(d.join("curves.csv")).unwrap();
    assert!(csv.lines().count() > 2 && csv.starts_with("run,seed,step,"), "{csv}");
    let table = lines.iter().position(|l| l.starts_with("era compare")).unwrap();
    assert!(outputs[table].contains("sac-era"), "{}", outputs[table]);
    let activation = outputs.last().unwrap();
    assert!(activation.contains("entropy"), "{activation}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}
