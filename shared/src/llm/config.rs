//! An LLM run's settings ([`LlmConfig`], saved as `config.json` with every run) and the tiny model's
//! ERA band.

use burn::config::Config;

use super::arithmetic::Arithmetic;
use super::generate::Sampling;
use super::grpo::AdvantageSign;
use super::prompts::{self, Fields, Prompts, Skipped};
use super::reward::Reward;
use super::task::{Item, Task};
use super::tokenizer::LlmTokenizer;
use crate::llm_scaling::{self, LlmEra};
use crate::runlog::EraTargets;
use crate::train::TrainError;

/// The pass@k reported (those with `k ≤ eval_samples`).
pub const PASS_KS: [usize; 5] = [1, 2, 4, 8, 16];

/// ω_low for the tiny model: its `H_resp` is about 1.4 nats after the warm-up and drifts to 1.1–1.2
/// under plain GRPO (the answer digits carry most of its uncertainty), so the band starts at 1.2.
pub const TINY_OMEGA_LOW: f64 = 1.2;
/// ω_high for the tiny model (the authors' 3.0).
pub const TINY_OMEGA_HIGH: f64 = 3.0;

/// The longest response of a file task when `max_new_tokens` is 0 (TRL's GRPOTrainer default
/// `max_completion_length`), or half the model's context if that is shorter.
pub const FILE_MAX_NEW_TOKENS: usize = 256;

/// Everything that defines a run (saved as `config.json` with it).
#[derive(Config, Debug, PartialEq)]
pub struct LlmConfig {
    /// A JSON Lines (`.jsonl`), JSON (`.json`, an array of objects) or Parquet (`.parquet`) file of
    /// problems with reference answers; absent: the arithmetic task.
    pub data: Option<String>,
    /// The field of each row that holds the prompt.
    #[config(default = "String::from(\"prompt\")")]
    pub prompt_field: String,
    /// The field of each row that holds the reference answer.
    #[config(default = "String::from(\"answer\")")]
    pub answer_field: String,
    /// A file of held-out problems for pass@k; absent: `eval_fraction` of `data`'s rows (the same
    /// rows for every seed).
    pub eval_data: Option<String>,
    /// The share of `data`'s rows held out when there is no `eval_data`.
    #[config(default = 0.1)]
    pub eval_fraction: f64,
    /// How a file task's responses are scored: `exact`, `numeric` (GSM8K's `#### N`, a final
    /// `\boxed{…}` or the last number, compared by value), `contains` or `regex:PATTERN`.
    #[config(default = "Reward::Exact")]
    pub reward: Reward,
    /// Added to a file task's reward when the response gives its answer in the rule's explicit
    /// format (`numeric`: `####` or `\boxed{}`; `regex:`: a match).
    #[config(default = 0.0)]
    pub format_reward: f64,
    /// Render a file task's prompts with the checkpoint's chat template (its `tokenizer_config.json`'s
    /// `chat_template`, as `transformers`' `apply_chat_template` with a generation prompt); a model
    /// without one (the embedded tiny model) takes the prompts as written.
    #[config(default = true)]
    pub chat_template: bool,
    /// A system turn before each prompt, through the chat template.
    pub system: Option<String>,
    /// Operand digits of the arithmetic task (its difficulty, 1–9).
    #[config(default = 3)]
    pub digits: usize,
    /// Problems in the held-out test split.
    #[config(default = 200)]
    pub test_size: usize,
    /// Supervised warm-up steps (0: start GRPO from the given model). The tiny model's 300 bring
    /// pass@1 to about 0.1: enough reward for GRPO to learn from, and room for it to improve.
    #[config(default = 300)]
    pub warmup_steps: u64,
    /// Problems per warm-up step.
    #[config(default = 64)]
    pub warmup_batch: usize,
    /// Warm-up peak learning rate (linear ramp over the first 10 %, then cosine to 10 %).
    #[config(default = 2e-3)]
    pub warmup_lr: f64,
    /// GRPO steps.
    #[config(default = 600)]
    pub grpo_steps: u64,
    /// Prompts per GRPO step.
    #[config(default = 16)]
    pub prompts: usize,
    /// Responses per prompt (G).
    #[config(default = 8)]
    pub group: usize,
    /// GRPO learning rate (constant; small, because Adam turns the noise of few-sample policy
    /// gradients into steps of full size).
    #[config(default = 3e-5)]
    pub lr: f64,
    /// Update epochs over each GRPO batch.
    #[config(default = 1)]
    pub epochs: usize,
    /// Responses per minibatch (0: the whole batch in one update).
    #[config(default = 0)]
    pub minibatch: usize,
    /// Lower clip ε_low of the ratio.
    #[config(default = 0.2)]
    pub clip_low: f64,
    /// Upper clip ε_high of the ratio.
    #[config(default = 0.28)]
    pub clip_high: f64,
    /// KL coefficient β to the model as GRPO began (0: no reference model).
    #[config(default = 0.0)]
    pub kl_coef: f64,
    /// Drop groups whose rewards are all equal.
    #[config(default = true)]
    pub dynamic_sampling: bool,
    /// Sampling temperature of the rollouts.
    #[config(default = 1.0)]
    pub temperature: f64,
    /// Longest response in tokens (0: the task's longest worked answer plus 4).
    #[config(default = 0)]
    pub max_new_tokens: usize,
    /// ERA on (false: plain GRPO).
    #[config(default = true)]
    pub era: bool,
    /// ERA's ω_low.
    #[config(default = "TINY_OMEGA_LOW")]
    pub omega_low: f64,
    /// ERA's ω_high.
    #[config(default = "TINY_OMEGA_HIGH")]
    pub omega_high: f64,
    /// ERA's k.
    #[config(default = "llm_scaling::DEFAULT_K")]
    pub era_k: f64,
    /// Share of highest token entropies averaged into H_resp.
    #[config(default = "llm_scaling::DEFAULT_TOP_FRACTION")]
    pub top_fraction: f64,
    /// Rescale the advantage by 1/k or k with the logits.
    #[config(default = true)]
    pub advantage_rescale: bool,
    /// Compute log π' over this many largest logits (absent: all).
    pub top_k_logprobs: Option<usize>,
    /// The importance ratio's denominator: the rollout policy's own (unscaled) log-probabilities, as
    /// the authors' verl code computes them before advantages exist, instead of the old policy under
    /// ERA's scale (which makes the ratio 1 before the first update).
    #[config(default = false)]
    pub ratio_to_rollout: bool,
    /// Learn from both advantage signs (GRPO) or from one side only.
    #[config(default = "AdvantageSign::Both")]
    pub advantage_sign: AdvantageSign,
    /// Evaluate every this many GRPO steps.
    #[config(default = 100)]
    pub eval_every: u64,
    /// Test problems used per evaluation (the first of the test split).
    #[config(default = 64)]
    pub eval_prompts: usize,
    /// Samples per test problem for pass@k.
    #[config(default = 16)]
    pub eval_samples: usize,
    /// Log every this many steps.
    #[config(default = 5)]
    pub log_every: u64,
    /// The run's seed (model init, problems, sampling).
    #[config(default = 0)]
    pub seed: u64,
}

