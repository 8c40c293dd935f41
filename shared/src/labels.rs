//! How charts write numbers and choose which category labels fit: plain units on ticks (`10k`,
//! `1.5M`, `0.25`), and every category labelled unless the labels would overlap. The explorer's
//! charts and `era compare --plot` both use it.

/// A tick label in plain units: thousands as `k`, millions as `M`, billions as `G`, at most three
/// significant digits and no trailing zeros (`10000.0` → `10k`, `2500000` → `2.5M`, `0.250` → `0.25`).
pub fn tick(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let (scaled, suffix) = match a {
        _ if a >= 1e9 => (v / 1e9, "G"),
        _ if a >= 1e6 => (v / 1e6, "M"),
        _ if a >= 1e4 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let s = scaled.abs();
    // Three significant digits for small numbers, whole numbers from 100 up.
    let decimals = if s == 0.0 || s >= 100.0 {
        0
    } else if s >= 10.0 {
        1
    } else if s >= 1.0 {
        2
    } else {
        (2 - s.log10().floor() as i32).clamp(0, 6) as usize
    };
    let mut text = format!("{scaled:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if text == "-0" {
        text = "0".into();
    }
    format!("{text}{suffix}")
}

/// Every how many categories a label is written so that `n` labels of up to `chars` characters fit
/// in `width_px` pixels at about `char_px` pixels per character: 1 (every category) when they fit.
pub fn label_stride(n: usize, chars: usize, width_px: f64, char_px: f64) -> usize {
    let per_label = (chars.max(1) as f64 + 1.5) * char_px;
    let fits = (width_px / per_label).floor().max(1.0) as usize;
    n.div_ceil(fits).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_in_plain_units() {
        let cases = [
            (10000.0, "10k"),
            (2_500_000.0, "2.5M"),
            (1_000_000.0, "1M"),
            (250_000.0, "250k"),
            (12_345.0, "12.3k"),
            (5000.0, "5000"),
            (0.25, "0.25"),
            (0.123456, "0.123"),
            (1.5, "1.5"),
            (-3.0, "-3"),
            (0.0, "0"),
            (-0.0001, "-0.0001"),
            (3e9, "3G"),
            (99.96, "100"),
        ];
        for (v, want) in cases {
            assert_eq!(tick(v), want, "{v}");
        }
    }

    #[test]
    fn strides_label_everything_that_fits() {
        // 6 labels of 2 characters at 7 px: 24.5 px each; 600 px fits 24 of them.
        assert_eq!(label_stride(6, 2, 600.0, 7.0), 1);
        // 64 labels of 3 characters (31.5 px each) in 600 px: 19 fit, so every 4th.
        assert_eq!(label_stride(64, 3, 600.0, 7.0), 4);
        assert_eq!(label_stride(0, 3, 600.0, 7.0), 1);
        assert_eq!(label_stride(5, 3, 1.0, 7.0), 5);
    }

    proptest::proptest! {
        /// A tick label is short and reads back within rounding of the value.
        #[test]
        fn ticks_are_short_and_close(v in -1e12f64..1e12) {
            let t = tick(v);
            proptest::prop_assert!(t.len() <= 9, "{t}");
            let (num, mult) = match t.chars().last() {
                Some('k') => (&t[..t.len() - 1], 1e3),
                Some('M') => (&t[..t.len() - 1], 1e6),
                Some('G') => (&t[..t.len() - 1], 1e9),
                _ => (&t[..], 1.0),
            };
            let back: f64 = num.parse::<f64>().unwrap() * mult;
            proptest::prop_assert!((back - v).abs() <= 0.006 * v.abs() + 1e-6, "{v} -> {t}");
        }
    }
}
