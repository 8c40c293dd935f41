//! The small CNN and the ResNets as a list of layers over numbered activations, run forward and
//! backward on the shards of a batch side by side.
//!
//! The convolutional trunk runs per shard (a contiguous share of the batch's images, one per
//! thread); batch norms combine the shards' per-channel sums, so their statistics are the whole
//! batch's. The head (flatten or average pooling, the hidden layer of the small CNN, dropout and the
//! classifier) runs on the whole batch. Parameters are declared in burn's field order, so
//! [`FastNet::import`] and [`FastNet::export`] move weights to and from the burn model one to one.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::layers::{self, ConvShape, PoolShape};
use crate::cpu::matmul;
use crate::train::{TrainError, TrainRng};
use crate::vision::{ModelKind, Net};

/// burn's batch-norm defaults: `ε` and the running statistics' momentum.
const BN_EPS: f32 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

/// One layer of the trunk; activations and parameters by index and offset.
#[derive(Debug, Clone)]
enum Op {
    Conv { x: usize, y: usize, shape: ConvShape, weight: usize, bias: Option<usize> },
    Bn { x: usize, y: usize, gamma: usize, beta: usize, mean: usize, var: usize, cache: usize },
    Relu { x: usize, y: usize },
    Add { a: usize, b: usize, y: usize },
    MaxPool { x: usize, y: usize, shape: PoolShape, arg: usize },
}

/// A dense layer of the head: weight `[in, out]` (burn's layout), bias `[out]`.
#[derive(Debug, Clone, Copy)]
struct Dense {
    inputs: usize,
    outputs: usize,
    weight: usize,
    bias: usize,
}

/// How the trunk's last activation becomes the head's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    /// `[c, h, w]` → `c·h·w` features in that order (the small CNN).
    Flatten,
    /// The mean over `h × w` of each channel (the ResNets).
    Average,
}

/// Where a tensor of burn's model lives here, in burn's order.
#[derive(Debug, Clone)]
enum Slot {
    Param { offset: usize, shape: Vec<usize> },
    Stat { offset: usize, shape: Vec<usize> },
}

/// A network of [`ModelKind`] with its parameters and batch-norm running statistics.
#[derive(Debug, Clone)]
pub struct FastNet {
    /// Every trainable parameter, in burn's order.
    pub params: Vec<f32>,
    /// Every batch norm's running mean and variance.
    pub stats: Vec<f32>,
    kind: ModelKind,
    input: [usize; 3],
    classes: usize,
    acts: Vec<[usize; 3]>,
    ops: Vec<Op>,
    trunk_out: usize,
    pooling: Pooling,
    hidden: Option<Dense>,
    fc: Dense,
    slots: Vec<Slot>,
    pools: usize,
    norms: usize,
}

/// One shard's buffers, reused from step to step.
#[derive(Debug, Default)]
struct Shard {
    n: usize,
    acts: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    args: Vec<Vec<u32>>,
    patches: Vec<f32>,
    dparams: Vec<f32>,
}

/// The buffers of forward and backward passes, reused between steps.
#[derive(Debug, Default)]
pub struct Workspace {
    shards: Vec<Shard>,
    /// Per batch norm, the batch's mean and standard deviation of the last training forward pass.
    norms: Vec<(Vec<f32>, Vec<f32>)>,
    features: Vec<f32>,
    hidden: Vec<f32>,
    dropped: Vec<f32>,
    mask: Option<Vec<f32>>,
    grad: Vec<f32>,
}

/// The split of `batch` images into at most `shards` contiguous shards, as even as possible.
fn split(batch: usize, shards: usize) -> Vec<(usize, usize)> {
    let s = shards.clamp(1, batch.max(1));
    (0..s).map(|i| (batch * i / s, batch * (i + 1) / s - batch * i / s)).collect()
}

/// Builds a [`FastNet`], declaring parameters in burn's order.
struct Builder {
    net: FastNet,
}

impl Builder {
    fn act(&mut self, shape: [usize; 3]) -> usize {
        self.net.acts.push(shape);
        self.net.acts.len() - 1
    }

    fn param(&mut self, shape: Vec<usize>, init: f32) -> usize {
        let offset = self.net.params.len();
        self.net.params.resize(offset + shape.iter().product::<usize>(), init);
        self.net.slots.push(Slot::Param { offset, shape });
        offset
    }

