//! `era env list` and `era env rollout`: the environments as Gymnasium would show them.

use std::path::Path;

use anyhow::{Context, bail};
use era_shared::env::{self, Env};
use serde::Serialize;

use crate::cli::{EnvCommand, RolloutArgs};
use crate::input::parse_json;

/// Runs one `era env` subcommand.
pub fn run(cmd: EnvCommand) -> anyhow::Result<()> {
    match cmd {
        EnvCommand::List { json } => list(json),
        EnvCommand::Rollout(args) => {
            let stdout = std::io::stdout();
            rollout(&args, &mut stdout.lock())
        }
    }
}

fn list(json: bool) -> anyhow::Result<()> {
    let specs = env::specs();
    if json {
        println!("{}", serde_json::to_string_pretty(&specs)?);
        return Ok(());
    }
    println!("{:<26} {:>4} {:>7} {:>6}  {:<40} summary", "id", "obs", "action", "limit", "state (for --state)");
    for s in &specs {
        println!(
            "{:<26} {:>4} {:>7} {:>6}  {:<40} {}",
            s.id,
            s.observation.dims(),
            s.action.dims(),
            s.max_episode_steps,
            s.state_layout,
            s.summary
        );
    }
    // Say why a known task is missing instead of leaving it out silently.
    if cfg!(feature = "mujoco") {
        // Only the ids `specs` left out: asking again loads no model that already loaded.
        let known = env::MUJOCO_ENV_IDS.iter().chain(env::DMC_ENV_IDS);
        for id in known.filter(|id| !specs.iter().any(|s| s.id == **id)) {
            if let Err(e) = env::dynamics(id) {
                eprintln!("{e}");
            }
        }
    } else if let Err(env::EnvError::Unavailable { reason, .. }) = env::dynamics(env::MUJOCO_ENV_IDS[0]) {
        eprintln!("{}, {}: {reason}", env::MUJOCO_ENV_IDS.join(", "), env::DMC_ENV_IDS.join(", "));
    }
    Ok(())
}

/// One line of `era env rollout`'s output.
#[derive(Debug, Serialize)]
struct StepLine<'a> {
    obs: &'a [f32],
    reward: f64,
    terminated: bool,
    truncated: bool,
}

/// Applies the actions of `args.actions` and writes one JSON object per step to `out`.
pub fn rollout(args: &RolloutArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let mut env = Env::make(&args.env)?;
    let actions = read_actions(&args.actions, env.spec().action.dims())?;
    match &args.state {
        Some(state) => {
            let state: Vec<f64> = parse_json(state, "--state")?;
            env.reset_to(&state).context("--state")?;
        }
        None => {
            env.reset(Some(args.seed));
        }
    }
    for (i, a) in actions.iter().enumerate() {
        let s = env.step(a).with_context(|| format!("{}: action {}", args.actions.display(), i + 1))?;
        let line = StepLine { obs: &s.obs, reward: s.reward, terminated: s.terminated, truncated: s.truncated };
        writeln!(out, "{}", serde_json::to_string(&line)?)?;
        if s.terminated || s.truncated {
            break;
        }
    }
    Ok(())
}

/// Reads a JSON array of action arrays, each of `dims` finite numbers.
fn read_actions(path: &Path, dims: usize) -> anyhow::Result<Vec<Vec<f32>>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{shown}: cannot read the actions file"))?;
    let actions: Vec<Vec<f64>> = parse_json(&text, &shown)?;
    for (i, a) in actions.iter().enumerate() {
        if a.len() != dims {
            bail!("{shown}: action {} has {} values, the environment takes {dims}", i + 1, a.len());
        }
    }
    Ok(actions.into_iter().map(|a| a.into_iter().map(|v| v as f32).collect()).collect())
}
