//! Aggregate statistics over runs as reinforcement learning reports them (Agarwal et al. 2021,
//! "Deep RL at the edge of the statistical precipice", the `rliable` convention): the interquartile
//! mean of scores and its stratified-bootstrap confidence interval, and min–max normalisation for
//! aggregating over tasks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The interquartile mean: the mean of the scores left after dropping `⌊n/4⌋` from each end of the
/// sorted scores (`scipy.stats.trim_mean(x, 0.25)`, what `rliable` computes). With fewer than four
/// scores nothing is dropped and it is the mean. `None` for no scores.
pub fn iqm(scores: &[f64]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cut = sorted.len() / 4;
    let kept = &sorted[cut..sorted.len() - cut];
    Some(kept.iter().sum::<f64>() / kept.len() as f64)
}

/// A point estimate with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The statistic on the data.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// Resamples the stratified bootstrap draws; `rliable` uses 50 000, 2 000 keeps `era compare`
/// instant and the 95 % interval's ends stable to about a percent of its width.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// The IQM over every score of every task (`tasks[t]` holds task `t`'s runs) with its 95 %
/// percentile interval from the stratified bootstrap: each resample draws, within every task, as
/// many runs as it has, with replacement, and takes the IQM of all of them together. Seeded, so the
/// same runs always give the same interval. `None` when there is no score.
pub fn iqm_stratified_bootstrap(tasks: &[Vec<f64>], resamples: usize, seed: u64) -> Option<Estimate> {
    stratified_bootstrap(tasks, iqm, resamples, seed)
}

/// The median of `v` (the upper one of an even count; NaN when `v` is empty): what a benchmark
/// reports of its repeats.
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The mean of `values` with its 95 % percentile bootstrap interval (resampling the values with
/// replacement; seeded). What `era compare` reports for paired differences between two settings
/// over seeds. `None` when there is no value.
pub fn mean_bootstrap(values: &[f64], resamples: usize, seed: u64) -> Option<Estimate> {
    stratified_bootstrap(std::slice::from_ref(&values.to_vec()), mean, resamples, seed)
}

/// The arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// `statistic` over every value of every stratum, with the 95 % percentile interval of its
/// stratified bootstrap (each resample redraws every stratum's values with replacement).
fn stratified_bootstrap(
    strata: &[Vec<f64>],
    statistic: fn(&[f64]) -> Option<f64>,
    resamples: usize,
    seed: u64,
) -> Option<Estimate> {
    let all: Vec<f64> = strata.iter().flatten().copied().collect();
    let value = statistic(&all)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stats = Vec::with_capacity(resamples);
    let mut sample = Vec::with_capacity(all.len());
    for _ in 0..resamples {
        sample.clear();
        for runs in strata.iter().filter(|r| !r.is_empty()) {
            sample.extend((0..runs.len()).map(|_| runs[rng.random_range(0..runs.len())]));
        }
        stats.extend(statistic(&sample));
    }
    stats.sort_by(f64::total_cmp);
    Some(Estimate { value, low: quantile(&stats, 0.025), high: quantile(&stats, 0.975) })
}

/// The `q`-quantile of sorted values by linear interpolation (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
}

/// Min–max normalisation `(x − low)/(high − low)`; 0 when the bounds coincide.
pub fn normalise(x: f64, (low, high): (f64, f64)) -> f64 {
    if high > low { (x - low) / (high - low) } else { 0.0 }
}

/// The series' value at `step`: its last point at or before it (points in step order).
pub fn value_at(points: &[(f64, f64)], step: f64) -> Option<f64> {
    let n = points.partition_point(|(s, _)| *s <= step);
    n.checked_sub(1).map(|i| points[i].1)
}