impl LlmConfig {
    /// `grpo-era` or `grpo`.
    pub fn algorithm_name(&self) -> &'static str {
        if self.era { "grpo-era" } else { "grpo" }
    }

    /// The authors' released ERA-LLM settings for real models (`qwen_7b_era_topk.sh` in their public
    /// repository, Qwen2.5-Math-7B on DAPO-Math-17k, run through their fork of verl), where era has the
    /// setting; every other setting stays as it is. Value by value, with where it is set:
    ///
    /// | setting | value | released |
    /// |---|---|---|
    /// | `omega_low`, `omega_high` | 0.45, 3.0 | `era_lb`, `era_ub` |
    /// | `era_k` | 2 | `era_k` |
    /// | `advantage_rescale` | false | `adv_scale=False` (the paper's objective rescales) |
    /// | `top_k_logprobs` | 20 | `topk=True`; `logprobs_from_logits_topk` keeps 20 logits |
    /// | `top_fraction` | 0.2 | `dp_actor.py`: `k = max(1, ⌊0.2·len⌋)` highest entropies |
    /// | `ratio_to_rollout` | true | the old log-probs are the rollout's, before ERA's scale |
    /// | `clip_low`, `clip_high` | 1.0, 1.0 | `clip_ratio_low`, `clip_ratio_high` |
    /// | `kl_coef` | 0 | `use_kl_loss=False`, `use_kl_in_reward=False` |
    /// | `lr` | 1e-6, constant | `optim.lr`, `warmup_style=constant` |
    /// | `group` | 8 | `n_resp_per_prompt` |
    /// | `prompts` | 256 | `train_prompt_bsz` |
    /// | `minibatch` | 0 (the whole batch) | `train_prompt_mini_bsz` = `train_prompt_bsz` |
    /// | `epochs` | 1 | `ppo_epochs` (verl's default) |
    /// | `dynamic_sampling` | true | `filter_groups.enable=True` |
    /// | `temperature` | 1.0 | `rollout.temperature` |
    /// | `max_new_tokens` | 8192 | `max_response_length` |
    /// | `warmup_steps` | 0 | (GRPO from the checkpoint) |
    ///
    /// Not in era, so not matched: the global gradient-norm clip 1.0 (era clips each tensor's norm to
    /// 1), the dual clip `clip_ratio_c = 10`, prompts truncated on the left to 2 048 tokens, 768
    /// prompts generated per step to fill 256 after filtering, and evaluation at top-p 0.7.
    pub fn released(self) -> Self {
        Self {
            omega_low: 0.45,
            omega_high: 3.0,
            era_k: 2.0,
            advantage_rescale: false,
            top_k_logprobs: Some(20),
            top_fraction: 0.2,
            ratio_to_rollout: true,
            clip_low: 1.0,
            clip_high: 1.0,
            kl_coef: 0.0,
            lr: 1e-6,
            group: 8,
            prompts: 256,
            minibatch: 0,
            epochs: 1,
            dynamic_sampling: true,
            temperature: 1.0,
            max_new_tokens: 8192,
            warmup_steps: 0,
            ..self
        }
    }

    /// The task's name in run logs and `era compare`: `arithmetic`, or the data file's name without
    /// its extension.
    pub fn task_name(&self) -> String {
        match &self.data {
            None => "arithmetic".into(),
            Some(d) => std::path::Path::new(d).file_stem().map_or(d.clone(), |s| s.to_string_lossy().into_owned()),
        }
    }

    /// ERA's settings, when on.
    pub fn llm_era(&self) -> Result<Option<LlmEra>, TrainError> {
        if !self.era {
            return Ok(None);
        }
        Ok(Some(LlmEra::new(self.omega_low, self.omega_high, self.era_k, self.top_fraction, self.advantage_rescale)?))
    }

    /// The header's `era` object.
    pub fn era_targets(&self) -> EraTargets {
        EraTargets {
            enabled: self.era,
            omega_low: Some(self.omega_low),
            omega_high: Some(self.omega_high),
            k: Some(self.era_k),
            top_fraction: Some(self.top_fraction),
            advantage_rescale: Some(self.advantage_rescale),
            top_k_logprobs: self.top_k_logprobs,
            ratio_to_rollout: Some(self.ratio_to_rollout),
            ..EraTargets::default()
        }
    }

    /// Fails naming the setting when one cannot work.
    pub fn validate(&self) -> Result<(), TrainError> {
        self.checked_task().map(|_| ())
    }

    /// The settings checked, and the task they describe (built once: it is the last check).
    fn checked_task(&self) -> Result<Task, TrainError> {
        let bad = |m: String| Err(TrainError::Config(m));
        self.llm_era()?;
        if self.group < 2 {
            return bad(format!("group {} is outside 2.. (advantages compare responses to one prompt)", self.group));
        }
        for (name, v) in [("prompts", self.prompts), ("warmup_batch", self.warmup_batch), ("epochs", self.epochs)] {
            if v == 0 {
                return bad(format!("{name} 0 is outside 1.."));
            }
        }
        if !(1..=PASS_KS[PASS_KS.len() - 1]).contains(&self.eval_samples) || self.eval_prompts == 0 {
            return bad(format!("eval_samples {} is outside 1..=16 or eval_prompts is 0", self.eval_samples));
        }
        if self.data.is_none() && self.eval_prompts > self.test_size {
            return bad(format!("eval_prompts {} exceeds test_size {}", self.eval_prompts, self.test_size));
        }
        for (name, v) in [("lr", self.lr), ("warmup_lr", self.warmup_lr)] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(format!("{name} {v} is outside (0, inf)"));
            }
        }
        if !(self.clip_low >= 0.0 && self.clip_low <= 1.0 && self.clip_high >= 0.0 && self.kl_coef >= 0.0) {
            return bad(format!(
                "clip_low {} must be in [0, 1], clip_high {} and kl_coef {} ≥ 0",
                self.clip_low, self.clip_high, self.kl_coef
            ));
        }
        if self.top_k_logprobs == Some(0) || self.eval_every == 0 || self.log_every == 0 {
            return bad("top_k_logprobs, eval_every and log_every must be ≥ 1".into());
        }
        Sampling { temperature: self.temperature, ..Sampling::default() }.check().map_err(TrainError::Config)?;
        let Some(data) = &self.data else {
            return Arithmetic::new(self.digits, self.test_size, self.seed)
                .map(Task::Arithmetic)
                .map_err(TrainError::Config);
        };
        if !(self.format_reward >= 0.0 && self.format_reward.is_finite()) {
            return bad(format!("format_reward {} is outside [0, inf)", self.format_reward));
        }
        if self.format_reward > 0.0 && !self.reward.has_format() {
            return bad(format!("format_reward needs a reward with a format (numeric or regex:), not {}", self.reward));
        }
        let fields = Fields { prompt: &self.prompt_field, answer: &self.answer_field };
        let (rows, mut skipped) = prompts::read(std::path::Path::new(data), &fields)?;
        let prompts = match &self.eval_data {
            Some(eval) => {
                let (test, more) = prompts::read(std::path::Path::new(eval), &fields)?;
                skipped.merge(more);
                Prompts::new(rows, test)?
            }
            None => Prompts::split(rows, self.eval_fraction, 0)?,
        };
        Ok(Task::Prompts { prompts, reward: self.reward.clone(), format_weight: self.format_reward, skipped })
    }

    /// The characters of a file task's prompts and answers (training and test rows), sorted: the
    /// vocabulary the tiny model is given for the user's own problems. `None` for the arithmetic task.
    pub fn file_alphabet(&self) -> Result<Option<String>, TrainError> {
        let Task::Prompts { prompts, .. } = self.checked_task()? else { return Ok(None) };
        let chars: std::collections::BTreeSet<char> = prompts
            .train_rows()
            .iter()
            .chain(prompts.test())
            .flat_map(|r| r.prompt.chars().chain(r.answer.chars()))
            .collect();
        Ok(Some(chars.into_iter().collect()))
    }

    /// The longest response sampled: `max_new_tokens`, or when 0 the arithmetic task's longest worked
    /// answer plus 4 tokens, or for a file task [`FILE_MAX_NEW_TOKENS`] within half the `context`.
    pub fn max_new(&self, task: &Task, tokenizer: &LlmTokenizer, context: usize) -> usize {
        match (self.max_new_tokens, task.longest()) {
            (0, Some(item)) => tokenizer.encode(&item.worked()).map_or(16, |t| t.len()) + 4,
            (0, None) => FILE_MAX_NEW_TOKENS.min(context / 2).max(1),
            (n, _) => n,
        }
    }

    /// Checks the settings and that `tokenizer` can write the task's prompts and answers, without
    /// building a model; returns the task. A file task keeps the rows whose prompt (and, with a
    /// warm-up, answer) the tokenizer writes within `context` tokens together with the longest
    /// response; the others are counted in [`Task::skipped`].
    pub fn task_for(&self, tokenizer: &LlmTokenizer, context: usize) -> Result<Task, TrainError> {
        let task = self.checked_task()?;
        let max_new = self.max_new(&task, tokenizer, context);
        let fits = |item: &Item| -> Result<(), String> {
            let mut texts = vec![item.prompt()];
            if self.warmup_steps > 0 {
                texts.push(item.worked());
            }
            let mut tokens = 0;
            for t in texts {
                tokens += tokenizer.encode(&t)?.len();
            }
            if tokens + max_new > context {
                return Err(format!("{tokens} tokens + {max_new} for the response exceed the context of {context}"));
            }
            Ok(())
        };
        match task {
            Task::Arithmetic(_) => {
                let sample = task.test(1).into_iter().chain(task.longest()).collect::<Vec<_>>();
                for item in &sample {
                    for text in [item.prompt(), item.worked()] {
                        tokenizer.encode(&text).map_err(|e| TrainError::Config(format!("the arithmetic task: {e}")))?;
                    }
                }
                Ok(task)
            }
            Task::Prompts { prompts, reward, format_weight, mut skipped } => {
                let prompts = self.chat_prompts(prompts, tokenizer)?;
                let mut here = Skipped::default();
                let mut keep = |rows: &[prompts::Row], split: &str| {
                    let mut kept = Vec::with_capacity(rows.len());
                    for (i, r) in rows.iter().enumerate() {
                        match fits(&Item::Row(r.clone())) {
                            Ok(()) => kept.push(r.clone()),
                            Err(why) => {
                                here.merge(Skipped { count: 1, first: Some(format!("{split} row {i}: {why}")) })
                            }
                        }
                    }
                    kept
                };
                let (train, test) = (keep(prompts.train_rows(), "training"), keep(prompts.test(), "test"));
                let prompts = Prompts::new(train, test).map_err(|e| {
                    let why = here.first.clone().unwrap_or_default();
                    TrainError::Config(format!(
                        "{e} after leaving out {} rows that do not fit (first: {why})",
                        here.count
                    ))
                })?;
                skipped.merge(here);
                Ok(Task::Prompts { prompts, reward, format_weight, skipped })
            }
        }
    }
}

