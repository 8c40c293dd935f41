//! Differentiable tensor versions of the ERA activations, generic over `B: Backend` (feature `burn`).
//!
//! Each function computes the same formula as its scalar twin in the crate root (the tests check that
//! they agree) and works on any backend: ndarray for tests, wgpu for training, WebGPU in the browser.
//! None of the activations reads a tensor's value back to the host, so none blocks on the device
//! (only [`to_f64`], meant for tests and the command line, does).

pub mod gaussian;
pub mod llm_scaling;
pub mod softmax_floor;

pub use gaussian::{
    delta_loss, diag_gaussian_entropy, erfinv, gaussian_era_log_std, gaussian_era_log_std_learned, gaussian_log_prob,
    tanh_gaussian_log_prob, truncated_normal_entropy, truncated_normal_log_prob, truncated_normal_quantile,
    truncated_normal_sample,
};
pub use llm_scaling::{
    h_resp, scale_logits, scaled_token_log_probs, token_entropy, token_log_probs, top_k_token_log_probs,
};
pub use softmax_floor::{lambert_w_minus1_from_log, softmax_floor};

use burn::tensor::{Tensor, TensorData, backend::Backend};

/// A float tensor from `f64` values, stored in the backend's float element type.
///
/// `Tensor::from_data` keeps the data's own dtype, so `f64` data on an `f32` backend would stay `f64`;
/// this converts first.
pub fn from_f64<B: Backend, const N: usize>(values: Vec<f64>, shape: [usize; N], device: &B::Device) -> Tensor<B, N> {
    Tensor::from_data(TensorData::new(values, shape).convert::<B::FloatElem>(), device)
}

/// A float tensor's values as `f64`, whatever its element type. Blocks until the device is done: for
/// tests, the command line and the end of a step, never inside a browser's frame loop.
pub fn to_f64<B: Backend, const N: usize>(tensor: Tensor<B, N>) -> Vec<f64> {
    tensor.into_data().iter::<f64>().collect()
}
