//! A sweep spec: one TOML file naming a grid of `era train` runs.
//!
//! ```toml
//! train = "control"              # the `era train` domain: control, vision or llm
//! name = "{era}-{env}"           # run names: {axis} is the run's label on that axis
//!                                # [default: every axis but seed, joined by "-"]
//! out = "runs/dmc"               # where the runs go [default: runs/<spec file name>]
//!
//! [options]                      # every run: `era train control`'s long option names
//! algo = "sac"
//! steps = 1000000
//!
//! [grid]                         # one run per combination, in this order (last varies fastest)
//! seed = [0, 1, 2]
//! env = ["dmc/walker-run", "dmc/cheetah-run"]
//! era = { sac-era = "on", sac = "off" }     # label = value: the labels name the runs
//! # An axis of option sets: each label gives several options (the axis's name is free).
//! # arm = { grpo = { era = "off" }, grpo-era-released = { era = "on", clip-low = 1 } }
//! ```
//!
//! Run `s` of name `n` goes to `OUT/seed-s/n`, the layout the reproduce scripts and `era compare`
//! use. Every run's command line is checked by era's own parser before anything starts, and every
//! problem names the spec's line.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

/// The `era train` options a sweep sets itself, for every run (and `tensorboard`, refused with its own reason).
const RESERVED: [&str; 7] = ["out", "run-name", "resume", "from-step", "seeds", "print-config", "tensorboard"];

/// A parsed spec: its runs, each with its full `era train` command line.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file.
    pub path: PathBuf,
    /// The folder the spec names (`out = …`), relative to the folder era runs in.
    pub out: Option<PathBuf>,
    /// The runs, seed by seed (so that a sweep cut short has as many seeds of each setting).
    pub runs: Vec<Planned>,
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// Its folder below the sweep's: `seed-S/NAME`.
    pub dir: String,
    /// Its run name.
    pub name: String,
    /// Its seed.
    pub seed: u64,
    /// The `era train` domain.
    pub train: String,
    /// Its place in the grid: each axis and the run's label on it.
    pub point: Vec<(String, String)>,
    /// `era train DOMAIN` options (without --seed, --out, --run-name and --quiet, which the sweep adds).
    pub args: Vec<String>,
    /// The folder it starts in (relative paths in its options are read from there); set when the
    /// sweep records it.
    #[serde(default)]
    pub cwd: PathBuf,
}

impl Planned {
    /// The `era train` command line of a fresh start of this run, below the sweep folder `out`.
    pub fn fresh_args(&self, out: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = ["train", self.train.as_str()].iter().map(OsString::from).collect();
        a.extend(self.args.iter().map(OsString::from));
        a.push("--seed".into());
        a.push(self.seed.to_string().into());
        a.push("--out".into());
        a.push(out.join(era_shared::runlog::seed_dir(self.seed)).into_os_string());
        a.push("--run-name".into());
        a.push(self.name.clone().into());
        a.push("--quiet".into());
        a
    }
}

/// One value of an axis: its label and the flags it gives.
type Value = (String, Vec<OsString>);

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    train: Spanned<String>,
    name: Option<Spanned<String>>,
    out: Option<Spanned<String>>,
    #[serde(default)]
    options: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    grid: BTreeMap<Spanned<String>, Spanned<Axis>>,
}

