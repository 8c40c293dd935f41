//! "Try this" steps for each activation explorer, written for someone who has not read the paper.
//! Each step says what to do and what the charts will show; the page checks the explorer's state
//! against [`Step::done`] as it changes and says when the step is done. The tests below make each
//! step's action and check that what the step claims is true of the values the charts draw.

use era_shared::llm_scaling::{LlmEra, Regime};
use era_shared::softmax_floor::FloorMode;

use crate::explore::{self, GaussianView, LlmView, SoftmaxView};
use crate::params::{GaussianParams, LlmParams, SoftmaxParams};

/// One step: what to try, and when it counts as done, judged from the state when the step began
/// and the state now.
#[derive(Debug)]
pub struct Step<S: 'static> {
    /// The instruction and what to look for.
    pub text: &'static str,
    /// Whether the visitor has done it: `(state when the step began, state now)`.
    pub done: fn(&S, &S) -> bool,
}

/// The Gaussian explorer's state: its parameters and what it computed from them.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianState {
    /// The parameters.
    pub params: GaussianParams,
    /// The σ′ and entropies drawn.
    pub view: GaussianView,
}

/// The softmax explorer's state.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxState {
    /// The parameters.
    pub params: SoftmaxParams,
    /// The probabilities and entropies drawn.
    pub view: SoftmaxView,
}

/// The LLM explorer's state.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmState {
    /// The parameters.
    pub params: LlmParams,
    /// `H_resp`, the regime and the scaling drawn.
    pub view: LlmView,
}

impl GaussianState {
    /// The state of `params`, if they are valid.
    pub fn of(params: GaussianParams) -> Option<Self> {
        let p = &params;
        let view = explore::gaussian(&p.raw, p.h0, p.delta, p.log_std_min, p.log_std_max).ok()?;
        Some(Self { params, view })
    }
}

impl SoftmaxState {
    /// The state of `params`, if they are valid.
    pub fn of(params: SoftmaxParams) -> Option<Self> {
        let view = explore::softmax(&params.logits, params.h0, params.tau, params.mode).ok()?;
        Some(Self { params, view })
    }
}

