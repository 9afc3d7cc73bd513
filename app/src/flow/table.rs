//! The jobs table and the timeline as pure functions of the jobs (spec §D.3, §D.6), so the server's first
//! frame, the browser's live view and the tests all compute the same rows.

use super::graph::label_of;
use super::{Job, JobStatus};
use crate::time::Millis;

/// What the jobs table shows: the query string of `/provision/<id>/jobs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobsQuery {
    /// `pending`, `running`, `succeeded`, `failed`; empty for any.
    pub status: String,
    /// `infrastructure`, `cluster`, `components`; empty for any.
    pub batch: String,
    /// A region key; empty for any.
    pub region: String,
    /// Words to find in the name, app, batch, status or dependencies (case-insensitive).
    pub q: String,
    pub sort: SortBy,
    /// Descending (the default of each key's natural order otherwise).
    pub desc: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Running, pending, succeeded, failed; then latest start first; then by name.
    #[default]
    Status,
    Name,
    Started,
    Duration,
}

impl SortBy {
    pub const ALL: [SortBy; 4] = [SortBy::Status, SortBy::Name, SortBy::Started, SortBy::Duration];

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Status => "status",
            SortBy::Name => "name",
            SortBy::Started => "started",
            SortBy::Duration => "duration",
        }
    }

    /// Unknown words fall back to the default order.
    pub fn parse(s: &str) -> SortBy {
        SortBy::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or_default()
    }
}

/// §D.3 status priority: running first, failed last.
fn priority(s: JobStatus) -> u8 {
    match s {
        JobStatus::Running => 0,
        JobStatus::Pending => 1,
        JobStatus::Succeeded => 2,
        JobStatus::Failed => 3,
    }
}

fn matches(job: &Job, q: &JobsQuery) -> bool {
    if !q.status.is_empty() && job.status.as_str() != q.status {
        return false;
    }
    if !q.batch.is_empty() && job.batch_id != q.batch {
        return false;
    }
    if !q.region.is_empty() && job.region != q.region {
        return false;
    }
    let words = q.q.trim().to_lowercase();
    if words.is_empty() {
        return true;
    }
    let hay = format!(
        "{} {} {} {} {} {}",
        job.job_name,
        label_of(job),
        job.app_id,
        job.batch_id,
        job.status.as_str(),
        job.depends_on.join(" ")
    )
    .to_lowercase();
    words.split_whitespace().all(|w| hay.contains(w))
}

/// The rows of the jobs table: filtered, then sorted (ties always broken by name, so the order is total).
pub fn rows<'a>(jobs: &'a [Job], q: &JobsQuery) -> Vec<&'a Job> {
    let mut out: Vec<&Job> = jobs.iter().filter(|j| matches(j, q)).collect();
    let by_start = |a: &Job, b: &Job| match (a.started_at, b.started_at) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    out.sort_by(|a, b| {
        let primary = match q.sort {
            SortBy::Status => priority(a.status)
                .cmp(&priority(b.status))
                .then_with(|| by_start(a, b)),
            SortBy::Name => std::cmp::Ordering::Equal,
            SortBy::Started => by_start(a, b),
            SortBy::Duration => b.duration_ms.cmp(&a.duration_ms),
        };
        let primary = if q.desc { primary.reverse() } else { primary };
        let name = a.job_name.cmp(&b.job_name);
        if q.sort == SortBy::Name && q.desc {
            name.reverse()
        } else {
            primary.then(name)
        }
    });
    out
}

/// The regions the jobs run in (sorted, without the primary's empty key).
pub fn regions(jobs: &[Job]) -> Vec<String> {
    let mut r: Vec<String> = jobs
        .iter()
        .filter(|j| !j.region.is_empty())
        .map(|j| j.region.clone())
        .collect();
    r.sort();
    r.dedup();
    r
}

/// Characters of a job's name the timeline's label column shows.
pub const LABEL_CHARS: usize = 21;

/// A job's name cut to [`LABEL_CHARS`] in the middle, so both the kind (`hcloud_server…`) and the part that
/// tells similar names apart (`…["fsn1-cp1"]`) stay.
pub fn fit_label(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= LABEL_CHARS {
        return label.to_string();
    }
    let tail = LABEL_CHARS * 3 / 5;
    let head = LABEL_CHARS - tail - 1;
    let mut s: String = chars[..head].iter().collect();
    s.push('…');
    s.extend(&chars[chars.len() - tail..]);
    s
}