    fn stat(&mut self, len: usize, init: f32) -> usize {
        let offset = self.net.stats.len();
        self.net.stats.resize(offset + len, init);
        self.net.slots.push(Slot::Stat { offset, shape: vec![len] });
        offset
    }

    /// A convolution (`pad` on each side), with a bias or not.
    fn conv(&mut self, x: usize, cout: usize, k: usize, stride: usize, pad: usize, bias: bool) -> usize {
        let [cin, h, w] = self.net.acts[x];
        let shape = ConvShape { cin, cout, k, stride, pad, h, w };
        let y = self.act([cout, shape.oh(), shape.ow()]);
        let weight = self.param(vec![cout, cin, k, k], 0.0);
        let bias = bias.then(|| self.param(vec![cout], 0.0));
        self.net.ops.push(Op::Conv { x, y, shape, weight, bias });
        y
    }

    /// A convolution without bias (padding `k/2`) and its batch norm, as the ResNets' `ConvBn`.
    fn conv_bn(&mut self, x: usize, cout: usize, k: usize, stride: usize) -> usize {
        let c = self.conv(x, cout, k, stride, k / 2, false);
        let shape = self.net.acts[c];
        let y = self.act(shape);
        let (gamma, beta) = (self.param(vec![cout], 1.0), self.param(vec![cout], 0.0));
        let (mean, var) = (self.stat(cout, 0.0), self.stat(cout, 1.0));
        self.net.ops.push(Op::Bn { x: c, y, gamma, beta, mean, var, cache: self.net.norms });
        self.net.norms += 1;
        y
    }

    fn relu(&mut self, x: usize) -> usize {
        let y = self.act(self.net.acts[x]);
        self.net.ops.push(Op::Relu { x, y });
        y
    }

    fn max_pool(&mut self, x: usize, k: usize, stride: usize, pad: usize) -> usize {
        let [c, h, w] = self.net.acts[x];
        let shape = PoolShape { k, stride, pad, h, w };
        let y = self.act([c, shape.oh(), shape.ow()]);
        self.net.ops.push(Op::MaxPool { x, y, shape, arg: self.net.pools });
        self.net.pools += 1;
        y
    }

    fn dense(&mut self, inputs: usize, outputs: usize) -> Dense {
        let weight = self.param(vec![inputs, outputs], 0.0);
        let bias = self.param(vec![outputs], 0.0);
        Dense { inputs, outputs, weight, bias }
    }

    /// A residual block (see `resnet::Block`): its convolutions, then the projection when the shape
    /// changes (burn's field order), the sum and a ReLU.
    fn block(&mut self, x: usize, bottleneck: bool, width: usize, stride: usize) -> usize {
        let cin = self.net.acts[x][0];
        let cout = if bottleneck { 4 * width } else { width };
        let mut y = x;
        let convs: &[(usize, usize, usize)] = if bottleneck {
            &[(width, 1, 1), (width, 3, stride), (cout, 1, 1)]
        } else {
            &[(width, 3, stride), (width, 3, 1)]
        };
        for (i, &(c, k, s)) in convs.iter().enumerate() {
            y = self.conv_bn(y, c, k, s);
            if i + 1 < convs.len() {
                y = self.relu(y);
            }
        }
        let identity = if stride != 1 || cin != cout { self.conv_bn(x, cout, 1, stride) } else { x };
        let sum = self.act(self.net.acts[y]);
        self.net.ops.push(Op::Add { a: y, b: identity, y: sum });
        self.relu(sum)
    }
}

/// Every tensor of burn's `net` (parameters and running statistics) as values, in burn's order.
pub fn tensors<B: Backend>(net: &Net<B>) -> Vec<Vec<f32>> {
    collect(net).into_iter().map(|(_, v)| v).collect()
}

/// Every tensor of burn's `net` with its shape, in burn's order.
fn collect<B: Backend>(net: &Net<B>) -> Vec<(Vec<usize>, Vec<f32>)> {
    struct Collect(Vec<(Vec<usize>, Vec<f32>)>);
    impl<B: Backend> ModuleVisitor<B> for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let t = param.val();
            let values = t.to_data().convert::<f32>().to_vec::<f32>().unwrap_or_default();
            self.0.push((t.dims().to_vec(), values));
        }
    }
    let mut found = Collect(Vec::new());
    net.visit(&mut found);
    found.0
}

