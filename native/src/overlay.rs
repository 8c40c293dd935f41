//! The command line as an overlay on a run's settings.
//!
//! `settings = defaults(code) ⊕ --config RUN/config.json ⊕ flags ⊕ --set KEY=VALUE`, each later layer
//! replacing the fields it names. The settings are the shared config serialised as JSON (what
//! `config.json` holds), so an option is written once: as a field of the shared config, with its
//! default in the config's constructor. A flag reaches the field named like it (`--batch-size` →
//! `agent.batch_size`, `--no-augment` → `augment = false`), found wherever it is nested; `--set`
//! reaches any field, flag or not; `--help` shows the defaults by reading the same configs.

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Options whose field is named otherwise: `(option, [fields])`; every field present is set.
pub type Aliases = &'static [(&'static str, &'static [&'static str])];

/// The options given on the command line, by field name: `args` serialised, absent options (`None`)
/// left out. A switch (`--no-augment`) skips serialising when unset
/// (`#[serde(skip_serializing_if = "std::ops::Not::not")]`), so only a given one overlays.
pub fn given<T: Serialize>(args: &T) -> anyhow::Result<Map<String, Value>> {
    let Value::Object(all) = serde_json::to_value(args)? else {
        bail!("the options are not a table");
    };
    Ok(all.into_iter().filter(|(_, v)| !v.is_null()).collect())
}

/// The fields an option sets: its aliases, else the field of its own name; a switch `no_x` sets `x`
/// to the opposite. Returns the field names and whether the value is negated.
fn targets(option: &str, aliases: Aliases) -> (Vec<&str>, bool) {
    if let Some((_, fields)) = aliases.iter().find(|(o, _)| *o == option) {
        return (fields.to_vec(), false);
    }
    match option.strip_prefix("no_") {
        Some(field) => (vec![field], true),
        None => (vec![option], false),
    }
}

/// Every path (field names from the top) whose last field is `name`.
fn paths_named(v: &Value, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    fn walk(v: &Value, name: &str, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let Value::Object(m) = v else { return };
        for (k, child) in m {
            at.push(k.clone());
            if k == name {
                out.push(at.clone());
            }
            walk(child, name, at, out);
            at.pop();
        }
    }
    walk(v, name, &mut Vec::new(), &mut out);
    out
}

fn slot<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| v.as_object_mut()?.get_mut(k))
}

/// Every settable field of `settings` as `(dotted path, value)`, in the config's order.
pub fn fields(settings: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    fn walk(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
        let Value::Object(m) = v else { return };
        for (k, child) in m {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match child {
                Value::Object(_) => walk(child, &path, out),
                _ => out.push((path, child.clone())),
            }
        }
    }
    walk(settings, "", &mut out);
    out
}

/// Sets each given option in `settings` (see [`given`]). An option that names no field of these
/// settings is refused, naming `what` the settings are (e.g. `ppo`), since it would change nothing.
pub fn apply(settings: &mut Value, given: &Map<String, Value>, aliases: Aliases, what: &str) -> anyhow::Result<()> {
    for (option, value) in given {
        let (names, negated) = targets(option, aliases);
        let value = match (negated, value) {
            (true, Value::Bool(b)) => Value::Bool(!b),
            _ => value.clone(),
        };
        let paths: Vec<Vec<String>> = names.iter().flat_map(|n| paths_named(settings, n)).collect();
        if paths.is_empty() {
            bail!("--{} does not apply to {what}", option.replace('_', "-"));
        }
        for path in paths {
            if let Some(s) = slot(settings, &path) {
                *s = value.clone();
            }
        }
    }
    Ok(())
}

