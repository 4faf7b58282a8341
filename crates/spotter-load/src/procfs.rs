//! What `/proc` tells about a process (RSS, CPU time, threads, open files) and the kernel's
//! sockets (`/proc/net/sockstat`), and finding the process that listens on a port.

use std::path::Path;

use serde::Serialize;

/// One look at a process.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcSample {
    pub pid: u32,
    /// Resident set size, bytes (`VmRSS`).
    pub rss_bytes: u64,
    /// Peak resident set size, bytes (`VmHWM`).
    pub rss_peak_bytes: u64,
    pub threads: u64,
    /// User + system CPU time, seconds (`utime + stime` of `/proc/<pid>/stat`).
    pub cpu_seconds: f64,
    pub user_seconds: f64,
    pub system_seconds: f64,
    pub open_files: u64,
    /// The soft open-files limit (`Max open files`).
    pub max_open_files: Option<u64>,
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// Reads `/proc/<pid>` (`self` for this process); `None` if the process is gone.
pub fn sample(pid: Option<u32>) -> Option<ProcSample> {
    let dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_owned(),
    };
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let limits = std::fs::read_to_string(format!("{dir}/limits")).unwrap_or_default();
    let mut s = parse_status(&status);
    let (user, system) = parse_stat_times(&stat)?;
    let tick = clock_ticks();
    s.user_seconds = user as f64 / tick;
    s.system_seconds = system as f64 / tick;
    s.cpu_seconds = s.user_seconds + s.system_seconds;
    s.open_files = std::fs::read_dir(format!("{dir}/fd")).map_or(0, |d| d.count() as u64);
    s.max_open_files = parse_max_open_files(&limits);
    s.pid = pid.unwrap_or_else(std::process::id);
    Some(s)
}

fn kb_field(line: &str) -> Option<u64> {
    line.split_whitespace().nth(1)?.parse::<u64>().ok()
}

fn parse_status(status: &str) -> ProcSample {
    let mut s = ProcSample::default();
    for line in status.lines() {
        if line.starts_with("VmRSS:") {
            s.rss_bytes = kb_field(line).unwrap_or(0) * 1024;
        } else if line.starts_with("VmHWM:") {
            s.rss_peak_bytes = kb_field(line).unwrap_or(0) * 1024;
        } else if line.starts_with("Threads:") {
            s.threads = kb_field(line).unwrap_or(0);
        }
    }
    s
}

/// `utime` and `stime` in clock ticks: fields 14 and 15, counted after the `(comm)` field,
/// which may itself hold spaces and parentheses.
fn parse_stat_times(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let utime = fields.get(11)?.parse().ok()?;
    let stime = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// A process over a measured interval: samples before and after, and what changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Usage {
    pub before: Option<ProcSample>,
    pub after: Option<ProcSample>,
    /// CPU seconds (user + system) spent in the interval.
    pub cpu_seconds: f64,
    /// `cpu_seconds` / wall seconds: 1.0 is one core fully busy.
    pub cores_busy: f64,
    pub rss_delta_bytes: i64,
    pub wall_seconds: f64,
}

impl Usage {
    pub fn between(before: Option<ProcSample>, after: Option<ProcSample>, wall: f64) -> Self {
        let (cpu, rss) = match (&before, &after) {
            (Some(b), Some(a)) => (
                a.cpu_seconds - b.cpu_seconds,
                a.rss_bytes as i64 - b.rss_bytes as i64,
            ),
            _ => (0.0, 0),
        };
        Self {
            before,
            after,
            cpu_seconds: cpu,
            cores_busy: if wall > 0.0 { cpu / wall } else { 0.0 },
            rss_delta_bytes: rss,
            wall_seconds: wall,
        }
    }
}

/// The whole machine at one moment: CPU time by kind (`/proc/stat`), load average, and the CPU
/// time of every PostgreSQL process (the database's share of the work).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineSample {
    pub busy_seconds: f64,
    pub iowait_seconds: f64,
    pub loadavg_1m: f64,
    pub postgres_cpu_seconds: f64,
}

pub fn machine() -> MachineSample {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let tick = clock_ticks();
    let (busy, iowait) = parse_proc_stat(&stat);
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    MachineSample {
        busy_seconds: busy as f64 / tick,
        iowait_seconds: iowait as f64 / tick,
        loadavg_1m: loadavg,
        postgres_cpu_seconds: cpu_of_command("postgres"),
    }
}

/// Busy and iowait ticks of the `cpu` line (busy: all but idle and iowait).
fn parse_proc_stat(stat: &str) -> (u64, u64) {
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|w| w.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest times are inside user).
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    (busy, get(4))
}

/// CPU seconds (user + system) of every process whose command name is `comm`.
pub fn cpu_of_command(comm: &str) -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks = 0u64;
    for entry in dir.flatten() {
        if entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
            .is_none()
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let name = stat
            .find('(')
            .zip(stat.rfind(')'))
            .map(|(a, b)| &stat[a + 1..b]);
        if name == Some(comm)
            && let Some((u, s)) = parse_stat_times(&stat)
        {
            ticks += u + s;
        }
    }
    ticks as f64 / clock_ticks()
}

