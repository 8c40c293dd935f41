//! The process's resident memory as Linux reports it in `/proc/self/status`: the peak of a stretch
//! of work (`VmHWM` after resetting it through `/proc/self/clear_refs`), for the benchmarks' and the
//! fuzzer's memory figures.

/// The process's peak resident memory so far (Linux), MiB; NaN where unknown.
pub fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:").map_or(f64::NAN, |kb| kb as f64 / 1024.0)
}

/// A field of `/proc/self/status` in KiB (Linux), e.g. `VmRSS:`.
pub fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix(key))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Sets the process's peak resident memory back to what it holds now (Linux: writing 5 to
/// `/proc/self/clear_refs`), so that the next `VmHWM` is the peak of what runs in between; returns
/// the resident memory it started from, KiB, or `None` where the kernel does not offer this.
pub fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:")
}

/// The peak resident memory (MiB) while `f` runs: reset before, read after; NaN where unknown.
pub fn peak_during<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let reset = reset_peak();
    let out = f();
    (out, if reset.is_some() { peak_rss_mib() } else { f64::NAN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_of_a_stretch_counts_what_it_touched_and_not_what_came_before() {
        // 256 MiB touched and freed before the stretch, 32 MiB touched inside it (the margins leave
        // room for what tests running beside this one allocate).
        let mut before = vec![1u8; 256 << 20];
        before[12345] = 2;
        std::hint::black_box(&before);
        drop(before);
        let held = status_kib("VmRSS:").expect("Linux reports VmRSS") as f64 / 1024.0;
        let (_, peak) = peak_during(|| {
            let inside = vec![1u8; 32 << 20];
            std::hint::black_box(&inside);
        });
        assert!(peak >= held + 30.0, "peak {peak} MiB, held before {held} MiB: the 32 MiB inside not seen");
        assert!(peak < held + 200.0, "peak {peak} MiB, held before {held} MiB: the 256 MiB before counted");
    }
}
