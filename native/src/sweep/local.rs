//! `era sweep SPEC --local N`: N runs at a time on this machine, each pinned to its share of the
//! cores this process may use (slot k of N gets the k-th of N equal slices; with more slots than
//! cores, slots share cores). Each run is its own `era sweep task` process in its own process group:
//! a Ctrl-C or SIGTERM to the sweep is passed to every run once, so each checkpoints and stops, and
//! the next `era sweep` continues them.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::spec::Planned;
use super::state::{self, Scheduled, State};

/// The cores this process may run on (Linux), else `0..available_parallelism`.
pub fn cores() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        if let Some(c) = linux::allowed() {
            return c;
        }
    }
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// The cores of slot `k` of `n`: the k-th of n slices of `cores` (a core each, shared, when n > cores).
pub fn share(cores: &[usize], k: usize, n: usize) -> Vec<usize> {
    if n >= cores.len() {
        return vec![cores[k % cores.len()]];
    }
    let (per, extra) = (cores.len() / n, cores.len() % n);
    let start = k * per + k.min(extra);
    cores[start..start + per + usize::from(k < extra)].to_vec()
}

/// Pins this process to the comma-separated cores in `list` (Linux; elsewhere a no-op).
pub fn pin_to(list: &str) -> anyhow::Result<()> {
    let cores = list
        .split(',')
        .map(|c| c.trim().parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--cpus {list:?}: expected core numbers separated by commas"))?;
    #[cfg(target_os = "linux")]
    linux::pin(&cores).with_context(|| format!("--cpus {list}: cannot pin to these cores"))?;
    #[cfg(not(target_os = "linux"))]
    let _ = cores;
    Ok(())
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod linux {
    /// The cores in this process's affinity mask.
    pub fn allowed() -> Option<Vec<usize>> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, and sched_getaffinity writes at most its size.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return None;
        }
        // SAFETY: CPU_ISSET reads bit c < CPU_SETSIZE of a valid set.
        let cores: Vec<usize> =
            (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect();
        (!cores.is_empty()).then_some(cores)
    }

    /// Sets this process's (its calling thread's, inherited by what it execs) affinity to `cores`.
    pub fn pin(cores: &[usize]) -> std::io::Result<()> {
        // SAFETY: as above; sched_setaffinity only reads the set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &c in cores.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            // SAFETY: c is below CPU_SETSIZE, so the bit it sets lies inside the set.
            unsafe { libc::CPU_SET(c, &mut set) };
        }
        let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
        if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }

    /// Asks process `pid` to stop (SIGTERM).
    pub fn terminate(pid: u32) {
        // SAFETY: kill has no memory effects; a pid that has exited is reported as an error, ignored.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
}

/// Trains `todo` (runs of the sweep in `out`), `n` at a time; returns how many failed.
pub fn run(out: &Path, todo: &[&Planned], n: usize) -> anyhow::Result<usize> {
    if n == 0 {
        bail!("--local 0: run at least one at a time");
    }
    crate::runs::install_stop_handler();
    let cores = cores();
    let slots = n.min(todo.len().max(1));
    let exe = std::env::current_exe().context("cannot find era's own executable")?;
    let shares: Vec<Vec<usize>> = (0..slots).map(|k| share(&cores, k, slots)).collect();
    eprintln!(
        "era sweep: {} to run, {slots} at a time (cores {})",
        todo.len(),
        shares.iter().map(|s| join(s)).collect::<Vec<_>>().join(" | ")
    );
    let mut running: Vec<(usize, &Planned, Child, Instant)> = Vec::new();
    let mut next = 0;
    let mut failed = 0;
    let mut stopped = false;
    loop {
        if crate::runs::stopping() && !stopped {
            stopped = true;
            for (_, r, child, _) in &running {
                eprintln!("era sweep: {}: asking it to stop", r.dir);
                #[cfg(target_os = "linux")]
                linux::terminate(child.id());
                #[cfg(not(target_os = "linux"))]
                let _ = child;
            }
        }
        while !stopped && next < todo.len() && running.len() < slots {
            let slot = (0..slots).find(|s| !running.iter().any(|(k, ..)| k == s)).unwrap_or(0);
            let r = todo[next];
            next += 1;
            let mut cmd = Command::new(&exe);
            cmd.arg("sweep").arg("task").arg(out).arg(&r.dir).arg("--cpus").arg(join(&shares[slot]));
            cmd.stdin(Stdio::null());
            #[cfg(unix)]
            {
                use std::os::unix::process::CommandExt as _;
                // Its own group: the terminal's Ctrl-C reaches the sweep alone, which passes it on once.
                cmd.process_group(0);
            }
            let child = cmd.spawn().with_context(|| format!("{}: cannot start", r.dir))?;
            eprintln!("era sweep: {}: started on cores {}", r.dir, join(&shares[slot]));
            running.push((slot, r, child, Instant::now()));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut i = 0;
        while i < running.len() {
            if let Some(status) = running[i].2.try_wait().context("cannot wait for a run")? {
                let (_, r, _, started) = running.remove(i);
                let took = crate::runs::hms(started.elapsed());
                match state::of(out, r, &Scheduled::Unknown) {
                    State::Done { .. } => eprintln!("era sweep: {}: done in {took}", r.dir),
                    State::Failed { error } => {
                        failed += 1;
                        eprintln!(
                            "era sweep: {}: FAILED after {took}: {error} (log: {})",
                            r.dir,
                            state::console_log(out, r).display()
                        );
                    }
                    s if !status.success() => {
                        failed += 1;
                        let (_, detail) = s.columns();
                        eprintln!("era sweep: {}: exited with {status} after {took} {detail}", r.dir);
                    }
                    s => eprintln!("era sweep: {}: {} after {took} {}", r.dir, s.word(), s.columns().1),
                }
            } else {
                i += 1;
            }
        }
    }
    if stopped {
        bail!("stopped: run `era sweep` again to continue the stopped runs from their checkpoints");
    }
    Ok(failed)
}

fn join(cores: &[usize]) -> String {
    cores.iter().map(usize::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_get_equal_slices_and_share_cores_when_there_are_more_slots() {
        let c: Vec<usize> = (0..8).collect();
        assert_eq!(share(&c, 0, 2), [0, 1, 2, 3]);
        assert_eq!(share(&c, 1, 2), [4, 5, 6, 7]);
        // 8 cores in 3 slots: 3, 3, 2.
        assert_eq!(share(&c, 0, 3), [0, 1, 2]);
        assert_eq!(share(&c, 1, 3), [3, 4, 5]);
        assert_eq!(share(&c, 2, 3), [6, 7]);
        assert_eq!(share(&[2, 5], 3, 4), [5]);
        assert_eq!(share(&[2, 5], 0, 1), [2, 5]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pinning_restricts_the_cores_the_caller_and_what_it_execs_may_use() {
        // On a thread of its own, so that the test process keeps its cores.
        let all = cores();
        let first = all[0];
        let seen = std::thread::spawn(move || {
            pin_to(&first.to_string()).unwrap();
            cores()
        })
        .join()
        .unwrap();
        assert_eq!(seen, [first]);
        assert_eq!(cores(), all, "the other threads keep every core");
    }

    #[test]
    fn this_process_has_cores_and_bad_lists_are_refused() {
        assert!(!cores().is_empty());
        assert!(pin_to("0,x").unwrap_err().to_string().contains("--cpus \"0,x\""));
    }
}
