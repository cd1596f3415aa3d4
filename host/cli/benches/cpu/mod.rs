//! CPU time of each process group of the distributed benchmark (the API,
//! the workers, PostgreSQL, RabbitMQ, Redis, the load generator), read from
//! `/proc/PID/stat` before and after a phase: what one step costs each
//! component, the input of the scaling model in `docs/DISTRIBUTED.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::path::Path;

/// A named group of processes: roots and (unless `own_only`) all their
/// descendants.
pub struct Group {
    pub name: &'static str,
    pub roots: Vec<u32>,
    /// Only the roots themselves (the bench process: the servers it starts
    /// are its children and are counted in their own groups).
    pub own_only: bool,
}

/// CPU seconds per group at one moment.
pub type Sample = Vec<f64>;

fn ticks_per_second() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok());
    out.unwrap_or(100.0)
}

/// (ppid, own utime+stime, waited-for children's cutime+cstime) in ticks.
fn stat(pid: u32) -> Option<(u32, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // Fields after the name, from 0: state, ppid (1), ..., utime (11),
    // stime (12), cutime (13), cstime (14).
    Some((n(1) as u32, n(11) + n(12), n(13) + n(14)))
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// CPU seconds of each group now: its processes' own time plus what their
/// exited, reaped children used (PostgreSQL's backends come and go).
pub fn sample(groups: &[Group]) -> Sample {
    let hz = ticks_per_second();
    let stats: HashMap<u32, (u32, u64, u64)> = all_pids()
        .into_iter()
        .filter_map(|p| Some((p, stat(p)?)))
        .collect();
    groups
        .iter()
        .map(|g| {
            let mut total = 0u64;
            for (pid, (_, own, reaped)) in &stats {
                let counted = if g.own_only {
                    g.roots.contains(pid)
                } else {
                    descends(*pid, &g.roots, &stats)
                };
                if counted {
                    total += own + reaped;
                }
            }
            total as f64 / hz
        })
        .collect()
}

fn descends(mut pid: u32, roots: &[u32], stats: &HashMap<u32, (u32, u64, u64)>) -> bool {
    for _ in 0..64 {
        if roots.contains(&pid) {
            return true;
        }
        match stats.get(&pid) {
            Some((ppid, _, _)) if *ppid > 1 => pid = *ppid,
            _ => return false,
        }
    }
    false
}

/// The pid of the process whose command line contains every one of `parts`.
pub fn find(parts: &[&str]) -> Option<u32> {
    all_pids().into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                let cmd = String::from_utf8_lossy(&b).replace('\0', " ");
                parts.iter().all(|p| cmd.contains(p))
            })
            .unwrap_or(false)
    })
}

/// PostgreSQL's postmaster, from the data directory's `postmaster.pid`.
pub fn postmaster(services_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(services_dir.join("pg/data/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}
