//! N copies of an environment stepped together, with automatic reset in the same step.

use super::{Env, EnvError, EnvSnapshot, EnvSpec};

/// The result of stepping every copy once.
#[derive(Debug, Clone, PartialEq)]
pub struct VecStep {
    /// Next observations, `[n × obs_dim]` row-major; a finished copy already shows its reset observation.
    pub obs: Vec<f32>,
    /// Rewards.
    pub rewards: Vec<f64>,
    /// Which copies terminated.
    pub terminated: Vec<bool>,
    /// Which copies hit the time limit.
    pub truncated: Vec<bool>,
    /// For each finished copy, its last observation before the reset (for bootstrapping on truncation).
    pub final_obs: Vec<Option<Vec<f32>>>,
}

/// N copies of one environment. Copy `i` is seeded with `seed + i`; a copy whose episode ends is
/// reset in the same call, so `obs` is always a valid observation to act on (Gymnasium's "same-step"
/// autoreset).
#[derive(Debug)]
pub struct VecEnv {
    envs: Vec<Env>,
}

impl VecEnv {
    /// `n` copies of the environment `id`.
    pub fn new(id: &str, n: usize) -> Result<Self, EnvError> {
        Ok(Self { envs: (0..n.max(1)).map(|_| Env::make(id)).collect::<Result<_, _>>()? })
    }

    /// Every copy repeats each action `n` times ([`Env::with_action_repeat`]).
    pub fn with_action_repeat(self, n: u32) -> Result<Self, EnvError> {
        Ok(Self { envs: self.envs.into_iter().map(|e| e.with_action_repeat(n)).collect::<Result<_, _>>()? })
    }

    /// The environments' spec.
    pub fn spec(&self) -> &EnvSpec {
        self.envs[0].spec()
    }

    /// Number of copies.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Always false: there is at least one copy.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The copies.
    pub fn envs(&self) -> &[Env] {
        &self.envs
    }

    /// Resets every copy, copy `i` with seed `seed + i`.
    pub fn reset(&mut self, seed: u64) -> Vec<f32> {
        self.envs.iter_mut().enumerate().flat_map(|(i, e)| e.reset(Some(seed.wrapping_add(i as u64)))).collect()
    }

    /// Steps every copy with its row of `actions` (`[n × action_dim]`, in the environment's units).
    pub fn step(&mut self, actions: &[f32]) -> Result<VecStep, EnvError> {
        let d = self.spec().action.dims();
        let n = self.envs.len();
        let mut out = VecStep {
            obs: Vec::with_capacity(n * self.spec().observation.dims()),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            final_obs: Vec::with_capacity(n),
        };
        if actions.len() != n * d {
            return Err(EnvError::Length {
                env: self.spec().id,
                what: "action",
                got: actions.len(),
                expected: n * d,
                layout: "one row per environment copy",
            });
        }
        for (env, a) in self.envs.iter_mut().zip(actions.chunks(d)) {
            let s = env.step(a)?;
            out.rewards.push(s.reward);
            out.terminated.push(s.terminated);
            out.truncated.push(s.truncated);
            if s.terminated || s.truncated {
                out.obs.extend(env.reset(None));
                out.final_obs.push(Some(s.obs));
            } else {
                out.obs.extend(s.obs);
                out.final_obs.push(None);
            }
        }
        Ok(out)
    }

    /// Snapshots of every copy.
    pub fn snapshot(&self) -> Vec<EnvSnapshot> {
        self.envs.iter().map(Env::snapshot).collect()
    }

    /// Restores every copy from [`VecEnv::snapshot`]'s output.
    pub fn restore(&mut self, snapshots: Vec<EnvSnapshot>) -> Result<(), EnvError> {
        if snapshots.len() != self.envs.len() {
            return Err(EnvError::Length {
                env: self.spec().id,
                what: "snapshot",
                got: snapshots.len(),
                expected: self.envs.len(),
                layout: "one per environment copy",
            });
        }
        self.envs.iter_mut().zip(snapshots).try_for_each(|(e, s)| e.restore(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autoreset_in_the_same_step() {
        let mut v = VecEnv::new("Pendulum-v1", 2).unwrap();
        let obs = v.reset(5);
        assert_eq!(obs.len(), 6);
        let mut single = Env::make("Pendulum-v1").unwrap();
        assert_eq!(single.reset(Some(6)), obs[3..].to_vec(), "copy 1 is seeded with seed + 1");
        for t in 1..=200 {
            let s = v.step(&[0.5, -0.5]).unwrap();
            assert_eq!(s.truncated, vec![t == 200; 2]);
            assert_eq!(s.final_obs[0].is_some(), t == 200);
        }
        assert!(v.step(&[0.0]).unwrap_err().to_string().contains("expected 2"));
    }
}
