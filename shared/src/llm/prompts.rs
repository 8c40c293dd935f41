//! A user's problems with reference answers, read from a JSON Lines (`.jsonl`), JSON (`.json`, an
//! array of objects) or Parquet (`.parquet`, as Hugging Face hosts datasets) file, each row's prompt
//! and answer taken from two named fields (columns).
//!
//! A bad row (not JSON, not UTF-8, a field missing or not text) is skipped and counted; the count and
//! the first such row's line are reported, and a file with no usable row is refused. Numbers are
//! taken as the text JSON writes them (`42`), so numeric answers need no quoting.

use std::path::Path;

use rand::Rng;
use rand::SeedableRng;

use crate::train::{TrainError, TrainRng};

/// One problem: the prompt the model continues and the reference answer its response is scored on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The prompt text.
    pub prompt: String,
    /// The reference answer (for GSM8K, the whole worked solution ending in `#### N`).
    pub answer: String,
}

/// Rows of a file that were left out, and why the first one was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many.
    pub count: usize,
    /// The first one's file and line, and the reason.
    pub first: Option<String>,
}

impl Skipped {
    fn add(&mut self, at: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(at());
        }
        self.count += 1;
    }

    /// Adds `other`'s rows (its first reason only if this has none).
    pub fn merge(&mut self, other: Skipped) {
        self.count += other.count;
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

/// The field names a file's rows are read by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    /// The prompt's field.
    pub prompt: &'a str,
    /// The answer's field.
    pub answer: &'a str,
}

/// Reads the rows of `path` (`.jsonl`, `.json` holding an array of objects, or `.parquet`).
pub fn read(path: &Path, fields: &Fields) -> Result<(Vec<Row>, Skipped), TrainError> {
    let shown = path.display().to_string();
    let cannot = |e: std::io::Error| TrainError::Config(format!("{shown}: cannot read: {e}"));
    let (rows, skipped) = match path.extension().and_then(|e| e.to_str()) {
        Some("parquet") => read_parquet(std::fs::File::open(path).map_err(cannot)?, &shown, fields)?,
        Some("json") => read_array(&std::fs::read(path).map_err(cannot)?, &shown, fields)?,
        _ => read_lines(&std::fs::read(path).map_err(cannot)?, &shown, fields),
    };
    if rows.is_empty() {
        let why = skipped.first.as_deref().map_or(String::new(), |f| format!(" (first: {f})"));
        return Err(TrainError::Config(format!(
            "{shown}: no usable row: {} skipped{why}; rows need text fields `{}` and `{}`",
            skipped.count, fields.prompt, fields.answer
        )));
    }
    Ok((rows, skipped))
}

fn read_lines(bytes: &[u8], shown: &str, fields: &Fields) -> (Vec<Row>, Skipped) {
    let mut rows = Vec::new();
    let mut skipped = Skipped::default();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let at = |why: String| move || format!("{shown}:{}: {why}", i + 1);
        let Ok(line) = std::str::from_utf8(line) else {
            skipped.add(at("not UTF-8".into()));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => match row(&v, fields) {
                Ok(r) => rows.push(r),
                Err(why) => skipped.add(at(why)),
            },
            Err(e) => skipped.add(at(format!("not JSON ({e})"))),
        }
    }
    (rows, skipped)
}

fn read_array(bytes: &[u8], shown: &str, fields: &Fields) -> Result<(Vec<Row>, Skipped), TrainError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| TrainError::Config(format!("{shown}: not UTF-8 at byte {}", e.valid_up_to())))?;
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TrainError::Config(format!("{shown}:{}: not JSON ({e})", e.line())))?;
    let serde_json::Value::Array(items) = v else {
        return Err(TrainError::Config(format!("{shown}: expected an array of objects (or use .jsonl, one per line)")));
    };
    let mut rows = Vec::new();
    let mut skipped = Skipped::default();
    for (i, item) in items.iter().enumerate() {
        match row(item, fields) {
            Ok(r) => rows.push(r),
            Err(why) => skipped.add(|| format!("{shown}: item {i}: {why}")),
        }
    }
    Ok((rows, skipped))
}

