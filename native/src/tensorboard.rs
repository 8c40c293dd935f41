//! TensorBoard event files: what `era export --tensorboard` and `era train … --tensorboard` write, so
//! that TensorBoard, W&B's `sync_tensorboard` and sweep tools read era's curves.
//!
//! A file is a sequence of TFRecords, each `len: u64 LE · masked_crc(len): u32 · data · masked_crc(data): u32`
//! with `masked_crc(x) = rotr(crc32c(x), 15) + 0xa282ead8`, whose `data` is one `tensorflow.Event`
//! protobuf: the first holds `file_version = "brain.Event:2"`, then one per metric value (a scalar
//! summary: tag = the metric key, `simple_value` = the value as f32, NaN where the log has a non-finite
//! value), the run's configuration once as a text summary, and where a run resumed from step `s`,
//! a `SessionLog START` at step `s + 1`: TensorBoard drops what it read at steps ≥ `s + 1` before it,
//! as era's run log supersedes those records.
//!
//! The messages are declared here with the fields era writes, numbered as in TensorFlow's
//! `event.proto`, `summary.proto`, `tensor.proto` and `tensor_shape.proto`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use era_shared::runlog::Header;
use prost::Message;

/// `tensorflow.Event`.
#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "What", tags = "3, 5, 7")]
    what: Option<What>,
}

/// `Event.what`.
#[derive(Clone, PartialEq, prost::Oneof)]
enum What {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
    #[prost(message, tag = "7")]
    SessionLog(SessionLog),
}

/// `tensorflow.SessionLog`.
#[derive(Clone, PartialEq, prost::Message)]
struct SessionLog {
    /// `SessionStatus`: 1 = START.
    #[prost(int32, tag = "1")]
    status: i32,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<Value>,
}

