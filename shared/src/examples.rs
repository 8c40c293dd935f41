//! The example runs bundled with the explorer (`assets/runs/`) and the `era` commands that made them.
//!
//! The page shows each example's commands beside its charts, so that what a class sees is a setting
//! anyone can type again; a test of `era` checks that each command, run today with
//! `--print-config`, writes the configs the bundled logs hold (settings added to era after a log
//! was recorded are compared at their defaults, as `--config` reads an old run).

/// One bundled comparison: a title and one or more arms.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The button's label.
    pub title: &'static str,
    /// The arms compared, ERA first.
    pub arms: &'static [Arm],
}

/// One setting of an example: the command that trained it, and its run logs, one per seed in the
/// order of the command's seeds (`--seed S --seeds N`: S, S+1, …).
#[derive(Debug, Clone, Copy)]
pub struct Arm {
    /// The `era train …` command, as typed (budget and backend included).
    pub command: &'static str,
    /// The run logs under `assets/runs/`, seed by seed.
    pub files: &'static [&'static str],
}

impl Example {
    /// Every run log of the example, arm by arm.
    pub fn files(&self) -> impl Iterator<Item = &'static str> {
        self.arms.iter().flat_map(|a| a.files.iter().copied())
    }
}

/// The examples, in the order the page offers them.
pub const EXAMPLES: &[Example] = &[
    Example {
        title: "Pendulum-v1: SAC-ERA vs SAC, 3 seeds each",
        arms: &[
            Arm {
                command: "era train control --env Pendulum-v1 --algo sac --era on --steps 10000 --eval-every 1000 --seeds 3 --backend fast",
                files: &["sac-era-pendulum-s0.jsonl", "sac-era-pendulum-s1.jsonl", "sac-era-pendulum-s2.jsonl"],
            },
            Arm {
                command: "era train control --env Pendulum-v1 --algo sac --era off --steps 10000 --eval-every 1000 --seeds 3 --backend fast",
                files: &["sac-pendulum-s0.jsonl", "sac-pendulum-s1.jsonl", "sac-pendulum-s2.jsonl"],
            },
        ],
    },
    Example {
        title: "Embedded MNIST: small CNN with the ERA floor vs plain",
        arms: &[
            Arm {
                command: "era train vision --dataset mnist-embedded --reg era --backend ndarray",
                files: &["vision-era.jsonl"],
            },
            Arm {
                command: "era train vision --dataset mnist-embedded --reg none --backend ndarray",
                files: &["vision-none.jsonl"],
            },
        ],
    },
    Example {
        title: "Tiny LLM on addition: GRPO-ERA vs GRPO",
        arms: &[
            Arm { command: "era train llm --era on --backend ndarray", files: &["grpo-era-arithmetic.jsonl"] },
            Arm { command: "era train llm --era off --backend ndarray", files: &["grpo-arithmetic.jsonl"] },
        ],
    },
    Example {
        title: "MuJoCo HalfCheetah-v5: SAC-ERA vs SAC, CleanRL networks and a learned δ",
        arms: &[
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo sac --era on --activation relu --hidden 256,256 --delta auto",
                files: &["sac-era-halfcheetah.jsonl"],
            },
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo sac --era off --activation relu --hidden 256,256 --delta auto --updates-per-step 1",
                files: &["sac-halfcheetah.jsonl"],
            },
        ],
    },
    Example {
        title: "MuJoCo HalfCheetah-v5: SAC-ERA vs SAC, the authors' released settings",
        arms: &[
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo sac --era on --hidden 256,256 --backend fast",
                files: &["sac-era-released-halfcheetah.jsonl"],
            },
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo sac --era off --hidden 256,256 --backend fast",
                files: &["sac-released-halfcheetah.jsonl"],
            },
        ],
    },
    Example {
        title: "MuJoCo HalfCheetah-v5: PPO-ERA vs PPO, 5 seeds each (ERA ahead on every seed)",
        arms: &[
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo ppo --era on --steps 1000000 --seeds 5 --backend fast",
                files: &[
                    "ppo-era-halfcheetah-s0.jsonl",
                    "ppo-era-halfcheetah-s1.jsonl",
                    "ppo-era-halfcheetah-s2.jsonl",
                    "ppo-era-halfcheetah-s3.jsonl",
                    "ppo-era-halfcheetah-s4.jsonl",
                ],
            },
            Arm {
                command: "era train control --env HalfCheetah-v5 --algo ppo --era off --steps 1000000 --seeds 5 --backend fast",
                files: &[
                    "ppo-halfcheetah-s0.jsonl",
                    "ppo-halfcheetah-s1.jsonl",
                    "ppo-halfcheetah-s2.jsonl",
                    "ppo-halfcheetah-s3.jsonl",
                    "ppo-halfcheetah-s4.jsonl",
                ],
            },
        ],
    },
    Example {
        title: "MuJoCo Hopper-v5: PPO-ERA vs PPO, 5 seeds each (ERA behind on average)",
        arms: &[
            Arm {
                command: "era train control --env Hopper-v5 --algo ppo --era on --steps 1000000 --seeds 5 --backend fast",
                files: &[
                    "ppo-era-hopper-s0.jsonl",
                    "ppo-era-hopper-s1.jsonl",
                    "ppo-era-hopper-s2.jsonl",
                    "ppo-era-hopper-s3.jsonl",
                    "ppo-era-hopper-s4.jsonl",
                ],
            },
            Arm {
                command: "era train control --env Hopper-v5 --algo ppo --era off --steps 1000000 --seeds 5 --backend fast",
                files: &[
                    "ppo-hopper-s0.jsonl",
                    "ppo-hopper-s1.jsonl",
                    "ppo-hopper-s2.jsonl",
                    "ppo-hopper-s3.jsonl",
                    "ppo-hopper-s4.jsonl",
                ],
            },
        ],
    },
    Example {
        title: "DeepMind Control walker-run: SAC-ERA vs SAC, the released protocol at width 256, 100 000 steps",
        arms: &[
            Arm {
                command: "era train control --env dmc/walker-run --algo sac --era on --backend fast --hidden 256,256 --steps 100000",
                files: &["sac-era-dmc-walker-run.jsonl"],
            },
            Arm {
                command: "era train control --env dmc/walker-run --algo sac --era off --backend fast --hidden 256,256 --steps 100000",
                files: &["sac-dmc-walker-run.jsonl"],
            },
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_arm_runs_as_many_seeds_as_it_has_logs_and_no_log_is_shared() {
        let mut seen = std::collections::BTreeSet::new();
        for e in EXAMPLES {
            assert!(!e.arms.is_empty(), "{}", e.title);
            for a in e.arms {
                assert!(a.command.starts_with("era train "), "{}", a.command);
                let seeds =
                    a.command.split("--seeds ").nth(1).map_or(1, |n| n.split(' ').next().unwrap().parse().unwrap());
                assert_eq!(a.files.len(), seeds, "{}", a.command);
                for f in a.files {
                    assert!(f.ends_with(".jsonl") && seen.insert(*f), "{f}");
                }
            }
        }
    }
}
