//! `era activation gaussian|softmax|llm`: apply one ERA activation to JSON on stdin.
//!
//! Computed in `f64` with the scalar formulas of `era-shared`, so the output is a reference to
//! check other implementations against.

use anyhow::Context;
use era_shared::gaussian::diag_gaussian_entropy;
use era_shared::llm_scaling::{self, LlmEra, Regime};
use era_shared::{GaussianEra, SoftmaxFloor, prob};
use serde::{Deserialize, Serialize};

use crate::cli::{ActivationCommand, GaussianArgs, LlmArgs, SoftmaxArgs};
use crate::input::{check_matrix, parse_json, read_stdin};

/// Runs one `era activation` subcommand on stdin, printing JSON on stdout.
pub fn run(cmd: ActivationCommand) -> anyhow::Result<()> {
    let text = read_stdin()?;
    let out = match cmd {
        ActivationCommand::Gaussian(a) => serde_json::to_string(&gaussian(&a, &text)?)?,
        ActivationCommand::Softmax(a) => serde_json::to_string(&softmax(&a, &text)?)?,
        ActivationCommand::Llm(a) => serde_json::to_string(&llm(&a, &text)?)?,
    };
    println!("{out}");
    Ok(())
}

/// stdin of `era activation gaussian`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianRequest {
    /// Raw scores, one row of D per state.
    pub raw: Vec<Vec<f64>>,
}

/// stdout of `era activation gaussian`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct GaussianResponse {
    /// log σ′ per row.
    pub log_std: Vec<Vec<f64>>,
    /// σ′ per row.
    pub std: Vec<Vec<f64>>,
    /// The Gaussian's entropy per row (H₀ + δ, or more where the lower clip acted).
    pub entropy: Vec<f64>,
}

/// Applies the Gaussian log-std activation to a request's text.
pub fn gaussian(a: &GaussianArgs, text: &str) -> anyhow::Result<GaussianResponse> {
    let req: GaussianRequest = parse_json(text, "stdin")?;
    let d = check_matrix("raw", &req.raw, 1, "action dimensions")?;
    let era = GaussianEra::new(d, a.h0, a.delta, a.log_std_min, a.log_std_max)?;
    let log_std = rows(&era.apply(&req.raw.concat())?, d);
    Ok(GaussianResponse {
        std: log_std.iter().map(|r| r.iter().map(|s| s.exp()).collect()).collect(),
        entropy: log_std.iter().map(|r| diag_gaussian_entropy(r)).collect(),
        log_std,
    })
}

/// Splits row-major values into rows of `width`.
fn rows(flat: &[f64], width: usize) -> Vec<Vec<f64>> {
    flat.chunks(width).map(<[f64]>::to_vec).collect()
}

/// stdin of `era activation softmax`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftmaxRequest {
    /// Logits, one row of n per example.
    pub logits: Vec<Vec<f64>>,
}

/// stdout of `era activation softmax`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SoftmaxResponse {
    /// z′ per row.
    pub logits: Vec<Vec<f64>>,
    /// softmax(z′) per row.
    pub probs: Vec<Vec<f64>>,
    /// Entropy of softmax(z′) per row, ≥ H₀ in exact mode.
    pub entropy: Vec<f64>,
}

/// Applies the softmax entropy floor to a request's text.
pub fn softmax(a: &SoftmaxArgs, text: &str) -> anyhow::Result<SoftmaxResponse> {
    let req: SoftmaxRequest = parse_json(text, "stdin")?;
    let n = check_matrix("logits", &req.logits, 2, "classes")?;
    let floor = SoftmaxFloor::new(n, a.h0, a.tau, a.mode)?;
    let logits = rows(&floor.apply(&req.logits.concat())?, n);
    Ok(SoftmaxResponse {
        probs: logits
            .iter()
            .map(|z| {
                let mut p = vec![0.0; n];
                prob::softmax(z, &mut p);
                p
            })
            .collect(),
        entropy: logits.iter().map(|z| prob::entropy_from_logits(z)).collect(),
        logits,
    })
}

/// stdin of `era activation llm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmRequest {
    /// Entropy of each response token, in nats.
    pub token_entropy: Vec<f64>,
    /// The response's advantage A.
    pub advantage: f64,
    /// Optional logits, one row per token.
    #[serde(default)]
    pub logits: Option<Vec<Vec<f64>>>,
}

