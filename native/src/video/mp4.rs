//! `--video FILE.mp4`: H.264 (OpenH264, built from source) in an MP4 container.
//!
//! Each RGB frame becomes 4:2:0 YUV with BT.601's limited-range matrix (OpenH264's converter, which
//! the stream's colour description says), and the encoder's Annex B output is re-packed for MP4:
//! the sequence and picture parameter sets go to the track's `avcC` box, and every other NAL unit
//! is prefixed with its 4-byte length. One sample per frame, timed as the GIF's frames are
//! (`super::durations`, in 90 kHz ticks); an IDR frame every two seconds so a player can seek.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, bail};
use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, ColorPrimaries, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, MatrixCoefficients, RateControlMode,
    TransferCharacteristics, VuiConfig,
};
use openh264::formats::{RgbSliceU8, YUVBuffer};

/// Ticks per second of the video track (MPEG's usual 90 kHz, so common rates divide it).
const TRACK_TIMESCALE: u32 = 90_000;

/// Bits the encoder may spend per pixel per frame: scenes are flat colours, MuJoCo's frames shaded.
const BITS_PER_PIXEL: f64 = 0.2;

/// NAL unit types (H.264 Table 7-1) the re-packing needs.
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

/// Writes RGB `frames` of `size` (even sides) as H.264 in an MP4 at `fps`.
pub(super) fn write(path: &Path, size: (u32, u32), fps: f64, frames: &[Vec<u8>]) -> anyhow::Result<()> {
    let (w, h) = (size.0 as usize, size.1 as usize);
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("--video {}: H.264 encoding failed: {e}", path.display());
    let bitrate = (BITS_PER_PIXEL * (w * h) as f64 * fps).clamp(64e3, 50e6) as u32;
    let config = EncoderConfig::new()
        .bitrate(BitRate::from_bps(bitrate))
        .max_frame_rate(FrameRate::from_hz(fps as f32))
        .rate_control_mode(RateControlMode::Quality)
        // Every frame kept: the video is a record of the episode, step by step.
        .skip_frames(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames((2.0 * fps).round().max(1.0) as u32))
        // One thread: the same frames give the same file.
        .num_threads(1)
        .vui(
            VuiConfig::new()
                .color_primaries(ColorPrimaries::Bt709)
                .transfer_characteristics(TransferCharacteristics::Srgb)
                .matrix_coefficients(MatrixCoefficients::Smpte170M)
                .full_range(false),
        );
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| fail(&e))?;
    let mut parameter_sets: (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    let mut samples = Vec::with_capacity(frames.len());
    let mut yuv = YUVBuffer::new(w, h);
    for rgb in frames {
        yuv.read_rgb8(RgbSliceU8::new(rgb, (w, h)));
        let stream = encoder.encode(&yuv).map_err(|e| fail(&e))?;
        let (mut sample, mut sync) = (Vec::new(), false);
        for layer in (0..stream.num_layers()).filter_map(|i| stream.layer(i)) {
            for nal in (0..layer.nal_count()).filter_map(|i| layer.nal_unit(i)).map(without_start_code) {
                let Some(&header) = nal.first() else { continue };
                match header & 0x1f {
                    NAL_SPS => parameter_sets.0 = Some(nal.to_vec()),
                    NAL_PPS => parameter_sets.1 = Some(nal.to_vec()),
                    kind => {
                        sync |= kind == NAL_IDR;
                        sample.extend_from_slice(&(nal.len() as u32).to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                }
            }
        }
        if sample.is_empty() {
            bail!("--video {}: the H.264 encoder gave no picture for frame {}", path.display(), samples.len());
        }
        samples.push((sample, sync));
    }
    let (Some(sps), Some(pps)) = parameter_sets else {
        bail!("--video {}: the H.264 encoder gave no parameter sets", path.display());
    };

    let file = File::create(path).with_context(|| format!("--video: cannot create {}", path.display()))?;
    let brand = |b: &str| b.parse::<::mp4::FourCC>().expect("four ASCII letters");
    let movie = ::mp4::Mp4Config {
        major_brand: brand("isom"),
        minor_version: 512,
        compatible_brands: vec![brand("isom"), brand("iso2"), brand("avc1"), brand("mp41")],
        timescale: 1000,
    };
    let write_err = |e: ::mp4::Error| anyhow::anyhow!("--video: cannot write {}: {e}", path.display());
    let mut mp4 = ::mp4::Mp4Writer::write_start(BufWriter::new(file), &movie).map_err(write_err)?;
    mp4.add_track(&::mp4::TrackConfig {
        track_type: ::mp4::TrackType::Video,
        timescale: TRACK_TIMESCALE,
        language: "und".into(),
        media_conf: ::mp4::MediaConfig::AvcConfig(::mp4::AvcConfig {
            width: w as u16,
            height: h as u16,
            seq_param_set: sps,
            pic_param_set: pps,
        }),
    })
    .map_err(write_err)?;
    let mut start = 0u64;
    for ((bytes, is_sync), duration) in samples.into_iter().zip(super::durations(fps, TRACK_TIMESCALE)) {
        let sample = ::mp4::Mp4Sample {
            start_time: start,
            duration,
            rendering_offset: 0,
            is_sync,
            bytes: ::mp4::Bytes::from(bytes),
        };
        mp4.write_sample(1, &sample).map_err(write_err)?;
        start += u64::from(duration);
    }
    mp4.write_end().map_err(write_err)?;
    Ok(())
}

/// A NAL unit without its Annex B start code (`00 00 01` or `00 00 00 01`).
fn without_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    if zeros >= 2 && nal.get(zeros) == Some(&1) { &nal[zeros + 1..] } else { nal }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_a_frame_the_first_a_keyframe_timed_at_the_asked_rate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.mp4");
        let (w, h) = (64, 48);
        // A red square sliding over grey, four pixels a frame.
        let frames: Vec<Vec<u8>> = (0..12)
            .map(|k| {
                let mut rgb = vec![128u8; w * h * 3];
                for (y, x) in (12..24).flat_map(|y| (4 * k..4 * k + 16).map(move |x| (y, x))) {
                    rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[220, 30, 30]);
                }
                rgb
            })
            .collect();
        // 7 frames a second: 90 000 / 7 ticks is not whole.
        write(&path, (w as u32, h as u32), 7.0, &frames).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let len = bytes.len() as u64;
        let mut mp4 = ::mp4::Mp4Reader::read_header(std::io::Cursor::new(bytes), len).unwrap();
        let track = mp4.tracks().get(&1).unwrap();
        assert_eq!((track.width(), track.height(), track.sample_count()), (64, 48, 12));
        let mdhd = &track.trak.mdia.mdhd;
        assert_eq!((mdhd.timescale, mdhd.duration), (TRACK_TIMESCALE, 154_286), "12/7 s is 154 285.7 ticks");
        // The parameter sets live in avcC, not in the samples: SPS and PPS NAL headers.
        assert_eq!(
            (track.sequence_parameter_set().unwrap()[0] & 0x1f, track.picture_parameter_set().unwrap()[0] & 0x1f),
            (7, 8)
        );
        let first = mp4.read_sample(1, 1).unwrap().unwrap();
        assert!(first.is_sync, "the first frame is an IDR picture");
        assert_eq!(first.bytes[4] & 0x1f, NAL_IDR, "length-prefixed, not start codes");
    }

    #[test]
    fn start_codes_of_both_lengths_are_removed() {
        assert_eq!(without_start_code(&[0, 0, 0, 1, 0x67, 9]), &[0x67, 9]);
        assert_eq!(without_start_code(&[0, 0, 1, 0x68]), &[0x68]);
        assert_eq!(without_start_code(&[0x65, 0, 0, 1]), &[0x65, 0, 0, 1], "no start code: unchanged");
    }
}
