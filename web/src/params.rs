//! Every explorer's parameters, and their place in the URL so a link reopens the same view
//! (`?view=softmax&n=4&h0=0.6&tau=4&mode=exact&z=6,1,0.5,-2`). Values outside a parameter's range are
//! clamped into it, unreadable ones fall back to the default; both are reported, never fatal.

use era_shared::gaussian::{DEFAULT_LOG_STD_MAX, DEFAULT_LOG_STD_MIN};
use era_shared::llm_scaling::{DEFAULT_K, DEFAULT_OMEGA_HIGH, DEFAULT_OMEGA_LOW, DEFAULT_TOP_FRACTION};
use era_shared::softmax_floor::{DEFAULT_H0, DEFAULT_TAU, FloorMode};

/// The explorer pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Gaussian σ (continuous control).
    Gaussian,
    /// Softmax floor (classification).
    Softmax,
    /// LLM logit scaling (GRPO).
    Llm,
    /// Replay of logged runs.
    Replay,
    /// Training live in the page.
    Train,
}

impl View {
    /// Every view, in tab order.
    pub const ALL: [View; 5] = [Self::Gaussian, Self::Softmax, Self::Llm, Self::Train, Self::Replay];

    /// The `view=` value.
    pub fn key(self) -> &'static str {
        match self {
            Self::Gaussian => "gaussian",
            Self::Softmax => "softmax",
            Self::Llm => "llm",
            Self::Replay => "replay",
            Self::Train => "train",
        }
    }

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Gaussian => "Gaussian σ (control)",
            Self::Softmax => "Softmax floor (classification)",
            Self::Llm => "LLM logit scaling (GRPO)",
            Self::Replay => "Replay runs",
            Self::Train => "Train live",
        }
    }
}

/// A URL query as ordered key/value pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query(pub Vec<(String, String)>);

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Query {
    /// Parses `?a=1&b=x` (the leading `?` optional).
    pub fn parse(search: &str) -> Self {
        Self(
            search
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (decode(k), decode(v)),
                    None => (decode(p), String::new()),
                })
                .collect(),
        )
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `?a=1&b=x`.
    pub fn to_search(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("?{}", parts.join("&"))
    }

    /// Presentation mode (`present=1`): larger type, explanations and downloads folded away.
    pub fn present(&self) -> bool {
        matches!(self.get("present"), Some("1" | "true" | "on"))
    }

    /// The view named by `view=` (the Gaussian explorer when absent or unknown).
    pub fn view(&self) -> View {
        View::ALL.into_iter().find(|v| Some(v.key()) == self.get("view")).unwrap_or(View::Gaussian)
    }
}

/// Reads parameters from a query, collecting what had to be corrected.
#[derive(Debug, Default)]
pub struct Reader<'a> {
    query: Option<&'a Query>,
    /// One line per value that was clamped or ignored.
    pub notes: Vec<String>,
}

impl<'a> Reader<'a> {
    /// A reader of `query`.
    pub fn new(query: &'a Query) -> Self {
        Self { query: Some(query), notes: Vec::new() }
    }

    /// `key` as a number in `[lo, hi]`, else `default`.
    pub fn number(&mut self, key: &str, default: f64, lo: f64, hi: f64) -> f64 {
        let Some(text) = self.query.and_then(|q| q.get(key)) else { return default };
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => {
                let c = v.clamp(lo, hi);
                if c != v {
                    self.notes.push(format!("{key}={text} is outside [{lo}, {hi}]: using {c}"));
                }
                c
            }
            _ => {
                self.notes.push(format!("{key}={text} is not a number: using {default}"));
                default
            }
        }
    }

    /// `key` as a comma-separated list of numbers each in `[lo, hi]`, of length `len_lo..=len_hi`.
    pub fn list(&mut self, key: &str, default: Vec<f64>, lo: f64, hi: f64, len: (usize, usize)) -> Vec<f64> {
        let Some(text) = self.query.and_then(|q| q.get(key)) else { return default };
        let parsed: Result<Vec<f64>, _> = text.split(',').map(|t| t.trim().parse::<f64>()).collect();
        match parsed {
            Ok(v) if (len.0..=len.1).contains(&v.len()) && v.iter().all(|x| x.is_finite()) => {
                if v.iter().any(|x| *x < lo || *x > hi) {
                    self.notes.push(format!("{key}: values outside [{lo}, {hi}] were clamped"));
                }
                v.into_iter().map(|x| x.clamp(lo, hi)).collect()
            }
            _ => {
                self.notes
                    .push(format!("{key}={text} is not a list of {}–{} numbers: using the default", len.0, len.1));
                default
            }
        }
    }

    /// `key` as `exact` or `official`.
    pub fn mode(&mut self, key: &str) -> FloorMode {
        match self.query.and_then(|q| q.get(key)) {
            None | Some("exact") => FloorMode::Exact,
            Some("official") => FloorMode::Official,
            Some(other) => {
                self.notes.push(format!("{key}={other} is neither exact nor official: using exact"));
                FloorMode::Exact
            }
        }
    }
}