impl FastNet {
    /// `kind` for `[channels, height, width]` images and `classes` outputs, with the stem
    /// [`Net::new`] picks; parameters zero (batch-norm scales one) until [`Self::import`].
    pub fn new(kind: ModelKind, input: [usize; 3], classes: usize) -> Self {
        let empty = FastNet {
            params: Vec::new(),
            stats: Vec::new(),
            kind,
            input,
            classes,
            acts: Vec::new(),
            ops: Vec::new(),
            trunk_out: 0,
            pooling: Pooling::Flatten,
            hidden: None,
            fc: Dense { inputs: 0, outputs: 0, weight: 0, bias: 0 },
            slots: Vec::new(),
            pools: 0,
            norms: 0,
        };
        let mut b = Builder { net: empty };
        let x = b.act(input);
        let [_, h, w] = input;
        match kind {
            ModelKind::SmallCnn => {
                let mut y = x;
                for c in [32, 64] {
                    y = b.conv(y, c, 3, 1, 1, true);
                    y = b.relu(y);
                    y = b.max_pool(y, 2, 2, 0);
                }
                let [c, h, w] = b.net.acts[y];
                b.net.hidden = Some(b.dense(c * h * w, 128));
                b.net.fc = b.dense(128, classes);
                b.net.trunk_out = y;
            }
            ModelKind::Resnet18 | ModelKind::Resnet34 | ModelKind::Resnet50 => {
                let (counts, bottleneck) = match kind {
                    ModelKind::Resnet18 => ([2, 2, 2, 2], false),
                    ModelKind::Resnet34 => ([3, 4, 6, 3], false),
                    _ => ([3, 4, 6, 3], true),
                };
                let imagenet = h.max(w) > 64;
                let mut y = b.conv_bn(x, 64, if imagenet { 7 } else { 3 }, if imagenet { 2 } else { 1 });
                y = b.relu(y);
                if imagenet {
                    y = b.max_pool(y, 3, 2, 1);
                }
                for (stage, &count) in counts.iter().enumerate() {
                    for i in 0..count {
                        y = b.block(y, bottleneck, 64 << stage, if stage > 0 && i == 0 { 2 } else { 1 });
                    }
                }
                b.net.pooling = Pooling::Average;
                b.net.fc = b.dense(b.net.acts[y][0], classes);
                b.net.trunk_out = y;
            }
        }
        b.net
    }

    /// The architecture.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Features the head reads.
    fn feature_len(&self) -> usize {
        let [c, h, w] = self.acts[self.trunk_out];
        match self.pooling {
            Pooling::Flatten => c * h * w,
            Pooling::Average => c,
        }
    }

    /// Takes every parameter and running statistic of burn's `net` (same architecture and shape).
    pub fn import<B: Backend>(&mut self, net: &Net<B>) -> Result<(), TrainError> {
        let found = collect(net);
        if found.len() != self.slots.len() {
            return Err(TrainError::Checkpoint(format!(
                "the model has {} tensors, the fast {} {}",
                found.len(),
                self.kind,
                self.slots.len()
            )));
        }
        for (i, (slot, (shape, values))) in self.slots.iter().zip(found).enumerate() {
            let (dst, offset, want) = match slot {
                Slot::Param { offset, shape } => (&mut self.params, *offset, shape),
                Slot::Stat { offset, shape } => (&mut self.stats, *offset, shape),
            };
            if &shape != want || values.len() != want.iter().product::<usize>() {
                return Err(TrainError::Checkpoint(format!(
                    "tensor {i} is {shape:?}, the fast {} expects {want:?}",
                    self.kind
                )));
            }
            dst[offset..offset + values.len()].copy_from_slice(&values);
        }
        Ok(())
    }

