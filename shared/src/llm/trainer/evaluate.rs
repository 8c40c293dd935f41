//! Evaluation of an LLM run: pass@k by sampling and greedy accuracy on the test split.

use burn::tensor::backend::AutodiffBackend;
use rand::SeedableRng;

use super::LlmTrainer;
use crate::llm::config::PASS_KS;
use crate::llm::generate::Sampling;
use crate::llm::grpo::pass_at_k;
use crate::llm::packing::Packed;
use crate::metrics;
use crate::train::{TrainError, TrainRng};

/// pass@k and greedy accuracy on the test split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `(k, pass@k)` for each reported `k ≤ samples`.
    pub pass: Vec<(usize, f64)>,
    /// Share of test problems answered exactly by greedy decoding.
    pub greedy_accuracy: f64,
    /// Mean token entropy of the sampled test responses.
    pub entropy_mean: f64,
    /// Test problems used.
    pub problems: usize,
    /// Samples per problem.
    pub samples: usize,
}

impl Evaluation {
    /// The logged `(key, value)` pairs.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let mut m: Vec<(&'static str, f64)> = self
            .pass
            .iter()
            .filter_map(|&(k, v)| PASS_KS.iter().position(|&x| x == k).map(|i| (metrics::PASS_AT_KEYS[i], v)))
            .collect();
        m.push((metrics::EVAL_GREEDY_ACCURACY, self.greedy_accuracy));
        m.push((metrics::EVAL_ENTROPY_MEAN, self.entropy_mean));
        m
    }
}

impl<B: AutodiffBackend> LlmTrainer<B> {
    /// pass@k (sampling at temperature 1) and greedy accuracy on the first `eval_prompts` test
    /// problems, from a generator seeded by the run's seed and step.
    pub async fn evaluate(&self) -> Result<Evaluation, TrainError> {
        self.evaluate_with(self.config.eval_prompts, self.config.eval_samples).await
    }

    /// [`Self::evaluate`] with `problems` test problems and `samples` samples each.
    pub async fn evaluate_with(&self, problems: usize, samples: usize) -> Result<Evaluation, TrainError> {
        let test = self.task.test(problems);
        let mut rng = TrainRng::seed_from_u64(self.config.seed.wrapping_mul(0x9e37_79b9).wrapping_add(self.step));
        let stop = self.tokenizer.stop_ids().to_vec();
        let prompts: Vec<Vec<u32>> = test.iter().map(|p| self.encode(&p.prompt())).collect::<Result<_, _>>()?;
        let text = |r: &[u32]| -> String {
            let ids: Vec<u32> = r.iter().copied().filter(|t| !stop.contains(t)).collect();
            self.tokenizer.decode(&ids)
        };
        let greedy = self.sample(&prompts, &Sampling::greedy(), &mut rng).await?;
        let greedy_ok = greedy.iter().zip(&test).filter(|(r, p)| self.task.correct(p, &text(r))).count();
        let mut correct = vec![0usize; test.len()];
        let mut entropy = (0.0, 0usize);
        // At most 256 sequences per batch keeps memory flat for large evaluations.
        let per = (256 / samples).max(1);
        for (chunk_i, chunk) in prompts.chunks(per).enumerate() {
            let batch: Vec<Vec<u32>> = chunk.iter().flat_map(|p| std::iter::repeat_n(p.clone(), samples)).collect();
            let out = self.sample(&batch, &Sampling::default(), &mut rng).await?;
            let packed = Packed::new(&batch, &out, stop[0]);
            let (stats, _) = self.rollout_stats(&packed).await?;
            entropy.0 += stats.iter().map(|e| e.0).sum::<f64>();
            entropy.1 += out.len();
            for (i, r) in out.iter().enumerate() {
                let p = chunk_i * per + i / samples;
                if self.task.correct(&test[p], &text(r)) {
                    correct[p] += 1;
                }
            }
        }
        let pass = PASS_KS
            .iter()
            .filter(|&&k| k <= samples)
            .map(|&k| (k, correct.iter().map(|&c| pass_at_k(samples, c, k)).sum::<f64>() / test.len() as f64))
            .collect();
        Ok(Evaluation {
            pass,
            greedy_accuracy: greedy_ok as f64 / test.len() as f64,
            entropy_mean: entropy.0 / entropy.1.max(1) as f64,
            problems: test.len(),
            samples,
        })
    }
}