/// The machine over a measured interval.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachineUsage {
    /// Busy CPU seconds / wall seconds, all processes: 2.0 is both cores of this machine.
    pub cores_busy: f64,
    pub iowait_cores: f64,
    pub loadavg_before: f64,
    pub loadavg_after: f64,
    /// CPU seconds of all `postgres` processes in the interval (0 without PostgreSQL).
    pub postgres_cpu_seconds: f64,
}

impl MachineUsage {
    pub fn between(b: &MachineSample, a: &MachineSample, wall: f64) -> Self {
        let per = |x: f64| if wall > 0.0 { x / wall } else { 0.0 };
        Self {
            cores_busy: per(a.busy_seconds - b.busy_seconds),
            iowait_cores: per(a.iowait_seconds - b.iowait_seconds),
            loadavg_before: b.loadavg_1m,
            loadavg_after: a.loadavg_1m,
            postgres_cpu_seconds: a.postgres_cpu_seconds - b.postgres_cpu_seconds,
        }
    }
}

/// One measured phase: the server's usage and the machine's between [`Window::start`] and
/// [`Window::finish`], over the same wall time.
pub struct Window {
    pid: Option<u32>,
    server: Option<ProcSample>,
    machine: MachineSample,
    started: std::time::Instant,
}

impl Window {
    pub fn start(pid: Option<u32>) -> Self {
        Self {
            pid,
            server: sample(pid),
            machine: machine(),
            started: std::time::Instant::now(),
        }
    }

    pub fn finish(self) -> (Usage, MachineUsage) {
        let server = sample(self.pid);
        let wall = self.started.elapsed().as_secs_f64();
        (
            Usage::between(self.server, server, wall),
            MachineUsage::between(&self.machine, &machine(), wall),
        )
    }
}

/// The kernel's TCP socket counters (`/proc/net/sockstat`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SockStat {
    pub tcp_inuse: u64,
    pub tcp_alloc: u64,
    pub tcp_time_wait: u64,
    /// Memory of TCP buffers, bytes (`mem` pages × page size).
    pub tcp_mem_bytes: u64,
    /// All sockets in use (`sockets: used`).
    pub sockets_used: u64,
}

pub fn sockstat() -> SockStat {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    parse_sockstat(&text, page_size())
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a system constant.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

fn parse_sockstat(text: &str, page: u64) -> SockStat {
    let mut s = SockStat::default();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let get = |key: &str| {
            words
                .iter()
                .position(|w| *w == key)
                .and_then(|i| words.get(i + 1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        match words.first() {
            Some(&"sockets:") => s.sockets_used = get("used"),
            Some(&"TCP:") => {
                s.tcp_inuse = get("inuse");
                s.tcp_alloc = get("alloc");
                s.tcp_time_wait = get("tw");
                s.tcp_mem_bytes = get("mem") * page;
            }
            _ => {}
        }
    }
    s
}

/// The size of the ephemeral port range (`ip_local_port_range`): how many connections one
/// source address can open to one server address.
pub fn ephemeral_ports() -> u64 {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok());
    match (it.next(), it.next()) {
        (Some(lo), Some(hi)) if hi > lo => hi - lo + 1,
        _ => 28_232,
    }
}

/// The process listening on TCP `port` (IPv4 or IPv6), found through the socket's inode.
pub fn find_listener(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        inodes.extend(listening_inodes(&text, port));
    }
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && wanted.iter().any(|w| Path::new(w) == target)
            {
                return Some(pid);
            }
        }
    }
    None
}

fn listening_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = f.get(1)?;
            let state = f.get(3)?;
            let p = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
            (p == port && *state == "0A").then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_skip_a_comm_with_spaces() {
        let stat = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_stat_times(stat), Some((250, 37)));
    }

    #[test]
    fn status_fields_are_read_in_bytes() {
        let s = parse_status("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t7\n");
        assert_eq!(s.rss_bytes, 1024 * 1024);
        assert_eq!(s.rss_peak_bytes, 2048 * 1024);
        assert_eq!(s.threads, 7);
    }

    #[test]
    fn sockstat_is_parsed() {
        let s = parse_sockstat(
            "sockets: used 31\nTCP: inuse 12 orphan 0 tw 6 alloc 15 mem 73\nUDP: inuse 0 mem 0\n",
            4096,
        );
        assert_eq!(
            (s.sockets_used, s.tcp_inuse, s.tcp_alloc, s.tcp_time_wait),
            (31, 12, 15, 6)
        );
        assert_eq!(s.tcp_mem_bytes, 73 * 4096);
    }

    #[test]
    fn a_listening_socket_is_found_by_port() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8195 1 0 100 0 0 10 0\n   1: 0100007F:1F40 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 9999 1 0 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table, 8000), vec![8195]);
        assert!(listening_inodes(table, 8001).is_empty());
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(None).unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.threads >= 1);
    }

    #[test]
    fn proc_stat_busy_excludes_idle_and_iowait() {
        let (busy, iowait) = parse_proc_stat("cpu  100 5 20 1000 7 1 2 3 0 0\ncpu0 1 2 3\n");
        assert_eq!((busy, iowait), (100 + 5 + 20 + 1 + 2 + 3, 7));
    }

    #[test]
    fn limits_line_is_parsed() {
        let l = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n";
        assert_eq!(parse_max_open_files(l), Some(20000));
    }
}
