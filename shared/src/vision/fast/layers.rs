//! The layers of the fast vision path, forward and backward, on one shard of a batch.
//!
//! Activations are stored channel-major, `[channels, images, height, width]`: a convolution is then
//! one matrix product whose result is already in that layout (`[c_out, images·h·w]`), and a batch
//! norm's channel is one contiguous run. Backward functions add into their input gradients, so a
//! tensor read by two layers (a residual block's input) sums both gradients without a copy.

use crate::cpu::{View, matmul_view, widened};

/// The most patch-matrix elements a convolution builds at once (16 MiB): a shard's images are
/// convolved in groups small enough for this, which keeps the buffer in the last-level cache's reach
/// and its size independent of the batch.
const PATCH_LIMIT: usize = 1 << 22;

/// The geometry of a convolution without groups or dilation, square kernel, same stride and padding
/// on both axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
    /// Input height and width.
    pub h: usize,
    /// Input width.
    pub w: usize,
}

/// Positions a window of `k` takes along `len` inputs padded by `pad` on each side, at `stride`.
fn out_len(len: usize, k: usize, stride: usize, pad: usize) -> usize {
    (len + 2 * pad - k) / stride + 1
}

impl ConvShape {
    /// Output height.
    pub fn oh(&self) -> usize {
        out_len(self.h, self.k, self.stride, self.pad)
    }

    /// Output width.
    pub fn ow(&self) -> usize {
        out_len(self.w, self.k, self.stride, self.pad)
    }

    /// Rows of the patch matrix, `c_in·k²` (the weight's columns).
    fn patch_rows(&self) -> usize {
        self.cin * self.k * self.k
    }

    /// Whether the input itself is the patch matrix (a 1×1 convolution of stride 1 without padding).
    fn is_pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad == 0
    }

    /// Images per group for the patch buffer's limit.
    fn group(&self, n: usize) -> usize {
        (PATCH_LIMIT / (self.patch_rows() * self.oh() * self.ow()).max(1)).clamp(1, n.max(1))
    }

    /// For kernel offset `j` (pad already subtracted: `ix = o·stride + j − pad`), the output
    /// positions `o` whose input position lies inside `0..len`, and the input position of the first.
    fn inside(&self, j: usize, len: usize, out_len: usize) -> (usize, usize) {
        let (s, j, p) = (self.stride as isize, j as isize, self.pad as isize);
        let lo = if j >= p { 0 } else { (p - j + s - 1) / s };
        let hi = ((len as isize + p - j + s - 1) / s).clamp(0, out_len as isize);
        (lo.min(hi) as usize, hi as usize)
    }
}