fn list(v: &[f64]) -> String {
    v.iter().map(|x| format!("{}", (x * 1e4).round() / 1e4)).collect::<Vec<_>>().join(",")
}

/// The Gaussian explorer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianParams {
    /// Raw scores ŝ, one per action dimension (D = their number, 1–12).
    pub raw: Vec<f64>,
    /// Target entropy H₀ (nats, whole action).
    pub h0: f64,
    /// Compensation δ ≥ 0.
    pub delta: f64,
    /// log σ_min.
    pub log_std_min: f64,
    /// log σ_max.
    pub log_std_max: f64,
}

impl Default for GaussianParams {
    fn default() -> Self {
        // HalfCheetah's 6 dimensions at the authors' 0.25 nats each … here a little more spread.
        Self {
            raw: vec![0.8, -0.4, 1.5, 0.0, -1.2, 0.3],
            h0: 1.5,
            delta: 0.0,
            log_std_min: DEFAULT_LOG_STD_MIN,
            log_std_max: DEFAULT_LOG_STD_MAX,
        }
    }
}

impl GaussianParams {
    /// Largest D the explorer offers.
    pub const MAX_DIMS: usize = 12;

    /// The same with `dims` action dimensions (new scores 0, clamped to 1–[`MAX_DIMS`](Self::MAX_DIMS)),
    /// and `H₀` moved into the range where `H₀ + δ` is reachable for that many (one dimension cannot
    /// hold the entropy six could).
    pub fn with_dims(&self, dims: usize) -> Self {
        let mut p = self.clone();
        p.raw.resize(dims.clamp(1, Self::MAX_DIMS), 0.0);
        let (lo, hi) = era_shared::GaussianEra::valid_range(p.raw.len(), p.log_std_min, p.log_std_max);
        p.h0 = p.h0.clamp(lo - p.delta, (hi - p.delta).max(lo - p.delta));
        p
    }

    /// From the URL.
    pub fn read(r: &mut Reader) -> Self {
        let d = Self::default();
        Self {
            raw: r.list("s", d.raw, -5.0, 5.0, (1, Self::MAX_DIMS)),
            h0: r.number("h0", d.h0, -120.0, 30.0),
            delta: r.number("delta", d.delta, 0.0, 5.0),
            log_std_min: r.number("lmin", d.log_std_min, -10.0, -0.5),
            log_std_max: r.number("lmax", d.log_std_max, -0.4, 2.0),
        }
    }

    /// For the URL.
    pub fn write(&self) -> Vec<(String, String)> {
        vec![
            ("s".into(), list(&self.raw)),
            ("h0".into(), self.h0.to_string()),
            ("delta".into(), self.delta.to_string()),
            ("lmin".into(), self.log_std_min.to_string()),
            ("lmax".into(), self.log_std_max.to_string()),
        ]
    }
}

/// The softmax explorer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxParams {
    /// Logits, one per class (n = their number, 2–20).
    pub logits: Vec<f64>,
    /// The floor H₀.
    pub h0: f64,
    /// τ > e.
    pub tau: f64,
    /// Exact or official inverse.
    pub mode: FloorMode,
}

impl Default for SoftmaxParams {
    fn default() -> Self {
        Self { logits: vec![6.0, 1.0, 0.5, -2.0], h0: DEFAULT_H0, tau: DEFAULT_TAU, mode: FloorMode::Exact }
    }
}

impl SoftmaxParams {
    /// Most classes the explorer offers.
    pub const MAX_CLASSES: usize = 20;

    /// From the URL.
    pub fn read(r: &mut Reader) -> Self {
        let d = Self::default();
        Self {
            logits: r.list("z", d.logits, -20.0, 20.0, (2, Self::MAX_CLASSES)),
            h0: r.number("h0", d.h0, -1.0, 4.0),
            tau: r.number("tau", d.tau, 2.75, 20.0),
            mode: r.mode("mode"),
        }
    }

    /// For the URL.
    pub fn write(&self) -> Vec<(String, String)> {
        vec![
            ("z".into(), list(&self.logits)),
            ("h0".into(), self.h0.to_string()),
            ("tau".into(), self.tau.to_string()),
            ("mode".into(), self.mode.as_str().into()),
        ]
    }
}

/// The LLM explorer's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmParams {
    /// Token entropies of one response (nats).
    pub entropies: Vec<f64>,
    /// The response's advantage A.
    pub advantage: f64,
    /// ω_low.
    pub omega_low: f64,
    /// ω_high.
    pub omega_high: f64,
    /// k ≥ 1.
    pub k: f64,
    /// Share of the highest token entropies averaged into H_resp.
    pub top_fraction: f64,
}

