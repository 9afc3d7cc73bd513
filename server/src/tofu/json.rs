//! OpenTofu's machine-readable UI (`plan -json`, `apply -json`, `destroy -json`): one JSON object per
//! line, `ui` version 1.x. Each line becomes one deployment event; lines about a resource also update its
//! [`ResourceProgress`] (address, action, state, elapsed) for the deployment page and the flow canvas.
//! Unknown message types and fields are ignored, as the format's compatibility promise asks.

use app::deployments::{Level, ResourceAction, ResourceProgress, ResourceState};
use serde::Deserialize;

/// What one `-json` line means to the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct UiLine {
    pub level: Level,
    /// `@message`: OpenTofu's own sentence for people.
    pub message: String,
    /// The `type` field (`apply_start`, `diagnostic`, …).
    pub kind: String,
    pub resource: Option<ResourceUpdate>,
    /// For `diagnostic` errors: summary and detail, used as the failure message.
    pub error: Option<String>,
    /// For `diagnostic` errors about one resource: its address (`hcloud_server.worker["fsn1-w1"]`).
    pub error_address: Option<String>,
    /// For `change_summary`: (add, change, remove).
    pub summary: Option<(i64, i64, i64)>,
}

/// A change to one resource's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceUpdate {
    pub address: String,
    pub resource_type: String,
    pub action: ResourceAction,
    pub state: ResourceState,
    pub elapsed_secs: i64,
    pub cloud_id: Option<String>,
}

impl ResourceUpdate {
    pub fn into_progress(self, now: i64) -> ResourceProgress {
        ResourceProgress {
            address: self.address,
            resource_type: self.resource_type,
            action: self.action,
            state: self.state,
            elapsed_secs: self.elapsed_secs,
            cloud_id: self.cloud_id,
            updated_at: now,
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "@level", default)]
    level: String,
    #[serde(rename = "@message", default)]
    message: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    hook: Option<Hook>,
    #[serde(default)]
    change: Option<Change>,
    #[serde(default)]
    diagnostic: Option<Diagnostic>,
    #[serde(default)]
    changes: Option<Changes>,
}

#[derive(Deserialize)]
struct Hook {
    resource: Addr,
    #[serde(default)]
    action: String,
    #[serde(default)]
    id_value: Option<String>,
    #[serde(default)]
    elapsed_seconds: Option<f64>,
}

#[derive(Deserialize)]
struct Change {
    resource: Addr,
    #[serde(default)]
    action: String,
}

#[derive(Deserialize)]
struct Addr {
    addr: String,
    #[serde(default)]
    resource_type: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    address: String,
}

#[derive(Deserialize)]
struct Changes {
    #[serde(default)]
    add: i64,
    #[serde(default)]
    change: i64,
    #[serde(default)]
    remove: i64,
}

fn action(s: &str) -> ResourceAction {
    match s {
        "create" => ResourceAction::Create,
        "read" => ResourceAction::Read,
        "update" => ResourceAction::Update,
        "replace" | "create-then-delete" | "delete-then-create" => ResourceAction::Replace,
        "delete" | "remove" | "forget" => ResourceAction::Delete,
        _ => ResourceAction::Noop,
    }
}

fn level(s: &str) -> Level {
    match s {
        "error" => Level::Error,
        "warn" => Level::Warn,
        "debug" | "trace" => Level::Debug,
        _ => Level::Info,
    }
}

