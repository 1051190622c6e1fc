//! What a load run measured: per-delivery latency, whether every event reached every
//! watcher, the rate during the burst and the server's memory, as one report.

use std::collections::HashMap;

use serde::Serialize;

/// One event frame a watcher received: the event's seq and ledger time, and when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub seq: i64,
    /// The event's ledger `at`, Unix milliseconds (server clock).
    pub at_ms: i64,
    /// When the watcher read the frame, Unix microseconds (same machine's clock).
    pub recv_us: i64,
    /// The frame's length in bytes.
    pub bytes: usize,
}

impl Delivery {
    pub fn latency_us(&self) -> i64 {
        self.recv_us - self.at_ms * 1000
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Nearest-rank percentile of sorted values; 0 for none.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Latency {
    pub fn of(mut us: Vec<i64>) -> Latency {
        us.sort_unstable();
        let ms = |v: i64| v as f64 / 1000.0;
        let mean = if us.is_empty() {
            0.0
        } else {
            us.iter().map(|&v| v as f64).sum::<f64>() / us.len() as f64 / 1000.0
        };
        Latency {
            p50_ms: ms(percentile(&us, 50.0)),
            p90_ms: ms(percentile(&us, 90.0)),
            p99_ms: ms(percentile(&us, 99.0)),
            max_ms: ms(us.last().copied().unwrap_or(0)),
            mean_ms: mean,
        }
    }
}

/// Server memory as read from `/proc/<pid>/status` (VmRSS), KiB.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Memory {
    pub rss_before_kib: Option<u64>,
    pub rss_connected_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    /// (connected − before) / connections.
    pub kib_per_connection: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub drive: String,
    /// The event kind measured (`bid_read_out`, `tender_amended`, ...).
    pub kind: String,
    pub watchers: usize,
    pub connected: usize,
    pub failed: usize,
    /// Why connections failed, with counts.
    pub failures: HashMap<String, usize>,
    pub connect_secs: f64,
    /// The seqs of the measured events.
    pub events: Vec<i64>,
    pub expected_deliveries: u64,
    pub deliveries: u64,
    pub missing: u64,
    pub duplicates: u64,
    /// Watchers cut from live fan-out that subscribed again from the ledger.
    pub resyncs: u64,
    /// Watchers whose connection ended before the run did.
    pub dropped: u64,
    /// Presence frames the watchers received while connected (all of them, summed).
    pub presence_frames: u64,
    /// Per measured event: when its last watcher got it, ms after its `at`.
    pub event_last_ms: Vec<f64>,
    pub all_delivered: bool,
    pub latency: Latency,
    /// From the first measured event's `at` to the last delivery.
    pub burst_ms: f64,
    pub deliveries_per_sec: f64,
    /// Mean size of a measured event frame.
    pub frame_bytes: usize,
    pub memory: Memory,
}

impl Report {
    /// Fills the delivery figures from each connected watcher's log, given the seqs of
    /// the measured events.
    pub fn account(&mut self, events: &[i64], logs: &[Vec<Delivery>]) {
        self.events = events.to_vec();
        self.expected_deliveries = (events.len() * logs.len()) as u64;
        let mut latencies = Vec::new();
        let mut last_of: HashMap<i64, i64> = HashMap::new();
        let (mut first_at, mut last_recv, mut bytes) = (i64::MAX, i64::MIN, 0usize);
        let (mut missing, mut duplicates) = (0u64, 0u64);
        for log in logs {
            let mut seen: HashMap<i64, u32> = events.iter().map(|&s| (s, 0)).collect();
            for d in log {
                let Some(n) = seen.get_mut(&d.seq) else {
                    continue;
                };
                *n += 1;
                if *n > 1 {
                    duplicates += 1;
                    continue;
                }
                latencies.push(d.latency_us());
                let l = last_of.entry(d.seq).or_insert(i64::MIN);
                *l = (*l).max(d.latency_us());
                first_at = first_at.min(d.at_ms * 1000);
                last_recv = last_recv.max(d.recv_us);
                bytes += d.bytes;
            }
            missing += seen.values().filter(|&&n| n == 0).count() as u64;
        }
        self.event_last_ms = events
            .iter()
            .map(|s| last_of.get(s).map_or(0.0, |&us| us as f64 / 1000.0))
            .collect();
        self.deliveries = latencies.len() as u64;
        self.missing = missing;
        self.duplicates = duplicates;
        self.all_delivered = missing == 0 && duplicates == 0 && !events.is_empty();
        if !latencies.is_empty() {
            self.frame_bytes = bytes / latencies.len();
            let span_us = (last_recv - first_at).max(1);
            self.burst_ms = span_us as f64 / 1000.0;
            self.deliveries_per_sec = latencies.len() as f64 / (span_us as f64 / 1e6);
        }
        self.latency = Latency::of(latencies);
    }

