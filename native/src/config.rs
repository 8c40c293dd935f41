//! `--config FILE`: a TOML file whose keys are the long option names of the subcommand being run, or,
//! for `era train`, a run's `config.json`.
//!
//! A TOML file's options are inserted right after the subcommand on the command line, before the
//! user's own flags, and every option may be given twice with the later one winning: so flags
//! override the file. A `config.json` is left for `era train` to read as the new run's settings,
//! which its flags then overlay (see [`crate::overlay`]).

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ArgAction;

/// Returns `args` with the config file's options spliced in (and `--config FILE` removed).
pub fn expand(mut args: Vec<OsString>, root: &clap::Command) -> anyhow::Result<Vec<OsString>> {
    let Some(path) = take_config(&mut args)? else {
        return Ok(args);
    };
    // Walk the subcommand names to find where the leaf subcommand's options start.
    let mut cmd = root;
    let mut insert_at = 1;
    let mut name = vec!["era".to_string()];
    for (i, a) in args.iter().enumerate().skip(1) {
        let Some(a) = a.to_str() else { continue };
        if let Some(sub) = cmd.find_subcommand(a) {
            cmd = sub;
            insert_at = i + 1;
            name.push(a.to_string());
            if !cmd.has_subcommands() {
                break;
            }
        }
    }
    let shown = path.display();
    if cmd.has_subcommands() {
        bail!("{shown}: --config needs a subcommand to apply to (e.g. `era activation gaussian --config {shown}`)");
    }
    if path.extension().is_some_and(|e| e == "json") {
        if name.get(1).map(String::as_str) != Some("train") {
            bail!("{shown}: a run's config.json is read by `era train` only (`{}` takes a TOML file)", name.join(" "));
        }
        args.splice(insert_at..insert_at, [OsString::from("--config"), path.into_os_string()]);
        return Ok(args);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("{shown}: cannot read the config file"))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{shown}: not valid TOML: {}", e.message()))?;
    let mut extra = Vec::new();
    let shown_cmd = name.join(" ");
    for (key, value) in &table {
        extra.extend(option_flags(cmd, &shown_cmd, key, value).map_err(|e| anyhow::anyhow!("{shown}: {e:#}"))?);
    }
    args.splice(insert_at..insert_at, extra);
    Ok(args)
}

/// The flags that the TOML `key = value` gives `cmd` (shown as `shown_cmd`, e.g. `era train control`):
/// `--key value`, `--key` for `true` on a switch (nothing for `false`), `--key item` for each item of
/// an array. `--config` files and `era sweep` specs both read options this way.
pub fn option_flags(
    cmd: &clap::Command,
    shown_cmd: &str,
    key: &str,
    value: &toml::Value,
) -> anyhow::Result<Vec<OsString>> {
    let long = key.replace('_', "-");
    let arg = cmd.get_arguments().find(|a| a.get_long() == Some(long.as_str()) && long != "config");
    let Some(arg) = arg else {
        let valid: Vec<&str> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| *l != "help" && *l != "config" && *l != "version")
            .collect();
        bail!("unknown option `{key}` for `{shown_cmd}` (valid: {})", valid.join(", "));
    };
    let flag = OsString::from(format!("--{long}"));
    let mut flags = Vec::new();
    match (value, arg.get_action()) {
        (toml::Value::Boolean(b), ArgAction::SetTrue) => {
            if *b {
                flags.push(flag);
            }
        }
        (toml::Value::Boolean(_), _) => bail!("`{key}` must be a value, not a boolean"),
        (_, ArgAction::SetTrue) => bail!("`{key}` must be true or false"),
        (toml::Value::Array(items), _) => {
            for item in items {
                flags.push(flag.clone());
                flags.push(OsString::from(scalar(key, item)?));
            }
        }
        (v, _) => {
            flags.push(flag);
            flags.push(OsString::from(scalar(key, v)?));
        }
    }
    Ok(flags)
}

fn scalar(key: &str, v: &toml::Value) -> anyhow::Result<String> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => bail!("`{key}` must be a string, number or boolean"),
    })
}

/// Removes `--config FILE` / `--config=FILE` from `args`, returning the file.
fn take_config(args: &mut Vec<OsString>) -> anyhow::Result<Option<PathBuf>> {
    let mut found = None;
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy().into_owned();
        if a == "--" {
            break;
        }
        if a == "--config" {
            if i + 1 >= args.len() {
                bail!("--config needs a file");
            }
            found = Some(PathBuf::from(args.remove(i + 1)));
            args.remove(i);
            continue;
        }
        if let Some(v) = a.strip_prefix("--config=") {
            found = Some(PathBuf::from(v));
            args.remove(i);
            continue;
        }
        i += 1;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn splices_after_the_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "h0 = 0.5\ntau = 5.0\nmode = \"official\"\n").unwrap();
        let f = f.to_str().unwrap();
        let out = expand(os(&["era", "--config", f, "activation", "softmax", "--h0", "0.7"]), &crate::cli::command())
            .unwrap();
        assert_eq!(
            out,
            os(&["era", "activation", "softmax", "--h0", "0.5", "--mode", "official", "--tau", "5", "--h0", "0.7"])
        );
        let m = crate::cli::command().try_get_matches_from(&out).unwrap();
        let (_, act) = m.subcommand().unwrap();
        let (_, sm) = act.subcommand().unwrap();
        assert_eq!(sm.get_one::<f64>("h0"), Some(&0.7));
        assert_eq!(sm.get_one::<f64>("tau"), Some(&5.0));
    }

    #[test]
    fn unknown_keys_name_the_file_and_the_valid_options() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "h00 = 0.5\n").unwrap();
        let e = expand(os(&["era", "activation", "gaussian", "--config", f.to_str().unwrap()]), &crate::cli::command())
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains("unknown option `h00`") && e.contains("log-std-min"), "{e}");
        std::fs::write(&f, "h0 = [\n").unwrap();
        let e = expand(os(&["era", "activation", "gaussian", "--config", f.to_str().unwrap()]), &crate::cli::command())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid TOML"), "{e}");
        std::fs::write(&f, "no-advantage-rescale = 1\n").unwrap();
        let e = expand(os(&["era", "activation", "llm", "--config", f.to_str().unwrap()]), &crate::cli::command())
            .unwrap_err()
            .to_string();
        assert!(e.contains("true or false"), "{e}");
    }

    #[test]
    fn a_run_config_is_left_for_era_train_and_refused_elsewhere() {
        let out = expand(
            os(&["era", "train", "control", "--config", "runs/a/config.json", "--seed", "3"]),
            &crate::cli::command(),
        )
        .unwrap();
        assert_eq!(out, os(&["era", "train", "control", "--config", "runs/a/config.json", "--seed", "3"]));
        let e = expand(os(&["era", "activation", "softmax", "--config", "runs/a/config.json"]), &crate::cli::command())
            .unwrap_err()
            .to_string();
        assert!(e.contains("read by `era train` only") && e.contains("era activation softmax"), "{e}");
    }

    #[test]
    fn without_config_args_are_unchanged() {
        let a = os(&["era", "activation", "gaussian", "--h0", "1"]);
        assert_eq!(expand(a.clone(), &crate::cli::command()).unwrap(), a);
    }
}
