//! Metric keys, namespaced as in CleanRL (`charts/…`, `losses/…`), and what each is drawn against.
//!
//! The trainer writes only these constants and the explorer reads them, so a chart knows its unit,
//! description and ERA target line (e.g. `policy/gaussian_entropy` against `H₀ + δ`).

use crate::runlog::EraTargets;

/// Undiscounted return of each finished training episode.
pub const EPISODIC_RETURN: &str = "charts/episodic_return";
/// Length of each finished training episode.
pub const EPISODIC_LENGTH: &str = "charts/episodic_length";
/// The learning rate in force.
pub const LEARNING_RATE: &str = "charts/learning_rate";
/// Mean return of deterministic evaluation episodes (mean action).
pub const EVAL_RETURN: &str = "eval/return_mean";
/// Entropy of the Gaussian before bounding (what the ERA activation fixes).
pub const GAUSSIAN_ENTROPY: &str = "policy/gaussian_entropy";
/// Estimated entropy of the bounded (truncated or squashed) policy, `−log π(a|s)`.
pub const POLICY_ENTROPY: &str = "policy/entropy";
/// Mean σ over action dimensions and states.
pub const STD_MEAN: &str = "policy/std_mean";
/// Smallest σ over action dimensions, averaged over states.
pub const STD_MIN: &str = "policy/std_min";
/// Largest σ over action dimensions, averaged over states.
pub const STD_MAX: &str = "policy/std_max";
/// The compensation δ in force.
pub const DELTA: &str = "era/delta";
/// Critic loss (SAC: both Q's squared errors; PPO: the value loss).
pub const CRITIC_LOSS: &str = "losses/critic";
/// Mean Q value of the replayed actions.
pub const QF_VALUE: &str = "losses/qf_value";
/// Actor loss (SAC: `α log π − min Q` or `−min Q`; PPO: the clipped surrogate).
pub const ACTOR_LOSS: &str = "losses/actor";
/// SAC's temperature α.
pub const ALPHA: &str = "losses/alpha";
/// SAC's temperature loss.
pub const ALPHA_LOSS: &str = "losses/alpha_loss";
/// The δ auto-tune loss.
pub const DELTA_LOSS: &str = "losses/delta_loss";
/// Policy-gradient loss (GRPO).
pub const POLICY_LOSS: &str = "losses/policy";
/// Approximate KL between old and new policy (PPO, GRPO).
pub const APPROX_KL: &str = "losses/approx_kl";
/// Share of samples whose ratio was clipped (PPO, GRPO).
pub const CLIP_FRAC: &str = "losses/clipfrac";
/// Epochs completed, fractional between epoch ends (vision).
pub const EPOCH: &str = "charts/epoch";
/// Mean entropy on the evaluation set: of the predictions on its images (vision), of the tokens of
/// the responses sampled to its problems (LLM).
pub const EVAL_ENTROPY_MEAN: &str = "eval/entropy_mean";
/// Training loss (vision; the LLM's supervised warm-up).
pub const TRAIN_LOSS: &str = "train/loss";
/// Training top-1 accuracy (vision).
pub const TRAIN_TOP1: &str = "train/top1";
/// Evaluation loss (vision).
pub const EVAL_LOSS: &str = "eval/loss";
/// Evaluation top-1 accuracy (vision).
pub const EVAL_TOP1: &str = "eval/top1";
/// Evaluation top-5 accuracy (vision).
pub const EVAL_TOP5: &str = "eval/top5";
/// Mean entropy of the predicted class distribution (vision).
pub const PRED_ENTROPY_MEAN: &str = "pred/entropy_mean";
/// Smallest entropy of a predicted class distribution (vision).
pub const PRED_ENTROPY_MIN: &str = "pred/entropy_min";
/// Mean reward of the sampled responses (LLM).
pub const ROLLOUT_REWARD_MEAN: &str = "rollout/reward_mean";
/// Mean `H_resp` of the sampled responses (LLM).
pub const ROLLOUT_H_RESP_MEAN: &str = "rollout/h_resp_mean";
/// Mean token entropy of the sampled responses (LLM).
pub const ROLLOUT_ENTROPY_MEAN: &str = "rollout/entropy_mean";
/// Mean reward of the responses of every GRPO step since the previous record (LLM): steadier than
/// [`ROLLOUT_REWARD_MEAN`], which is the recorded step's batch alone.
pub const ROLLOUT_REWARD_WINDOW: &str = "rollout/reward_window_mean";
/// Mean `H_resp` over every GRPO step since the previous record (LLM); see [`ROLLOUT_REWARD_WINDOW`].
pub const ROLLOUT_H_RESP_WINDOW: &str = "rollout/h_resp_window_mean";
/// Mean token entropy over every GRPO step since the previous record (LLM); see
/// [`ROLLOUT_REWARD_WINDOW`].
pub const ROLLOUT_ENTROPY_WINDOW: &str = "rollout/entropy_window_mean";
/// Each per-step rollout key and the key of its mean since the previous record.
pub const ROLLOUT_WINDOWS: [(&str, &str); 3] = [
    (ROLLOUT_REWARD_MEAN, ROLLOUT_REWARD_WINDOW),
    (ROLLOUT_H_RESP_MEAN, ROLLOUT_H_RESP_WINDOW),
    (ROLLOUT_ENTROPY_MEAN, ROLLOUT_ENTROPY_WINDOW),
];
/// Mean response length in tokens (LLM).
pub const ROLLOUT_RESPONSE_LEN: &str = "rollout/response_len";
/// Share of prompt groups kept by dynamic sampling (rewards not all equal) (LLM).
pub const ROLLOUT_KEPT_FRAC: &str = "rollout/kept_frac";
/// Share of test problems answered exactly by greedy decoding (LLM).
pub const EVAL_GREEDY_ACCURACY: &str = "eval/greedy_accuracy";
/// Share of responses sharpened by ERA (LLM).
pub const FRAC_SHARPEN: &str = "era/frac_sharpen";
/// Share of responses softened by ERA (LLM).
pub const FRAC_SOFTEN: &str = "era/frac_soften";
/// Gradient updates made so far (control).
pub const UPDATES: &str = "charts/updates";
/// Environment steps per second (control).
pub const STEPS_PER_SEC: &str = "perf/steps_per_sec";
/// Images per second (vision).
pub const IMAGES_PER_SEC: &str = "perf/images_per_sec";
/// Generated and trained tokens per second (LLM).
pub const TOKENS_PER_SEC: &str = "perf/tokens_per_sec";
/// Prefix of the pass@k keys: `eval/pass@1`, `eval/pass@2`, … (see [`pass_at`]).
pub const PASS_AT_PREFIX: &str = "eval/pass@";

