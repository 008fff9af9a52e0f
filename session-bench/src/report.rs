//! Output: one JSON line per row on stdout, and a markdown table with the ratios.

use serde_json::json;

use crate::adapter::Kind;

/// One measured row: the median round of (library, backend, workload, concurrency).
#[derive(Debug, Clone)]
pub struct Row {
    pub library: String,
    pub backend: String,
    pub kind: Kind,
    pub workload: &'static str,
    pub concurrency: usize,
    pub requests: u64,
    pub reads: u64,
    pub writes: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    pub rps: f64,
    pub rps_runs: Vec<f64>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub mean_us: f64,
    pub max_us: f64,
    pub first_error: Option<String>,
    /// Of a counter row: increments that succeeded but are missing from the final count.
    pub lost: Option<i64>,
}

impl Row {
    pub fn json(&self) -> String {
        let mut value = json!({
            "library": self.library, "backend": self.backend, "kind": self.kind.as_str(),
            "workload": self.workload, "concurrency": self.concurrency, "requests": self.requests,
            "reads": self.reads, "writes": self.writes, "errors": self.errors,
            "elapsed_s": self.elapsed_s, "rps": self.rps, "rps_runs": self.rps_runs,
            "p50_us": self.p50_us, "p99_us": self.p99_us, "p999_us": self.p999_us,
            "mean_us": self.mean_us, "max_us": self.max_us,
        });
        if let Some(lost) = self.lost {
            value["lost"] = json!(lost);
        }
        if let Some(error) = &self.first_error {
            value["first_error"] = json!(error);
        }
        value.to_string()
    }
}

fn ratio(ours: f64, other: Option<f64>) -> String {
    match other {
        Some(o) if o > 0.0 => format!("{:.2}x", ours / o),
        _ => "-".into(),
    }
}

/// The markdown table: each of our rows with ours/raw floor and ours/best peer on its backend.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| workload | c | library | backend | req/s | p50 µs | p99 µs | errors | vs raw floor | vs best peer | manager vs store, vs whole |\n\
         |---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        // Rows measured under the same conditions as this one.
        let beside = |r: &&Row| {
            r.backend == row.backend
                && r.workload == row.workload
                && r.concurrency == row.concurrency
        };
        let same = |kind: Kind| {
            rows.iter()
                .filter(beside)
                .filter(|r| r.kind == kind)
                .map(|r| r.rps)
                .fold(None, |best: Option<f64>, rps| {
                    Some(best.map_or(rps, |b| b.max(rps)))
                })
        };
        // The manager against the store path, and against the store making the manager's calls.
        let of_library = |library: &str| {
            rows.iter()
                .filter(beside)
                .find(|r| r.library == library)
                .map(|r| r.rps)
        };
        let manager = if row.library == "ours-manager" {
            format!(
                "{} / {}",
                ratio(row.rps, of_library("ours-store")),
                ratio(row.rps, of_library("ours-whole"))
            )
        } else {
            "-".into()
        };
        let (floor, peer) = if row.kind == Kind::Ours {
            (same(Kind::Baseline), same(Kind::Peer))
        } else {
            (None, None)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} | {} | {} | {} |\n",
            row.workload,
            row.concurrency,
            row.library,
            row.backend,
            row.rps,
            row.p50_us,
            row.p99_us,
            row.errors,
            ratio(row.rps, floor),
            ratio(row.rps, peer),
            manager,
        ));
    }
    out
}

/// The counter table: each row's rate, the increments that succeeded, and how many of them the
/// final count is missing.
pub fn counter_markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| library | backend | req/s | p50 µs | p99 µs | errors | lost increments |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {} |\n",
            row.library,
            row.backend,
            row.rps,
            row.p50_us,
            row.p99_us,
            row.errors,
            row.lost.map_or("-".into(), |l| l.to_string()),
        ));
    }
    out
}
