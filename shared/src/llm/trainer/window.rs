//! The rollout metrics' means over every step since the previous record.

use serde::{Deserialize, Serialize};

use crate::metrics;

/// Sums of the per-step rollout metrics of [`metrics::ROLLOUT_WINDOWS`] since the previous record,
/// so that each record also carries their mean over every step in between (a record holds one
/// step's batch, whose step-to-step spread is as large as ERA's effect on the tiny model).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Steps summed.
    steps: u64,
    /// One sum per entry of [`metrics::ROLLOUT_WINDOWS`].
    sums: [f64; 3],
}

impl Window {
    /// Adds one step's metrics (steps without rollout metrics, the warm-up's, add nothing).
    pub fn add(&mut self, step: &[(&'static str, f64)]) {
        let mut any = false;
        for ((key, _), sum) in metrics::ROLLOUT_WINDOWS.iter().zip(&mut self.sums) {
            if let Some(&(_, v)) = step.iter().find(|(k, _)| k == key) {
                *sum += v;
                any = true;
            }
        }
        self.steps += u64::from(any);
    }

    /// The means since the previous record, emptying the window; nothing when it is empty.
    pub fn take(&mut self) -> Vec<(&'static str, f64)> {
        let w = std::mem::take(self);
        if w.steps == 0 {
            return Vec::new();
        }
        metrics::ROLLOUT_WINDOWS.iter().zip(w.sums).map(|(&(_, key), sum)| (key, sum / w.steps as f64)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_averages_the_rollout_steps_since_it_was_last_taken() {
        let mut w = Window::default();
        // A warm-up step has no rollout metrics: it does not count.
        w.add(&[(metrics::TRAIN_LOSS, 2.0)]);
        assert!(w.take().is_empty());
        w.add(&[(metrics::ROLLOUT_H_RESP_MEAN, 1.0), (metrics::ROLLOUT_REWARD_MEAN, 0.5), (metrics::POLICY_LOSS, 9.0)]);
        w.add(&[(metrics::ROLLOUT_H_RESP_MEAN, 2.0), (metrics::ROLLOUT_REWARD_MEAN, 0.0)]);
        // Means over the two steps: H_resp (1 + 2)/2 = 1.5, reward (0.5 + 0)/2 = 0.25, entropy 0/2.
        assert_eq!(
            w.take(),
            vec![
                (metrics::ROLLOUT_REWARD_WINDOW, 0.25),
                (metrics::ROLLOUT_H_RESP_WINDOW, 1.5),
                (metrics::ROLLOUT_ENTROPY_WINDOW, 0.0)
            ]
        );
        assert_eq!(w, Window::default(), "taking empties the window");
    }
}