impl LlmState {
    /// The state of `params`, if they are valid.
    pub fn of(params: LlmParams) -> Option<Self> {
        let p = &params;
        let era = LlmEra::new(p.omega_low, p.omega_high, p.k, p.top_fraction, true).ok()?;
        let view = explore::llm(&p.entropies, p.advantage, &era).ok()?;
        Some(Self { params, view })
    }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The Gaussian explorer's steps.
pub const GAUSSIAN: &[Step<GaussianState>] = &[
    Step {
        text: "Set D to 1 (the D slider). With one action dimension the whole entropy budget goes to it: its σ′ is \
               fixed by H₀ + δ, and moving its score changes nothing.",
        done: |_, now| now.params.raw.len() == 1,
    },
    Step {
        text: "Set D back to 2 or more, then raise H₀ by at least 1 nat. Every σ′ grows together, and the entropy bar \
               follows the target H₀ + δ.",
        done: |start, now| now.params.raw.len() >= 2 && now.params.h0 >= start.params.h0 + 1.0,
    },
    Step {
        text: "Push one score slider up by at least 1. That dimension's σ′ shrinks and the others grow, while the \
               entropy stays at H₀ + δ: the network only chooses how to share the budget.",
        done: |start, now| {
            let (a, b) = (&start.params.raw, &now.params.raw);
            a.len() == b.len() && a.iter().zip(b).any(|(x, y)| *y >= x + 1.0)
        },
    },
];

/// The softmax explorer's steps.
pub const SOFTMAX: &[Step<SoftmaxState>] = &[
    Step {
        text: "Make the classifier more confident: raise the largest logit by 3 or more. The plain softmax's entropy \
               falls toward 0; with ERA it stays at or above H₀.",
        done: |start, now| max(&now.params.logits) >= max(&start.params.logits) + 3.0,
    },
    Step {
        text: "Raise H₀ by at least 0.3 nats. The floor rises and ERA's probabilities spread out to stay above it; \
               the plain softmax does not change.",
        done: |start, now| now.params.h0 >= start.params.h0 + 0.3,
    },
    Step {
        text: "Switch to official, the authors' closed-form approximation of the floor. The readout says how far its \
               entropy is from the exact solution's.",
        done: |_, now| now.params.mode == FloorMode::Official,
    },
];

/// The LLM explorer's steps.
pub const LLM: &[Step<LlmState>] = &[
    Step {
        text: "Move the advantage A below 0. ERA leaves responses that did worse than their group alone (keep), \
               whatever their entropy.",
        done: |_, now| now.params.advantage < 0.0,
    },
    Step {
        text: "Bring A back above 0, then raise ω_low above the response's H_resp. The response counts as too \
               certain: ERA multiplies its logits by k in the update (the example distribution sharpens) and divides \
               its advantage by k.",
        done: |_, now| now.view.regime == Regime::Sharpen,
    },
    Step {
        text: "Now lower ω_low and ω_high below H_resp. The response counts as too uncertain: its logits are divided \
               by k (the example distribution flattens) and its advantage multiplied by k.",
        done: |_, now| now.view.regime == Regime::Soften,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `steps` from `start`, doing each step's `action`; checks each is not done before and is
    /// done after, and returns the states after each step.
    fn walk<S: Clone>(steps: &[Step<S>], start: S, actions: &[&dyn Fn(&S) -> S]) -> Vec<S> {
        assert_eq!(steps.len(), actions.len());
        let mut at = start;
        let mut out = Vec::new();
        for (i, (step, act)) in steps.iter().zip(actions).enumerate() {
            assert!(!(step.done)(&at, &at), "step {} is done before anything was changed", i + 1);
            let next = act(&at);
            assert!((step.done)(&at, &next), "step {} is not done after its action", i + 1);
            at = next;
            out.push(at.clone());
        }
        out
    }

    #[test]
    fn the_gaussian_steps_complete_and_say_what_the_charts_show() {
        let g = |p: GaussianParams| GaussianState::of(p).unwrap();
        let start = g(GaussianParams::default());
        let with = |s: &GaussianState, f: &dyn Fn(&mut GaussianParams)| {
            let mut p = s.params.clone();
            f(&mut p);
            g(p)
        };
        let after = walk(
            GAUSSIAN,
            start.clone(),
            &[
                &|s| with(s, &|p| *p = p.with_dims(1)),
                &|s| {
                    with(s, &|p| {
                        *p = p.with_dims(6);
                        p.raw = GaussianParams::default().raw;
                        p.h0 += 1.0;
                    })
                },
                &|s| with(s, &|p| p.raw[2] += 1.0),
            ],
        );
        // 1: with D = 1, σ′ does not depend on the score.
        let one = &after[0];
        assert!((with(one, &|p| p.raw[0] = -3.0).view.std[0] - one.view.std[0]).abs() < 1e-12);
        // 2: every σ′ grew against the start; the entropy equals the target.
        assert!(after[1].view.std.iter().zip(&start.view.std).all(|(a, b)| a > b));
        assert!((after[1].view.entropy - after[1].view.target).abs() < 1e-9);
        // 3: the pushed dimension shrank, every other grew, the entropy stayed.
        let (before, now) = (&after[1].view, &after[2].view);
        for i in 0..now.std.len() {
            assert_eq!(now.std[i] < before.std[i], i == 2, "dimension {i}");
        }
        assert!((now.entropy - before.entropy).abs() < 1e-9);
    }

    #[test]
    fn the_softmax_steps_complete_and_say_what_the_charts_show() {
        let s = |p: SoftmaxParams| SoftmaxState::of(p).unwrap();
        let start = s(SoftmaxParams::default());
        let with = |st: &SoftmaxState, f: &dyn Fn(&mut SoftmaxParams)| {
            let mut p = st.params.clone();
            f(&mut p);
            s(p)
        };
        let after = walk(
            SOFTMAX,
            start.clone(),
            &[&|st| with(st, &|p| p.logits[0] += 3.0), &|st| with(st, &|p| p.h0 += 0.3), &|st| {
                with(st, &|p| p.mode = FloorMode::Official)
            }],
        );
        // 1: the plain entropy fell, ERA's stays above H₀.
        assert!(after[0].view.entropy_before < start.view.entropy_before);
        assert!(after[0].view.entropy_after >= after[0].params.h0 - 1e-9);
        // 2: ERA's entropy rose with the floor and stays above it; the plain softmax is unchanged.
        assert!(after[1].view.entropy_after > after[0].view.entropy_after);
        assert!(after[1].view.entropy_after >= after[1].params.h0 - 1e-9);
        assert_eq!(after[1].view.before, after[0].view.before);
    }

    #[test]
    fn the_llm_steps_complete_and_say_what_the_charts_show() {
        let l = |p: LlmParams| LlmState::of(p).unwrap();
        let start = l(LlmParams::default());
        let with = |st: &LlmState, f: &dyn Fn(&mut LlmParams)| {
            let mut p = st.params.clone();
            f(&mut p);
            l(p)
        };
        let h = start.view.h_resp;
        let after = walk(
            LLM,
            start.clone(),
            &[
                &|st| with(st, &|p| p.advantage = -1.0),
                &|st| {
                    with(st, &|p| {
                        p.advantage = 1.0;
                        p.omega_low = h + 0.5;
                        p.omega_high = p.omega_high.max(h + 0.5);
                    })
                },
                &|st| {
                    with(st, &|p| {
                        p.omega_low = h / 2.0;
                        p.omega_high = h * 0.9;
                    })
                },
            ],
        );
        assert_eq!(after[0].view.regime, Regime::Keep);
        let k = after[1].params.k;
        assert_eq!((after[1].view.logit_scale, after[1].view.advantage), (k, 1.0 / k));
        assert_eq!((after[2].view.logit_scale, after[2].view.advantage), (1.0 / k, k));
    }
}
