//! Rewards of a response against a reference answer: `r = correct(response, answer) + w · formatted(response)`.
//!
//! - `exact`: the trimmed response equals the trimmed answer;
//! - `contains`: the response contains the trimmed (non-empty) answer;
//! - `regex:PATTERN`: the last match of `PATTERN` in the response (its first group if it has one),
//!   trimmed, equals the trimmed answer;
//! - `numeric`: the final number of each, compared by value (`1,000` = `1000.0`, `\frac{1}{2}` =
//!   `0.5`), each read as GSM8K writes it (after the last `####`), else from the last `\boxed{…}`,
//!   else the last number in the text. The reference answer may be a whole GSM8K solution.
//!
//! `formatted` is 1 when the response states its answer the way the rule reads it explicitly: for
//! `numeric` a `####` line or a `\boxed{…}`, for `regex:` a match (the other rules have no format, so a
//! format weight is refused with them). The weight `w` is `--format-reward`.

use std::fmt;
use std::str::FromStr;

/// How a response is scored against its reference answer.
#[derive(Debug, Clone)]
pub enum Reward {
    /// The trimmed texts are equal.
    Exact,
    /// The response contains the answer.
    Contains,
    /// Both hold the same number.
    Numeric,
    /// The last match of the pattern (its first group, if any) equals the answer.
    Regex(regex::Regex),
}

impl PartialEq for Reward {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl fmt::Display for Reward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact => f.write_str("exact"),
            Self::Contains => f.write_str("contains"),
            Self::Numeric => f.write_str("numeric"),
            Self::Regex(r) => write!(f, "regex:{}", r.as_str()),
        }
    }
}

impl FromStr for Reward {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Self::Exact),
            "contains" => Ok(Self::Contains),
            "numeric" => Ok(Self::Numeric),
            _ => match s.strip_prefix("regex:") {
                Some(p) => regex::Regex::new(p).map(Self::Regex).map_err(|e| format!("regex:{p}: {e}")),
                None => Err(format!("`{s}` is not a reward (valid: exact, numeric, contains, regex:PATTERN)")),
            },
        }
    }
}

impl serde::Serialize for Reward {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reward {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl Reward {
    /// Whether the rule reads an explicit answer format, so that a format reward means something.
    pub fn has_format(&self) -> bool {
        matches!(self, Self::Numeric | Self::Regex(_))
    }

    /// 1 when `response` answers `answer` under this rule, else 0.
    pub fn correct(&self, response: &str, answer: &str) -> f64 {
        let hit = match self {
            Self::Exact => response.trim() == answer.trim(),
            Self::Contains => !answer.trim().is_empty() && response.contains(answer.trim()),
            Self::Numeric => match (final_number(response), final_number(answer)) {
                (Some(r), Some(a)) => same_value(r, a),
                _ => false,
            },
            Self::Regex(re) => last_match(re, response).is_some_and(|m| m.trim() == answer.trim()),
        };
        if hit { 1.0 } else { 0.0 }
    }

    /// 1 when `response` states its answer in the rule's explicit format, else 0.
    pub fn formatted(&self, response: &str) -> f64 {
        let ok = match self {
            Self::Numeric => response.contains("####") || boxed(response).is_some(),
            Self::Regex(re) => re.is_match(response),
            Self::Exact | Self::Contains => false,
        };
        if ok { 1.0 } else { 0.0 }
    }

    /// `correct + format_weight · formatted`.
    pub fn score(&self, response: &str, answer: &str, format_weight: f64) -> f64 {
        let format = if format_weight == 0.0 { 0.0 } else { format_weight * self.formatted(response) };
        self.correct(response, answer) + format
    }
}

/// The last match of `re` in `text`: its first capture group when it has one, else the whole match.
fn last_match<'t>(re: &regex::Regex, text: &'t str) -> Option<&'t str> {
    let caps = re.captures_iter(text).last()?;
    caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_str())
}

/// The contents of the last `\boxed{…}` in `text`, braces balanced.
fn boxed(text: &str) -> Option<&str> {
    let start = text.rfind("\\boxed{")? + "\\boxed{".len();
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start..start + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The final number of `text`: after its last `####`, else in its last `\boxed{…}`, else its last
/// number anywhere.
pub fn final_number(text: &str) -> Option<f64> {
    if let Some((_, after)) = text.rsplit_once("####") {
        return first_number(after);
    }
    if let Some(inner) = boxed(text) {
        return frac(inner).or_else(|| last_number(inner));
    }
    last_number(text)
}

/// `\frac{a}{b}` or `\dfrac{a}{b}` as `a / b`.
fn frac(s: &str) -> Option<f64> {
    let t = s.trim();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest.trim_start()),
        None => (1.0, t),
    };
    let body = t.strip_prefix("\\frac{").or_else(|| t.strip_prefix("\\dfrac{"))?;
    let (a, rest) = body.split_once("}{")?;
    let b = rest.strip_suffix('}')?;
    Some(sign * parse_number(a)? / parse_number(b)?)
}

/// Every number of `text` in order: an optional minus, digits with `,` thousands separators, an
/// optional decimal part, an optional `/denominator`.
fn numbers(text: &str) -> Vec<f64> {
    let re = number_pattern();
    re.find_iter(text).filter_map(|m| parse_number(m.as_str())).collect()
}

