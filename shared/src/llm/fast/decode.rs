//! Generation and forward passes without a gradient on the fast CPU path: [`FastDecoder`] samples
//! with a KV cache as [`crate::llm::generate::sample`] asks, the rows split over the cores.

use rayon::prelude::*;

use super::model::{FastQwen2, Trace};
use super::rows::{Rows, shards, split_for, vocabulary_ids};
use crate::cpu::kernels::with_product_threads;
use crate::llm::generate::Decoder;
use crate::train::TrainError;

/// The fast path's decoder over `threads` shards of the batch's rows.
#[derive(Debug, Clone, Copy)]
pub struct FastDecoder<'a> {
    /// The weights.
    pub model: &'a FastQwen2,
    /// Shards to split the rows into (at most one per row).
    pub threads: usize,
}

impl<'a> FastDecoder<'a> {
    /// A decoder over `model` splitting the rows over up to 8 of rayon's threads.
    pub fn new(model: &'a FastQwen2) -> Self {
        Self { model, threads: rayon::current_num_threads().clamp(1, 8) }
    }
}

/// One KV cache per shard of rows.
#[derive(Debug, Default)]
pub struct FastCache {
    shards: Vec<(std::ops::Range<usize>, Trace)>,
}

impl Decoder for FastDecoder<'_> {
    type Cache = FastCache;

    fn cache(&self, rows: usize, capacity: usize) -> FastCache {
        let (parts, _) = split_for(self.model.params.len(), self.threads);
        let shards = shards(rows, parts)
            .into_iter()
            .map(|r| {
                let mut t = Trace::default();
                self.model.start_cache(&mut t, capacity);
                (r, t)
            })
            .collect();
        FastCache { shards }
    }

    async fn next_logits(
        &self,
        tokens: Vec<i64>,
        len: usize,
        pads: &[usize],
        cache: &mut FastCache,
    ) -> Result<Vec<f32>, TrainError> {
        let ids = vocabulary_ids(&tokens, self.model.config().vocab_size)?;
        if ids.len() != pads.len() * len {
            return Err(TrainError::Config(format!("{} tokens for {} rows of {len}", ids.len(), pads.len())));
        }
        let model = self.model;
        let (_, products) = split_for(model.params.len(), self.threads);
        cache.shards.par_iter_mut().for_each(|(r, t)| {
            with_product_threads(products, || model.decode(&ids[r.start * len..r.end * len], &pads[r.clone()], len, t));
        });
        Ok(cache.shards.iter().flat_map(|(_, t)| t.logits.iter().copied()).collect())
    }
}

/// The logits `[rows, width − 1, vocab]` of `rows` under `model` (no gradient), over `threads` shards.
pub fn logits(model: &FastQwen2, rows: &Rows<'_>, threads: usize) -> Result<Vec<f32>, TrainError> {
    let tokens = rows.inputs(model.config().vocab_size)?;
    let t = rows.width - 1;
    let (split, products) = split_for(model.params.len(), threads);
    let mut parts: Vec<(std::ops::Range<usize>, Trace)> =
        shards(rows.pads.len(), split).into_iter().map(|r| (r, Trace::default())).collect();
    parts.par_iter_mut().for_each(|(r, tr)| {
        with_product_threads(products, || model.forward(&tokens[r.start * t..r.end * t], &rows.pads[r.clone()], t, tr));
    });
    Ok(parts.iter().flat_map(|(_, tr)| tr.logits.iter().copied()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::fast::fixtures::{config, rel, weights};
    use crate::llm::generate::{BurnDecoder, Sampling, sample};
    use crate::llm::qwen2::Qwen2;
    use crate::train::TrainRng;
    use burn::backend::NdArray;
    use rand::SeedableRng;

    type I = NdArray<f64>;

    #[test]
    fn cached_decoding_matches_the_burn_model_step_by_step_and_samples_the_same_tokens() {
        let c = config(true);
        let w = weights(&c);
        let burn = Qwen2::<I>::from_weights(&c, &w, &Default::default()).unwrap();
        let fast = FastQwen2::from_weights(&c, &w).unwrap();
        let dev = Default::default();
        let prompts: Vec<Vec<u32>> = vec![vec![3, 4, 5], vec![6], vec![8, 9, 10, 11], vec![2, 7]];
        for threads in [1, 3] {
            let decoder = FastDecoder { model: &fast, threads };
            let reference = BurnDecoder { model: &burn, device: &dev };
            // The prefill of left-padded prompts, then one token per row, three times: the same logits.
            let (ids, pads, width) = crate::llm::generate::left_pad(&prompts, 0);
            let (mut a, mut b) = (decoder.cache(4, width + 3), reference.cache(4, width + 3));
            let (mut input, mut len) = (ids, width);
            for step in 0..4 {
                let x = pollster::block_on(decoder.next_logits(input.clone(), len, &pads, &mut a)).unwrap();
                let y = pollster::block_on(reference.next_logits(input, len, &pads, &mut b)).unwrap();
                let d = rel(&x, &y);
                assert!(d < 1e-5, "{threads} shards, step {step}: logits differ by {d}");
                (input, len) = (vec![(step + 1) as i64, 12, 5, 0], 1);
            }
            // Sampling from the same generator state picks the same tokens (greedy and at temperature 1).
            for sampling in [Sampling::greedy(), Sampling::default()] {
                let run = |d: &dyn Fn(&mut TrainRng) -> Vec<Vec<u32>>| d(&mut TrainRng::seed_from_u64(4));
                let x = run(&|rng| pollster::block_on(sample(&decoder, &prompts, 6, &[1], &sampling, rng)).unwrap());
                let y = run(&|rng| pollster::block_on(sample(&reference, &prompts, 6, &[1], &sampling, rng)).unwrap());
                assert_eq!(x, y, "{threads} shards, {sampling:?}");
            }
        }
        // A token outside the vocabulary is refused, not indexed.
        let decoder = FastDecoder { model: &fast, threads: 1 };
        let mut cache = decoder.cache(1, 4);
        let e = pollster::block_on(decoder.next_logits(vec![99], 1, &[0], &mut cache)).unwrap_err().to_string();
        assert!(e.contains("token id 99"), "{e}");
    }
}
