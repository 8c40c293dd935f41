//! What the three activation explorers show, computed with the same `era-shared` functions the trainer
//! uses.

use era_shared::llm_scaling::{self, LlmEra, Regime};
use era_shared::softmax_floor::{FloorMode, SoftmaxFloor};
use era_shared::{GaussianEra, gaussian, prob};

/// The Gaussian explorer's result.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianView {
    /// ERA's log σ′ per dimension.
    pub log_std: Vec<f64>,
    /// σ′ per dimension.
    pub std: Vec<f64>,
    /// Entropy of the Gaussian with σ′ (nats).
    pub entropy: f64,
    /// `H₀ + δ`, what the entropy equals unless the clip acts.
    pub target: f64,
    /// A plain clip of the raw scores to `[log σ_min, log σ_max]` instead.
    pub clip_log_std: Vec<f64>,
    /// Entropy with the plain clip.
    pub clip_entropy: f64,
    /// The valid range of `H₀ + δ` for these bounds.
    pub valid: (f64, f64),
}

/// ERA's log-std activation on the raw scores `raw` (one per dimension), and a plain clip beside it.
pub fn gaussian(raw: &[f64], h0: f64, delta: f64, log_std_min: f64, log_std_max: f64) -> Result<GaussianView, String> {
    let era = GaussianEra::new(raw.len(), h0, delta, log_std_min, log_std_max).map_err(|e| e.to_string())?;
    let log_std = era.apply(raw).map_err(|e| e.to_string())?;
    let clip_log_std: Vec<f64> = raw.iter().map(|&s| s.clamp(log_std_min, log_std_max)).collect();
    Ok(GaussianView {
        std: log_std.iter().map(|l| l.exp()).collect(),
        entropy: gaussian::diag_gaussian_entropy(&log_std),
        target: era.target(),
        clip_entropy: gaussian::diag_gaussian_entropy(&clip_log_std),
        log_std,
        clip_log_std,
        valid: GaussianEra::valid_range(raw.len(), log_std_min, log_std_max),
    })
}

/// The softmax explorer's result for one row of logits.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxView {
    /// `softmax(z)`.
    pub before: Vec<f64>,
    /// `softmax(z′)` after the floor.
    pub after: Vec<f64>,
    /// Entropy of `softmax(z)`.
    pub entropy_before: f64,
    /// Entropy of `softmax(z′)`.
    pub entropy_after: f64,
    /// The open range `H₀` must lie in for these `n` and `τ`.
    pub valid: (f64, f64),
}

/// The floor of `SoftmaxFloor::new(logits.len(), h0, tau, mode)` applied to `logits`.
pub fn softmax(logits: &[f64], h0: f64, tau: f64, mode: FloorMode) -> Result<SoftmaxView, String> {
    let valid = SoftmaxFloor::valid_range(logits.len(), tau).map_err(|e| e.to_string())?;
    let floor = SoftmaxFloor::new(logits.len(), h0, tau, mode).map_err(|e| e.to_string())?;
    let z = floor.apply(logits).map_err(|e| e.to_string())?;
    let probs = |row: &[f64]| {
        let mut p = vec![0.0; row.len()];
        prob::softmax(row, &mut p);
        p
    };
    Ok(SoftmaxView {
        before: probs(logits),
        after: probs(&z),
        entropy_before: prob::entropy_from_logits(logits),
        entropy_after: prob::entropy_from_logits(&z),
        valid,
    })
}

/// One point of the temperature sweep: the logits multiplied by `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    /// The logit scale (1/temperature).
    pub scale: f64,
    /// Entropy of the plain softmax.
    pub plain: f64,
    /// Entropy after the exact floor.
    pub exact: f64,
    /// Entropy after the authors' official approximation.
    pub official: f64,
}

/// Entropies of `softmax(s·z)` with and without the floor for `points` scales from 10⁻² to 10², evenly in log.
pub fn temperature_sweep(logits: &[f64], h0: f64, tau: f64, points: usize) -> Result<Vec<SweepPoint>, String> {
    let exact = SoftmaxFloor::new(logits.len(), h0, tau, FloorMode::Exact).map_err(|e| e.to_string())?;
    let official = SoftmaxFloor::new(logits.len(), h0, tau, FloorMode::Official).map_err(|e| e.to_string())?;
    (0..points.max(2))
        .map(|i| {
            let scale = 10f64.powf(-2.0 + 4.0 * i as f64 / (points.max(2) - 1) as f64);
            let z: Vec<f64> = logits.iter().map(|v| v * scale).collect();
            let entropy_after =
                |f: &SoftmaxFloor| f.apply(&z).map(|y| prob::entropy_from_logits(&y)).map_err(|e| e.to_string());
            Ok(SweepPoint {
                scale,
                plain: prob::entropy_from_logits(&z),
                exact: entropy_after(&exact)?,
                official: entropy_after(&official)?,
            })
        })
        .collect()
}