impl Default for LlmParams {
    fn default() -> Self {
        Self {
            entropies: crate::explore::sample_entropies(40, 2.0, 1),
            advantage: 1.0,
            omega_low: DEFAULT_OMEGA_LOW,
            omega_high: DEFAULT_OMEGA_HIGH,
            k: DEFAULT_K,
            top_fraction: DEFAULT_TOP_FRACTION,
        }
    }
}

impl LlmParams {
    /// Longest response the explorer offers.
    pub const MAX_TOKENS: usize = 200;

    /// From the URL.
    pub fn read(r: &mut Reader) -> Self {
        let d = Self::default();
        Self {
            entropies: r.list("e", d.entropies, 0.0, 12.0, (1, Self::MAX_TOKENS)),
            advantage: r.number("a", d.advantage, -3.0, 3.0),
            omega_low: r.number("wl", d.omega_low, 0.0, 6.0),
            omega_high: r.number("wh", d.omega_high, 0.0, 12.0),
            k: r.number("k", d.k, 1.0, 8.0),
            top_fraction: r.number("top", d.top_fraction, 0.01, 1.0),
        }
    }

    /// For the URL.
    pub fn write(&self) -> Vec<(String, String)> {
        vec![
            ("e".into(), list(&self.entropies)),
            ("a".into(), self.advantage.to_string()),
            ("wl".into(), self.omega_low.to_string()),
            ("wh".into(), self.omega_high.to_string()),
            ("k".into(), self.k.to_string()),
            ("top".into(), self.top_fraction.to_string()),
        ]
    }
}

/// The live-training tab's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    /// Environment id (one of `era env list`).
    pub env: String,
    /// `sac` or `ppo`.
    pub algo: String,
    /// ERA on or off.
    pub era: bool,
    /// H₀ per action dimension (nats).
    pub h0_per_dim: f64,
    /// Two agents side by side, ERA on and off, same environment and seed (`pair=1`); `era` is then
    /// not used.
    pub pair: bool,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self { env: "Pendulum-v1".into(), algo: "sac".into(), era: true, h0_per_dim: 0.25, pair: false }
    }
}

impl TrainParams {
    /// From the URL.
    pub fn read(r: &mut Reader) -> Self {
        let d = Self::default();
        let q = r.query;
        let env = match q.and_then(|q| q.get("env")) {
            Some(e) if era_shared::env::ENV_IDS.contains(&e) => e.to_string(),
            Some(e) => {
                r.notes.push(format!("env={e} is not one of {}: using {}", era_shared::env::ENV_IDS.join(", "), d.env));
                d.env.clone()
            }
            None => d.env.clone(),
        };
        let algo = match q.and_then(|q| q.get("algo")) {
            Some(a @ ("sac" | "ppo")) => a.to_string(),
            Some(a) => {
                r.notes.push(format!("algo={a} is neither sac nor ppo: using sac"));
                d.algo.clone()
            }
            None => d.algo.clone(),
        };
        let era = q.and_then(|q| q.get("era")) != Some("off");
        let pair = matches!(q.and_then(|q| q.get("pair")), Some("1" | "on" | "true"));
        Self { env, algo, era, h0_per_dim: r.number("h0d", d.h0_per_dim, -3.0, 1.4), pair }
    }

    /// For the URL.
    pub fn write(&self) -> Vec<(String, String)> {
        vec![
            ("env".into(), self.env.clone()),
            ("algo".into(), self.algo.clone()),
            ("era".into(), if self.era { "on" } else { "off" }.into()),
            ("h0d".into(), self.h0_per_dim.to_string()),
            ("pair".into(), if self.pair { "1" } else { "0" }.into()),
        ]
    }
}