/// An axis's values in the order written: each label and its value (a plain list's labels are its values).
struct Axis(Vec<(String, toml::Value)>);

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Axis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of values, or a table of label = value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Axis, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<toml::Value>()? {
                    if v.is_table() {
                        return Err(serde::de::Error::custom(
                            "option sets need labels: axis = { label = { option = value, … }, … }",
                        ));
                    }
                    out.push((label_of(&v), v));
                }
                Ok(Axis(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Axis, A::Error> {
                // Spanned keys keep the written order, which a TOML table does not.
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, toml::Value>()? {
                    out.push((k.span().start, k.into_inner(), v));
                }
                out.sort_by_key(|(at, _, _)| *at);
                Ok(Axis(out.into_iter().map(|(_, k, v)| (k, v)).collect()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A plain value as a label in run names: its text, with `/` (as in `dmc/walker-run`) made `-`.
fn label_of(v: &toml::Value) -> String {
    let s = match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.replace('/', "-")
}

/// Reads and checks the spec at `path`; `extra` is appended to every run's options (later wins), and
/// `only` (`AXIS=LABEL[,LABEL…]`, each) keeps the runs with one of those labels on that axis.
pub fn read(path: &Path, extra: &[String], only: &[String]) -> anyhow::Result<Spec> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the sweep spec", path.display()))?;
    let mut spec = parse(&text, path, extra)?;
    spec.runs = keep_only(std::mem::take(&mut spec.runs), only)?;
    Ok(spec)
}

/// The runs whose label on each `AXIS=LABEL[,LABEL…]` of `only` is one of its labels.
fn keep_only(runs: Vec<Planned>, only: &[String]) -> anyhow::Result<Vec<Planned>> {
    let mut runs = runs;
    for f in only {
        let Some((axis, labels)) = f.split_once('=') else {
            bail!("--only {f:?}: expected AXIS=LABEL[,LABEL…] (e.g. --only env=Hopper-v5 --only seed=0,1)")
        };
        // A value given as written (`dmc/walker-run`) names its label (`dmc-walker-run`).
        let labels: Vec<String> = labels.split(',').map(|l| l.trim().replace('/', "-")).collect();
        let label_of = |r: &Planned| {
            if axis == "seed" {
                Some(r.seed.to_string())
            } else {
                r.point.iter().find(|(k, _)| k == axis).map(|(_, l)| l.clone())
            }
        };
        let known: std::collections::BTreeSet<String> = runs.iter().filter_map(label_of).collect();
        if known.is_empty() {
            bail!("--only {f:?}: `{axis}` is not an axis of the spec");
        }
        if let Some(l) = labels.iter().find(|l| !known.contains(*l)) {
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            bail!("--only {f:?}: no run has `{l}` on `{axis}` (its labels: {})", known.join(", "));
        }
        runs.retain(|r| label_of(r).is_some_and(|l| labels.contains(&l)));
    }
    Ok(runs)
}

/// The 1-based line of byte `at` in `text`.
fn line(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Checks and expands a spec's text (`path` names it in messages).
pub fn parse(text: &str, path: &Path, extra: &[String]) -> anyhow::Result<Spec> {
    let shown = path.display().to_string();
    let at = |offset: usize| format!("{shown} line {}", line(text, offset));
    let file: File = toml::from_str(text).map_err(|e| {
        let place = e.span().map_or_else(|| shown.clone(), |s| at(s.start));
        anyhow::anyhow!("{place}: {}", e.message().trim_end())
    })?;

    let root = crate::cli::command();
    let domains: Vec<String> = root
        .find_subcommand("train")
        .map(|t| t.get_subcommands().map(|c| c.get_name().to_string()).collect())
        .unwrap_or_default();
    let train = file.train.get_ref().clone();
    let Some(cmd) = root.find_subcommand("train").and_then(|t| t.find_subcommand(&train)) else {
        bail!(
            "{}: train = {train:?}: not a domain of `era train` (valid: {})",
            at(file.train.span().start),
            domains.join(", ")
        );
    };
    let shown_cmd = format!("era train {train}");

    // Options every run gets, in the order written (a later one wins, as on the command line).
    let mut options: Vec<(&Spanned<String>, &Spanned<toml::Value>)> = file.options.iter().collect();
    options.sort_by_key(|(k, _)| k.span().start);
    let mut fixed: Vec<OsString> = Vec::new();
    let mut seeds: Option<Vec<u64>> = None;
    for (key, value) in &options {
        let long = key.get_ref().replace('_', "-");
        let place = at(key.span().start);
        if file.grid.keys().any(|g| g.get_ref().replace('_', "-") == long) {
            bail!("{place}: `{key}` is both in [options] and an axis of [grid]: keep one");
        }
        if long == "seed" {
            seeds = Some(vec![seed_value(value.get_ref()).with_context(|| place.clone())?]);
            continue;
        }
        refuse_reserved(&long, &place)?;
        fixed.extend(
            crate::config::option_flags(cmd, &shown_cmd, key.get_ref(), value.get_ref())
                .with_context(|| place.clone())?,
        );
    }

    // The axes in the order written; seed apart (it is the folder, and the outermost loop).
    let mut axes: Vec<(&Spanned<String>, &Spanned<Axis>)> = file.grid.iter().collect();
    axes.sort_by_key(|(k, _)| k.span().start);
    let mut grid: Vec<(String, Vec<Value>)> = Vec::new();
    for (key, axis) in &axes {
        let long = key.get_ref().replace('_', "-");
        let place = at(key.span().start);
        if axis.get_ref().0.is_empty() {
            bail!("{place}: the axis `{key}` has no values");
        }
        if long == "seed" {
            let values = axis.get_ref().0.iter().map(|(_, v)| seed_value(v)).collect::<anyhow::Result<Vec<u64>>>();
            seeds = Some(values.with_context(|| place.clone())?);
            continue;
        }
        let mut values = Vec::new();
        for (label, v) in &axis.get_ref().0 {
            if label.is_empty() || label.contains(['/', '\\']) {
                bail!("{place}: the label {label:?} of `{key}` cannot be part of a folder name");
            }
            let flags = match v {
                // An option set: the axis is named freely, each option checked as in [options].
                toml::Value::Table(set) => {
                    let mut flags = Vec::new();
                    for (k, v) in set {
                        let long = k.replace('_', "-");
                        if long == "seed" {
                            bail!("{place}: `{label}` sets seed: seeds are an axis of their own (seed = [...])");
                        }
                        refuse_reserved(&long, &place)?;
                        flags
                            .extend(crate::config::option_flags(cmd, &shown_cmd, k, v).with_context(|| place.clone())?);
                    }
                    flags
                }
                v => {
                    refuse_reserved(&long, &place)?;
                    crate::config::option_flags(cmd, &shown_cmd, key.get_ref(), v).with_context(|| place.clone())?
                }
            };
            values.push((label.clone(), flags));
        }
        grid.push((key.get_ref().clone(), values));
    }
    let seeds = seeds.unwrap_or_else(|| vec![0]);
    let mut seen_seeds = std::collections::BTreeSet::new();
    if let Some(dup) = seeds.iter().find(|s| !seen_seeds.insert(**s)) {
        bail!("{}: seed {dup} is listed twice", seed_place(&file, &at));
    }

    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "sweep".into());
    let template = match &file.name {
        Some(n) => {
            check_template(n.get_ref(), &grid).with_context(|| at(n.span().start))?;
            n.get_ref().clone()
        }
        None if grid.is_empty() => stem,
        None => grid.iter().map(|(k, _)| format!("{{{k}}}")).collect::<Vec<_>>().join("-"),
    };
    let name_place = file.name.as_ref().map_or_else(|| shown.clone(), |n| at(n.span().start));

    let mut runs = Vec::new();
    let mut taken: BTreeMap<(u64, String), Vec<(String, String)>> = BTreeMap::new();
    for &seed in &seeds {
        for combo in product(&grid) {
            let point: Vec<(String, String)> =
                combo.iter().map(|&(axis, i)| (grid[axis].0.clone(), grid[axis].1[i].0.clone())).collect();
            let mut name = template.replace("{seed}", &seed.to_string());
            for (axis, label) in &point {
                name = name.replace(&format!("{{{axis}}}"), label);
            }
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
                bail!("{name_place}: the run name {name:?} cannot be a folder name");
            }
            if let Some(first) = taken.insert((seed, name.clone()), point.clone()) {
                bail!(
                    "{name_place}: two runs are both named `{name}` (seed {seed}): {} and {}; put the axis that tells them apart in `name`",
                    show_point(&first),
                    show_point(&point)
                );
            }
            let mut args = fixed.clone();
            for &(axis, i) in &combo {
                args.extend(grid[axis].1[i].1.iter().cloned());
            }
            args.extend(extra.iter().map(OsString::from));
            let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
            let dir = format!("{}/{name}", era_shared::runlog::seed_dir(seed));
            runs.push(Planned { dir, name, seed, train: train.clone(), point, args, cwd: PathBuf::new() });
        }
    }

    // Every run's command line through era's own parser: a bad value fails here, not hours later.
    for run in &runs {
        let mut argv: Vec<OsString> = vec!["era".into()];
        argv.extend(run.fresh_args(Path::new("OUT")));
        if let Err(e) = root.clone().try_get_matches_from(&argv) {
            let msg = crate::cli::one_line(&e);
            let place = options
                .iter()
                .map(|(k, _)| *k)
                .chain(axes.iter().map(|(k, _)| *k))
                .find(|k| msg.contains(&format!("--{}", k.get_ref().replace('_', "-"))))
                .map_or_else(|| shown.clone(), |k| at(k.span().start));
            bail!("{place}: run {}: {msg}", run.dir);
        }
    }

    let out = file.out.map(|o| PathBuf::from(o.into_inner()));
    Ok(Spec { path: path.to_path_buf(), out, runs })
}

fn refuse_reserved(long: &str, place: &str) -> anyhow::Result<()> {
    if long == "tensorboard" {
        bail!(
            "{place}: `tensorboard` is not for sweeps (a run the sweep continues would not continue its event files): export the sweep afterwards with `era export OUT --tensorboard DIR`"
        );
    }
    if RESERVED.contains(&long) {
        bail!(
            "{place}: `{long}` is set by the sweep for every run (runs go to OUT/seed-S/NAME; `era sweep --out` and `name` choose them)"
        );
    }
    Ok(())
}

fn seed_value(v: &toml::Value) -> anyhow::Result<u64> {
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        other => bail!("a seed is a whole number ≥ 0, not {other}"),
    }
}

fn seed_place(file: &File, at: &impl Fn(usize) -> String) -> String {
    file.grid
        .keys()
        .chain(file.options.keys())
        .find(|k| k.get_ref() == "seed")
        .map_or_else(|| "the spec".to_string(), |k| at(k.span().start))
}

/// `{axis}` placeholders must name axes (or `seed`).
fn check_template(template: &str, grid: &[(String, Vec<Value>)]) -> anyhow::Result<()> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { bail!("name = {template:?}: a `{{` is not closed") };
        let key = &rest[open + 1..open + close];
        if key != "seed" && !grid.iter().any(|(k, _)| k == key) {
            let axes: Vec<&str> = grid.iter().map(|(k, _)| k.as_str()).chain(["seed"]).collect();
            bail!("name = {template:?}: {{{key}}} is not an axis of [grid] (axes: {})", axes.join(", "));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

fn show_point(point: &[(String, String)]) -> String {
    format!("{{{}}}", point.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
}

/// Every combination of one value per axis, the last axis varying fastest: `(axis, value index)` each.
fn product<T>(grid: &[(String, Vec<T>)]) -> Vec<Vec<(usize, usize)>> {
    let mut combos: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (axis, (_, values)) in grid.iter().enumerate() {
        combos = combos
            .into_iter()
            .flat_map(|c| (0..values.len()).map(move |i| [c.clone(), vec![(axis, i)]].concat()))
            .collect();
    }
    combos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> anyhow::Result<Spec> {
        parse(text, Path::new("grid.toml"), &[])
    }

    fn err(text: &str) -> String {
        format!("{:#}", spec(text).unwrap_err())
    }

    const PAIR: &str = r#"train = "control"
[options]
algo = "sac"
steps = 2000
[grid]
seed = [0, 1]
env = ["Pendulum-v1", "dmc/walker-run"]
era = { sac-era = "on", sac = "off" }
"#;

    #[test]
    fn expands_seed_by_seed_with_the_last_axis_fastest_and_names_from_labels() {
        let s = spec(PAIR).unwrap();
        let dirs: Vec<&str> = s.runs.iter().map(|r| r.dir.as_str()).collect();
        // 2 seeds × 2 envs × 2 arms; the `/` of a DMC id becomes `-` in the name.
        assert_eq!(
            dirs,
            [
                "seed-0/Pendulum-v1-sac-era",
                "seed-0/Pendulum-v1-sac",
                "seed-0/dmc-walker-run-sac-era",
                "seed-0/dmc-walker-run-sac",
                "seed-1/Pendulum-v1-sac-era",
                "seed-1/Pendulum-v1-sac",
                "seed-1/dmc-walker-run-sac-era",
                "seed-1/dmc-walker-run-sac",
            ]
        );
        let r = &s.runs[3];
        assert_eq!(r.args, ["--algo", "sac", "--steps", "2000", "--env", "dmc/walker-run", "--era", "off"]);
        assert_eq!(
            r.point,
            [("env".to_string(), "dmc-walker-run".to_string()), ("era".to_string(), "sac".to_string())]
        );
        let argv: Vec<String> = r.fresh_args(Path::new("o")).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(argv[..2], ["train", "control"]);
        assert_eq!(
            argv[argv.len() - 7..],
            ["--seed", "0", "--out", "o/seed-0", "--run-name", "dmc-walker-run-sac", "--quiet"]
        );
    }

    #[test]
    fn a_name_template_and_extra_flags_apply_to_every_run() {
        let text = PAIR.replace("train = \"control\"", "train = \"control\"\nname = \"{era}-{env}\"");
        let s = parse(&text, Path::new("grid.toml"), &["--steps".into(), "10".into()]).unwrap();
        assert_eq!(s.runs[0].name, "sac-era-Pendulum-v1");
        assert_eq!(s.runs[0].args[s.runs[0].args.len() - 2..], ["--steps", "10"]);
    }

    #[test]
    fn without_axes_the_single_run_is_named_after_the_file() {
        let s = spec("train = \"vision\"\n[options]\ndataset = \"mnist-embedded\"\nseed = 4\n").unwrap();
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.runs[0].dir, "seed-4/grid");
    }

    #[test]
    fn bad_specs_name_their_line() {
        // Each case: the spec, then what the message must say.
        let cases: [(&str, &[&str]); 11] = [
            (
                "train = \"control\"\n[options]\ntensorboard = \"tb\"\n",
                &["grid.toml line 3", "era export OUT --tensorboard DIR"],
            ),
            ("train = \"control\"\n[options]\nstepz = 3\n", &["grid.toml line 3", "unknown option `stepz`", "steps"]),
            ("train = \"control\"\n[grid]\nenv = []\n", &["grid.toml line 3", "`env` has no values"]),
            ("train = \"contrl\"\n", &["grid.toml line 1", "not a domain", "control, vision, llm"]),
            (
                "train = \"control\"\nname = \"{env}\"\n[grid]\nenv = [\"Pendulum-v1\"]\nera = [\"on\", \"off\"]\n",
                &["grid.toml line 2", "both named `Pendulum-v1`", "{env=Pendulum-v1, era=on}"],
            ),
            (
                "train = \"control\"\nname = \"{algo}\"\n[grid]\nenv = [\"Pendulum-v1\"]\n",
                &["grid.toml line 2", "{algo} is not an axis"],
            ),
            ("train = \"control\"\n[options]\nout = \"x\"\n", &["grid.toml line 3", "set by the sweep"]),
            (
                "train = \"control\"\n[options]\nenv = \"Pendulum-v1\"\n[grid]\nera = [\"on\", \"maybe\"]\n",
                &["grid.toml line 5", "run seed-0/maybe", "invalid value 'maybe'"],
            ),
            (
                "train = \"control\"\n[options]\nsteps = 3\n[grid]\nsteps = [1]\n",
                &["grid.toml line 3", "both in [options]"],
            ),
            ("train = \"control\"\n[grid]\nseed = [0, -1]\n", &["grid.toml line 3", "whole number"]),
            ("train = \"control\"\ngird = 1\n", &["grid.toml line 2", "unknown field `gird`"]),
        ];
        for (text, wanted) in cases {
            let e = err(text);
            for w in wanted {
                assert!(e.contains(w), "{text:?}: {e:?} lacks {w:?}");
            }
        }
    }

    #[test]
    fn an_axis_of_option_sets_and_only_filters() {
        let text = r#"train = "llm"
name = "{arm}"
[grid]
seed = [0, 1, 2]
arm = { grpo-era = { era = "on" }, grpo = { era = "off" }, grpo-era-released = { era = "on", era_ratio = "rollout", no-advantage-rescale = true } }
"#;
        let s = spec(text).unwrap();
        assert_eq!(s.runs.len(), 9);
        let names: Vec<&str> = s.runs[..3].iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["grpo-era", "grpo", "grpo-era-released"]);
        assert_eq!(s.runs[2].args, ["--era", "on", "--era-ratio", "rollout", "--no-advantage-rescale"]);
        let kept = keep_only(s.runs.clone(), &["seed=0,2".into(), "arm=grpo".into()]).unwrap();
        assert_eq!(kept.iter().map(|r| r.dir.as_str()).collect::<Vec<_>>(), ["seed-0/grpo", "seed-2/grpo"]);
        let e = keep_only(s.runs.clone(), &["arm=grpo-erra".into()]).unwrap_err().to_string();
        assert!(e.contains("no run has `grpo-erra` on `arm`") && e.contains("grpo-era-released"), "{e}");
        let e = keep_only(s.runs.clone(), &["env=x".into()]).unwrap_err().to_string();
        assert!(e.contains("`env` is not an axis"), "{e}");
        let e = err("train = \"llm\"\n[grid]\narm = [{ era = \"on\" }]\n");
        assert!(e.contains("grid.toml line 3") && e.contains("option sets need labels"), "{e}");
        let e = err("train = \"llm\"\n[grid]\narm = { a = { stepz = 1 } }\n");
        assert!(e.contains("grid.toml line 3") && e.contains("unknown option `stepz`"), "{e}");
    }

    #[test]
    fn the_product_enumerates_every_combination_once() {
        let grid = vec![("a".to_string(), vec![(), ()]), ("b".to_string(), vec![(), (), ()])];
        let combos = product(&grid);
        assert_eq!(combos.len(), 6);
        assert_eq!(combos[0], [(0, 0), (1, 0)]);
        assert_eq!(combos[1], [(0, 0), (1, 1)]);
        assert_eq!(combos[5], [(0, 1), (1, 2)]);
        assert_eq!(product::<()>(&[]), vec![Vec::<(usize, usize)>::new()]);
    }
}