/// The rows of a Parquet file: only the two columns are decoded; a null, a non-text value or bytes
/// that are not UTF-8 skip the row (counted, the first named by its row number).
fn read_parquet(file: std::fs::File, shown: &str, fields: &Fields) -> Result<(Vec<Row>, Skipped), TrainError> {
    // The parquet crate panics on some corrupt files (fuzzing found unwraps and overflows in its
    // metadata and page decoders): such a panic is this file's error.
    crate::panics::quietly(|| parquet_rows(file, shown, fields)).unwrap_or_else(|_| {
        Err(TrainError::Config(format!(
            "{shown}: not a valid Parquet file (the Parquet reader failed on its contents)"
        )))
    })
}

fn parquet_rows(file: std::fs::File, shown: &str, fields: &Fields) -> Result<(Vec<Row>, Skipped), TrainError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let bad = |why: String| TrainError::Config(format!("{shown}: {why}"));
    let reader = SerializedFileReader::new(file).map_err(|e| bad(format!("not a Parquet file ({e})")))?;
    // A codec this build lacks (Zstandard, Brotli: their crates bundle C) is named here; the row
    // reader would not say which, or return.
    for rg in reader.metadata().row_groups() {
        for c in rg.columns() {
            use parquet::basic::Compression as C;
            let codec = match c.compression() {
                C::UNCOMPRESSED | C::SNAPPY | C::GZIP(_) | C::LZ4 | C::LZ4_RAW => continue,
                C::ZSTD(_) => "Zstandard".to_string(),
                C::BROTLI(_) => "Brotli".to_string(),
                other => format!("{other:?}"),
            };
            return Err(bad(format!(
                "column `{}` is compressed with {codec}, which era does not read (it reads Snappy, gzip and LZ4: re-save the file with one of them, e.g. pyarrow's write_table(..., compression=\"snappy\"))",
                c.column_path().string()
            )));
        }
    }
    let root = reader.metadata().file_metadata().schema_descr().root_schema().clone();
    let columns: Vec<_> = root.get_fields().to_vec();
    let mut wanted = Vec::new();
    for name in [fields.prompt, fields.answer] {
        let Some(c) = columns.iter().find(|c| c.name() == name) else {
            let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
            return Err(bad(format!("no column `{name}` (columns: {})", names.join(", "))));
        };
        if !wanted.iter().any(|w: &std::sync::Arc<parquet::schema::types::Type>| w.name() == name) {
            wanted.push(c.clone());
        }
    }
    let projection = parquet::schema::types::Type::group_type_builder(root.name())
        .with_fields(wanted)
        .build()
        .map_err(|e| bad(format!("cannot select its columns ({e})")))?;
    let iter = reader.get_row_iter(Some(projection)).map_err(|e| bad(format!("cannot read its rows ({e})")))?;
    let mut rows = Vec::new();
    let mut skipped = Skipped::default();
    for (i, r) in iter.enumerate() {
        let r = r.map_err(|e| bad(format!("row {}: cannot decode ({e})", i + 1)))?;
        let text = |name: &str| -> Result<String, String> {
            let (_, f) = r.get_column_iter().find(|(n, _)| n.as_str() == name).ok_or(format!("no column `{name}`"))?;
            match f {
                Field::Str(s) => Ok(s.clone()),
                Field::Bytes(b) => String::from_utf8(b.data().to_vec()).map_err(|_| format!("`{name}` is not UTF-8")),
                Field::Null => Err(format!("`{name}` is null")),
                Field::Byte(_)
                | Field::Short(_)
                | Field::Int(_)
                | Field::Long(_)
                | Field::UByte(_)
                | Field::UShort(_)
                | Field::UInt(_)
                | Field::ULong(_)
                | Field::Float(_)
                | Field::Double(_) => Ok(f.to_string()),
                other => Err(format!("`{name}` is not text but {other}")),
            }
        };
        match text(fields.prompt).and_then(|prompt| Ok(Row { prompt, answer: text(fields.answer)? })) {
            Ok(row) => rows.push(row),
            Err(why) => skipped.add(|| format!("{shown}: row {}: {why}", i + 1)),
        }
    }
    Ok((rows, skipped))
}

