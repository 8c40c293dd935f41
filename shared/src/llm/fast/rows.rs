//! A batch as the fast path reads it: packed rows of token ids, and their split into one shard per
//! thread. Both the update and sampling read batches this way.

use crate::train::TrainError;

/// A batch of packed rows (see [`crate::llm::packing::Packed`]).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// `[rows, width]` token ids.
    pub ids: &'a [i64],
    /// Left padding per row.
    pub pads: &'a [usize],
    /// Sequence width.
    pub width: usize,
    /// `[rows, width − 1]`: whether position `t` predicts a response token.
    pub mask: &'a [bool],
}

impl<'a> Rows<'a> {
    /// The rows of a packed batch.
    pub fn of(p: &'a crate::llm::packing::Packed) -> Self {
        Self { ids: &p.ids, pads: &p.pads, width: p.width, mask: &p.mask }
    }

    pub(crate) fn count(&self) -> usize {
        self.pads.len()
    }

    /// Positions per row (`width − 1`).
    pub(crate) fn len(&self) -> usize {
        self.width.saturating_sub(1)
    }

    /// The input tokens (all but each row's last) as vocabulary indices, refusing any outside it or
    /// a batch whose parts do not fit together.
    pub(crate) fn inputs(&self, vocab: usize) -> Result<Vec<usize>, TrainError> {
        let (n, w) = (self.count(), self.width);
        if self.ids.len() != n * w || self.mask.len() != n * self.len() || w < 2 {
            return Err(TrainError::Config(format!("a batch of {n} rows of width {w} has mismatched parts")));
        }
        let inputs: Vec<i64> = self.ids.chunks_exact(w).flat_map(|r| r[..w - 1].iter().copied()).collect();
        vocabulary_ids(&inputs, vocab)
    }
}

/// Parameters from which a model's passes keep the rows together and split each matrix product over
/// the cores instead: split by rows, every thread reads every weight (at 0.5 B parameters, 2 GB per
/// thread per decoded token) and, in training, holds a gradient buffer as large as the model.
pub(crate) const LARGE_MODEL: usize = 50_000_000;

/// How `threads` cores share a pass of a model of `params` parameters: `(row shards, threads per
/// matrix product)`.
pub(crate) fn split_for(params: usize, threads: usize) -> (usize, usize) {
    if params >= LARGE_MODEL { (1, threads.max(1)) } else { (threads.max(1), 1) }
}

/// `count` rows in at most `threads` contiguous shards.
pub(crate) fn shards(count: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let n = threads.min(count).max(1);
    let per = count.div_ceil(n);
    (0..n).map(|i| (i * per).min(count)..((i + 1) * per).min(count)).collect()
}

/// Token ids as vocabulary indices, refusing any outside it.
pub(crate) fn vocabulary_ids(ids: &[i64], vocab: usize) -> Result<Vec<usize>, TrainError> {
    ids.iter()
        .map(|&id| match usize::try_from(id) {
            Ok(i) if i < vocab => Ok(i),
            _ => Err(TrainError::Config(format!("token id {id} is outside the vocabulary of {vocab}"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_models_keep_the_rows_together_and_split_the_products() {
        // The tiny model (0.99 M): rows over the threads; Qwen2.5-0.5B (494 M): one part, 8 threads each product.
        assert_eq!(split_for(987_136, 8), (8, 1));
        assert_eq!(split_for(494_032_768, 8), (1, 8));
        assert_eq!(split_for(LARGE_MODEL, 0), (1, 1));
    }
}