/// The first `len` elements of `buffer`, grown when needed; their values are whatever was there
/// (every caller overwrites them), so a buffer shared by convolutions of different sizes is not
/// zero-filled at each size change.
fn scratch(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

/// Writes the patch matrix of images `b0..b1` of a shard of `n` (input `x` `[c_in, n, h, w]`) into
/// `patches` `[c_in·k², (b1 − b0)·oh·ow]`, rows ordered `(c, i, j)` like the weight's columns.
fn im2col(s: &ConvShape, n: usize, x: &[f32], (b0, b1): (usize, usize), patches: &mut [f32]) {
    let (oh, ow, k) = (s.oh(), s.ow(), s.k);
    let cols = (b1 - b0) * oh * ow;
    for c in 0..s.cin {
        for i in 0..k {
            let (y_lo, y_hi) = s.inside(i, s.h, oh);
            for j in 0..k {
                let (x_lo, x_hi) = s.inside(j, s.w, ow);
                let row = &mut patches[((c * k + i) * k + j) * cols..][..cols];
                for b in b0..b1 {
                    let image = &x[(c * n + b) * s.h * s.w..][..s.h * s.w];
                    let out = &mut row[(b - b0) * oh * ow..][..oh * ow];
                    for oy in 0..oh {
                        let line = &mut out[oy * ow..][..ow];
                        if oy < y_lo || oy >= y_hi {
                            line.fill(0.0);
                            continue;
                        }
                        let iy = oy * s.stride + i - s.pad;
                        line[..x_lo].fill(0.0);
                        line[x_hi..].fill(0.0);
                        let src = &image[iy * s.w..][..s.w];
                        let ix0 = x_lo * s.stride + j - s.pad;
                        if s.stride == 1 {
                            line[x_lo..x_hi].copy_from_slice(&src[ix0..ix0 + (x_hi - x_lo)]);
                        } else {
                            for (o, v) in line[x_lo..x_hi].iter_mut().enumerate() {
                                *v = src[ix0 + o * s.stride];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adds the patch-matrix gradient `patches` of images `b0..b1` back onto the input gradient `dx`
/// `[c_in, n, h, w]` (the transpose of [`im2col`]).
fn col2im(s: &ConvShape, n: usize, patches: &[f32], (b0, b1): (usize, usize), dx: &mut [f32]) {
    let (oh, ow, k) = (s.oh(), s.ow(), s.k);
    let cols = (b1 - b0) * oh * ow;
    for c in 0..s.cin {
        for i in 0..k {
            let (y_lo, y_hi) = s.inside(i, s.h, oh);
            for j in 0..k {
                let (x_lo, x_hi) = s.inside(j, s.w, ow);
                let row = &patches[((c * k + i) * k + j) * cols..][..cols];
                for b in b0..b1 {
                    let image = &mut dx[(c * n + b) * s.h * s.w..][..s.h * s.w];
                    let grad = &row[(b - b0) * oh * ow..][..oh * ow];
                    for oy in y_lo..y_hi {
                        let iy = oy * s.stride + i - s.pad;
                        let dst = &mut image[iy * s.w..][..s.w];
                        let ix0 = x_lo * s.stride + j - s.pad;
                        let src = &grad[oy * ow + x_lo..oy * ow + x_hi];
                        if s.stride == 1 {
                            dst[ix0..ix0 + src.len()].iter_mut().zip(src).for_each(|(d, g)| *d += g);
                        } else {
                            for (o, g) in src.iter().enumerate() {
                                dst[ix0 + o * s.stride] += g;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `y = conv(x) (+ bias)`: `x` `[c_in, n, h, w]`, `weight` `[c_out, c_in, k, k]`, `y` `[c_out, n, oh, ow]`.
pub fn conv_forward(
    s: &ConvShape,
    n: usize,
    x: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    patches: &mut Vec<f32>,
) {
    let (kk, area) = (s.patch_rows(), s.oh() * s.ow());
    let total = n * area;
    if s.is_pointwise() {
        matmul_view(
            (y, View::rows(0, total)),
            (weight, View::rows(0, kk)),
            (x, View::rows(0, total)),
            (s.cout, kk, total),
            false,
        );
    } else {
        let group = s.group(n);
        for b0 in (0..n).step_by(group) {
            let b1 = (b0 + group).min(n);
            let cols = (b1 - b0) * area;
            let patches = scratch(patches, kk * cols);
            im2col(s, n, x, (b0, b1), patches);
            matmul_view(
                (y, View::rows(b0 * area, total)),
                (weight, View::rows(0, kk)),
                (patches, View::rows(0, cols)),
                (s.cout, kk, cols),
                false,
            );
        }
    }
    if let Some(bias) = bias {
        for (row, &b) in y.chunks_exact_mut(total).zip(bias) {
            row.iter_mut().for_each(|v| *v += b);
        }
    }
}

/// The gradients of [`conv_forward`]: adds `∂L/∂weight` into `dweight`, `∂L/∂bias` into `dbias` and
/// (unless `dx` is `None`, for a network's input) `∂L/∂x` into `dx`, from `dy` `[c_out, n, oh, ow]`.
#[allow(clippy::too_many_arguments)]
pub fn conv_backward(
    s: &ConvShape,
    n: usize,
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    dweight: &mut [f32],
    dbias: Option<&mut [f32]>,
    mut dx: Option<&mut [f32]>,
    patches: &mut Vec<f32>,
) {
    let (kk, area) = (s.patch_rows(), s.oh() * s.ow());
    let total = n * area;
    if let Some(db) = dbias {
        for (row, d) in dy.chunks_exact(total).zip(db) {
            *d += row.iter().sum::<f32>();
        }
    }
    if s.is_pointwise() {
        // dW += dY·Xᵀ, dX += Wᵀ·dY.
        matmul_view(
            (dweight, View::rows(0, kk)),
            (dy, View::rows(0, total)),
            (x, View::transposed(0, total)),
            (s.cout, total, kk),
            true,
        );
        if let Some(dx) = dx {
            matmul_view(
                (dx, View::rows(0, total)),
                (weight, View::transposed(0, kk)),
                (dy, View::rows(0, total)),
                (kk, s.cout, total),
                true,
            );
        }
        return;
    }
    let group = s.group(n);
    for b0 in (0..n).step_by(group) {
        let b1 = (b0 + group).min(n);
        let cols = (b1 - b0) * area;
        let patches = scratch(patches, kk * cols);
        im2col(s, n, x, (b0, b1), patches);
        matmul_view(
            (dweight, View::rows(0, kk)),
            (dy, View::rows(b0 * area, total)),
            (patches, View::transposed(0, cols)),
            (s.cout, cols, kk),
            true,
        );
        if let Some(dx) = dx.as_deref_mut() {
            matmul_view(
                (patches, View::rows(0, cols)),
                (weight, View::transposed(0, kk)),
                (dy, View::rows(b0 * area, total)),
                (kk, s.cout, cols),
                false,
            );
            col2im(s, n, patches, (b0, b1), dx);
        }
    }
}

/// `y = max(x, 0)`.
pub fn relu_forward(x: &[f32], y: &mut [f32]) {
    relu_forward_wide(x, y);
}

widened! {
    /// [`relu_forward`] at the CPU's widest vectors.
    fn relu_forward_wide(x: &[f32], y: &mut [f32]) {
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = if x > 0.0 { x } else { 0.0 });
    }
}

/// Adds `dy` where the output `y` is positive into `dx`.
pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) {
    relu_backward_wide(y, dy, dx);
}

widened! {
    /// [`relu_backward`] at the CPU's widest vectors.
    fn relu_backward_wide(y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((d, &y), &g) in dx.iter_mut().zip(y).zip(dy) {
            *d += if y > 0.0 { g } else { 0.0 };
        }
    }
}

/// Adds `x` into `y`, element by element.
pub fn add_into(x: &[f32], y: &mut [f32]) {
    add_into_wide(x, y);
}

widened! {
    /// [`add_into`] at the CPU's widest vectors.
    fn add_into_wide(x: &[f32], y: &mut [f32]) {
        y.iter_mut().zip(x).for_each(|(y, x)| *y += x);
    }
}

/// The geometry of a max-pool: square window, same stride and padding on both axes (padding never wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShape {
    /// Window side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding on each side.
    pub pad: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
}

impl PoolShape {
    /// Output height.
    pub fn oh(&self) -> usize {
        out_len(self.h, self.k, self.stride, self.pad)
    }

    /// Output width.
    pub fn ow(&self) -> usize {
        out_len(self.w, self.k, self.stride, self.pad)
    }
}

/// Max-pool over `planes` planes of `h × w`, recording in `arg` the index inside its plane of each
/// output's maximum (the first in row-major order on ties, as burn's ndarray backend picks).
pub fn max_pool_forward(p: &PoolShape, planes: usize, x: &[f32], y: &mut [f32], arg: &mut [u32]) {
    let (oh, ow) = (p.oh(), p.ow());
    // The window's rows (columns) inside the plane, per output row (column).
    let span = |o: usize, len: usize| {
        let start = (o * p.stride) as isize - p.pad as isize;
        (start.max(0) as usize, ((start + p.k as isize).min(len as isize)) as usize)
    };
    let rows: Vec<(usize, usize)> = (0..oh).map(|o| span(o, p.h)).collect();
    let cols: Vec<(usize, usize)> = (0..ow).map(|o| span(o, p.w)).collect();
    for plane in 0..planes {
        let src = &x[plane * p.h * p.w..][..p.h * p.w];
        let (dst, idx) = (&mut y[plane * oh * ow..][..oh * ow], &mut arg[plane * oh * ow..][..oh * ow]);
        if p.k == 2 && p.stride == 2 && p.pad == 0 {
            // The small CNN's pool: four reads per output, first maximum on ties.
            for oy in 0..oh {
                let (r0, r1) = (&src[2 * oy * p.w..][..2 * ow], &src[(2 * oy + 1) * p.w..][..2 * ow]);
                for ox in 0..ow {
                    let base = 2 * oy * p.w + 2 * ox;
                    let (mut best, mut at) = (r0[2 * ox], base);
                    for (v, a) in
                        [(r0[2 * ox + 1], base + 1), (r1[2 * ox], base + p.w), (r1[2 * ox + 1], base + p.w + 1)]
                    {
                        if v > best {
                            (best, at) = (v, a);
                        }
                    }
                    dst[oy * ow + ox] = best;
                    idx[oy * ow + ox] = at as u32;
                }
            }
            continue;
        }
        for (oy, &(y0, y1)) in rows.iter().enumerate() {
            for (ox, &(x0, x1)) in cols.iter().enumerate() {
                let (mut best, mut at) = (src[y0 * p.w + x0], y0 * p.w + x0);
                for iy in y0..y1 {
                    for (ix, &v) in src[iy * p.w + x0..iy * p.w + x1].iter().enumerate() {
                        if v > best {
                            (best, at) = (v, iy * p.w + x0 + ix);
                        }
                    }
                }
                dst[oy * ow + ox] = best;
                idx[oy * ow + ox] = at as u32;
            }
        }
    }
}

/// Adds each output's gradient onto the input position that was its maximum.
pub fn max_pool_backward(p: &PoolShape, planes: usize, arg: &[u32], dy: &[f32], dx: &mut [f32]) {
    let out = p.oh() * p.ow();
    for plane in 0..planes {
        let dst = &mut dx[plane * p.h * p.w..][..p.h * p.w];
        for (&a, &g) in arg[plane * out..][..out].iter().zip(&dy[plane * out..][..out]) {
            dst[a as usize] += g;
        }
    }
}

/// `Σ f(i)` over `0..len` in `f64` with eight interleaved accumulators, combined in a fixed order:
/// one accumulator would wait on each addition's latency.
#[inline]
fn lane_sum(len: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let full = len / 8 * 8;
    for base in (0..full).step_by(8) {
        for (l, lane) in lanes.iter_mut().enumerate() {
            *lane += f(base + l);
        }
    }
    for (l, i) in (full..len).enumerate() {
        lanes[l] += f(i);
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
}

/// Per channel of `x` `[c, m]` (m values each): the sum and, around `mean`, the sum of squared
/// deviations, in `f64` (a shard's share of a batch norm's statistics).
pub fn channel_sums(x: &[f32], m: usize, mean: Option<&[f64]>) -> Vec<f64> {
    x.chunks_exact(m)
        .enumerate()
        .map(|(c, row)| match mean {
            None => lane_sum(m, |i| f64::from(row[i])),
            Some(mean) => lane_sum(m, |i| (f64::from(row[i]) - mean[c]).powi(2)),
        })
        .collect()
}

/// `y = (x − mean)/std·γ + β` per channel of `x` `[c, m]`.
pub fn batch_norm_apply(x: &[f32], m: usize, mean: &[f32], std: &[f32], gamma: &[f32], beta: &[f32], y: &mut [f32]) {
    for (c, (xs, ys)) in x.chunks_exact(m).zip(y.chunks_exact_mut(m)).enumerate() {
        normalize_wide(xs, [mean[c], std[c], gamma[c], beta[c]], ys);
    }
}

widened! {
    /// `y = (x − μ)/σ·γ + β` for one channel (`[μ, σ, γ, β]`), in burn's order of operations.
    fn normalize_wide(xs: &[f32], p: [f32; 4], ys: &mut [f32]) {
        let [mu, sd, g, b] = p;
        ys.iter_mut().zip(xs).for_each(|(y, &x)| *y = (x - mu) / sd * g + b);
    }
}

/// Per channel, the sums a batch norm's backward pass needs: `Σ dy` and `Σ dy·x̂`
/// (`x̂ = (x − mean)/std`), in `f64`, interleaved `[Σ dy₀, Σ dy·x̂₀, Σ dy₁, …]`.
pub fn batch_norm_grad_sums(x: &[f32], dy: &[f32], m: usize, mean: &[f32], std: &[f32]) -> Vec<f64> {
    x.chunks_exact(m)
        .zip(dy.chunks_exact(m))
        .enumerate()
        .flat_map(|(c, (xs, gs))| {
            let sum = lane_sum(m, |i| f64::from(gs[i]));
            let dot = lane_sum(m, |i| f64::from(gs[i]) * f64::from((xs[i] - mean[c]) / std[c]));
            [sum, dot]
        })
        .collect()
}

/// Adds `∂L/∂x` of a batch norm in training mode into `dx`: with `M` values per channel over the
/// whole batch, `dx = γ/std·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)`. `sums` are the whole batch's
/// [`batch_norm_grad_sums`].
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_backward(
    x: &[f32],
    dy: &[f32],
    m: usize,
    batch_m: usize,
    mean: &[f32],
    std: &[f32],
    gamma: &[f32],
    sums: &[f64],
    dx: &mut [f32],
) {
    let inv = 1.0 / batch_m as f64;
    for (c, ((xs, gs), ds)) in x.chunks_exact(m).zip(dy.chunks_exact(m)).zip(dx.chunks_exact_mut(m)).enumerate() {
        let (mean_dy, mean_dot) = ((sums[2 * c] * inv) as f32, (sums[2 * c + 1] * inv) as f32);
        let scale = gamma[c] / std[c];
        for ((d, &x), &g) in ds.iter_mut().zip(xs).zip(gs) {
            let xhat = (x - mean[c]) / std[c];
            *d += scale * (g - mean_dy - xhat * mean_dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct convolution, `[c_in, n, h, w]` → `[c_out, n, oh, ow]`, the definition itself.
    fn direct(s: &ConvShape, n: usize, x: &[f32], w: &[f32]) -> Vec<f32> {
        let (oh, ow) = (s.oh(), s.ow());
        let mut y = vec![0.0; s.cout * n * oh * ow];
        for co in 0..s.cout {
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0;
                        for c in 0..s.cin {
                            for i in 0..s.k {
                                for j in 0..s.k {
                                    let (iy, ix) = (
                                        (oy * s.stride + i) as isize - s.pad as isize,
                                        (ox * s.stride + j) as isize - s.pad as isize,
                                    );
                                    if iy >= 0 && ix >= 0 && (iy as usize) < s.h && (ix as usize) < s.w {
                                        acc += x[((c * n + b) * s.h + iy as usize) * s.w + ix as usize]
                                            * w[((co * s.cin + c) * s.k + i) * s.k + j];
                                    }
                                }
                            }
                        }
                        y[((co * n + b) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len).map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    #[test]
    fn convolution_matches_its_definition_and_its_gradients_are_its_transpose() {
        for s in [
            ConvShape { cin: 2, cout: 3, k: 3, stride: 1, pad: 1, h: 5, w: 6 },
            ConvShape { cin: 3, cout: 4, k: 3, stride: 2, pad: 1, h: 7, w: 8 },
            ConvShape { cin: 3, cout: 2, k: 7, stride: 2, pad: 3, h: 9, w: 9 },
            ConvShape { cin: 4, cout: 3, k: 1, stride: 2, pad: 0, h: 6, w: 6 },
            ConvShape { cin: 4, cout: 3, k: 1, stride: 1, pad: 0, h: 3, w: 4 },
        ] {
            let n = 3;
            let x = values(s.cin * n * s.h * s.w, 1);
            let w = values(s.cout * s.cin * s.k * s.k, 2);
            let mut y = vec![0.0; s.cout * n * s.oh() * s.ow()];
            let mut patches = Vec::new();
            conv_forward(&s, n, &x, &w, None, &mut y, &mut patches);
            let reference = direct(&s, n, &x, &w);
            for (a, b) in y.iter().zip(&reference) {
                assert!((a - b).abs() < 1e-4, "{s:?}: {a} vs {b}");
            }
            // ⟨dy, conv(x)⟩ is linear in x and in w: its gradients are checked by finite differences
            // along random directions (exact up to rounding for a bilinear form).
            let dy = values(y.len(), 3);
            let (mut dw, mut dx) = (vec![0.0; w.len()], vec![0.0; x.len()]);
            conv_backward(&s, n, &x, &w, &dy, &mut dw, None, Some(&mut dx), &mut patches);
            let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum::<f64>();
            let (ux, uw) = (values(x.len(), 4), values(w.len(), 5));
            let expect_x = dot(&dy, &direct(&s, n, &ux, &w));
            let expect_w = dot(&dy, &direct(&s, n, &x, &uw));
            assert!((dot(&dx, &ux) - expect_x).abs() < 1e-3 * expect_x.abs().max(1.0), "{s:?} dx");
            assert!((dot(&dw, &uw) - expect_w).abs() < 1e-3 * expect_w.abs().max(1.0), "{s:?} dw");
        }
    }

    #[test]
    fn max_pool_by_hand() {
        // One 4×4 plane, 2×2 windows: maxima 5, 7, 13, 15 at 5, 7, 13, 15; padding 1, 3×3 stride 2
        // (the ImageNet stem) gives a 2×2 output whose windows are clipped at the border.
        let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let p = PoolShape { k: 2, stride: 2, pad: 0, h: 4, w: 4 };
        let (mut y, mut arg) = (vec![0.0; 4], vec![0; 4]);
        max_pool_forward(&p, 1, &x, &mut y, &mut arg);
        assert_eq!((y.as_slice(), arg.as_slice()), ([5.0, 7.0, 13.0, 15.0].as_slice(), [5, 7, 13, 15].as_slice()));
        let mut dx = vec![0.0; 16];
        max_pool_backward(&p, 1, &arg, &[1.0, 2.0, 3.0, 4.0], &mut dx);
        assert_eq!((dx[5], dx[7], dx[13], dx[15], dx.iter().sum::<f32>()), (1.0, 2.0, 3.0, 4.0, 10.0));
        let p = PoolShape { k: 3, stride: 2, pad: 1, h: 4, w: 4 };
        max_pool_forward(&p, 1, &x, &mut y, &mut arg);
        // Windows rows/cols {0,1}, {1,2,3}: maxima at (1,1) = 5, (1,3) = 7, (3,1) = 13, (3,3) = 15.
        assert_eq!(y, [5.0, 7.0, 13.0, 15.0]);
    }

    #[test]
    fn max_pool_ties_go_to_the_first_maximum_in_row_major_order() {
        // A 4×4 plane of zeros with a 1 at (1, 1): 2×2 windows tie at 0 except the first; 3×3
        // stride 2 padding 1 windows start at rows/columns {0}, {1}: their first valid element wins.
        let mut x = vec![0.0f32; 16];
        x[5] = 1.0;
        let (mut y, mut arg) = (vec![9.0; 4], vec![9; 4]);
        max_pool_forward(&PoolShape { k: 2, stride: 2, pad: 0, h: 4, w: 4 }, 1, &x, &mut y, &mut arg);
        assert_eq!((y.as_slice(), arg.as_slice()), ([1.0, 0.0, 0.0, 0.0].as_slice(), [5, 2, 8, 10].as_slice()));
        max_pool_forward(&PoolShape { k: 3, stride: 2, pad: 1, h: 4, w: 4 }, 1, &x, &mut y, &mut arg);
        assert_eq!((y.as_slice(), arg.as_slice()), ([1.0, 1.0, 1.0, 1.0].as_slice(), [5, 5, 5, 5].as_slice()));
        let x = vec![0.0f32; 16];
        max_pool_forward(&PoolShape { k: 3, stride: 2, pad: 1, h: 4, w: 4 }, 1, &x, &mut y, &mut arg);
        assert_eq!(arg, [0, 1, 4, 5]);
    }

    #[test]
    fn batch_norm_gradient_by_finite_differences() {
        // L = Σ dy·bn(x) over one channel of 6 values; its derivative along a direction u.
        let (m, x, dy, u) = (6, values(6, 7), values(6, 8), values(6, 9));
        let (gamma, beta) = ([1.3f32], [0.2f32]);
        let loss = |x: &[f32]| {
            let mean = channel_sums(x, m, None)[0] / m as f64;
            let var = channel_sums(x, m, Some(&[mean]))[0] / m as f64;
            let std = ((var + 1e-5) as f32).sqrt();
            let mut y = vec![0.0; m];
            batch_norm_apply(x, m, &[mean as f32], &[std], &gamma, &beta, &mut y);
            (y.iter().zip(&dy).map(|(a, b)| f64::from(a * b)).sum::<f64>(), mean as f32, std)
        };
        let (_, mean, std) = loss(&x);
        let sums = batch_norm_grad_sums(&x, &dy, m, &[mean], &[std]);
        let mut dx = vec![0.0; m];
        batch_norm_backward(&x, &dy, m, m, &[mean], &[std], &gamma, &sums, &mut dx);
        let eps = 1e-3;
        let plus: Vec<f32> = x.iter().zip(&u).map(|(x, u)| x + eps * u).collect();
        let minus: Vec<f32> = x.iter().zip(&u).map(|(x, u)| x - eps * u).collect();
        let numeric = (loss(&plus).0 - loss(&minus).0) / (2.0 * f64::from(eps));
        let analytic: f64 = dx.iter().zip(&u).map(|(a, b)| f64::from(a * b)).sum();
        assert!((numeric - analytic).abs() < 2e-3, "{numeric} vs {analytic}");
    }
}