/// `tensorflow.Summary.Value`.
#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
    #[prost(message, optional, tag = "8")]
    tensor: Option<TensorProto>,
    #[prost(message, optional, tag = "9")]
    metadata: Option<SummaryMetadata>,
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
struct SummaryMetadata {
    #[prost(message, optional, tag = "1")]
    plugin_data: Option<PluginData>,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
struct PluginData {
    #[prost(string, tag = "1")]
    plugin_name: String,
}

/// `tensorflow.TensorProto`, a scalar string.
#[derive(Clone, PartialEq, prost::Message)]
struct TensorProto {
    /// `DataType`: 7 = DT_STRING.
    #[prost(int32, tag = "1")]
    dtype: i32,
    #[prost(message, optional, tag = "2")]
    tensor_shape: Option<TensorShape>,
    #[prost(bytes = "vec", repeated, tag = "8")]
    string_val: Vec<Vec<u8>>,
}

/// `tensorflow.TensorShapeProto` (no dimensions: a scalar).
#[derive(Clone, PartialEq, prost::Message)]
struct TensorShape {}

/// `tensorflow.DataType.DT_STRING`.
const DT_STRING: i32 = 7;
/// `tensorflow.SessionLog.SessionStatus.START`.
const START: i32 = 1;
/// The tag of the configuration's text summary.
pub const CONFIG_TAG: &str = "config";

/// Where a run's event files go inside the TensorBoard folder: `<run name>/seed-<S>`, so that
/// TensorBoard lists the seeds of one run together.
pub fn run_folder(header: &Header) -> PathBuf {
    Path::new(&header.run_name).join(era_shared::runlog::seed_dir(header.seed))
}

/// The run's start as seconds since the Unix epoch (0 if the header's time cannot be read).
pub fn started_at(header: &Header) -> f64 {
    humantime::parse_rfc3339(&header.started_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The run's configuration as TensorBoard's text summary shows it: indented JSON in a code block.
pub fn config_text(header: &Header) -> String {
    let json = serde_json::to_string_pretty(&header.config).unwrap_or_default();
    format!("```json\n{json}\n```")
}

/// TFRecord's checksum: CRC-32C, rotated and offset so that data holding its own CRC does not
/// checksum to a constant.
fn masked_crc(data: &[u8]) -> u32 {
    const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
    CRC32C.checksum(data).rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TensorBoard event file being written.
pub struct EventWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl EventWriter {
    /// Creates a new event file in `dir` (made if missing), named as TensorBoard looks for them
    /// (`events.out.tfevents.<seconds>.era.<n>`, `n` making it unique in the folder), and writes its
    /// version event at `wall_time`.
    pub fn create(dir: &Path, wall_time: f64) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let seconds = wall_time.max(0.0) as u64;
        let path = (0u32..)
            .map(|n| dir.join(format!("events.out.tfevents.{seconds:010}.era.{n}")))
            .find(|p| !p.exists())
            .expect("an unused file name");
        let file = File::create_new(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = Self { out: BufWriter::new(file), path };
        w.event(&Event { wall_time, step: 0, what: Some(What::FileVersion("brain.Event:2".into())) })?;
        Ok(w)
    }

    /// A new event file for the run `header` describes, in `root`'s [`run_folder`]: with the
    /// configuration as text for a fresh run, or, for one resumed from a checkpoint at
    /// `(step, wall_s)`, with the mark that makes TensorBoard drop what earlier files hold past it.
    pub fn for_run(root: &Path, header: &Header, resumed: Option<(u64, f64)>) -> anyhow::Result<Self> {
        let t0 = started_at(header);
        let mut w = Self::create(&root.join(run_folder(header)), t0 + resumed.map_or(0.0, |r| r.1))?;
        match resumed {
            None => w.text(CONFIG_TAG, 0, t0, &config_text(header))?,
            Some((step, wall_s)) => w.resumed_from(step, t0 + wall_s)?,
        }
        Ok(w)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn event(&mut self, event: &Event) -> anyhow::Result<()> {
        let data = event.encode_to_vec();
        let len = (data.len() as u64).to_le_bytes();
        let mut record = Vec::with_capacity(data.len() + 16);
        record.extend_from_slice(&len);
        record.extend_from_slice(&masked_crc(&len).to_le_bytes());
        record.extend_from_slice(&data);
        record.extend_from_slice(&masked_crc(&data).to_le_bytes());
        self.out.write_all(&record).with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// The values of one record at `step`, as scalars (`None`, a non-finite value, as NaN).
    pub fn scalars<'a>(
        &mut self,
        step: u64,
        wall_time: f64,
        values: impl IntoIterator<Item = (&'a str, Option<f64>)>,
    ) -> anyhow::Result<()> {
        let value = values
            .into_iter()
            .map(|(tag, v)| Value {
                tag: tag.to_string(),
                simple_value: Some(v.map_or(f32::NAN, |v| v as f32)),
                ..Default::default()
            })
            .collect();
        self.event(&Event { wall_time, step: step as i64, what: Some(What::Summary(Summary { value })) })
    }

    /// `text` as the text summary `tag` at `step` (TensorBoard's Text tab).
    pub fn text(&mut self, tag: &str, step: u64, wall_time: f64, text: &str) -> anyhow::Result<()> {
        let value = Value {
            tag: tag.to_string(),
            tensor: Some(TensorProto {
                dtype: DT_STRING,
                tensor_shape: Some(TensorShape {}),
                string_val: vec![text.as_bytes().to_vec()],
            }),
            metadata: Some(SummaryMetadata { plugin_data: Some(PluginData { plugin_name: "text".into() }) }),
            ..Default::default()
        };
        self.event(&Event { wall_time, step: step as i64, what: Some(What::Summary(Summary { value: vec![value] })) })
    }

    /// Marks a resume from a checkpoint at `step`: TensorBoard drops what earlier files hold at
    /// steps after it.
    pub fn resumed_from(&mut self, step: u64, wall_time: f64) -> anyhow::Result<()> {
        let what = Some(What::SessionLog(SessionLog { status: START }));
        self.event(&Event { wall_time, step: step.saturating_add(1) as i64, what })
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush().with_context(|| format!("cannot write {}", self.path.display()))
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_tfrecord_s_masked_crc32c() {
        // CRC-32C("123456789") = 0xE3069283 (the Castagnoli check value). Rotated right by 15 bits:
        // the low 15 bits 0x1283 move to the top, 0x1283 << 17 = 0x25060000, | 0xE3069283 >> 15 =
        // 0x1C60D, giving 0x2507C60D; plus 0xA282EAD8 (mod 2³²) = 0xC78AB0E5.
        assert_eq!(masked_crc(b"123456789"), 0xC78A_B0E5);
    }

    #[test]
    fn a_record_frames_its_event_with_length_and_checksums() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EventWriter::create(dir.path(), 1.5e9).unwrap();
        w.scalars(7, 1.5e9 + 1.0, [("charts/episodic_return", Some(-12.5)), ("losses/critic", None)]).unwrap();
        w.flush().unwrap();
        let bytes = std::fs::read(w.path()).unwrap();
        let mut events = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
            assert_eq!(u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()), masked_crc(&bytes[at..at + 8]));
            let data = &bytes[at + 12..at + 12 + len];
            let crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
            assert_eq!(crc, masked_crc(data));
            events.push(Event::decode(data).unwrap());
            at += 16 + len;
        }
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].what, Some(What::FileVersion("brain.Event:2".into())));
        let Some(What::Summary(s)) = &events[1].what else { panic!("{:?}", events[1]) };
        assert_eq!((events[1].step, events[1].wall_time), (7, 1.5e9 + 1.0));
        assert_eq!(s.value[0].tag, "charts/episodic_return");
        assert_eq!(s.value[0].simple_value, Some(-12.5));
        assert!(s.value[1].simple_value.unwrap().is_nan());
    }

    #[test]
    fn the_start_time_is_read_from_the_header() {
        let mut h: Header = serde_json::from_str(r#"{"schema":"era-run","schema_version":1,"domain":"control","algorithm":"sac","target":"T","run_name":"r","seed":0,"step_unit":"env_steps","era":{"enabled":false},"config":{"lr":0.5},"started_at":"1970-01-01T00:01:40Z","era_version":"0"}"#).unwrap();
        assert_eq!(started_at(&h), 100.0);
        assert_eq!(config_text(&h), "```json\n{\n  \"lr\": 0.5\n}\n```");
        assert_eq!(run_folder(&h), Path::new("r/seed-0"));
        h.started_at = "now".into();
        assert_eq!(started_at(&h), 0.0);
    }
}