/// Tick steps of the timeline, in ms (§D.6), then whole hours.
const TICKS: [i64; 7] = [1_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000];
/// At most this many ticks across the chart.
pub const MAX_TICKS: i64 = 10;

/// The smallest "nice" step that keeps the ticks at [`MAX_TICKS`] or fewer over `span` ms.
pub fn tick_step(span: Millis) -> Millis {
    let span = span.max(1);
    TICKS
        .into_iter()
        .find(|t| span / t <= MAX_TICKS)
        .unwrap_or_else(|| {
            let hours = (span / 3_600_000 / MAX_TICKS) + 1;
            hours * 3_600_000
        })
}

/// One row of the timeline: a started job's bar (offsets from the run's first start), or a pending job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub job: String,
    pub label: String,
    pub status: JobStatus,
    /// From the first start of the run; `None` for a job that has not started (drawn at the right edge).
    pub from: Option<Millis>,
    pub to: Millis,
    pub duration_ms: Millis,
}

/// The timeline: one row per job, started jobs by start time (then name), pending ones after them by name;
/// `span` is the time from the first start to the last end (at least a second).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub bars: Vec<Bar>,
    pub start: Option<Millis>,
    pub span: Millis,
    pub step: Millis,
}

/// A started job's end: when it finished, or how far it has got.
fn end_of(j: &Job, start: Millis) -> Millis {
    j.finished_at.unwrap_or(start + j.duration_ms.max(0)).max(start)
}