/// The pass@k keys the LLM trainer writes, for k = 1, 2, 4, 8, 16 (each equals [`pass_at`]`(k)`).
pub const PASS_AT_KEYS: [&str; 5] = ["eval/pass@1", "eval/pass@2", "eval/pass@4", "eval/pass@8", "eval/pass@16"];

/// What `era compare` pairs an LLM run with ERA against its baseline on, by default: these keys'
/// final values…
pub const LLM_PAIRED_FINAL: [&str; 3] = [PASS_AT_KEYS[0], PASS_AT_KEYS[3], PASS_AT_KEYS[4]];
/// …and these keys' means over the second half of GRPO.
pub const LLM_PAIRED_SECOND_HALF: [&str; 3] = [ROLLOUT_H_RESP_WINDOW, ROLLOUT_ENTROPY_WINDOW, ROLLOUT_REWARD_WINDOW];

/// The key of pass@k (the unbiased estimator), e.g. `eval/pass@8`.
pub fn pass_at(k: usize) -> String {
    format!("{PASS_AT_PREFIX}{k}")
}

/// Which ERA target a metric is drawn against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing to compare with.
    None,
    /// `H₀` (the floor of a bounded policy or a class distribution).
    H0,
    /// `H₀ + δ` (what the Gaussian's entropy equals).
    H0PlusDelta,
    /// The band `[ω_low, ω_high]`.
    OmegaBand,
}

/// A documented metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    /// The key written in run logs.
    pub key: &'static str,
    /// One line for a chart's title or tooltip.
    pub description: &'static str,
    /// What its values count, for a chart's axis title (`nats`, `return`, `σ`, `share`, …).
    pub unit: &'static str,
    /// What the chart draws as a reference line.
    pub target: Target,
}

const fn spec(key: &'static str, description: &'static str, unit: &'static str, target: Target) -> MetricSpec {
    MetricSpec { key, description, unit, target }
}

