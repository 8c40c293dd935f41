//! `era`: train with ERA (Entropy Regularizing Activation), apply its activations, compare runs.
//!
//! Every subcommand follows the same conventions: `--h0` is an ERA target entropy in nats,
//! `--config FILE` (TOML, or a run's `config.json` for `era train`) sets any option and flags on the
//! command line override it, and bad input exits with status 2 and one line on stderr naming the
//! problem.

mod activation;
mod backend;
mod bench_record;
mod checkpoint;
mod cli;
mod compare;
mod config;
mod control;
mod env_cmd;
mod export;
#[cfg(feature = "fuzz")]
mod fuzz;
mod input;
mod llm;
mod memory;
mod overlay;
mod peer;
mod run_args;
mod run_loop;
mod runs;
mod sweep;
mod tensorboard;
mod video;
mod vision;

use std::process::ExitCode;

use clap::FromArgMatches;

use cli::{Cli, Command};

/// `era compare … | head` ends quietly when `head` closes the pipe, as Unix tools do, instead of
/// panicking in `println!`: Rust ignores SIGPIPE by default, so a write to a closed pipe is an error.
/// Run logs and checkpoints go to files, and progress to stderr, so nothing a run wrote is lost.
#[cfg(unix)]
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: the first thing `main` does, before any thread exists; SIG_DFL is a valid disposition
    // for SIGPIPE and no handler of era's is replaced.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match parse(args) {
        Ok(cli) => cli,
        Err(e) => return fail(&e),
    };
    let run_config = cli.config.as_deref();
    let result = match cli.command {
        Command::Activation(cmd) => activation::run(cmd),
        Command::Compare(args) => compare::run(&args),
        Command::Env(cmd) => env_cmd::run(cmd),
        Command::Export(args) => export::run(&args),
        Command::Train(cli::TrainCommand::Control(args)) => control::train::run(&args, run_config),
        Command::Eval(cli::EvalCommand::Control(args)) => control::train::eval(&args),
        Command::Bench(cli::BenchCommand::Control(args)) => control::bench::run(&args),
        Command::Train(cli::TrainCommand::Vision(args)) => vision::train::run(&args, run_config),
        Command::Eval(cli::EvalCommand::Vision(args)) => vision::train::eval(&args),
        Command::Bench(cli::BenchCommand::Vision(args)) => vision::bench::run(&args),
        Command::Train(cli::TrainCommand::Llm(args)) => llm::train::run(&args, run_config),
        Command::Eval(cli::EvalCommand::Llm(args)) => llm::train::eval(&args),
        Command::Bench(cli::BenchCommand::Llm(args)) => llm::bench::run(&args),
        Command::Generate(args) => llm::train::generate(&args),
        Command::Sweep(args) => sweep::run(&args),
        #[cfg(feature = "fuzz")]
        Command::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Parses the command line, merging `--config FILE` in front of the flags so the flags win.
fn parse(args: Vec<std::ffi::OsString>) -> anyhow::Result<Cli> {
    let command = cli::command();
    let args = config::expand(args, &command)?;
    match command.try_get_matches_from(&args) {
        Ok(m) => Ok(Cli::from_arg_matches(&m)?),
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            // Help and version go to stdout with status 0, as usual.
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => Err(anyhow::anyhow!(cli::one_line(&e))),
    }
}

/// Prints one line on stderr and returns status 2.
fn fail(e: &anyhow::Error) -> ExitCode {
    let msg = format!("{e:#}").replace('\n', " ");
    eprintln!("era: error: {msg}");
    ExitCode::from(2)
}