pub fn timeline(jobs: &[Job]) -> Timeline {
    let start = jobs.iter().filter_map(|j| j.started_at).min();
    let mut started: Vec<&Job> = jobs.iter().filter(|j| j.started_at.is_some()).collect();
    started.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.job_name.cmp(&b.job_name))
    });
    let mut pending: Vec<&Job> = jobs.iter().filter(|j| j.started_at.is_none()).collect();
    pending.sort_by(|a, b| a.job_name.cmp(&b.job_name));
    let t0 = start.unwrap_or(0);
    let mut last = t0;
    let mut bars = Vec::with_capacity(jobs.len());
    for j in started {
        let s = j.started_at.unwrap_or(t0);
        let e = end_of(j, s);
        last = last.max(e);
        bars.push(Bar {
            job: j.job_name.clone(),
            label: label_of(j),
            status: j.status,
            from: Some(s - t0),
            to: e - t0,
            duration_ms: if j.status == JobStatus::Pending { 0 } else { e - s },
        });
    }
    let span = (last - t0).max(1_000);
    for j in pending {
        bars.push(Bar {
            job: j.job_name.clone(),
            label: label_of(j),
            status: j.status,
            from: None,
            to: span,
            duration_ms: 0,
        });
    }
    Timeline {
        bars,
        start,
        span,
        step: tick_step(span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::JobKind;

    fn job(name: &str, status: JobStatus, started: Option<Millis>, duration: Millis) -> Job {
        let kind = if name.starts_with("tofu:") {
            JobKind::Resource
        } else {
            JobKind::Release
        };
        Job {
            job_name: name.into(),
            kind,
            app_id: name.trim_start_matches("install-").into(),
            batch_id: kind.batch().into(),
            region: String::new(),
            depends_on: Vec::new(),
            status,
            started_at: started,
            finished_at: (status.is_terminal()).then(|| started.unwrap_or(0) + duration),
            duration_ms: duration,
            latest_execution_id: None,
            reason: None,
            expected_ms: None,
        }
    }

    fn names(rows: &[&Job]) -> Vec<String> {
        rows.iter().map(|j| j.job_name.clone()).collect()
    }

    #[test]
    fn the_default_order_is_status_priority_then_latest_start_then_name() {
        let jobs = vec![
            job("install-a", JobStatus::Failed, Some(10), 5),
            job("install-b", JobStatus::Succeeded, Some(20), 5),
            job("install-c", JobStatus::Pending, None, 0),
            job("install-d", JobStatus::Running, Some(30), 5),
            job("install-e", JobStatus::Running, Some(40), 5),
            job("install-f", JobStatus::Pending, None, 0),
        ];
        let r = rows(&jobs, &JobsQuery::default());
        assert_eq!(
            names(&r),
            [
                "install-e",
                "install-d",
                "install-c",
                "install-f",
                "install-b",
                "install-a"
            ]
        );
    }

    #[test]
    fn filters_and_words_narrow_the_rows() {
        let mut jobs = vec![
            job("tofu:hcloud_network.main", JobStatus::Succeeded, Some(1), 5),
            job("install-cilium", JobStatus::Running, Some(2), 5),
            job("install-cert-manager", JobStatus::Pending, None, 0),
        ];
        jobs[2].depends_on = vec!["install-cilium".into()];
        let q = |status: &str, batch: &str, words: &str| JobsQuery {
            status: status.into(),
            batch: batch.into(),
            q: words.into(),
            ..JobsQuery::default()
        };
        assert_eq!(names(&rows(&jobs, &q("running", "", ""))), ["install-cilium"]);
        assert_eq!(
            names(&rows(&jobs, &q("", "infrastructure", ""))),
            ["tofu:hcloud_network.main"]
        );
        // A dependency's name finds the job that waits for it; every word must match.
        assert_eq!(
            names(&rows(&jobs, &q("", "", "CILIUM pending"))),
            ["install-cert-manager"]
        );
        assert!(rows(&jobs, &q("failed", "", "")).is_empty());
    }

    #[test]
    fn each_sort_key_both_ways() {
        let jobs = vec![
            job("install-b", JobStatus::Succeeded, Some(10), 300),
            job("install-a", JobStatus::Succeeded, Some(20), 100),
            job("install-c", JobStatus::Succeeded, Some(30), 200),
        ];
        let q = |sort, desc| JobsQuery {
            sort,
            desc,
            ..JobsQuery::default()
        };
        assert_eq!(
            names(&rows(&jobs, &q(SortBy::Name, false))),
            ["install-a", "install-b", "install-c"]
        );
        assert_eq!(
            names(&rows(&jobs, &q(SortBy::Name, true))),
            ["install-c", "install-b", "install-a"]
        );
        assert_eq!(
            names(&rows(&jobs, &q(SortBy::Started, false))),
            ["install-c", "install-a", "install-b"]
        );
        assert_eq!(
            names(&rows(&jobs, &q(SortBy::Duration, false))),
            ["install-b", "install-c", "install-a"]
        );
        assert_eq!(
            names(&rows(&jobs, &q(SortBy::Duration, true))),
            ["install-a", "install-c", "install-b"]
        );
        assert_eq!(SortBy::parse("nonsense"), SortBy::Status);
    }

    #[test]
    fn long_names_are_cut_in_the_middle_to_the_label_column() {
        assert_eq!(fit_label("cilium"), "cilium");
        let cut = fit_label("hcloud_server.control_plane[\"fsn1-cp1\"]");
        assert_eq!(cut, "hcloud_s…[\"fsn1-cp1\"]");
        assert_eq!(cut.chars().count(), LABEL_CHARS);
    }

    #[test]
    fn ticks_are_nice_steps_with_at_most_ten_across() {
        assert_eq!(tick_step(0), 1_000);
        assert_eq!(tick_step(9_000), 1_000);
        assert_eq!(tick_step(11_000), 10_000);
        assert_eq!(tick_step(250_000), 30_000);
        assert_eq!(tick_step(20 * 60_000), 300_000);
        assert_eq!(tick_step(2 * 3_600_000), 900_000);
        assert_eq!(tick_step(9 * 3_600_000), 3_600_000);
        assert_eq!(tick_step(30 * 3_600_000), 4 * 3_600_000);
        for span in [1, 999, 5_000, 61_000, 3_599_999, 36_000_001, 500_000_000] {
            assert!(span / tick_step(span) <= MAX_TICKS, "{span}");
        }
    }

    #[test]
    fn the_timeline_starts_at_the_first_start_and_puts_pending_jobs_last() {
        let jobs = vec![
            job("install-late", JobStatus::Running, Some(5_000), 2_000),
            job("install-first", JobStatus::Succeeded, Some(1_000), 3_000),
            job("install-waits", JobStatus::Pending, None, 0),
        ];
        let t = timeline(&jobs);
        assert_eq!(t.start, Some(1_000));
        assert_eq!(t.span, 6_000);
        let rows: Vec<(&str, Option<Millis>, Millis, Millis)> = t
            .bars
            .iter()
            .map(|b| (b.job.as_str(), b.from, b.to, b.duration_ms))
            .collect();
        assert_eq!(
            rows,
            [
                ("install-first", Some(0), 3_000, 3_000),
                ("install-late", Some(4_000), 6_000, 2_000),
                ("install-waits", None, 6_000, 0),
            ]
        );
        // Nothing started: every job waits at the right edge of a one-second chart.
        let t = timeline(&[job("install-x", JobStatus::Pending, None, 0)]);
        assert_eq!((t.start, t.span, t.bars[0].from), (None, 1_000, None));
    }
}
