//! The one way values cross between the host and a device: [`read`] (asynchronous, for WebGPU) and
//! [`upload`].

use burn::tensor::{Tensor, backend::Backend};

use super::TrainError;

/// Reads a tensor's values as `f32`. The one path by which trainers read the device: `await` it in
/// the browser, block on it natively (`pollster::block_on`).
pub async fn read<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> Result<Vec<f32>, TrainError> {
    let data = tensor.into_data_async().await.map_err(|e| TrainError::Device(format!("{e:?}")))?;
    data.convert::<f32>().into_vec::<f32>().map_err(|e| TrainError::Device(format!("{e:?}")))
}

/// A float tensor from `f32` host values.
pub fn upload<B: Backend, const D: usize>(values: &[f32], shape: [usize; D], device: &B::Device) -> Tensor<B, D> {
    Tensor::from_data(burn::tensor::TensorData::new(values.to_vec(), shape).convert::<B::FloatElem>(), device)
}