fn row(v: &serde_json::Value, fields: &Fields) -> Result<Row, String> {
    let text = |name: &str| match v.get(name) {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(n @ serde_json::Value::Number(_)) => Ok(n.to_string()),
        Some(other) => Err(format!("field `{name}` is {}, not text", kind(other))),
        None if v.is_object() => Err(format!("no field `{name}`")),
        None => Err(format!("not an object but {}", kind(v))),
    };
    Ok(Row { prompt: text(fields.prompt)?, answer: text(fields.answer)? })
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "text",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The training and test rows of a file task.
#[derive(Debug, Clone)]
pub struct Prompts {
    train: Vec<Row>,
    test: Vec<Row>,
}

impl Prompts {
    /// `train` for training and `test` held out. Both must have rows.
    pub fn new(train: Vec<Row>, test: Vec<Row>) -> Result<Self, TrainError> {
        if train.is_empty() || test.is_empty() {
            return Err(TrainError::Config(format!(
                "a file task needs training and test rows (have {} and {})",
                train.len(),
                test.len()
            )));
        }
        Ok(Self { train, test })
    }

    /// `rows` split at random (from `seed`) into `1 − fraction` for training and `fraction` held out,
    /// at least one row each.
    pub fn split(mut rows: Vec<Row>, fraction: f64, seed: u64) -> Result<Self, TrainError> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(TrainError::Config(format!("eval_fraction {fraction} must be in (0, 1)")));
        }
        if rows.len() < 2 {
            return Err(TrainError::Config(format!("{} row cannot be split into training and test", rows.len())));
        }
        let mut rng = TrainRng::seed_from_u64(seed ^ 0x5e1d_0f7e);
        // Fisher–Yates with the run's generator: the split is the same for a seed on every machine.
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.random_range(0..=i));
        }
        let held = ((rows.len() as f64 * fraction).round() as usize).clamp(1, rows.len() - 1);
        let test = rows.split_off(rows.len() - held);
        Self::new(rows, test)
    }

    /// A training row drawn uniformly (with replacement).
    pub fn train(&self, rng: &mut TrainRng) -> &Row {
        &self.train[rng.random_range(0..self.train.len())]
    }

    /// The training rows.
    pub fn train_rows(&self) -> &[Row] {
        &self.train
    }

    /// The held-out rows, in a fixed order.
    pub fn test(&self) -> &[Row] {
        &self.test
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: Fields = Fields { prompt: "question", answer: "answer" };

    /// Written by pyarrow (scripts/parquet_fixture.py): 5 rows in row groups of 2, Snappy; row 2's
    /// question is null, row 2's `raw` bytes are not UTF-8. `problems-zstd.parquet`: one row, Zstandard.
    fn parquet() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/problems.parquet")
    }

    #[test]
    fn parquet_rows_are_read_across_row_groups_and_bad_ones_counted() {
        let (rows, skipped) = read(&parquet(), &FIELDS).unwrap();
        let prompts: Vec<&str> = rows.iter().map(|r| r.prompt.as_str()).collect();
        assert_eq!(
            prompts,
            ["What is 2 + 3?", "Tom has 4 apples and eats 1. How many are left?", "Ünïcödé: 7 × 6?", "10 - 4?"]
        );
        assert_eq!(rows[0].answer, "2 + 3 = 5\n#### 5");
        assert_eq!(skipped.count, 1);
        assert!(
            skipped.first.as_deref().unwrap().ends_with("problems.parquet: row 2: `question` is null"),
            "{skipped:?}"
        );
        // A number column is read as its text; bytes as UTF-8 text, or the row skipped.
        let (rows, _) = read(&parquet(), &Fields { prompt: "raw", answer: "number" }).unwrap();
        assert_eq!(rows.iter().map(|r| r.answer.as_str()).collect::<Vec<_>>(), ["5", "3", "42", "6"]);
        assert_eq!(rows[0].prompt, "ok");
        let e = read(&parquet().with_file_name("problems-zstd.parquet"), &FIELDS).unwrap_err().to_string();
        assert!(e.contains("column `question` is compressed with Zstandard, which era does not read"), "{e}");
        let e = read(&parquet(), &Fields { prompt: "question", answer: "solution" }).unwrap_err().to_string();
        assert!(e.contains("no column `solution` (columns: question, answer, number, raw)"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fake.parquet");
        std::fs::write(&f, "question,answer\n").unwrap();
        let e = read(&f, &FIELDS).unwrap_err().to_string();
        assert!(e.contains("fake.parquet: not a Parquet file"), "{e}");
    }

    #[test]
    fn jsonl_rows_are_read_and_bad_ones_counted_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.jsonl");
        let mut bytes = b"{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\n\n{\"question\": \"2+2?\"}\n".to_vec();
        bytes.extend(b"{\"question\": \"x\", \"answer\": 4}\nnot json\n{\"question\": \"\xff\", \"answer\": \"1\"}\n");
        bytes.extend(b"{\"question\": [1], \"answer\": \"1\"}\n[1, 2]\n");
        std::fs::write(&f, bytes).unwrap();
        let (rows, skipped) = read(&f, &FIELDS).unwrap();
        assert_eq!(
            rows,
            [Row { prompt: "1+1?".into(), answer: "#### 2".into() }, Row { prompt: "x".into(), answer: "4".into() }]
        );
        assert_eq!(skipped.count, 5);
        let first = skipped.first.unwrap();
        assert!(first.ends_with("q.jsonl:3: no field `answer`"), "{first}");
    }

    #[test]
    fn corrupted_parquet_files_are_refused_never_panic() {
        // Every 5th byte of the fixture flipped, one at a time: each file reads or is refused, and
        // some of them make the parquet crate panic, which the reader turns into a refusal.
        let good = std::fs::read(parquet()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.parquet");
        let mut caught = 0;
        for i in (0..good.len()).step_by(5) {
            let mut bad = good.clone();
            bad[i] ^= 0xff;
            std::fs::write(&f, &bad).unwrap();
            if let Err(e) = read(&f, &FIELDS) {
                caught += usize::from(e.to_string().contains("not a valid Parquet file"));
            }
        }
        assert!(caught > 0, "no flipped byte reached a panic of the parquet crate");
    }

    #[test]
    fn a_json_array_is_read_item_by_item_and_a_file_without_rows_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.json");
        std::fs::write(&f, r#"[{"question": "a", "answer": "b"}, {"question": null, "answer": "c"}]"#).unwrap();
        let (rows, skipped) = read(&f, &FIELDS).unwrap();
        assert_eq!((rows.len(), skipped.count), (1, 1));
        assert!(skipped.first.unwrap().ends_with("q.json: item 1: field `question` is null, not text"));
        std::fs::write(&f, r#"{"question": "a"}"#).unwrap();
        assert!(read(&f, &FIELDS).unwrap_err().to_string().contains("expected an array"));
        let g = dir.path().join("none.jsonl");
        std::fs::write(&g, "{\"prompt\": \"a\", \"answer\": \"b\"}\n").unwrap();
        let e = read(&g, &FIELDS).unwrap_err().to_string();
        assert!(e.contains("no usable row: 1 skipped") && e.contains("none.jsonl:1: no field `question`"), "{e}");
        let e = read(&dir.path().join("missing.jsonl"), &FIELDS).unwrap_err().to_string();
        assert!(e.contains("missing.jsonl: cannot read"), "{e}");
    }

    #[test]
    fn a_split_is_seeded_disjoint_and_never_empty() {
        let rows: Vec<Row> = (0..10).map(|i| Row { prompt: format!("p{i}"), answer: i.to_string() }).collect();
        let a = Prompts::split(rows.clone(), 0.2, 7).unwrap();
        let b = Prompts::split(rows.clone(), 0.2, 7).unwrap();
        assert_eq!((a.train_rows().len(), a.test().len()), (8, 2));
        assert_eq!(a.test(), b.test());
        assert!(a.test().iter().all(|t| !a.train_rows().contains(t)));
        assert_eq!(Prompts::split(rows.clone(), 0.01, 7).unwrap().test().len(), 1);
        assert_eq!(Prompts::split(rows.clone(), 0.99, 7).unwrap().train_rows().len(), 1);
        assert!(Prompts::split(rows[..1].to_vec(), 0.5, 7).is_err());
        assert!(Prompts::split(rows, 1.0, 7).unwrap_err().to_string().contains("(0, 1)"));
    }
}
