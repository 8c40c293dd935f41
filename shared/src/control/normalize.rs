//! Running mean and variance (Welford / Chan's parallel update), for PPO's observation and reward scaling.

use serde::{Deserialize, Serialize};

/// Per-dimension running mean and variance, as Gymnasium's `RunningMeanStd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    /// Running means.
    pub mean: Vec<f64>,
    /// Running (population) variances.
    pub var: Vec<f64>,
    /// Samples seen (starts at 1e-4, as Gymnasium, so the first update is not divided by zero).
    pub count: f64,
}

impl RunningMeanStd {
    /// Zero mean, unit variance, over `dims` dimensions.
    pub fn new(dims: usize) -> Self {
        Self { mean: vec![0.0; dims], var: vec![1.0; dims], count: 1e-4 }
    }

    /// Folds in one sample.
    pub fn update(&mut self, x: &[f64]) {
        let (n, m) = (self.count, 1.0);
        let total = n + m;
        for ((mean, var), &x) in self.mean.iter_mut().zip(&mut self.var).zip(x) {
            let delta = x - *mean;
            *mean += delta * m / total;
            *var = (*var * n + delta * delta * n * m / total) / total;
        }
        self.count = total;
    }

    /// `clip((x − mean)/√(var + 1e-8), −clip, clip)` per dimension.
    pub fn normalize(&self, x: &[f32], clip: f64) -> Vec<f32> {
        x.iter()
            .zip(self.mean.iter().zip(&self.var))
            .map(|(&x, (m, v))| ((f64::from(x) - m) / (v + 1e-8).sqrt()).clamp(-clip, clip) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_batch_mean_and_variance() {
        let xs = [1.0, 2.0, 4.0, 7.0];
        let mut r = RunningMeanStd::new(1);
        for x in xs {
            r.update(&[x]);
        }
        // mean 3.5, population variance (6.25 + 2.25 + 0.25 + 12.25)/4 = 5.25 (the 1e-4 prior shifts it slightly).
        assert!((r.mean[0] - 3.5).abs() < 1e-3 && (r.var[0] - 5.25).abs() < 1e-2, "{r:?}");
        assert!((r.normalize(&[3.5], 10.0)[0]).abs() < 1e-3);
    }
}