/// Applies `--set KEY=VALUE`: `KEY` is a dotted path (`agent.era.delta_lr`) or a field name found in
/// exactly one place (`delta_lr`); `VALUE` is read as JSON (`0.5`, `true`, `[256,256]`, `null`), else
/// taken as a string (`elu`).
pub fn set(settings: &mut Value, assignments: &[String]) -> anyhow::Result<()> {
    for a in assignments {
        let Some((key, raw)) = a.split_once('=') else {
            bail!("--set {a}: expected KEY=VALUE");
        };
        let key = key.trim().replace('-', "_");
        let value = serde_json::from_str(raw.trim()).unwrap_or_else(|_| Value::String(raw.trim().to_string()));
        let path: Vec<String> = if key.contains('.') {
            key.split('.').map(str::to_string).collect()
        } else {
            let found = paths_named(settings, &key);
            match found.len() {
                1 => found.into_iter().next().unwrap_or_default(),
                0 => vec![key.clone()],
                _ => {
                    let shown: Vec<String> = found.iter().map(|p| p.join(".")).collect();
                    bail!("--set {a}: `{key}` is in several places ({}); write the whole path", shown.join(", "));
                }
            }
        };
        let valid = fields(settings).into_iter().map(|(k, _)| k).collect::<Vec<_>>().join(", ");
        match slot(settings, &path) {
            Some(s) if !s.is_object() => {
                // The kind is checked here, where the field's name is known: serde cannot name a field
                // inside an internally tagged enum (the agent).
                if kind(s) != kind(&value) && !s.is_null() && !value.is_null() {
                    bail!("--set {a}: `{}` takes {} (now {s})", path.join("."), kind(s));
                }
                *s = value;
            }
            _ => bail!("--set {a}: no setting `{}` (valid: {valid})", path.join(".")),
        }
    }
    Ok(())
}

/// What kind of JSON value `v` is, in words.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a word",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// The settings read back into their type; a value of the wrong type names its field.
pub fn typed<T: DeserializeOwned>(settings: Value) -> anyhow::Result<T> {
    serde_path_to_error::deserialize(settings).map_err(|e| {
        let path = e.path().to_string();
        anyhow!("setting `{path}`: {}", e.into_inner())
    })
}

/// Serialises `settings`, applies the flags and `--set`, and reads the result back.
pub fn overlay<T: Serialize + DeserializeOwned, A: Serialize>(
    settings: &T,
    args: &A,
    aliases: Aliases,
    sets: &[String],
    what: &str,
) -> anyhow::Result<T> {
    let mut v = serde_json::to_value(settings).context("the settings cannot be written as JSON")?;
    apply(&mut v, &given(args)?, aliases, what)?;
    set(&mut v, sets)?;
    typed(v)
}

/// The default of one option as `--help` shows it, read from the configs of each `(label, settings)`:
/// the most common value, then the labels whose value differs (`512,512; PPO 64,64`). `None` for a
/// switch or an option no settings have.
pub fn shown_default(option: &str, variants: &[(&str, Value)], aliases: Aliases) -> Option<String> {
    let (names, negated) = targets(option, aliases);
    if negated {
        return None;
    }
    let per: Vec<(&str, &Value)> = variants
        .iter()
        .filter_map(|(label, v)| {
            let path = names.iter().flat_map(|n| paths_named(v, n)).next()?;
            path.iter().try_fold(v, |v, k| v.get(k)).map(|x| (*label, x))
        })
        .collect();
    if per.is_empty() || per.iter().any(|(_, v)| v.is_boolean() || v.is_object()) {
        return None;
    }
    let count = |x: &Value| per.iter().filter(|(_, v)| *v == x).count();
    let most = per.iter().map(|(_, v)| count(v)).max()?;
    // The first of the most common values: the variants come in the order a reader meets them.
    let common = per.iter().map(|(_, v)| *v).find(|v| count(v) == most)?;
    // When no value is shared, every one is labelled.
    let mut out = match (most, per.first()) {
        (1, Some((label, _))) if per.len() > 1 => format!("{label} {}", shown(common)),
        _ => shown(common),
    };
    for (label, v) in &per {
        if *v != common {
            out.push_str(&format!("; {label} {}", shown(v)));
        }
    }
    Some(out)
}

