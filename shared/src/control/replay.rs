//! The replay buffer of off-policy agents: transitions in flat `f32` arrays, sampled uniformly.

use rand::Rng;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::train::{TrainError, TrainRng, from_le_bytes, le_bytes};

/// A uniformly sampled batch, each field row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Observations, `[batch × obs_dim]`.
    pub obs: Vec<f32>,
    /// Actions in `[−1, 1]`, `[batch × act_dim]`.
    pub actions: Vec<f32>,
    /// Rewards, `[batch]`.
    pub rewards: Vec<f32>,
    /// Next observations (the true last observation when an episode ended), `[batch × obs_dim]`.
    pub next_obs: Vec<f32>,
    /// 1 where the episode terminated (no bootstrap), 0 otherwise (time-limit truncation bootstraps), `[batch]`.
    pub terminated: Vec<f32>,
}

/// A ring buffer of transitions. Memory grows with use up to `capacity` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    act_dim: usize,
    next: usize,
    len: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    next_obs: Vec<f32>,
    terminated: Vec<f32>,
}

impl ReplayBuffer {
    /// An empty buffer of `capacity` transitions.
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            obs_dim,
            act_dim,
            next: 0,
            len: 0,
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            next_obs: Vec::new(),
            terminated: Vec::new(),
        }
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A buffer of `count` random transitions, for benchmarks and tests that need a buffer's shapes
    /// rather than real data: observations, actions, rewards and next observations uniform in
    /// `[−1, 1]` (drawn in that order per transition), each terminal with probability `terminal`.
    pub fn random(count: usize, obs_dim: usize, act_dim: usize, terminal: f64, rng: &mut TrainRng) -> Self {
        let mut buffer = Self::new(count, obs_dim, act_dim);
        for _ in 0..count {
            let mut v = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
            let (o, a, n) = (v(obs_dim), v(act_dim), v(obs_dim));
            let (r, done) = (rng.random_range(-1.0..1.0), rng.random_range(0.0..1.0) < terminal);
            buffer.push(&o, &a, r, &n, done);
        }
        buffer
    }

    /// Adds a transition, overwriting the oldest once full.
    pub fn push(&mut self, obs: &[f32], action: &[f32], reward: f32, next_obs: &[f32], terminated: bool) {
        let (o, a, i) = (self.obs_dim, self.act_dim, self.next);
        let term = if terminated { 1.0 } else { 0.0 };
        if self.len < self.capacity {
            self.obs.extend_from_slice(obs);
            self.actions.extend_from_slice(action);
            self.rewards.push(reward);
            self.next_obs.extend_from_slice(next_obs);
            self.terminated.push(term);
            self.len += 1;
        } else {
            self.obs[i * o..(i + 1) * o].copy_from_slice(obs);
            self.actions[i * a..(i + 1) * a].copy_from_slice(action);
            self.rewards[i] = reward;
            self.next_obs[i * o..(i + 1) * o].copy_from_slice(next_obs);
            self.terminated[i] = term;
        }
        self.next = (i + 1) % self.capacity;
    }

    /// `batch` transitions drawn uniformly with replacement (an empty buffer gives an empty batch).
    pub fn sample(&self, batch: usize, rng: &mut TrainRng) -> Batch {
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut out = Batch {
            obs: Vec::with_capacity(batch * o),
            actions: Vec::with_capacity(batch * a),
            rewards: Vec::with_capacity(batch),
            next_obs: Vec::with_capacity(batch * o),
            terminated: Vec::with_capacity(batch),
        };
        if self.len == 0 {
            return out;
        }
        for _ in 0..batch {
            let i = rng.random_range(0..self.len);
            out.obs.extend_from_slice(&self.obs[i * o..(i + 1) * o]);
            out.actions.extend_from_slice(&self.actions[i * a..(i + 1) * a]);
            out.rewards.push(self.rewards[i]);
            out.next_obs.extend_from_slice(&self.next_obs[i * o..(i + 1) * o]);
            out.terminated.push(self.terminated[i]);
        }
        out
    }

    /// The buffer as a safetensors file: tensors `obs`, `actions`, `rewards`, `next_obs`, `terminated`
    /// (rows in storage order) and the metadata `capacity` and `next` (the row written next).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, TrainError> {
        let fields = [
            ("obs", le_bytes(&self.obs), vec![self.len, self.obs_dim]),
            ("actions", le_bytes(&self.actions), vec![self.len, self.act_dim]),
            ("rewards", le_bytes(&self.rewards), vec![self.len]),
            ("next_obs", le_bytes(&self.next_obs), vec![self.len, self.obs_dim]),
            ("terminated", le_bytes(&self.terminated), vec![self.len]),
        ];
        let views = fields
            .iter()
            .map(|(name, data, shape)| Ok((*name, TensorView::new(Dtype::F32, shape.clone(), data)?)))
            .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
            .map_err(|e| TrainError::Checkpoint(format!("replay buffer: {e}")))?;
        let meta = [("capacity".to_string(), self.capacity.to_string()), ("next".to_string(), self.next.to_string())];
        safetensors::serialize(views, Some(meta.into_iter().collect()))
            .map_err(|e| TrainError::Checkpoint(format!("replay buffer: {e}")))
    }

    /// Reads [`ReplayBuffer::to_safetensors`]'s output, checking it fits this buffer's shapes.
    pub fn from_safetensors(&mut self, bytes: &[u8]) -> Result<(), TrainError> {
        let bad = |why: String| TrainError::Checkpoint(format!("replay buffer: {why}"));
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        let number = |key: &str| -> Result<usize, TrainError> {
            meta.get(key).and_then(|v| v.parse().ok()).ok_or_else(|| bad(format!("metadata `{key}` missing")))
        };
        let (capacity, next) = (number("capacity")?, number("next")?);
        let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let read = |name: &str, width: usize| -> Result<Vec<f32>, TrainError> {
            let t = st.tensor(name).map_err(|e| bad(format!("`{name}`: {e}")))?;
            if t.dtype() != Dtype::F32 || t.shape().get(1).copied().unwrap_or(1) != width {
                return Err(bad(format!(
                    "`{name}` has shape {:?} {:?}, expected width {width} f32",
                    t.shape(),
                    t.dtype()
                )));
            }
            Ok(from_le_bytes(t.data()))
        };
        let obs = read("obs", self.obs_dim)?;
        let len = obs.len() / self.obs_dim.max(1);
        // A buffer not yet full writes its next row at its end.
        if capacity != self.capacity || len > capacity || next >= capacity.max(1) || (len < capacity && next != len) {
            return Err(bad(format!(
                "capacity {capacity} / length {len} / next {next} do not fit a buffer of {}",
                self.capacity
            )));
        }
        // Every field holds the same transitions: a shorter one would be indexed past its end when sampled.
        let rows = |name: &str, width: usize| -> Result<Vec<f32>, TrainError> {
            let v = read(name, width)?;
            if v.len() != len * width {
                return Err(bad(format!("`{name}` holds {} transitions, `obs` {len}", v.len() / width.max(1))));
            }
            Ok(v)
        };
        *self = Self {
            capacity,
            obs_dim: self.obs_dim,
            act_dim: self.act_dim,
            next,
            len,
            actions: rows("actions", self.act_dim)?,
            rewards: rows("rewards", 1)?,
            next_obs: rows("next_obs", self.obs_dim)?,
            terminated: rows("terminated", 1)?,
            obs,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ring_overwrites_oldest_and_round_trips() {
        let mut b = ReplayBuffer::new(3, 2, 1);
        for i in 0..5 {
            let x = i as f32;
            b.push(&[x, x], &[x / 10.0], x, &[x + 1.0, x + 1.0], i == 4);
        }
        assert_eq!(b.len(), 3);
        // Rows: 3, 4, 2 (4 overwrote 1 at index 1, 3 overwrote 0 at index 0).
        assert_eq!(b.rewards, vec![3.0, 4.0, 2.0]);
        let s = b.sample(100, &mut TrainRng::seed_from_u64(0));
        assert!(s.rewards.iter().all(|r| [2.0, 3.0, 4.0].contains(r)));
        assert!(s.obs.chunks(2).zip(&s.rewards).all(|(o, r)| o[0] == *r));
        let mut c = ReplayBuffer::new(3, 2, 1);
        c.from_safetensors(&b.to_safetensors().unwrap()).unwrap();
        assert_eq!(b, c);
        let mut wrong = ReplayBuffer::new(3, 4, 1);
        assert!(wrong.from_safetensors(&b.to_safetensors().unwrap()).unwrap_err().to_string().contains("obs"));
    }

    #[test]
    fn a_checkpointed_buffer_whose_fields_disagree_is_refused() {
        let mut b = ReplayBuffer::new(4, 2, 1);
        for i in 0..3 {
            b.push(&[0.0, 0.0], &[0.0], i as f32, &[0.0, 0.0], false);
        }
        // One reward fewer than observations: sampling the third row would index past `rewards`.
        let zeros = |n: usize| vec![0u8; n * 4];
        let fields = [
            ("obs", zeros(6), vec![3, 2]),
            ("actions", zeros(3), vec![3, 1]),
            ("rewards", zeros(2), vec![2]),
            ("next_obs", zeros(6), vec![3, 2]),
            ("terminated", zeros(3), vec![3]),
        ];
        let views = fields.iter().map(|(n, d, s)| (*n, TensorView::new(Dtype::F32, s.clone(), d).unwrap()));
        let meta = [("capacity".to_string(), "4".to_string()), ("next".to_string(), "3".to_string())];
        let short = safetensors::serialize(views, Some(meta.into_iter().collect())).unwrap();
        let err = ReplayBuffer::new(4, 2, 1).from_safetensors(&short).unwrap_err();
        assert!(err.to_string().contains("`rewards` holds 2 transitions, `obs` 3"), "{err}");
        // Not full, yet the next row is claimed to be elsewhere than its end.
        let mut skewed = b.clone();
        skewed.next = 1;
        let err = ReplayBuffer::new(4, 2, 1).from_safetensors(&skewed.to_safetensors().unwrap()).unwrap_err();
        assert!(err.to_string().contains("next 1"), "{err}");
        let mut c = ReplayBuffer::new(4, 2, 1);
        c.from_safetensors(&b.to_safetensors().unwrap()).unwrap();
        assert_eq!(b, c);
    }
}
