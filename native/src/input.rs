//! Reading JSON requests from stdin with errors that name the problem, the line and the column.

use anyhow::bail;
use serde::de::DeserializeOwned;

/// Parses `text` (from `source`, e.g. `stdin`) into `T`, rejecting unknown fields and the non-standard
/// number extensions `NaN`, `Infinity` and `-Infinity` with a message that says so.
pub fn parse_json<T: DeserializeOwned>(text: &str, source: &str) -> anyhow::Result<T> {
    if text.trim().is_empty() {
        bail!("{source}: empty input (expected one JSON object)");
    }
    serde_json::from_str(text).map_err(|e| {
        let (line, col) = (e.line(), e.column());
        let rest = text.lines().nth(line.saturating_sub(1)).map(|l| l.chars().skip(col.saturating_sub(1)).collect::<String>()).unwrap_or_default();
        let rest = rest.trim_start_matches(['-', '+']);
        if ["NaN", "Infinity", "inf", "nan"].iter().any(|w| rest.starts_with(w)) {
            anyhow::anyhow!("{source}: line {line} column {col}: NaN and Infinity are not allowed, every value must be a finite number")
        } else {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            anyhow::anyhow!("{source}: line {line} column {col}: {msg}")
        }
    })
}

/// Checks that `rows` is a non-empty matrix of finite numbers with equal row lengths of at least `min_len`.
/// Returns the row length.
pub fn check_matrix(field: &str, rows: &[Vec<f64>], min_len: usize, what: &str) -> anyhow::Result<usize> {
    let Some(first) = rows.first() else {
        bail!("`{field}` is empty: give at least one row");
    };
    let n = first.len();
    for (i, row) in rows.iter().enumerate() {
        if row.is_empty() {
            bail!("`{field}` row {} is empty", i + 1);
        }
        if row.len() != n {
            bail!("`{field}` is ragged: row {} has {} values, row 1 has {n}", i + 1, row.len());
        }
        if let Some(j) = row.iter().position(|x| !x.is_finite()) {
            bail!("`{field}` row {} value {} is not finite", i + 1, j + 1);
        }
    }
    if n < min_len {
        bail!("`{field}` rows have {n} values: the formula needs at least {min_len} {what}");
    }
    Ok(n)
}

/// Reads all of stdin.
pub fn read_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
        .map_err(|e| anyhow::anyhow!("stdin: cannot read: {e}"))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Req {
        raw: Vec<Vec<f64>>,
    }

    #[test]
    fn names_nan_and_infinity() {
        for bad in ["{\"raw\": [[1, NaN]]}", "{\"raw\": [[-Infinity]]}", "{\"raw\": [[Infinity]]}"] {
            let e = parse_json::<Req>(bad, "stdin").unwrap_err().to_string();
            assert!(e.contains("NaN and Infinity are not allowed") && e.contains("line 1"), "{e}");
        }
    }

    #[test]
    fn names_unknown_fields_and_syntax() {
        let e = parse_json::<Req>("{\"raw\": [[1]], \"rwa\": 1}", "stdin").unwrap_err().to_string();
        assert!(e.contains("unknown field `rwa`"), "{e}");
        let e = parse_json::<Req>("{\"raw\": [[1,]]}", "stdin").unwrap_err().to_string();
        assert!(e.starts_with("stdin: line 1 column"), "{e}");
        assert!(parse_json::<Req>("  ", "stdin").unwrap_err().to_string().contains("empty input"));
        let e = parse_json::<Req>("{\"raw\": [[1e999]]}", "stdin").unwrap_err().to_string();
        assert!(e.contains("out of range"), "{e}");
    }

    #[test]
    fn matrix_checks() {
        assert_eq!(check_matrix("raw", &[vec![1.0, 2.0], vec![3.0, 4.0]], 1, "dims").unwrap(), 2);
        assert!(check_matrix("raw", &[], 1, "dims").unwrap_err().to_string().contains("empty"));
        assert!(check_matrix("raw", &[vec![]], 1, "dims").unwrap_err().to_string().contains("row 1 is empty"));
        assert!(
            check_matrix("raw", &[vec![1.0], vec![1.0, 2.0]], 1, "dims").unwrap_err().to_string().contains("ragged")
        );
        assert!(
            check_matrix("logits", &[vec![1.0]], 2, "classes").unwrap_err().to_string().contains("at least 2 classes")
        );
    }
}