/// Copies into `settings` every field of `defaults` it lacks, at any depth; present fields stay.
pub fn fill_missing(settings: &mut Value, defaults: &Value) {
    if let (Value::Object(s), Value::Object(d)) = (settings, defaults) {
        for (k, dv) in d {
            match s.get_mut(k) {
                Some(sv) => fill_missing(sv, dv),
                None => {
                    s.insert(k.clone(), dv.clone());
                }
            }
        }
    }
}

/// `settings` without the fields named `names`, wherever they are nested: the fields that choose
/// which defaults apply (the environment, the algorithm), whose `--help` says so in words.
pub fn without(mut settings: Value, names: &[&str]) -> Value {
    fn strip(v: &mut Value, names: &[&str]) {
        if let Value::Object(m) = v {
            m.retain(|k, _| !names.contains(&k.as_str()));
            m.values_mut().for_each(|c| strip(c, names));
        }
    }
    strip(&mut settings, names);
    settings
}

/// Whether clap or the option's own help already states its default.
fn has_default(cmd: &clap::Command, id: &clap::Id) -> bool {
    cmd.get_arguments().find(|a| a.get_id() == id).is_some_and(|a| {
        !a.get_default_values().is_empty() || a.get_help().is_some_and(|h| h.to_string().contains("[default:"))
    })
}