/// The query of `view` with its parameters, in presentation mode or not.
pub fn query(view: View, params: Vec<(String, String)>, present: bool) -> Query {
    let mut q = vec![("view".to_string(), view.key().to_string())];
    if present {
        q.push(("present".into(), "1".into()));
    }
    q.extend(params);
    Query(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_dimensions_move_h0_into_what_they_can_reach() {
        // One dimension with log σ_max = 0 holds at most log √(2πe) ≈ 1.4189 nats: H₀ = 1.5 comes down
        // to it; six dimensions hold 1.5 as it is, and the new scores are 0.
        let p = GaussianParams::default();
        let one = p.with_dims(1);
        assert_eq!(one.raw, vec![0.8]);
        assert!((one.h0 - 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln()).abs() < 1e-12);
        let back = one.with_dims(8);
        assert_eq!((back.raw.len(), back.raw[7], back.h0), (8, 0.0, one.h0));
        assert_eq!(p.with_dims(0).raw.len(), 1);
        assert_eq!(p.with_dims(99).raw.len(), GaussianParams::MAX_DIMS);
    }

    #[test]
    fn round_trips_and_corrections_are_reported() {
        let p = SoftmaxParams { logits: vec![1.5, -2.0, 0.25], h0: 0.7, tau: 5.0, mode: FloorMode::Official };
        let q = query(View::Softmax, p.write(), false);
        let s = q.to_search();
        assert_eq!(s, "?view=softmax&z=1.5,-2,0.25&h0=0.7&tau=5&mode=official");
        let back = Query::parse(&s);
        assert_eq!(back.view(), View::Softmax);
        let mut r = Reader::new(&back);
        assert_eq!(SoftmaxParams::read(&mut r), p);
        assert!(r.notes.is_empty());

        let q = Query::parse("?view=gaussian&h0=abc&delta=9&s=1,2,x&lmin=-3");
        let mut r = Reader::new(&q);
        let g = GaussianParams::read(&mut r);
        assert_eq!((g.h0, g.delta, g.log_std_min), (1.5, 5.0, -3.0));
        assert_eq!(g.raw, GaussianParams::default().raw);
        assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
        assert!(r.notes[0].contains("s=1,2,x") && r.notes[1].contains("h0=abc") && r.notes[2].contains("delta=9"));

        let t =
            TrainParams { env: "FiveLinkArm-v0".into(), algo: "ppo".into(), era: false, h0_per_dim: -0.5, pair: true };
        let q = Query::parse(&query(View::Train, t.write(), false).to_search());
        let mut r = Reader::new(&q);
        assert_eq!(TrainParams::read(&mut r), t);
        let presented = query(View::Train, t.write(), true);
        assert_eq!(presented.0[1], ("present".to_string(), "1".to_string()));
        assert!(Query::parse(&presented.to_search()).present() && !q.present());
        let q = Query::parse("?view=train&env=Hopper-v5&algo=dqn");
        let mut r = Reader::new(&q);
        assert_eq!(TrainParams::read(&mut r), TrainParams::default());
        assert!(r.notes[0].contains("env=Hopper-v5") && r.notes[1].contains("algo=dqn"), "{:?}", r.notes);
    }

    #[test]
    fn percent_encoding_and_unknown_views() {
        let q = Query::parse("view=nope&runs=runs%2Fa.jsonl,b%20c.jsonl");
        assert_eq!(q.view(), View::Gaussian);
        assert_eq!(q.get("runs"), Some("runs/a.jsonl,b c.jsonl"));
        assert_eq!(Query(vec![("x".into(), "a b&c".into())]).to_search(), "?x=a%20b%26c");
        assert_eq!(Query::parse("?x=%zz%4"), Query(vec![("x".into(), "%zz%4".into())]));
    }

    proptest::proptest! {
        /// Any query, however hostile (stray `%`, huge or non-finite numbers, thousands of values),
        /// gives every explorer parameters inside their ranges, and the URL written from them reads back into the same URL.
        #[test]
        fn every_query_reads_into_valid_parameters(search in "\\??((view|s|z|h0|delta|lmin|lmax|tau|mode|k|wl|wh|env|algo|era)=([-+%0-9a-fA-Fe.,x]|NaN|inf|1e999){0,40}&?){0,8}") {
            let q = Query::parse(&search);
            let mut r = Reader::new(&q);
            let g = GaussianParams::read(&mut r);
            proptest::prop_assert!((1..=GaussianParams::MAX_DIMS).contains(&g.raw.len()));
            proptest::prop_assert!(g.raw.iter().all(|x| (-5.0..=5.0).contains(x)));
            proptest::prop_assert!((-120.0..=30.0).contains(&g.h0) && (0.0..=5.0).contains(&g.delta));
            proptest::prop_assert!(g.log_std_min < g.log_std_max);
            let s = SoftmaxParams::read(&mut r);
            let l = LlmParams::read(&mut r);
            let t = TrainParams::read(&mut r);
            for (p, written) in [
                (View::Gaussian, g.write()),
                (View::Softmax, s.write()),
                (View::Llm, l.write()),
                (View::Train, t.write()),
            ] {
                let back = Query::parse(&query(p, written.clone(), false).to_search());
                let mut again = Reader::new(&back);
                // The URL holds rounded values: what it reads back writes the same URL.
                let rewritten = match p {
                    View::Gaussian => GaussianParams::read(&mut again).write(),
                    View::Softmax => SoftmaxParams::read(&mut again).write(),
                    View::Llm => LlmParams::read(&mut again).write(),
                    _ => TrainParams::read(&mut again).write(),
                };
                proptest::prop_assert_eq!(&rewritten, &written);
                proptest::prop_assert!(again.notes.is_empty(), "{:?}: {:?}", written, again.notes);
            }
        }
    }
}
