//! Schedules: learning rates, and when a periodic event (log, evaluation, checkpoint) falls due next.

/// A linear warm-up into a cosine decay, at (0-based) optimiser step `step` of `total`:
/// `peak·(step + 1)/warmup` for the first `warmup` steps, then
/// `peak·(floor + (1 − floor)·(1 + cos πt)/2)` with `t` going from 0 to 1 over the remaining steps
/// (held at 1 past them). `floor` is the fraction of the peak the decay ends at.
///
/// Vision uses `floor = 0` (the usual cosine to zero); the LLM warm-up `floor = 0.1`.
pub fn warmup_cosine(peak: f64, step: u64, warmup: f64, total: f64, floor: f64) -> f64 {
    let s = step as f64;
    if s < warmup {
        return peak * (s + 1.0) / warmup;
    }
    let t = ((s - warmup) / (total - warmup).max(1.0)).min(1.0);
    peak * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// When an event due at `next` and every `every` steps after falls due next once `step` is reached:
/// the first of `next`, `next + every`, `next + 2·every`, … after `step` (saturating at `u64::MAX`;
/// `every = 0` counts as 1). Computed, not stepped through, so that counters read from a checkpoint
/// cannot make it loop for long.
///
/// `next_due(5, 5, 5) = 10`, `next_due(5, 14, 5) = 15`, and a `next` already past `step` is kept.
pub fn next_due(next: u64, step: u64, every: u64) -> u64 {
    if next > step {
        return next;
    }
    let every = every.max(1);
    next.saturating_add(((step - next) / every).saturating_add(1).saturating_mul(every))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_next_due_step_is_worked_out_at_once() {
        assert_eq!(next_due(5, 5, 5), 10);
        assert_eq!(next_due(5, 9, 5), 10);
        assert_eq!(next_due(5, 14, 5), 15);
        assert_eq!(next_due(20, 14, 5), 20);
        assert_eq!(next_due(0, u64::MAX, 1), u64::MAX);
        assert_eq!(next_due(0, u64::MAX - 1, 0), u64::MAX);
    }

    proptest! {
        /// The same as stepping `every` at a time while `next <= step`.
        #[test]
        fn next_due_equals_stepping_through(next in 0u64..10_000, step in 0u64..10_000, every in 1u64..500) {
            let mut stepped = next;
            while stepped <= step {
                stepped += every;
            }
            prop_assert_eq!(next_due(next, step, every), stepped);
        }
    }

    #[test]
    fn warms_up_linearly_then_decays_to_the_floor() {
        // 6 warm-up steps of 60 at peak 0.1: step 0 is 0.1/6, step 5 the peak; the decay's midpoint
        // (step 6 + 54/2 = 33) is half the peak with floor 0, and 0.1·(0.1 + 0.9/2) = 0.055 with floor 0.1.
        assert!((warmup_cosine(0.1, 0, 6.0, 60.0, 0.0) - 0.1 / 6.0).abs() < 1e-15);
        assert!((warmup_cosine(0.1, 5, 6.0, 60.0, 0.0) - 0.1).abs() < 1e-15);
        assert!((warmup_cosine(0.1, 6, 6.0, 60.0, 0.0) - 0.1).abs() < 1e-15);
        assert!((warmup_cosine(0.1, 33, 6.0, 60.0, 0.0) - 0.05).abs() < 1e-15);
        assert!((warmup_cosine(0.1, 33, 6.0, 60.0, 0.1) - 0.055).abs() < 1e-15);
        // Past the end it stays at the floor.
        assert!((warmup_cosine(0.1, 600, 6.0, 60.0, 0.1) - 0.01).abs() < 1e-15);
        assert!(warmup_cosine(0.1, 600, 6.0, 60.0, 0.0).abs() < 1e-15);
    }
}
