//! Prompts and responses packed into one batch for a forward pass.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};

use super::generate::left_pad;

/// Prompt and response token ids packed for one forward pass.
#[derive(Debug, Clone)]
pub struct Packed {
    /// `[rows, width]` ids: left padding, prompt, response, right padding.
    pub ids: Vec<i64>,
    /// Left padding per row.
    pub pads: Vec<usize>,
    /// Sequence width.
    pub width: usize,
    /// `[rows, width − 1]`: whether position `t` predicts a response token (`t + 1`).
    pub mask: Vec<bool>,
}

impl Packed {
    /// Packs `prompts[i]` followed by `responses[i]`, padded with `pad`.
    pub fn new(prompts: &[Vec<u32>], responses: &[Vec<u32>], pad: u32) -> Self {
        let (left, pads, p_width) = left_pad(prompts, pad);
        let r_width = responses.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let width = p_width + r_width;
        let mut ids = Vec::with_capacity(prompts.len() * width);
        let mut mask = Vec::with_capacity(prompts.len() * (width - 1));
        for (row, r) in responses.iter().enumerate() {
            ids.extend_from_slice(&left[row * p_width..(row + 1) * p_width]);
            ids.extend(r.iter().map(|&t| t as i64));
            ids.extend(std::iter::repeat_n(pad as i64, r_width - r.len()));
            mask.extend((0..width - 1).map(|t| t + 1 >= p_width && t + 1 < p_width + r.len()));
        }
        Self { ids, pads, width, mask }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.pads.len()
    }

    /// The rows listed in `keep`, in that order.
    pub fn select(&self, keep: &[usize]) -> Self {
        let (w, m) = (self.width, self.width - 1);
        Self {
            ids: keep.iter().flat_map(|&r| self.ids[r * w..(r + 1) * w].iter().copied()).collect(),
            pads: keep.iter().map(|&r| self.pads[r]).collect(),
            width: w,
            mask: keep.iter().flat_map(|&r| self.mask[r * m..(r + 1) * m].iter().copied()).collect(),
        }
    }

    /// `(ids [rows, width], inputs [rows, width − 1], mask [rows, width − 1])` on `device`.
    pub fn tensors<B: Backend>(
        &self,
        device: &B::Device,
    ) -> (Tensor<B, 2, Int>, Tensor<B, 2, Int>, Tensor<B, 2, Bool>) {
        let (n, w) = (self.rows(), self.width);
        let ids: Tensor<B, 2, Int> = Tensor::from_data(TensorData::new(self.ids.clone(), [n, w]), device);
        let inputs = ids.clone().slice([0..n, 0..w - 1]);
        let mask = Tensor::from_data(TensorData::new(self.mask.clone(), [n, w - 1]), device);
        (ids, inputs, mask)
    }
}
