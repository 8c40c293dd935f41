//! The embedded task: multi-digit addition with a short worked format and a verifiable answer.
//!
//! ```text
//! prompt    457+385=
//! response  12,14,8>842<|endoftext|>
//! ```
//!
//! The response lists the column sums from the ones column up, each including the carry from the
//! column before (7+5 = 12, 5+8+1 = 14, 4+3+1 = 8), then `>` and the answer, whose digits are the
//! last digits of those sums read backwards (a final sum ≥ 10 contributes both digits). The reward is
//! 1 when the text after the last `>` is exactly the answer, else 0: the worked steps are not graded.
//!
//! Difficulty is the operands' largest digit count: each operand draws its length uniformly from
//! `1..=digits`, then its value uniformly among numbers of that length. The test split is a fixed,
//! seeded set of distinct problems; training problems never come from it.

use std::collections::HashSet;

use rand::{Rng, SeedableRng};

use crate::train::TrainRng;

/// Every character prompts and responses use.
pub const ALPHABET: &str = "0123456789+=,>";

/// Largest supported operand length (sums stay far inside `u64`).
pub const MAX_DIGITS: usize = 9;

/// Mixed into the seed that draws the test split, so it differs from the training stream's.
const TEST_SALT: u64 = 0x07e5_75e7;

/// One problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Problem {
    /// Left operand.
    pub a: u64,
    /// Right operand.
    pub b: u64,
}

impl Problem {
    /// `"a+b="`.
    pub fn prompt(&self) -> String {
        format!("{}+{}=", self.a, self.b)
    }

    /// The exact answer.
    pub fn answer(&self) -> u64 {
        self.a + self.b
    }

    /// The worked response (without the end-of-sequence token), e.g. `12,14,8>842` for 457+385.
    pub fn worked(&self) -> String {
        let (mut a, mut b, mut carry) = (self.a, self.b, 0);
        let mut sums = Vec::new();
        loop {
            let s = a % 10 + b % 10 + carry;
            sums.push(s.to_string());
            carry = s / 10;
            a /= 10;
            b /= 10;
            if a == 0 && b == 0 {
                break;
            }
        }
        format!("{}>{}", sums.join(","), self.answer())
    }

    /// 1 when the text after the response's last `>` is exactly the answer, else 0.
    pub fn reward(&self, response: &str) -> f64 {
        let answer = response.rsplit_once('>').map_or("", |(_, a)| a);
        if answer == self.answer().to_string() { 1.0 } else { 0.0 }
    }
}

/// The seeded problem source with its held-out test split.
#[derive(Debug, Clone)]
pub struct Arithmetic {
    digits: usize,
    test: Vec<Problem>,
    held_out: HashSet<Problem>,
}

impl Arithmetic {
    /// Problems with operands of up to `digits` digits; the test split has `test_size` distinct problems
    /// drawn from `seed`.
    pub fn new(digits: usize, test_size: usize, seed: u64) -> Result<Self, String> {
        if !(1..=MAX_DIGITS).contains(&digits) {
            return Err(format!("digits {digits} is outside 1..={MAX_DIGITS}"));
        }
        // Operand pairs available (counting both orders); the test split must leave most for training.
        let pairs = 10f64.powi(digits as i32).powi(2);
        if test_size as f64 > pairs / 4.0 {
            return Err(format!(
                "a test split of {test_size} problems would take over a quarter of the {pairs} problems with \
                 {digits}-digit operands"
            ));
        }
        let mut rng = TrainRng::seed_from_u64(seed ^ TEST_SALT);
        let mut held_out = HashSet::new();
        let mut test = Vec::with_capacity(test_size);
        while test.len() < test_size {
            let p = draw(digits, &mut rng);
            if held_out.insert(p) {
                test.push(p);
            }
        }
        Ok(Self { digits, test, held_out })
    }

    /// Operand length.
    pub fn digits(&self) -> usize {
        self.digits
    }

    /// The test split, in a fixed order.
    pub fn test(&self) -> &[Problem] {
        &self.test
    }

    /// A training problem (never one of the test split).
    pub fn train(&self, rng: &mut TrainRng) -> Problem {
        loop {
            let p = draw(self.digits, rng);
            if !self.held_out.contains(&p) {
                return p;
            }
        }
    }

    /// The problem with the longest worked response at this size (both operands all nines).
    pub fn longest(&self) -> Problem {
        let max = 10u64.pow(self.digits as u32) - 1;
        Problem { a: max, b: max }
    }
}

fn draw(digits: usize, rng: &mut TrainRng) -> Problem {
    let mut operand = || {
        let len = rng.random_range(1..=digits) as u32;
        let low = if len == 1 { 0 } else { 10u64.pow(len - 1) };
        rng.random_range(low..10u64.pow(len))
    };
    Problem { a: operand(), b: operand() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_format_by_hand() {
        // 457+385: 7+5 = 12 (carry 1), 5+8+1 = 14 (carry 1), 4+3+1 = 8 → 842.
        assert_eq!(Problem { a: 457, b: 385 }.worked(), "12,14,8>842");
        // 957+385: last column 9+3+1 = 13 gives both digits → 1342.
        assert_eq!(Problem { a: 957, b: 385 }.worked(), "12,14,13>1342");
        // 7+385: missing digits count as 0.
        assert_eq!(Problem { a: 7, b: 385 }.worked(), "12,9,3>392");
        assert_eq!(Problem { a: 0, b: 0 }.worked(), "0>0");
        let p = Problem { a: 457, b: 385 };
        assert_eq!(
            (p.reward("12,14,8>842"), p.reward("1,1>842"), p.reward("12,14,8>843"), p.reward("842")),
            (1.0, 1.0, 0.0, 0.0)
        );
        assert_eq!(p.prompt(), "457+385=");
    }

    #[test]
    fn splits_are_seeded_and_disjoint() {
        let t = Arithmetic::new(3, 200, 7).unwrap();
        assert_eq!(t.test(), Arithmetic::new(3, 200, 7).unwrap().test());
        assert_ne!(t.test(), Arithmetic::new(3, 200, 8).unwrap().test());
        let mut rng = TrainRng::seed_from_u64(1);
        for _ in 0..5000 {
            assert!(!t.test().contains(&t.train(&mut rng)));
        }
        assert_eq!(t.longest().worked(), "18,19,19>1998");
        assert!(Arithmetic::new(1, 30, 0).unwrap_err().contains("quarter"));
        assert!(Arithmetic::new(0, 1, 0).unwrap_err().contains("digits 0"));
    }

    proptest! {
        #[test]
        fn the_worked_answer_is_the_sum_and_earns_the_reward(a in 0u64..1_000_000_000, b in 0u64..1_000_000_000) {
            let p = Problem { a, b };
            let w = p.worked();
            prop_assert_eq!(p.reward(&w), 1.0);
            prop_assert!(w.chars().all(|c| ALPHABET.contains(c)));
            // The answer's digits are the sums' last digits read backwards (the top sum whole).
            let (sums, answer) = w.split_once('>').unwrap();
            let sums: Vec<&str> = sums.split(',').collect();
            let mut rebuilt = sums.last().unwrap().to_string();
            for s in sums.iter().rev().skip(1) {
                rebuilt.push(s.chars().last().unwrap());
            }
            prop_assert_eq!(rebuilt, answer);
        }
    }
}