/// The mean over seeds of one metric: `columns` (one run each) with its lowest and highest value, `(x, mean, min, max)`,
/// at the steps of the sparsest column (at most `max_points` of them): each column's value at a
/// step is its last point at or before it, and a step enters only once every column has one.
pub fn seed_band(columns: &[&[(f64, f64)]], max_points: usize) -> Vec<(f64, f64, f64, f64)> {
    let Some(grid) = columns.iter().min_by_key(|c| c.len()) else { return Vec::new() };
    let stride = grid.len().div_ceil(max_points.max(1)).max(1);
    let mut xs: Vec<f64> = grid.iter().step_by(stride).map(|p| p.0).collect();
    if let Some(last) = grid.last()
        && xs.last() != Some(&last.0)
    {
        xs.push(last.0);
    }
    xs.into_iter()
        .filter_map(|x| {
            let values: Option<Vec<f64>> = columns.iter().map(|c| value_at(c, x)).collect();
            let values = values?;
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Some((x, mean, lo, hi))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mean_starts_where_every_seed_has_a_value() {
        // The sparser column's steps are the grid: at 15, a's last point is 1 (step 10) and b's 7;
        // at 30, 3 and 9. Before 15 b has no value, so nothing is drawn there.
        let a = [(10.0, 1.0), (20.0, 2.0), (30.0, 3.0)];
        let b = [(15.0, 7.0), (30.0, 9.0)];
        assert_eq!(seed_band(&[&a, &b], 100), [(15.0, 4.0, 1.0, 7.0), (30.0, 6.0, 3.0, 9.0)]);
        let c = [(20.0, 5.0)];
        assert_eq!(seed_band(&[&c, &[(25.0, 1.0)]], 100), [], "no step where both have a value");
        assert_eq!(seed_band(&[&a, &a], 100), [(10.0, 1.0, 1.0, 1.0), (20.0, 2.0, 2.0, 2.0), (30.0, 3.0, 3.0, 3.0)]);
        assert!(seed_band(&[], 10).is_empty());
    }
    use proptest::prelude::*;

    #[test]
    fn iqm_golden() {
        // Eight scores 1..8: ⌊8/4⌋ = 2 dropped at each end, the mean of 3, 4, 5, 6 is 4.5.
        assert_eq!(iqm(&[8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]), Some(4.5));
        // Five: one dropped at each end of (0, 1, 2, 3, 100), the mean of 1, 2, 3 is 2; the outlier is gone.
        assert_eq!(iqm(&[100.0, 0.0, 3.0, 1.0, 2.0]), Some(2.0));
        // Three: nothing dropped, the mean.
        assert_eq!(iqm(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(iqm(&[]), None);
    }

    #[test]
    fn quantile_and_normalise_golden() {
        // (0, 10, 20, 30): the 0.5-quantile sits at index 1.5, between 10 and 20: 15.
        assert_eq!(quantile(&[0.0, 10.0, 20.0, 30.0], 0.5), 15.0);
        assert_eq!(quantile(&[0.0, 10.0, 20.0, 30.0], 1.0), 30.0);
        assert_eq!(normalise(150.0, (100.0, 300.0)), 0.25);
        assert_eq!(normalise(5.0, (1.0, 1.0)), 0.0);
    }

    #[test]
    fn mean_bootstrap_golden() {
        // (1, 2, 6): mean 3; a resample's mean lies between 1 (all ones) and 6 (all sixes), and the
        // same seed gives the same interval.
        let e = mean_bootstrap(&[1.0, 2.0, 6.0], 2000, 0).unwrap();
        assert_eq!(e.value, 3.0);
        assert!(1.0 <= e.low && e.low < 3.0 && 3.0 < e.high && e.high <= 6.0, "{e:?}");
        assert_eq!(Some(e), mean_bootstrap(&[1.0, 2.0, 6.0], 2000, 0));
        assert_eq!(mean_bootstrap(&[], 10, 0), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }

    #[test]
    fn identical_runs_have_a_point_interval() {
        let e = iqm_stratified_bootstrap(&[vec![2.0; 5], vec![4.0; 5]], 200, 1).unwrap();
        assert_eq!((e.value, e.low, e.high), (3.0, 3.0, 3.0));
    }

    proptest! {
        /// The IQM lies between the smallest and largest score, and so do the interval's ends, which
        /// bracket ordered; the same seed gives the same interval.
        #[test]
        fn the_interval_is_ordered_and_inside_the_scores(
            tasks in prop::collection::vec(prop::collection::vec(-1e3f64..1e3, 1..7), 1..4),
            seed in 0u64..1000,
        ) {
            let e = iqm_stratified_bootstrap(&tasks, 300, seed).unwrap();
            let all: Vec<f64> = tasks.iter().flatten().copied().collect();
            let (lo, hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            prop_assert!(lo - 1e-9 <= e.low && e.low <= e.high && e.high <= hi + 1e-9, "{e:?} in [{lo}, {hi}]");
            prop_assert!(lo - 1e-9 <= e.value && e.value <= hi + 1e-9);
            prop_assert_eq!(Some(e), iqm_stratified_bootstrap(&tasks, 300, seed));
        }
    }
}
