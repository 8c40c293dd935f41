//! What the vision loop asks of the engine that computes its steps, and the one constructor that
//! builds either.
//!
//! The loop ([`VisionTrainer`](super::trainer::VisionTrainer)) owns the [`Course`]: batches and their
//! augmentation, the schedule, the ERA floor's settings, logging and the loop's position. A
//! [`Learner`] owns the network and SGD's momentum: [`BurnLearner`] on any burn backend, and with
//! feature `fast` [`crate::vision::fast::FastLearner`] on the CPU's kernels. Both write the network in
//! burn's record format ([`NET_PART`]), so either engine's checkpoint evaluates on any backend.

use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, Optimizer, Sgd, SgdConfig, decay::WeightDecayConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor, TensorData};

use super::classifier::{Net, cross_entropy};
use super::config::VisionConfig;
use super::trainer::{Course, EvalSum, Evaluation};
use crate::data::ImageDataset;
use crate::softmax_floor::SoftmaxFloor;
use crate::train::{Engine, Part, Pending, TrainError, load_module, load_record, part, read, record_bytes, upload};

/// The checkpoint part holding the network, in burn's record format (both engines write it).
pub const NET_PART: &str = "net.mpk";
/// The checkpoint part holding burn's SGD state.
pub(crate) const OPTIM_PART: &str = "optim.mpk";
/// The checkpoint part holding the fast engine's momentum.
pub(crate) const FAST_OPTIM_PART: &str = "momentum.safetensors";

/// The network and its optimiser on one engine: what the vision loop drives.
pub trait Learner<B: AutodiffBackend> {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// One SGD step at `lr` on a batch (`pixels` normalised, `[batch, channels, height, width]`):
    /// its loss and the output logits `[batch, classes]` (through the floor when ERA is on).
    fn step<'a>(
        &'a mut self,
        course: &'a Course,
        pixels: &'a [f32],
        labels: &'a [u16],
        step: u64,
        lr: f64,
    ) -> Pending<'a, (f64, Vec<f32>)>;

    /// Loss, accuracy and prediction entropy on `data` (batch norm on its running statistics, no
    /// dropout).
    fn evaluate<'a>(&'a mut self, course: &'a Course, data: &'a ImageDataset) -> Pending<'a, Evaluation>;

    /// The network as burn's model.
    fn net(&self) -> Net<B>;

    /// The network's and the optimiser's checkpoint parts.
    fn save(&self) -> Result<Vec<Part>, TrainError>;

    /// Continues from [`Learner::save`]'s parts.
    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError>;

    /// Takes only the network from a checkpoint of either engine (for evaluation).
    fn load_net(&mut self, parts: &[Part]) -> Result<(), TrainError>;
}

/// The learner for `engine`, with the initial weights the course's seed draws.
pub fn learner<B: AutodiffBackend>(
    engine: Engine,
    course: &Course,
    device: &B::Device,
) -> Result<Box<dyn Learner<B>>, TrainError> {
    let net = Net::new(course.config.model, course.image_shape(), course.train.classes(), course.init_seed(), device);
    match engine {
        Engine::Burn => Ok(Box::new(BurnLearner { net, optim: sgd::<B>(&course.config), device: device.clone() })),
        #[cfg(feature = "fast")]
        Engine::Fast => Ok(Box::new(crate::vision::fast::FastLearner::new(course, &net, device)?)),
        #[cfg(not(feature = "fast"))]
        Engine::Fast => Err(TrainError::no_fast_path()),
    }
}

/// The SGD optimiser of a run: momentum without dampening, weight decay added to the gradients.
fn sgd<B: AutodiffBackend>(config: &VisionConfig) -> OptimizerAdaptor<Sgd<B::InnerBackend>, Net<B>, B> {
    SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_momentum(config.momentum).with_dampening(0.0)))
        .with_weight_decay((config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32)))
        .init()
}

/// The model's output logits, through the ERA floor when it is on.
fn output<C: Backend>(
    net: &Net<C>,
    floor: Option<&SoftmaxFloor>,
    x: Tensor<C, 4>,
    dropout: Option<(f64, u64)>,
) -> Tensor<C, 2> {
    let z = net.forward(x, dropout);
    match floor {
        Some(f) => crate::tensor::softmax_floor(z, f),
        None => z,
    }
}

/// The network as a burn module with burn's SGD, on any backend.
pub struct BurnLearner<B: AutodiffBackend> {
    net: Net<B>,
    optim: OptimizerAdaptor<Sgd<B::InnerBackend>, Net<B>, B>,
    device: B::Device,
}

impl<B: AutodiffBackend> Learner<B> for BurnLearner<B> {
    fn engine(&self) -> Engine {
        Engine::Burn
    }

    fn step<'a>(
        &'a mut self,
        course: &'a Course,
        pixels: &'a [f32],
        labels: &'a [u16],
        step: u64,
        lr: f64,
    ) -> Pending<'a, (f64, Vec<f32>)> {
        Box::pin(async move {
            let [c, h, w] = course.image_shape();
            let bs = labels.len();
            let x = upload::<B, 4>(pixels, [bs, c, h, w], &self.device);
            let y = Tensor::<B, 1, Int>::from_data(
                TensorData::new(labels.iter().map(|&l| i64::from(l)).collect::<Vec<_>>(), [bs]).convert::<B::IntElem>(),
                &self.device,
            );
            let z = output(&self.net, course.floor.as_ref(), x, course.dropout(step));
            let loss = cross_entropy(z.clone(), y, course.smoothing());
            let grads = GradientsParams::from_grads(loss.backward(), &self.net);
            self.net = self.optim.step(lr, self.net.clone(), grads);
            // One read per step: the loss and the output logits travel together (each read is a device sync).
            let host = read(Tensor::cat(vec![loss.inner(), z.inner().flatten::<1>(0, 1)], 0)).await?;
            Ok((f64::from(host[0]), host[1..].to_vec()))
        })
    }

    fn evaluate<'a>(&'a mut self, course: &'a Course, data: &'a ImageDataset) -> Pending<'a, Evaluation> {
        Box::pin(async move {
            let net = self.net.valid();
            let mut sum = EvalSum::new();
            for batch in course.eval_batches(data) {
                let (pixels, labels) = batch?;
                let x = upload::<B::InnerBackend, 4>(
                    &pixels,
                    [labels.len(), data.channels, data.height, data.width],
                    &self.device,
                );
                let z = read(output(&net, course.floor.as_ref(), x, None)).await?;
                sum.add(&z, &labels, data.classes());
            }
            Ok(sum.finish())
        })
    }

    fn net(&self) -> Net<B> {
        self.net.clone()
    }

    fn save(&self) -> Result<Vec<Part>, TrainError> {
        Ok(vec![
            record_bytes::<B, _>(self.net.clone().into_record(), NET_PART)?,
            record_bytes::<B, _>(self.optim.to_record(), OPTIM_PART)?,
        ])
    }

    fn load(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        if part(parts, OPTIM_PART).is_err() && part(parts, FAST_OPTIM_PART).is_ok() {
            return Err(TrainError::Checkpoint(
                "this checkpoint was written by --backend fast: resume it with --backend fast (era eval vision reads it on any backend)".into(),
            ));
        }
        self.load_net(parts)?;
        self.optim = self.optim.clone().load_record(load_record::<B, _>(parts, OPTIM_PART, &self.device)?);
        Ok(())
    }

    fn load_net(&mut self, parts: &[Part]) -> Result<(), TrainError> {
        self.net = load_module(self.net.clone(), parts, NET_PART, &self.device)?;
        Ok(())
    }
}