    /// `net` (same architecture and shape) with every parameter and running statistic replaced by these.
    pub fn export<B: Backend>(&self, net: Net<B>) -> Net<B> {
        struct Replace<'a> {
            net: &'a FastNet,
            next: usize,
        }
        impl<B: Backend> ModuleMapper<B> for Replace<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
                let (values, offset, shape, is_param) = match &self.net.slots[self.next] {
                    Slot::Param { offset, shape } => (&self.net.params, *offset, shape, true),
                    Slot::Stat { offset, shape } => (&self.net.stats, *offset, shape, false),
                };
                self.next += 1;
                let len = shape.iter().product::<usize>();
                let device = param.lazy_device();
                let data = TensorData::new(values[offset..offset + len].to_vec(), shape.clone());
                let tensor = Tensor::<B, D>::from_data(data.convert::<B::FloatElem>(), &device);
                Param::initialized(param.id, if is_param { tensor.require_grad() } else { tensor })
            }
        }
        net.map(&mut Replace { net: self, next: 0 })
    }

    /// The output logits `[batch, classes]` of `pixels` `[batch, c, h, w]`. Training mode
    /// (`train`) normalises with the batch's statistics and updates the running ones, keeping what
    /// [`Self::backward`] needs; evaluation normalises with the running statistics. `dropout` is
    /// `(p, seed)` as [`Net::forward`] takes it (same draws).
    pub fn forward(
        &mut self,
        ws: &mut Workspace,
        pixels: &[f32],
        batch: usize,
        train: bool,
        dropout: Option<(f64, u64)>,
        threads: usize,
    ) -> Vec<f32> {
        let [c, h, w] = self.input;
        let plan = split(batch, threads);
        ws.shards.resize_with(plan.len(), Shard::default);
        ws.shards.truncate(plan.len());
        ws.norms.resize_with(self.norms, Default::default);
        // Images `[b, c, h, w]` into each shard's channel-major input `[c, n, h, w]`.
        for (sh, &(start, n)) in ws.shards.iter_mut().zip(&plan) {
            sh.n = n;
            sh.acts.resize_with(self.acts.len(), Vec::new);
            let input = &mut sh.acts[0];
            input.resize(c * n * h * w, 0.0);
            for ch in 0..c {
                for b in 0..n {
                    input[(ch * n + b) * h * w..][..h * w]
                        .copy_from_slice(&pixels[((start + b) * c + ch) * h * w..][..h * w]);
                }
            }
        }
        for i in 0..self.ops.len() {
            let op = self.ops[i].clone();
            self.forward_op(&op, ws, batch, train);
        }
        self.head_forward(ws, &plan, dropout)
    }

    fn forward_op(&mut self, op: &Op, ws: &mut Workspace, batch: usize, train: bool) {
        let params = &self.params;
        let shards = &mut ws.shards;
        let len = |shape: [usize; 3], n: usize| shape.iter().product::<usize>() * n;
        match *op {
            Op::Conv { x, y, shape, weight, bias } => {
                let w_len = shape.cout * shape.cin * shape.k * shape.k;
                let out_len = |n| len(self.acts[y], n);
                shards.par_iter_mut().for_each(|sh| {
                    let mut out = std::mem::take(&mut sh.acts[y]);
                    out.resize(out_len(sh.n), 0.0);
                    let bias = bias.map(|b| &params[b..b + shape.cout]);
                    layers::conv_forward(
                        &shape,
                        sh.n,
                        &sh.acts[x],
                        &params[weight..weight + w_len],
                        bias,
                        &mut out,
                        &mut sh.patches,
                    );
                    sh.acts[y] = out;
                });
            }
            Op::Bn { x, y, gamma, beta, mean, var, cache } => {
                let [c, h, w] = self.acts[x];
                let (mean32, std32) = if train {
                    let total = (batch * h * w) as f64;
                    let sums: Vec<Vec<f64>> =
                        shards.par_iter().map(|sh| layers::channel_sums(&sh.acts[x], sh.n * h * w, None)).collect();
                    let mu: Vec<f64> = (0..c).map(|ch| sums.iter().map(|s| s[ch]).sum::<f64>() / total).collect();
                    let sq: Vec<Vec<f64>> = shards
                        .par_iter()
                        .map(|sh| layers::channel_sums(&sh.acts[x], sh.n * h * w, Some(&mu)))
                        .collect();
                    let variance: Vec<f32> =
                        (0..c).map(|ch| (sq.iter().map(|s| s[ch]).sum::<f64>() / total) as f32).collect();
                    let mean32: Vec<f32> = mu.iter().map(|&m| m as f32).collect();
                    for ch in 0..c {
                        self.stats[mean + ch] = self.stats[mean + ch] * (1.0 - BN_MOMENTUM) + mean32[ch] * BN_MOMENTUM;
                        self.stats[var + ch] = self.stats[var + ch] * (1.0 - BN_MOMENTUM) + variance[ch] * BN_MOMENTUM;
                    }
                    (mean32, variance.iter().map(|v| (v + BN_EPS).sqrt()).collect::<Vec<f32>>())
                } else {
                    let s = &self.stats;
                    (s[mean..mean + c].to_vec(), s[var..var + c].iter().map(|v| (v + BN_EPS).sqrt()).collect())
                };
                let params = &self.params;
                let (g, b) = (&params[gamma..gamma + c], &params[beta..beta + c]);
                shards.par_iter_mut().for_each(|sh| {
                    let mut out = std::mem::take(&mut sh.acts[y]);
                    out.resize(sh.acts[x].len(), 0.0);
                    layers::batch_norm_apply(&sh.acts[x], sh.n * h * w, &mean32, &std32, g, b, &mut out);
                    sh.acts[y] = out;
                });
                ws.norms[cache] = (mean32, std32);
            }
            Op::Relu { x, y } => shards.par_iter_mut().for_each(|sh| {
                let mut out = std::mem::take(&mut sh.acts[y]);
                out.resize(sh.acts[x].len(), 0.0);
                layers::relu_forward(&sh.acts[x], &mut out);
                sh.acts[y] = out;
            }),
            Op::Add { a, b, y } => shards.par_iter_mut().for_each(|sh| {
                let mut out = std::mem::take(&mut sh.acts[y]);
                out.clear();
                out.extend(sh.acts[a].iter().zip(&sh.acts[b]).map(|(a, b)| a + b));
                sh.acts[y] = out;
            }),
            Op::MaxPool { x, y, shape, arg } => {
                let c = self.acts[x][0];
                let out_area = shape.oh() * shape.ow();
                shards.par_iter_mut().for_each(|sh| {
                    let mut out = std::mem::take(&mut sh.acts[y]);
                    out.resize(c * sh.n * out_area, 0.0);
                    sh.args.resize_with(arg + 1, Vec::new);
                    let mut idx = std::mem::take(&mut sh.args[arg]);
                    idx.resize(out.len(), 0);
                    layers::max_pool_forward(&shape, c * sh.n, &sh.acts[x], &mut out, &mut idx);
                    sh.acts[y] = out;
                    sh.args[arg] = idx;
                });
            }
        }
    }

    /// Pooling or flattening into `[batch, features]`, the hidden layer, dropout and the classifier.
    fn head_forward(&self, ws: &mut Workspace, plan: &[(usize, usize)], dropout: Option<(f64, u64)>) -> Vec<f32> {
        let [c, h, w] = self.acts[self.trunk_out];
        let (f, area) = (self.feature_len(), h * w);
        let batch: usize = plan.iter().map(|p| p.1).sum();
        ws.features.resize(batch * f, 0.0);
        for (sh, &(start, n)) in ws.shards.iter().zip(plan) {
            let act = &sh.acts[self.trunk_out];
            for ch in 0..c {
                for b in 0..n {
                    let src = &act[(ch * n + b) * area..][..area];
                    match self.pooling {
                        Pooling::Flatten => ws.features[(start + b) * f + ch * area..][..area].copy_from_slice(src),
                        Pooling::Average => ws.features[(start + b) * f + ch] = src.iter().sum::<f32>() / area as f32,
                    }
                }
            }
        }
        let mut x = std::mem::take(&mut ws.features);
        if let Some(d) = self.hidden {
            ws.hidden.resize(batch * d.outputs, 0.0);
            self.dense_forward(d, &x, batch, &mut ws.hidden);
            ws.hidden.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        let features = if self.hidden.is_some() { &ws.hidden } else { &x };
        ws.mask = match dropout {
            Some((p, seed)) if p > 0.0 => {
                let mut rng = TrainRng::seed_from_u64(seed);
                let keep = (1.0 / (1.0 - p)) as f32;
                Some((0..features.len()).map(|_| if rng.random_bool(p) { 0.0 } else { keep }).collect())
            }
            _ => None,
        };
        ws.dropped.clear();
        match &ws.mask {
            Some(mask) => ws.dropped.extend(features.iter().zip(mask).map(|(v, m)| v * m)),
            None => ws.dropped.extend_from_slice(features),
        }
        let mut z = vec![0.0; batch * self.classes];
        self.dense_forward(self.fc, &ws.dropped, batch, &mut z);
        std::mem::swap(&mut ws.features, &mut x);
        z
    }

    fn dense_forward(&self, d: Dense, x: &[f32], rows: usize, y: &mut [f32]) {
        matmul(y, x, false, &self.params[d.weight..], false, (rows, d.inputs, d.outputs), false);
        let bias = &self.params[d.bias..d.bias + d.outputs];
        y.chunks_exact_mut(d.outputs).for_each(|row| row.iter_mut().zip(bias).for_each(|(v, b)| *v += b));
    }

    /// `∂L/∂x = dy·Wᵀ` (when `dx` is given) and the weight and bias gradients, added into `grad`.
    fn dense_backward(&self, d: Dense, x: &[f32], dy: &[f32], rows: usize, grad: &mut [f32], dx: Option<&mut [f32]>) {
        matmul(&mut grad[d.weight..], x, true, dy, false, (d.inputs, rows, d.outputs), true);
        let db = &mut grad[d.bias..d.bias + d.outputs];
        dy.chunks_exact(d.outputs).for_each(|row| db.iter_mut().zip(row).for_each(|(g, v)| *g += v));
        if let Some(dx) = dx {
            matmul(dx, dy, false, &self.params[d.weight..], true, (rows, d.outputs, d.inputs), false);
        }
    }

    /// The gradient of the loss with respect to every parameter, from `dz` (`∂L/∂logits` of the
    /// batch of the last training [`Self::forward`]).
    pub fn backward<'w>(&self, ws: &'w mut Workspace, dz: &[f32]) -> &'w [f32] {
        // Kept between steps: tens of megabytes for a ResNet, whose fresh allocation would fault in
        // every page again.
        let mut grad = std::mem::take(&mut ws.grad);
        grad.clear();
        grad.resize(self.params.len(), 0.0);
        let batch = dz.len() / self.classes;
        let f = self.feature_len();
        // The head, on the whole batch.
        let mut ddrop = vec![0.0; batch * if let Some(d) = self.hidden { d.outputs } else { f }];
        self.dense_backward(self.fc, &ws.dropped, dz, batch, &mut grad, Some(&mut ddrop));
        if let Some(mask) = &ws.mask {
            ddrop.iter_mut().zip(mask).for_each(|(g, m)| *g *= m);
        }
        let dfeatures = match self.hidden {
            Some(d) => {
                ddrop.iter_mut().zip(&ws.hidden).for_each(|(g, &h)| {
                    if h <= 0.0 {
                        *g = 0.0;
                    }
                });
                let mut dx = vec![0.0; batch * f];
                self.dense_backward(d, &ws.features, &ddrop, batch, &mut grad, Some(&mut dx));
                dx
            }
            None => ddrop,
        };
        // Into each shard's gradient of the trunk's output; every other gradient starts at zero.
        let [c, h, w] = self.acts[self.trunk_out];
        let area = h * w;
        let mut start = 0;
        for sh in &mut ws.shards {
            sh.grads.resize_with(self.acts.len(), Vec::new);
            for (i, g) in sh.grads.iter_mut().enumerate().skip(1) {
                g.clear();
                g.resize(self.acts[i].iter().product::<usize>() * sh.n, 0.0);
            }
            sh.dparams.clear();
            sh.dparams.resize(self.params.len(), 0.0);
            let n = sh.n;
            let g = &mut sh.grads[self.trunk_out];
            for ch in 0..c {
                for b in 0..n {
                    let dst = &mut g[(ch * n + b) * area..][..area];
                    let row = &dfeatures[(start + b) * f..][..f];
                    match self.pooling {
                        Pooling::Flatten => dst.copy_from_slice(&row[ch * area..][..area]),
                        Pooling::Average => dst.fill(row[ch] / area as f32),
                    }
                }
            }
            start += n;
        }
        for op in self.ops.iter().rev() {
            self.backward_op(op, ws, batch, &mut grad);
        }
        // Shards in a fixed order, so the sum does not depend on which thread finished first.
        for sh in &ws.shards {
            grad.iter_mut().zip(&sh.dparams).for_each(|(g, d)| *g += d);
        }
        ws.grad = grad;
        &ws.grad
    }

    fn backward_op(&self, op: &Op, ws: &mut Workspace, batch: usize, grad: &mut [f32]) {
        let params = &self.params;
        let shards = &mut ws.shards;
        match *op {
            Op::Conv { x, y, shape, weight, bias } => {
                let w_len = shape.cout * shape.cin * shape.k * shape.k;
                shards.par_iter_mut().for_each(|sh| {
                    let mut dx = (x != 0).then(|| std::mem::take(&mut sh.grads[x]));
                    let (dw, rest) = sh.dparams[weight..].split_at_mut(w_len);
                    let db = bias.map(|b| &mut rest[b - weight - w_len..][..shape.cout]);
                    layers::conv_backward(
                        &shape,
                        sh.n,
                        &sh.acts[x],
                        &params[weight..weight + w_len],
                        &sh.grads[y],
                        dw,
                        db,
                        dx.as_deref_mut(),
                        &mut sh.patches,
                    );
                    if let Some(dx) = dx {
                        sh.grads[x] = dx;
                    }
                });
            }
            Op::Bn { x, y, gamma, beta, cache, .. } => {
                let [c, h, w] = self.acts[x];
                let (mean, std) = &ws.norms[cache];
                let parts: Vec<Vec<f64>> = shards
                    .par_iter()
                    .map(|sh| layers::batch_norm_grad_sums(&sh.acts[x], &sh.grads[y], sh.n * h * w, mean, std))
                    .collect();
                let sums: Vec<f64> = (0..2 * c).map(|i| parts.iter().map(|p| p[i]).sum()).collect();
                for ch in 0..c {
                    grad[beta + ch] += sums[2 * ch] as f32;
                    grad[gamma + ch] += sums[2 * ch + 1] as f32;
                }
                let g = &params[gamma..gamma + c];
                shards.par_iter_mut().for_each(|sh| {
                    let mut dx = std::mem::take(&mut sh.grads[x]);
                    let m = sh.n * h * w;
                    layers::batch_norm_backward(
                        &sh.acts[x],
                        &sh.grads[y],
                        m,
                        batch * h * w,
                        mean,
                        std,
                        g,
                        &sums,
                        &mut dx,
                    );
                    sh.grads[x] = dx;
                });
            }
            Op::Relu { x, y } => shards.par_iter_mut().for_each(|sh| {
                let mut dx = std::mem::take(&mut sh.grads[x]);
                layers::relu_backward(&sh.acts[y], &sh.grads[y], &mut dx);
                sh.grads[x] = dx;
            }),
            Op::Add { a, b, y } => shards.par_iter_mut().for_each(|sh| {
                let dy = std::mem::take(&mut sh.grads[y]);
                for t in [a, b] {
                    if t != 0 {
                        layers::add_into(&dy, &mut sh.grads[t]);
                    }
                }
                sh.grads[y] = dy;
            }),
            Op::MaxPool { x, y, shape, arg } => {
                let c = self.acts[x][0];
                shards.par_iter_mut().for_each(|sh| {
                    let mut dx = std::mem::take(&mut sh.grads[x]);
                    layers::max_pool_backward(&shape, c * sh.n, &sh.args[arg], &sh.grads[y], &mut dx);
                    sh.grads[x] = dx;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f32>;

    #[test]
    fn imports_and_exports_every_tensor_of_burns_models_in_order() {
        let dev = Default::default();
        for (kind, shape) in [
            (ModelKind::SmallCnn, [1, 12, 12]),
            (ModelKind::Resnet18, [3, 8, 8]),
            (ModelKind::Resnet50, [3, 8, 8]),
            (ModelKind::Resnet18, [3, 72, 72]),
        ] {
            let net: Net<B> = Net::new(kind, shape, 5, 3, &dev);
            let mut fast = FastNet::new(kind, shape, 5);
            fast.import(&net).unwrap();
            assert_eq!(fast.params.len() + fast.stats.len(), net.num_params(), "{kind}");
            // Back into a differently seeded model: the same outputs as the original.
            let back = fast.export(Net::<B>::new(kind, shape, 5, 9, &dev));
            let x = Tensor::<B, 4>::ones([2, shape[0], shape[1], shape[2]], &dev);
            assert_eq!(back.forward(x.clone(), None).to_data(), net.forward(x, None).to_data(), "{kind}");
        }
    }

    #[test]
    fn a_model_of_another_shape_is_refused_by_name() {
        let net: Net<B> = Net::new(ModelKind::SmallCnn, [1, 12, 12], 5, 0, &Default::default());
        let err = FastNet::new(ModelKind::SmallCnn, [1, 16, 16], 5).import(&net).unwrap_err().to_string();
        assert!(err.contains("expects"), "{err}");
    }

    #[test]
    fn split_is_contiguous_and_even() {
        assert_eq!(split(10, 3), [(0, 3), (3, 3), (6, 4)]);
        assert_eq!(split(2, 8), [(0, 1), (1, 1)]);
    }
}
