//! The spinning barrier between the two lanes of a SAC update.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A barrier for the two lanes of an update that spins instead of sleeping: a lane waits a few
/// microseconds at most, and waking a sleeping thread costs tens of microseconds on a virtual machine
/// (measured 26–120 µs per `rayon::join` here), several times per update.
#[derive(Debug, Default)]
pub struct SpinBarrier {
    arrived: AtomicUsize,
    round: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    /// Waits until both lanes have arrived.
    ///
    /// # Panics
    /// When the other lane panicked (instead of waiting for it forever).
    pub fn wait(&self) {
        let round = self.round.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) == 1 {
            self.arrived.store(0, Ordering::Relaxed);
            self.round.store(round + 1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.round.load(Ordering::Acquire) == round {
            assert!(!self.poisoned.load(Ordering::Acquire), "the other lane of the update panicked");
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(4096) {
                // Let a descheduled partner run when the cores are oversubscribed.
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// A guard that marks the barrier poisoned if its lane unwinds, so the other lane stops waiting.
    pub fn poison_on_panic(&self) -> impl Drop + '_ {
        struct Guard<'a>(&'a SpinBarrier);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.poisoned.store(true, Ordering::Release);
                }
            }
        }
        Guard(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_that_panics_releases_the_other_from_the_barrier() {
        let barrier = SpinBarrier::default();
        let (a, b) = std::thread::scope(|s| {
            let failing = s.spawn(|| {
                let _guard = barrier.poison_on_panic();
                panic!("lane 1 fails");
            });
            let waiting = s.spawn(|| {
                let _guard = barrier.poison_on_panic();
                barrier.wait();
            });
            (failing.join().is_err(), waiting.join().is_err())
        });
        assert!(a && b, "both lanes end instead of one waiting forever");
        // Unpoisoned, two lanes pass it repeatedly.
        let barrier = SpinBarrier::default();
        std::thread::scope(|s| {
            s.spawn(|| (0..1000).for_each(|_| barrier.wait()));
            (0..1000).for_each(|_| barrier.wait());
        });
    }
}