/// Whether a logged `value` of `key` means training diverged: a NaN or an infinity in a loss
/// (`losses/…`, `train/loss`). Other metrics may be undefined for a while (a return before the first
/// episode ends) without anything being wrong.
pub fn diverged(key: &str, value: f64) -> bool {
    !value.is_finite() && (key.starts_with("losses/") || key == TRAIN_LOSS)
}

/// Every metric key era writes (pass@k keys are matched by [`lookup`] through their prefix).
pub const METRICS: &[MetricSpec] = &[
    spec(EPISODIC_RETURN, "episodic return (training episodes)", "return", Target::None),
    spec(EPISODIC_LENGTH, "episode length", "steps", Target::None),
    spec(LEARNING_RATE, "learning rate", "learning rate", Target::None),
    spec(EVAL_RETURN, "evaluation return (deterministic policy)", "return", Target::None),
    spec(GAUSSIAN_ENTROPY, "entropy of the Gaussian before bounding (nats)", "nats", Target::H0PlusDelta),
    spec(POLICY_ENTROPY, "entropy of the bounded policy, −log π(a|s) (nats)", "nats", Target::H0),
    spec(STD_MEAN, "mean σ over action dimensions", "σ", Target::None),
    spec(STD_MIN, "smallest σ over action dimensions", "σ", Target::None),
    spec(STD_MAX, "largest σ over action dimensions", "σ", Target::None),
    spec(DELTA, "compensation δ (nats)", "nats", Target::None),
    spec(CRITIC_LOSS, "critic loss", "loss", Target::None),
    spec(QF_VALUE, "mean Q of replayed actions", "Q", Target::None),
    spec(ACTOR_LOSS, "actor loss", "loss", Target::None),
    spec(ALPHA, "SAC temperature α", "α", Target::None),
    spec(ALPHA_LOSS, "SAC temperature loss", "loss", Target::None),
    spec(DELTA_LOSS, "δ auto-tune loss", "loss", Target::None),
    spec(POLICY_LOSS, "policy-gradient loss", "loss", Target::None),
    spec(APPROX_KL, "approximate KL(old ‖ new)", "nats", Target::None),
    spec(CLIP_FRAC, "share of clipped ratios", "share", Target::None),
    spec(EPOCH, "epochs completed", "epochs", Target::None),
    spec(
        EVAL_ENTROPY_MEAN,
        "mean entropy on the evaluation set: predictions or response tokens (nats)",
        "nats",
        Target::H0,
    ),
    spec(TRAIN_LOSS, "training loss", "loss", Target::None),
    spec(TRAIN_TOP1, "training top-1 accuracy", "accuracy", Target::None),
    spec(EVAL_LOSS, "evaluation loss", "loss", Target::None),
    spec(EVAL_TOP1, "evaluation top-1 accuracy", "accuracy", Target::None),
    spec(EVAL_TOP5, "evaluation top-5 accuracy", "accuracy", Target::None),
    spec(PRED_ENTROPY_MEAN, "mean entropy of predictions (nats)", "nats", Target::H0),
    spec(PRED_ENTROPY_MIN, "smallest entropy of a prediction (nats)", "nats", Target::H0),
    spec(ROLLOUT_REWARD_MEAN, "mean reward of sampled responses", "reward", Target::None),
    spec(ROLLOUT_H_RESP_MEAN, "mean H_resp, top-20 % token entropy (nats)", "nats", Target::OmegaBand),
    spec(ROLLOUT_ENTROPY_MEAN, "mean token entropy (nats)", "nats", Target::None),
    spec(ROLLOUT_REWARD_WINDOW, "mean reward, every step since the previous record", "reward", Target::None),
    spec(ROLLOUT_H_RESP_WINDOW, "mean H_resp, every step since the previous record (nats)", "nats", Target::OmegaBand),
    spec(
        ROLLOUT_ENTROPY_WINDOW,
        "mean token entropy, every step since the previous record (nats)",
        "nats",
        Target::None,
    ),
    spec(ROLLOUT_RESPONSE_LEN, "mean response length (tokens)", "tokens", Target::None),
    spec(ROLLOUT_KEPT_FRAC, "share of prompt groups kept (rewards not all equal)", "share", Target::None),
    spec(EVAL_GREEDY_ACCURACY, "test problems solved by greedy decoding", "accuracy", Target::None),
    spec(FRAC_SHARPEN, "share of responses sharpened (z' = k·z)", "share", Target::None),
    spec(FRAC_SOFTEN, "share of responses softened (z' = z/k)", "share", Target::None),
    spec(UPDATES, "gradient updates so far", "updates", Target::None),
    spec(STEPS_PER_SEC, "environment steps per second", "steps/s", Target::None),
    spec(IMAGES_PER_SEC, "images per second", "images/s", Target::None),
    spec(TOKENS_PER_SEC, "tokens per second", "tokens/s", Target::None),
];