/// stdout of `era activation llm`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct LlmResponse {
    /// Mean of the top fraction of token entropies.
    pub h_resp: f64,
    /// What ERA does to this response.
    pub regime: Regime,
    /// A′.
    pub advantage: f64,
    /// The scaled logits z′ (when logits were given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logits: Option<Vec<Vec<f64>>>,
}

/// Applies the GRPO logit scaling to a request's text.
pub fn llm(a: &LlmArgs, text: &str) -> anyhow::Result<LlmResponse> {
    let req: LlmRequest = parse_json(text, "stdin")?;
    let era = LlmEra::new(a.omega_low, a.omega_high, a.k, a.top_fraction, !a.no_advantage_rescale)?;
    if req.token_entropy.is_empty() {
        anyhow::bail!("`token_entropy` is empty: a response has at least one token");
    }
    let h_resp = era.h_resp(&req.token_entropy, None).context("`token_entropy`")?;
    let adj = era.adjust(h_resp, req.advantage);
    let logits = match &req.logits {
        None => None,
        Some(rows) => {
            let v = check_matrix("logits", rows, 1, "vocabulary entries")?;
            if rows.len() != req.token_entropy.len() {
                anyhow::bail!(
                    "`logits` has {} rows but `token_entropy` has {} tokens: give one row per token",
                    rows.len(),
                    req.token_entropy.len()
                );
            }
            Some(
                rows.iter()
                    .map(|r| {
                        let mut z = vec![0.0; v];
                        llm_scaling::scale_logits(r, adj.logit_scale, &mut z);
                        z
                    })
                    .collect(),
            )
        }
    };
    Ok(LlmResponse { h_resp, regime: adj.regime, advantage: adj.advantage, logits })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gargs(h0: f64) -> GaussianArgs {
        GaussianArgs { h0, delta: 0.0, log_std_min: -8.0, log_std_max: 0.0 }
    }

    #[test]
    fn gaussian_golden() {
        // Same as the shared golden: D = 2, H0 = 0.5, raw (0, ln 3) → log σ' (−0.5844693, −1.7534078).
        let r = gaussian(&gargs(0.5), &format!("{{\"raw\": [[0, {}]]}}", 3f64.ln())).unwrap();
        assert!((r.log_std[0][0] + 0.584_469_266_602_336_3).abs() < 1e-12);
        assert!((r.std[0][1] - (-1.753_407_799_807_009_f64).exp()).abs() < 1e-12);
        assert!((r.entropy[0] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn gaussian_range_error_states_the_range() {
        let e = gaussian(&gargs(5.0), "{\"raw\": [[0, 1, 2]]}").unwrap_err().to_string();
        assert!(e.contains("[-19.743184, 4.256816]"), "{e}");
    }

    #[test]
    fn softmax_floor_holds() {
        let a = SoftmaxArgs { h0: 1.0, tau: 4.0, mode: Default::default() };
        let r = softmax(&a, "{\"logits\": [[10, 0, 0, 0], [0, 0, 0, 0]]}").unwrap();
        assert!(r.entropy.iter().all(|h| *h >= 1.0));
        // The uniform row stays uniform: entropy ln 4.
        assert!((r.entropy[1] - 4f64.ln()).abs() < 1e-12);
        assert!((r.probs[0].iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(softmax(&a, "{\"logits\": [[1]]}").unwrap_err().to_string().contains("at least 2 classes"));
    }

    #[test]
    fn llm_golden() {
        let a = LlmArgs { omega_low: 0.45, omega_high: 3.0, k: 2.0, top_fraction: 0.2, no_advantage_rescale: false };
        // 5 tokens: top ⌊1⌋ = 1 → H_resp = 0.3 < 0.45, A = 1 > 0: sharpen, A' = 0.5, logits × 2.
        let r = llm(&a, r#"{"token_entropy": [0.1, 0.3, 0.2, 0.0, 0.1], "advantage": 1.0, "logits": [[1,2],[0,0],[3,1],[1,1],[0,-1]]}"#).unwrap();
        assert_eq!((r.h_resp, r.regime, r.advantage), (0.3, Regime::Sharpen, 0.5));
        assert_eq!(r.logits.unwrap()[0], vec![2.0, 4.0]);
        let e =
            llm(&a, r#"{"token_entropy": [0.1], "advantage": 1.0, "logits": [[1,2],[0,0]]}"#).unwrap_err().to_string();
        assert!(e.contains("one row per token"), "{e}");
        assert!(llm(&a, r#"{"token_entropy": [], "advantage": 1.0}"#).is_err());
        assert!(llm(&a, r#"{"token_entropy": [-0.1], "advantage": 1.0}"#).is_err());
    }
}