/// Parses one line; `None` if it is not a machine-readable UI message (plain text from a provider, a
/// wrapper script, or `init`).
pub fn parse_line(line: &str) -> Option<UiLine> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let raw: Raw = serde_json::from_str(trimmed).ok()?;
    if raw.kind.is_empty() && raw.message.is_empty() {
        return None;
    }
    let mut out = UiLine {
        level: level(&raw.level),
        message: raw.message,
        kind: raw.kind,
        resource: None,
        error: None,
        error_address: None,
        summary: None,
    };
    let state = match out.kind.as_str() {
        "apply_start" | "apply_progress" => Some(ResourceState::Applying),
        "apply_complete" => Some(ResourceState::Complete),
        "apply_errored" => Some(ResourceState::Errored),
        _ => None,
    };
    if let (Some(state), Some(hook)) = (state, raw.hook) {
        out.resource = Some(ResourceUpdate {
            address: hook.resource.addr,
            resource_type: hook.resource.resource_type,
            action: action(&hook.action),
            state,
            elapsed_secs: hook.elapsed_seconds.unwrap_or(0.0).round() as i64,
            cloud_id: if state == ResourceState::Complete {
                hook.id_value.filter(|v| !v.is_empty())
            } else {
                None
            },
        });
    } else if out.kind == "planned_change"
        && let Some(change) = raw.change
    {
        out.resource = Some(ResourceUpdate {
            address: change.resource.addr,
            resource_type: change.resource.resource_type,
            action: action(&change.action),
            state: ResourceState::Planned,
            elapsed_secs: 0,
            cloud_id: None,
        });
    }
    if let Some(d) = raw.diagnostic
        && d.severity == "error"
    {
        out.level = Level::Error;
        out.error_address = Some(d.address.clone()).filter(|a| !a.is_empty());
        out.error = Some(if d.detail.trim().is_empty() {
            d.summary
        } else {
            format!("{}: {}", d.summary, d.detail.trim())
        });
    }
    if let Some(c) = raw.changes {
        out.summary = Some((c.add, c.change, c.remove));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as OpenTofu 1.8 prints them for the Hetzner module.
    const PLANNED: &str = r#"{"@level":"info","@message":"hcloud_network.main: Plan to create","@module":"tofu.ui","@timestamp":"2026-11-24T09:00:01.000000Z","change":{"resource":{"addr":"hcloud_network.main","module":"","resource":"hcloud_network.main","implied_provider":"hcloud","resource_type":"hcloud_network","resource_name":"main","resource_key":null},"action":"create"},"type":"planned_change"}"#;
    const START: &str = r#"{"@level":"info","@message":"hcloud_server.control_plane[0]: Creating...","@module":"tofu.ui","@timestamp":"2026-11-24T09:00:05.000000Z","hook":{"resource":{"addr":"hcloud_server.control_plane[0]","module":"","resource":"hcloud_server.control_plane[0]","implied_provider":"hcloud","resource_type":"hcloud_server","resource_name":"control_plane","resource_key":0},"action":"create"},"type":"apply_start"}"#;
    const PROGRESS: &str = r#"{"@level":"info","@message":"hcloud_server.control_plane[0]: Still creating... [10s elapsed]","@module":"tofu.ui","hook":{"resource":{"addr":"hcloud_server.control_plane[0]","resource_type":"hcloud_server"},"action":"create","elapsed_seconds":10},"type":"apply_progress"}"#;
    const COMPLETE: &str = r#"{"@level":"info","@message":"hcloud_server.control_plane[0]: Creation complete after 32s [id=51234567]","@module":"tofu.ui","hook":{"resource":{"addr":"hcloud_server.control_plane[0]","resource_type":"hcloud_server"},"action":"create","id_key":"id","id_value":"51234567","elapsed_seconds":32},"type":"apply_complete"}"#;
    const ERRORED: &str = r#"{"@level":"info","@message":"hcloud_load_balancer.main: Creation errored after 2s","@module":"tofu.ui","hook":{"resource":{"addr":"hcloud_load_balancer.main","resource_type":"hcloud_load_balancer"},"action":"create","elapsed_seconds":2},"type":"apply_errored"}"#;
    const DIAG: &str = r#"{"@level":"error","@message":"Error: error creating load balancer: server limit reached (resource_limit_exceeded)","@module":"tofu.ui","diagnostic":{"severity":"error","summary":"error creating load balancer","detail":"server limit reached (resource_limit_exceeded)","address":"hcloud_load_balancer.main"},"type":"diagnostic"}"#;
    const SUMMARY: &str = r#"{"@level":"info","@message":"Apply complete! Resources: 9 added, 0 changed, 0 destroyed.","@module":"tofu.ui","changes":{"add":9,"change":0,"import":0,"remove":0,"operation":"apply"},"type":"change_summary"}"#;

    #[test]
    fn resource_lifecycle() {
        let p = parse_line(PLANNED).expect("parses");
        let r = p.resource.expect("resource");
        assert_eq!(
            (r.address.as_str(), r.resource_type.as_str(), r.action, r.state),
            (
                "hcloud_network.main",
                "hcloud_network",
                ResourceAction::Create,
                ResourceState::Planned
            )
        );
        let s = parse_line(START).expect("parses").resource.expect("resource");
        assert_eq!((s.state, s.elapsed_secs), (ResourceState::Applying, 0));
        let g = parse_line(PROGRESS).expect("parses").resource.expect("resource");
        assert_eq!((g.state, g.elapsed_secs), (ResourceState::Applying, 10));
        let c = parse_line(COMPLETE).expect("parses");
        assert_eq!(
            c.message,
            "hcloud_server.control_plane[0]: Creation complete after 32s [id=51234567]"
        );
        let c = c.resource.expect("resource");
        assert_eq!(
            (c.state, c.elapsed_secs, c.cloud_id.as_deref()),
            (ResourceState::Complete, 32, Some("51234567"))
        );
        let e = parse_line(ERRORED).expect("parses").resource.expect("resource");
        assert_eq!(e.state, ResourceState::Errored);
    }

    #[test]
    fn diagnostics_and_summaries() {
        let d = parse_line(DIAG).expect("parses");
        assert_eq!(d.level, Level::Error);
        assert_eq!(
            d.error.as_deref(),
            Some("error creating load balancer: server limit reached (resource_limit_exceeded)")
        );
        assert_eq!(d.error_address.as_deref(), Some("hcloud_load_balancer.main"));
        assert!(d.resource.is_none());
        assert_eq!(parse_line(SUMMARY).expect("parses").summary, Some((9, 0, 0)));
    }

    #[test]
    fn plain_text_and_garbage_are_not_ui_lines() {
        assert_eq!(parse_line("Initializing the backend..."), None);
        assert_eq!(parse_line("{not json"), None);
        assert_eq!(parse_line("{}"), None);
        // Unknown types still carry their message.
        let u = parse_line(r#"{"@level":"warn","@message":"something new","type":"future_thing","extra":1}"#)
            .expect("parses");
        assert_eq!((u.level, u.kind.as_str()), (Level::Warn, "future_thing"));
    }
}
