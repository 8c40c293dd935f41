//! What GRPO trains on: the built-in arithmetic problems, or a file of the user's problems scored by
//! a [`Reward`] rule. The trainer draws [`Item`]s, encodes their prompts, rewards the responses and
//! evaluates pass@k on the held-out split, the same way for both.

use super::arithmetic::{Arithmetic, Problem};
use super::prompts::{Prompts, Row, Skipped};
use super::reward::Reward;
use crate::train::TrainRng;

/// One problem as the trainer uses it.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An addition of the arithmetic task.
    Sum(Problem),
    /// A row of the user's file.
    Row(Row),
}

impl Item {
    /// The text the model continues.
    pub fn prompt(&self) -> String {
        match self {
            Self::Sum(p) => p.prompt(),
            Self::Row(r) => r.prompt.clone(),
        }
    }

    /// The response the supervised warm-up trains towards: the worked sum, or the reference answer.
    pub fn worked(&self) -> String {
        match self {
            Self::Sum(p) => p.worked(),
            Self::Row(r) => r.answer.clone(),
        }
    }
}

/// A task: its problems, held-out split and reward.
#[derive(Debug, Clone)]
pub enum Task {
    /// Multi-digit addition; reward 1 for the exact sum after the worked answer's `>`.
    Arithmetic(Arithmetic),
    /// The user's problems.
    Prompts {
        /// Training and test rows.
        prompts: Prompts,
        /// How a response is scored against a row's answer.
        reward: Reward,
        /// Added to the reward of a response in the rule's explicit format.
        format_weight: f64,
        /// Rows of the files left out, and why the first was.
        skipped: Skipped,
    },
}

impl Task {
    /// A training problem drawn from `rng` (never one of the test split).
    pub fn train(&self, rng: &mut TrainRng) -> Item {
        match self {
            Self::Arithmetic(a) => Item::Sum(a.train(rng)),
            Self::Prompts { prompts, .. } => Item::Row(prompts.train(rng).clone()),
        }
    }

    /// The first `n` problems of the test split, in a fixed order.
    pub fn test(&self, n: usize) -> Vec<Item> {
        match self {
            Self::Arithmetic(a) => a.test().iter().take(n).map(|&p| Item::Sum(p)).collect(),
            Self::Prompts { prompts, .. } => prompts.test().iter().take(n).cloned().map(Item::Row).collect(),
        }
    }

    /// The reward of `response` to `item`; a correct answer scores 1 (plus the format weight).
    pub fn reward(&self, item: &Item, response: &str) -> f64 {
        match (self, item) {
            (Self::Prompts { reward, format_weight, .. }, Item::Row(r)) => {
                reward.score(response, &r.answer, *format_weight)
            }
            (_, Item::Sum(p)) => p.reward(response),
            (Self::Arithmetic(_), Item::Row(_)) => 0.0,
        }
    }

    /// Whether `response` answers `item` correctly (what pass@k counts), format aside.
    pub fn correct(&self, item: &Item, response: &str) -> bool {
        match (self, item) {
            (Self::Prompts { reward, .. }, Item::Row(r)) => reward.correct(response, &r.answer) == 1.0,
            (_, Item::Sum(p)) => p.reward(response) == 1.0,
            (Self::Arithmetic(_), Item::Row(_)) => false,
        }
    }

    /// Rows of the task's files that were left out.
    pub fn skipped(&self) -> Option<&Skipped> {
        match self {
            Self::Prompts { skipped, .. } if skipped.count > 0 => Some(skipped),
            _ => None,
        }
    }

    /// Every prompt and warm-up answer the task can produce at most once each, for the tokenizer
    /// check: the arithmetic task's longest problem; a file's rows are checked one by one instead.
    pub fn longest(&self) -> Option<Item> {
        match self {
            Self::Arithmetic(a) => Some(Item::Sum(a.longest())),
            Self::Prompts { .. } => None,
        }
    }
}