/// The spec of a key; pass@k keys share one spec.
pub fn lookup(key: &str) -> Option<MetricSpec> {
    if let Some(k) = key.strip_prefix(PASS_AT_PREFIX)
        && k.parse::<usize>().is_ok_and(|k| k > 0)
    {
        return Some(spec(
            "eval/pass@k",
            "pass@k on the test split (unbiased estimator)",
            "share solved",
            Target::None,
        ));
    }
    METRICS.iter().find(|m| m.key == key).copied()
}

/// The reference lines to draw on a metric's chart, `(label, value)`, from a run's ERA targets.
/// Empty when ERA is off, the metric has no target, or the target is not recorded.
pub fn target_lines(key: &str, era: &EraTargets) -> Vec<(&'static str, f64)> {
    if !era.enabled {
        return Vec::new();
    }
    match lookup(key).map(|m| m.target) {
        Some(Target::H0) => era.h0.map(|h| vec![("H₀", h)]).unwrap_or_default(),
        // A learned δ moves during the run (its value is charted as era/delta): only H₀ is fixed.
        Some(Target::H0PlusDelta) if era.delta_auto == Some(true) => {
            era.h0.map(|h| vec![("H₀", h)]).unwrap_or_default()
        }
        Some(Target::H0PlusDelta) => era.h0.map(|h| vec![("H₀ + δ", h + era.delta.unwrap_or(0.0))]).unwrap_or_default(),
        Some(Target::OmegaBand) => {
            let mut v = Vec::new();
            if let Some(lo) = era.omega_low {
                v.push(("ω_low", lo));
            }
            if let Some(hi) = era.omega_high {
                v.push(("ω_high", hi));
            }
            v
        }
        Some(Target::None) | None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_namespaced() {
        let mut keys: Vec<_> = METRICS.iter().map(|m| m.key).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
        assert!(METRICS.iter().all(|m| m.key.contains('/') && !m.description.is_empty()));
    }

    #[test]
    fn only_a_non_finite_loss_is_divergence() {
        assert!(diverged(CRITIC_LOSS, f64::NAN) && diverged(TRAIN_LOSS, f64::INFINITY));
        assert!(diverged(APPROX_KL, f64::NEG_INFINITY));
        assert!(!diverged(CRITIC_LOSS, 1e30) && !diverged(EPISODIC_RETURN, f64::NAN));
        assert!(!diverged(EVAL_TOP1, f64::NAN));
    }

    #[test]
    fn pass_at_keys() {
        assert_eq!(pass_at(8), "eval/pass@8");
        for (key, k) in PASS_AT_KEYS.iter().zip([1, 2, 4, 8, 16]) {
            assert_eq!(*key, pass_at(k));
        }
        assert!(lookup("eval/pass@16").is_some());
        assert!(lookup("eval/pass@0").is_none());
        assert!(lookup("eval/pass@x").is_none());
    }

    #[test]
    fn targets_follow_the_header() {
        let era = EraTargets {
            enabled: true,
            h0: Some(1.5),
            delta: Some(0.25),
            omega_low: Some(0.45),
            omega_high: Some(3.0),
            ..Default::default()
        };
        assert_eq!(target_lines(GAUSSIAN_ENTROPY, &era), vec![("H₀ + δ", 1.75)]);
        assert_eq!(target_lines(PRED_ENTROPY_MIN, &era), vec![("H₀", 1.5)]);
        assert_eq!(target_lines(ROLLOUT_H_RESP_MEAN, &era), vec![("ω_low", 0.45), ("ω_high", 3.0)]);
        assert!(target_lines(EPISODIC_RETURN, &era).is_empty());
        assert!(target_lines(GAUSSIAN_ENTROPY, &EraTargets::default()).is_empty());
        let learned = EraTargets { delta_auto: Some(true), ..era };
        assert_eq!(target_lines(GAUSSIAN_ENTROPY, &learned), vec![("H₀", 1.5)]);
    }
}