/// A value as typed on the command line: `512,512`, `0.0003`, `elu`, `none` for null.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Appends `[default: …]` from the configs to the help of every option of `cmd` that has one.
pub fn annotate(cmd: clap::Command, variants: &[(&str, Value)], aliases: Aliases) -> clap::Command {
    let ids: Vec<(clap::Id, String)> =
        cmd.get_arguments().filter_map(|a| Some((a.get_id().clone(), a.get_long()?.replace('-', "_")))).collect();
    ids.into_iter().fold(cmd, |cmd, (id, option)| match shown_default(&option, variants, aliases) {
        Some(d) if !has_default(&cmd, &id) => cmd.mut_arg(id, |a| {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            a.help(format!("{help} [default: {d}]"))
        }),
        _ => cmd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> Value {
        json!({"env": "Pendulum-v1", "agent": {"algo": "sac", "hidden": [512, 512], "actor_lr": 3e-4,
               "critic_lr": 3e-4, "era": {"enabled": true, "h0": null, "delta": 0.0}}, "augment": true})
    }

    #[test]
    fn options_reach_nested_fields_by_name_aliases_and_negation() {
        let mut v = settings();
        let given: Map<String, Value> =
            [("hidden", json!([64])), ("lr", json!(1e-3)), ("no_augment", json!(true)), ("h0", json!(1.5))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        apply(&mut v, &given, &[("lr", &["actor_lr", "critic_lr"])], "sac").unwrap();
        assert_eq!(v["agent"]["hidden"], json!([64]));
        assert_eq!((v["agent"]["actor_lr"].clone(), v["agent"]["critic_lr"].clone()), (json!(1e-3), json!(1e-3)));
        assert_eq!(v["augment"], json!(false));
        assert_eq!(v["agent"]["era"]["h0"], json!(1.5));
    }

    #[test]
    fn an_option_without_a_field_is_refused_by_name() {
        let mut v = settings();
        let given = [("num_steps".to_string(), json!(64))].into_iter().collect();
        let e = apply(&mut v, &given, &[], "sac").unwrap_err().to_string();
        assert_eq!(e, "--num-steps does not apply to sac");
    }

    #[test]
    fn set_takes_paths_unique_names_and_json_values() {
        let mut v = settings();
        set(&mut v, &["agent.era.delta=0.5".into(), "hidden=[8,8]".into(), "env=dmc/walker-run".into()]).unwrap();
        assert_eq!(v["agent"]["era"]["delta"], json!(0.5));
        assert_eq!(v["agent"]["hidden"], json!([8, 8]));
        assert_eq!(v["env"], json!("dmc/walker-run"));
        let e = set(&mut v, &["agent.era.tau=1".into()]).unwrap_err().to_string();
        assert!(e.contains("no setting `agent.era.tau`") && e.contains("agent.era.delta"), "{e}");
        let e = set(&mut v, &["agent.era.delta=lots".into()]).unwrap_err().to_string();
        assert_eq!(e, "--set agent.era.delta=lots: `agent.era.delta` takes a number (now 0.5)");
        set(&mut v, &["agent.era.h0=1.5".into(), "agent.era.h0=null".into()]).unwrap();
        let e = set(&mut v, &["agent=1".into()]).unwrap_err().to_string();
        assert!(e.contains("no setting `agent`"), "{e}");
        let e = set(&mut v, &["delta".into()]).unwrap_err().to_string();
        assert!(e.contains("KEY=VALUE"), "{e}");
        let mut twice = json!({"a": {"x": 1}, "b": {"x": 2}});
        let e = set(&mut twice, &["x=3".into()]).unwrap_err().to_string();
        assert!(e.contains("a.x, b.x"), "{e}");
    }

    #[test]
    fn missing_fields_are_filled_at_any_depth_and_present_ones_kept() {
        let mut saved = json!({"env": "Hopper-v5", "agent": {"hidden": [64]}});
        fill_missing(&mut saved, &settings());
        assert_eq!(saved["env"], json!("Hopper-v5"));
        assert_eq!(saved["agent"]["hidden"], json!([64]));
        assert_eq!((saved["agent"]["era"]["enabled"].clone(), saved["augment"].clone()), (json!(true), json!(true)));
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        #[derive(serde::Deserialize, Debug)]
        struct Inner {
            #[allow(dead_code)]
            delta: f64,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Outer {
            #[allow(dead_code)]
            era: Inner,
        }
        let e = typed::<Outer>(json!({"era": {"delta": "lots"}})).unwrap_err().to_string();
        assert!(e.starts_with("setting `era.delta`: invalid type: string \"lots\""), "{e}");
    }

    #[test]
    fn defaults_show_the_common_value_then_the_exceptions() {
        let sac = json!({"agent": {"hidden": [512, 512], "batch_size": 256}, "eval_every": 5000});
        let dmc = json!({"agent": {"hidden": [512, 512], "batch_size": 256}, "eval_every": 25000});
        let ppo = json!({"agent": {"hidden": [64, 64], "lr": 3e-4}, "eval_every": 5000});
        let variants = [("SAC", sac), ("SAC on dmc/", dmc), ("PPO", ppo)];
        assert_eq!(shown_default("hidden", &variants, &[]).unwrap(), "512,512; PPO 64,64");
        assert_eq!(shown_default("eval_every", &variants, &[]).unwrap(), "5000; SAC on dmc/ 25000");
        assert_eq!(shown_default("batch_size", &variants, &[]).unwrap(), "256");
        let each = [("a", json!({"x": 1})), ("b", json!({"x": 2}))];
        assert_eq!(shown_default("x", &each, &[]).unwrap(), "a 1; b 2");
        assert_eq!(
            shown_default("steps", &variants, &[("steps", &["eval_every"])]).unwrap(),
            "5000; SAC on dmc/ 25000"
        );
        assert_eq!(shown_default("no_augment", &variants, &[]), None);
        assert_eq!(shown_default("seed", &variants, &[]), None);
    }

    #[test]
    fn given_leaves_out_absent_options_and_unset_switches() {
        #[derive(Serialize)]
        struct A {
            steps: Option<u64>,
            lr: Option<f64>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            no_augment: bool,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            quiet: bool,
            enabled: Option<bool>,
        }
        let g = given(&A { steps: Some(5), lr: None, no_augment: true, quiet: false, enabled: Some(false) }).unwrap();
        // `--era off` is given: a `false` that is a value, not an unset switch.
        assert_eq!(Value::Object(g), json!({"steps": 5, "no_augment": true, "enabled": false}));
    }
}