/// The LLM explorer's result for one response.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmView {
    /// Mean of the top `top_fraction` token entropies.
    pub h_resp: f64,
    /// How many tokens entered `H_resp`.
    pub top_count: usize,
    /// What ERA does to the response.
    pub regime: Regime,
    /// The factor its logits are multiplied by.
    pub logit_scale: f64,
    /// The advantage after rescaling.
    pub advantage: f64,
}

/// ERA's decision for a response with `token_entropies` and `advantage`.
pub fn llm(token_entropies: &[f64], advantage: f64, era: &LlmEra) -> Result<LlmView, String> {
    let h_resp = era.h_resp(token_entropies, None).map_err(|e| e.to_string())?;
    let adj = era.adjust(h_resp, advantage);
    Ok(LlmView {
        h_resp,
        top_count: llm_scaling::top_count(token_entropies.len(), era.top_fraction()),
        regime: adj.regime,
        logit_scale: adj.logit_scale,
        advantage: adj.advantage,
    })
}

/// A token distribution and the same after its logits are multiplied by `scale`: `(before, after)`.
pub fn scaled_distribution(logits: &[f64], scale: f64) -> (Vec<f64>, Vec<f64>) {
    let mut scaled = vec![0.0; logits.len()];
    llm_scaling::scale_logits(logits, scale, &mut scaled);
    let (mut before, mut after) = (vec![0.0; logits.len()], vec![0.0; logits.len()]);
    prob::softmax(logits, &mut before);
    prob::softmax(&scaled, &mut after);
    (before, after)
}

/// A deterministic pseudo-random sequence of `len` token entropies in `[0, max)`, from `seed`: mostly
/// confident tokens with a few forks, as in real responses.
pub fn sample_entropies(len: usize, max: f64, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            // u³ puts most tokens near zero entropy and a few high.
            max * u * u * u
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_entropy_is_the_target_and_the_clip_is_not() {
        let v = gaussian(&[0.3, -1.0, 2.0], 0.75, 0.0, -8.0, 0.0).unwrap();
        assert!((v.entropy - 0.75).abs() < 1e-9 && (v.target - 0.75).abs() < 1e-12);
        // Clip of [0.3, −1, 2] to [−8, 0] is [0, −1, 0]: entropy 3·1.418939 − 1 = 3.256816.
        assert!((v.clip_entropy - 3.256_816).abs() < 1e-6, "{}", v.clip_entropy);
        assert!(gaussian(&[0.0], 99.0, 0.0, -8.0, 0.0).unwrap_err().contains("H0"));
    }

    #[test]
    fn softmax_floor_and_sweep_hold_the_floor() {
        let v = softmax(&[6.0, 1.0, 0.5, -2.0], 0.6, 4.0, FloorMode::Exact).unwrap();
        assert!(v.entropy_after >= 0.6 - 1e-9 && v.entropy_before < 0.1);
        assert!(v.after[0] > v.after[1] && (v.after.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let sweep = temperature_sweep(&[2.0, 1.0, 0.0], 0.5, 4.0, 9).unwrap();
        assert_eq!(sweep.len(), 9);
        assert!((sweep[0].scale - 0.01).abs() < 1e-12 && (sweep[8].scale - 100.0).abs() < 1e-9);
        assert!(sweep.iter().all(|p| p.exact >= 0.5 - 1e-9));
        // At scale 100 the plain softmax is nearly one-hot; the floor is not.
        assert!(sweep[8].plain < 0.01 && sweep[8].exact > 0.5);
    }

    #[test]
    fn llm_regimes_by_hand() {
        let era = LlmEra::new(0.45, 3.0, 2.0, 0.2, true).unwrap();
        // 10 tokens, top 2 are 0.4 and 0.3: H_resp 0.35 < 0.45 with A > 0 → sharpen, logits ×2, A/2.
        let v = llm(&[0.4, 0.3, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 1.0, &era).unwrap();
        assert_eq!((v.top_count, v.regime), (2, Regime::Sharpen));
        assert!((v.h_resp - 0.35).abs() < 1e-12 && v.logit_scale == 2.0 && v.advantage == 0.5);
        let v = llm(&[0.4, 0.3], -1.0, &era).unwrap();
        assert_eq!(v.regime, Regime::Keep);
        let (before, after) = scaled_distribution(&[1.0, 0.0], 2.0);
        // softmax([1, 0]) = [0.731059, 0.268941]; ×2: softmax([2, 0]) = [0.880797, 0.119203].
        assert!((before[0] - 0.731_059).abs() < 1e-6 && (after[0] - 0.880_797).abs() < 1e-6);
        let e = sample_entropies(50, 3.0, 7);
        assert_eq!(e, sample_entropies(50, 3.0, 7));
        assert!(e.iter().all(|&x| (0.0..3.0).contains(&x)));
    }
}
