//! The fast path's memory: after the first updates have sized every buffer, further SAC and PPO
//! updates leave the heap where it was (no per-update growth), measured by a counting allocator.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use era_shared::control::fast;
use era_shared::control::policy::EraConfig;
use era_shared::control::ppo::{PpoConfig, Rollout};
use era_shared::control::replay::ReplayBuffer;
use era_shared::control::sac::SacConfig;
use era_shared::train::TrainRng;
use rand::{Rng, SeedableRng};

/// Bytes allocated and not yet freed, and allocations made, by this process.
static LIVE: AtomicI64 = AtomicI64::new(0);
static CALLS: AtomicU64 = AtomicU64::new(0);

struct Counting;

// SAFETY: every call forwards to the system allocator with the caller's own arguments; the counters
// are atomics and never affect what is returned.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        CALLS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most that one lane job's box, freed by the lane thread after the update returns, can shift
/// the count by.
const LANE_JOB_SLACK: i64 = 64;

/// Runs `run(20)` to size every buffer, then `run(200)`: the heap's growth in bytes over those 200
/// updates, and the allocations per update.
fn growth(mut run: impl FnMut(usize)) -> (i64, f64) {
    run(20);
    let (live, calls) = (LIVE.load(Ordering::Relaxed), CALLS.load(Ordering::Relaxed));
    run(200);
    (LIVE.load(Ordering::Relaxed) - live, (CALLS.load(Ordering::Relaxed) - calls) as f64 / 200.0)
}

/// One test, so nothing else in this process allocates while it counts.
#[test]
fn updates_do_not_grow_the_heap() {
    // PPO: an update is a rollout's minibatches (here 4 epochs × 4 of 64 rows).
    for (era, head) in [(true, false), (false, false), (true, true)] {
        let cfg = PpoConfig::standard(era)
            .with_num_steps(256)
            .with_num_minibatches(4)
            .with_update_epochs(4)
            .with_state_dependent_std(head);
        let mut rng = TrainRng::seed_from_u64(0);
        let mut agent = fast::ppo::Ppo::new(&cfg, 17, 6, 1, &mut rng).unwrap();
        let mut data = TrainRng::seed_from_u64(1);
        let mut v = |k: usize| -> Vec<f32> { (0..k).map(|_| data.random_range(-1.0f32..1.0)).collect() };
        let rollout = Rollout {
            obs: v(256 * 17),
            actions: v(256 * 6),
            log_probs: v(256).iter().map(|x| x - 8.0).collect(),
            values: v(256),
            rewards: v(256),
            dones: vec![false; 256],
            advantages: v(256),
            returns: v(256),
        };
        let (growth, per_update) = growth(|updates| {
            for _ in 0..updates {
                std::hint::black_box(agent.update(&cfg, &rollout, 1.0, &mut rng));
            }
        });
        eprintln!(
            "ppo, era {era}, head {head}: heap growth over 200 updates {growth} bytes, {per_update:.1} allocations per update"
        );
        assert_eq!(growth, 0, "ppo, era {era}: the heap grew by {growth} bytes over 200 updates");
    }
    // SAC last, and every SAC agent kept to the end: dropping one lets its lane thread exit and free
    // its thread-locals at a moment of its own, possibly inside a later window.
    let mut agents = Vec::new();
    for era in [true, false] {
        let cfg = SacConfig::new(EraConfig::new().with_enabled(era)).with_hidden(vec![64, 64]).with_batch_size(128);
        let mut rng = TrainRng::seed_from_u64(0);
        let mut agent = fast::sac::Sac::new(&cfg, 17, 6, &mut rng).unwrap();
        let mut buffer = ReplayBuffer::new(2000, 17, 6);
        let mut data = TrainRng::seed_from_u64(1);
        for _ in 0..2000 {
            let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| data.random_range(-1.0f32..1.0)).collect() };
            let (o, a, n) = (v(17), v(6), v(17));
            buffer.push(&o, &a, data.random_range(-1.0..1.0), &n, false);
        }
        let batches: Vec<_> = (0..40).map(|_| buffer.sample(128, &mut data)).collect();
        let (growth, per_update) = growth(|updates| {
            for i in 0..updates {
                let _ = agent.update(&cfg, &batches[i % batches.len()], &mut rng, i % 10 == 9);
            }
        });
        eprintln!(
            "sac, era {era}: heap growth over 200 updates {growth} bytes, {per_update:.1} allocations per update"
        );
        // Lane 1 runs as a rayon job whose box (40 bytes here) the lane thread frees just after it
        // signals completion, so one such box may still be counted at either end of the window. A
        // leak of even one byte per update would add 200.
        assert!(
            growth.abs() <= LANE_JOB_SLACK,
            "sac, era {era}: the heap grew by {growth} bytes over 200 updates (more than one in-flight lane job, {LANE_JOB_SLACK} bytes)"
        );
        agents.push(agent);
    }
}