    /// A few lines for a person.
    pub fn text(&self) -> String {
        let mib =
            |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        let mut out = format!(
            "drive {}: {} watchers requested, {} connected, {} failed ({:.1} s)\n",
            self.drive, self.watchers, self.connected, self.failed, self.connect_secs
        );
        for (why, n) in &self.failures {
            out += &format!("  failed: {n} × {why}\n");
        }
        out += &format!(
            "events: {} × {} (seqs {:?}); frame {} bytes\n",
            self.events.len(),
            self.kind,
            self.events,
            self.frame_bytes
        );
        out += &format!(
            "deliveries: {} of {} expected; missing {}, duplicates {}, resyncs {}, dropped {}: {}\n",
            self.deliveries,
            self.expected_deliveries,
            self.missing,
            self.duplicates,
            self.resyncs,
            self.dropped,
            if self.all_delivered {
                "every event reached every watcher"
            } else {
                "NOT every event reached every watcher"
            }
        );
        let l = &self.latency;
        out += &format!(
            "latency (receive − ledger at): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms, mean {:.1} ms\n",
            l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.mean_ms
        );
        out += &format!(
            "burst: {:.0} ms, {:.0} deliveries/s; each event's last delivery (ms after its at): {:?}\n",
            self.burst_ms, self.deliveries_per_sec, self.event_last_ms
        );
        out += &format!("presence frames received: {}\n", self.presence_frames);
        let m = &self.memory;
        out += &format!(
            "server RSS: before {}, connected {}, after {}; per connection {}\n",
            mib(m.rss_before_kib),
            mib(m.rss_connected_kib),
            mib(m.rss_after_kib),
            m.kib_per_connection
                .map_or("?".into(), |k| format!("{k:.1} KiB"))
        );
        out
    }
}

/// VmRSS of a process in KiB, from `/proc/<pid>/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(seq: i64, at_ms: i64, recv_us: i64) -> Delivery {
        Delivery {
            seq,
            at_ms,
            recv_us,
            bytes: 100,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn accounting_counts_missing_and_duplicate_deliveries() {
        let events = [5, 6];
        let logs = vec![
            vec![d(4, 0, 0), d(5, 1_000, 1_002_000), d(6, 1_001, 1_011_000)],
            // A duplicate of 5, and 6 never came.
            vec![d(5, 1_000, 1_004_000), d(5, 1_000, 1_005_000)],
        ];
        let mut r = Report::default();
        r.account(&events, &logs);
        assert_eq!(r.expected_deliveries, 4);
        assert_eq!((r.deliveries, r.missing, r.duplicates), (3, 1, 1));
        assert!(!r.all_delivered);
        assert_eq!(r.latency.max_ms, 10.0);
        assert_eq!(r.latency.p50_ms, 4.0);
        // From the first event's `at` (1,000 ms) to the last receipt (1,011 ms).
        assert_eq!(r.burst_ms, 11.0);

        let mut ok = Report::default();
        ok.account(&events, &logs[..1]);
        assert!(ok.all_delivered);
    }

    #[test]
    fn reads_vm_rss() {
        let s = "Name:\tkaibiao\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nThreads: 3\n";
        assert_eq!(parse_vm_rss(s), Some(12345));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }
}