fn number_pattern() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+(?:\.\d+)?)?|-?\.\d+").expect("a valid number pattern")
    })
}

fn first_number(text: &str) -> Option<f64> {
    numbers(text).into_iter().next()
}

fn last_number(text: &str) -> Option<f64> {
    numbers(text).into_iter().last()
}

/// A number as written: `1,000`, `-3.50`, `3/4`; `None` when it is not one.
fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches('.').replace([',', ' ', '$'], "");
    if let Some((a, b)) = s.split_once('/') {
        let (a, b) = (a.parse::<f64>().ok()?, b.parse::<f64>().ok()?);
        return (b != 0.0).then_some(a / b);
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Equal up to rounding in the last printed digits.
fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reward {
        s.parse().unwrap()
    }

    #[test]
    fn exact_and_contains_compare_trimmed_text() {
        assert_eq!(r("exact").correct("  Paris\n", "Paris"), 1.0);
        assert_eq!(r("exact").correct("Paris.", "Paris"), 0.0);
        assert_eq!(r("contains").correct("The capital is Paris.", " Paris "), 1.0);
        // An empty answer is contained in everything: it never scores.
        assert_eq!(r("contains").correct("anything", "  "), 0.0);
    }

    #[test]
    fn numeric_reads_gsm8k_boxed_and_last_numbers_by_value() {
        let n = r("numeric");
        // GSM8K: the reference is a whole solution; the number after its last `####` counts.
        let reference = "She sold 48/2 = 24 clips in May.\n48+24 = 72\n#### 72";
        assert_eq!(n.correct("48 + 24 = 72 clips\n#### 72", reference), 1.0);
        assert_eq!(n.correct("#### 72.0", reference), 1.0);
        // `####` wins over later numbers, and over a box.
        assert_eq!(n.correct("#### 72\nCheck: 72 - 24 = 48", reference), 1.0);
        assert_eq!(n.correct("\\boxed{70} #### 72", reference), 1.0);
        // Thousands separators, dollars, a trailing full stop, trailing zeros.
        assert_eq!(n.correct("The total is $1,000.", "1000.0"), 1.0);
        assert_eq!(n.correct("#### 1,234,567", "1234567"), 1.0);
        assert_eq!(n.correct("It costs 3.50", "3.5"), 1.0);
        // The last number, not the first; negative numbers keep their sign.
        assert_eq!(n.correct("From 10 down by 13 we reach -3", "-3"), 1.0);
        assert_eq!(n.correct("From 10 down by 13 we reach -3", "3"), 0.0);
        // Boxed answers, fractions in LaTeX and as a/b.
        assert_eq!(n.correct("so the answer is \\boxed{42}.", "42"), 1.0);
        assert_eq!(n.correct("\\boxed{\\frac{1}{2}}", "0.5"), 1.0);
        assert_eq!(n.correct("\\boxed{-\\frac{3}{4}}", "-0.75"), 1.0);
        assert_eq!(n.correct("half is 1/2", "0.5"), 1.0);
        assert_eq!(n.correct("\\boxed{x^{2}+1} = 5", "5"), 0.0, "the box's last number is 1");
        // No number at all, or a division by zero, is not an answer.
        assert_eq!(n.correct("I don't know", "0"), 0.0);
        assert_eq!(n.correct("1/0", "0"), 0.0);
        assert_eq!(final_number(".5 of it"), Some(0.5));
        // Close is not equal.
        assert_eq!(n.correct("#### 72.01", "72"), 0.0);
    }

    #[test]
    fn regex_takes_the_last_match_and_its_first_group() {
        let re = r(r"regex:Answer:\s*(\w+)");
        assert_eq!(re.correct("Answer: B ... no wait. Answer: C", "C"), 1.0);
        assert_eq!(re.correct("Answer: B ... no wait. Answer: C", "B"), 0.0);
        assert_eq!(re.correct("C", "C"), 0.0, "no match, no answer");
        assert_eq!(r("regex:[A-D]").correct("I pick D", "D"), 1.0, "without a group, the whole match");
        assert_eq!(re.formatted("Answer: x"), 1.0);
        assert!("regex:(".parse::<Reward>().unwrap_err().starts_with("regex:(:"));
    }

    #[test]
    fn the_format_reward_adds_its_weight_only_for_explicit_answers() {
        let n = r("numeric");
        assert_eq!(n.score("#### 5", "5", 0.1), 1.1);
        assert_eq!(n.score("\\boxed{4}", "5", 0.1), 0.1);
        assert_eq!(n.score("it is 5", "5", 0.1), 1.0);
        assert!(n.has_format() && !r("exact").has_format() && !r("contains").has_format());
    }

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_valid() {
        for s in ["exact", "contains", "numeric", "regex:^(\\d+)$"] {
            assert_eq!(r(s).to_string(), s);
            let json = serde_json::to_string(&r(s)).unwrap();
            assert_eq!(serde_json::from_str::<Reward>(&json).unwrap(), r(s));
        }
        let e = "number".parse::<Reward>().unwrap_err();
        assert!(e.contains("exact, numeric, contains, regex:PATTERN"), "{e}");
    }
}