impl LlmConfig {
    /// `prompts` as the model reads them: each rendered with the tokenizer's chat template (and
    /// [`LlmConfig::system`]) when [`LlmConfig::chat_template`] is on and the model has one.
    fn chat_prompts(&self, prompts: Prompts, tokenizer: &LlmTokenizer) -> Result<Prompts, TrainError> {
        let template = tokenizer.chat_template().filter(|_| self.chat_template);
        let Some(template) = template else {
            if self.system.is_some() {
                return Err(TrainError::Config(format!(
                    "system: a system turn needs the model's chat template, and {}",
                    if self.chat_template {
                        "this model has none (no chat_template in its tokenizer_config.json)"
                    } else {
                        "chat_template is off (--no-chat-template)"
                    }
                )));
            }
            return Ok(prompts);
        };
        let render = |rows: &[prompts::Row]| -> Result<Vec<prompts::Row>, TrainError> {
            let rendered = template
                .render_all(self.system.as_deref(), rows.iter().map(|r| r.prompt.as_str()))
                .map_err(TrainError::Config)?;
            Ok(rendered
                .into_iter()
                .zip(rows)
                .map(|(prompt, r)| prompts::Row { prompt, answer: r.answer.clone() })
                .collect())
        };
        Prompts::new(render(prompts.train_rows())?, render(prompts.test())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::ChatTemplate;

    #[test]
    fn the_released_preset_sets_the_scripts_values_and_keeps_the_rest() {
        let c = LlmConfig::new().with_digits(2).released();
        assert_eq!((c.omega_low, c.omega_high, c.era_k, c.top_k_logprobs), (0.45, 3.0, 2.0, Some(20)));
        assert_eq!((c.advantage_rescale, c.ratio_to_rollout, c.clip_low, c.clip_high), (false, true, 1.0, 1.0));
        assert_eq!((c.lr, c.group, c.prompts, c.max_new_tokens, c.warmup_steps), (1e-6, 8, 256, 8192, 0));
        assert_eq!(c.digits, 2, "settings the release has no word on stay");
        assert!(c.llm_era().unwrap().is_some());
    }

    #[test]
    fn file_prompts_go_through_the_chat_template_with_the_system_turn_unless_it_is_off() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("p.jsonl");
        let rows: String =
            (10..30).map(|i| format!("{{\"prompt\": \"{i}+1\", \"answer\": \"{}\"}}\n", i + 1)).collect();
        std::fs::write(&data, rows).unwrap();
        let config = LlmConfig::new().with_data(Some(data.display().to_string())).with_warmup_steps(0);
        // A template over the tiny model's characters: the system turn (if any), then the prompt and `=`.
        let template = ChatTemplate::new(
            "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }},{% else %}{{ m.content }}={% endif %}{% endfor %}",
            vec![],
            "tokenizer_config.json",
        )
        .unwrap();
        let (_, tiny) = super::super::source::tiny_model();
        let templated = tiny.clone().with_chat_template(Some(template));
        let prompts = |config: &LlmConfig, tokenizer: &LlmTokenizer| -> Result<Vec<String>, TrainError> {
            Ok(config.task_for(tokenizer, 64)?.test(100).iter().map(Item::prompt).collect())
        };
        let plain = prompts(&config, &tiny).unwrap();
        assert!(plain.iter().all(|p| p.ends_with("+1")), "{plain:?}");
        let rendered = prompts(&config, &templated).unwrap();
        assert_eq!(rendered, plain.iter().map(|p| format!("{p}=")).collect::<Vec<_>>());
        let with_system = prompts(&config.clone().with_system(Some("7".into())), &templated).unwrap();
        assert_eq!(with_system, plain.iter().map(|p| format!("7,{p}=")).collect::<Vec<_>>());
        assert_eq!(prompts(&config.clone().with_chat_template(false), &templated).unwrap(), plain);
        // A system turn with no template to carry it is refused, naming why.
        let e = prompts(&config.clone().with_system(Some("7".into())), &tiny).unwrap_err().to_string();
        assert!(e.contains("this model has none"), "{e}");
        let off = config.with_system(Some("7".into())).with_chat_template(false);
        let e = prompts(&off, &templated).unwrap_err().to_string();
        assert!(e.contains("--no-chat-template"), "{e}");
    }
}
