//! The Hetzner client and the wipe sweep against the Hetzner API stand-in (`tests/standins/hetzner.py`):
//! real HTTP, real JSON shapes, Hetzner's deletion rules.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::deployments::Secret;
use serde_json::{Value, json};
use server::hetzner::{
    HetznerClient, HetznerError, ResourceKind, SweepOptions, SweepTarget, TokenProblem, inventory,
    name_prefix, sweep,
};

const TOKEN: &str = "rw-token-rw-token-rw-token-rw-token-rw-token-rw-token-rw-token-0001";
const READONLY: &str = "ro-token-ro-token-ro-token-ro-token-ro-token-ro-token-ro-token-0002";
const DEP: &str = "dep-7f3a";
const FQDN: &str = "acme.omani.works";

struct StandIn {
    child: Child,
    url: String,
    _seed: tempfile::NamedTempFile,
}

impl StandIn {
    fn start(seed: Value) -> StandIn {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let seed_file = tempfile::NamedTempFile::new().expect("seed file");
        std::fs::write(seed_file.path(), seed.to_string()).expect("write seed");
        let mut child = Command::new("python3")
            .arg(root.join("tests/standins/hetzner.py"))
            .args([
                "--port",
                "0",
                "--token",
                TOKEN,
                "--readonly-token",
                READONLY,
                "--seed",
            ])
            .arg(seed_file.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the Hetzner stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("stand-in announces its address");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        StandIn {
            child,
            url,
            _seed: seed_file,
        }
    }

    fn client(&self, token: &str) -> HetznerClient {
        HetznerClient::new(&self.url, Secret::new(token)).expect("client")
    }

    async fn hook(&self, what: &str) -> Value {
        let base = self.url.trim_end_matches("/v1");
        reqwest::get(format!("{base}/__standin/{what}"))
            .await
            .expect("hook")
            .json()
            .await
            .expect("json")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ours(role: &str) -> Value {
    json!({ "catalyst.dev/deployment-id": DEP, "catalyst.dev/sovereign": FQDN, "catalyst.dev/role": role })
}

/// What `infra/hetzner` leaves for a one-region HA-less deployment with one worker, plus what the cluster
/// created by itself, plus things that are not ours.
fn seed() -> Value {
    let p = name_prefix(FQDN);
    json!({
        "ssh_keys": [
            { "id": 11, "name": format!("{p}-ssh"), "labels": ours("ssh-key") },
            { "id": 12, "name": "someone-elses-key" },
        ],
        "networks": [
            { "id": 21, "name": format!("{p}-fsn1-net"), "labels": ours("network"), "servers": [101, 102], "load_balancers": [31] },
        ],
        "load_balancers": [
            { "id": 31, "name": format!("{p}-fsn1-lb"), "labels": ours("load-balancer"),
              "targets": [{ "type": "label_selector", "label_selector": { "selector": "catalyst.dev/role=control-plane" } }] },
            // Created by the cloud controller for a Service of type LoadBalancer: no labels, targets our node.
            { "id": 32, "name": "a3f9c0e1d2b3", "load_balancer_type": "lb21",
              "targets": [{ "type": "server", "server": { "id": 102 } }] },
        ],
        "firewalls": [
            { "id": 41, "name": format!("{p}-fsn1-fw"), "labels": ours("firewall"),
              "applied_to": [{ "type": "server", "server": { "id": 101 } }, { "type": "server", "server": { "id": 102 } }] },
        ],
        "placement_groups": [
            { "id": 51, "name": format!("{p}-fsn1-cp"), "labels": ours("placement-group"), "servers": [101] },
        ],
        "servers": [
            { "id": 101, "name": format!("{p}-fsn1-cp1"), "labels": ours("control-plane"), "server_type": "cpx32" },
            // Labels lost (e.g. edited by hand): found by its name.
            { "id": 102, "name": format!("{p}-fsn1-w1"), "server_type": "cpx42" },
            // Another deployment whose name happens to look like ours: never touched.
            { "id": 103, "name": format!("{p}-fsn1-w2"), "server_type": "cpx32",
              "labels": { "catalyst.dev/deployment-id": "another-deployment" } },
            { "id": 104, "name": "customer-database", "server_type": "ccx13" },
        ],
        "volumes": [
            // A CSI volume attached to our worker: no labels.
            { "id": 61, "name": "pvc-0b9e7a2c", "server": 102, "size": 50 },
            // Ours, but delete-protected: must remain, with the reason.
            { "id": 62, "name": format!("{p}-fsn1-data"), "labels": ours("volume"), "size": 100, "protection": { "delete": true } },
            { "id": 63, "name": "unrelated-volume", "size": 10 },
        ],
        "primary_ips": [
            // Survives its server (auto_delete false): the sweep deletes it once the server is gone.
            { "id": 71, "name": "primary_ip-71", "assignee_id": 101, "auto_delete": false },
            // Goes with the server: not reported.
            { "id": 72, "name": "primary_ip-72", "assignee_id": 102, "auto_delete": true },
            { "id": 73, "name": "customer-ip", "assignee_id": 104, "auto_delete": false },
        ],
    })
}

fn target() -> SweepTarget {
    SweepTarget {
        deployment_id: DEP.into(),
        name_prefix: name_prefix(FQDN),
    }
}

fn fast() -> SweepOptions {
    SweepOptions {
        rounds: 8,
        round_delay: Duration::from_millis(20),
    }
}

fn ids(v: &[server::hetzner::Resource], kind: ResourceKind) -> Vec<i64> {
    let mut out: Vec<i64> = v.iter().filter(|r| r.kind == kind).map(|r| r.id).collect();
    out.sort();
    out
}

#[tokio::test]
async fn inventory_finds_what_belongs_to_the_deployment() {
    let api = StandIn::start(seed());
    let found = inventory(&api.client(TOKEN), &target()).await.expect("inventory");
    assert_eq!(ids(&found, ResourceKind::Server), [101, 102]);
    assert_eq!(ids(&found, ResourceKind::LoadBalancer), [31, 32]);
    assert_eq!(ids(&found, ResourceKind::Volume), [61, 62]);
    assert_eq!(ids(&found, ResourceKind::PrimaryIp), [71]);
    assert_eq!(ids(&found, ResourceKind::Firewall), [41]);
    assert_eq!(ids(&found, ResourceKind::PlacementGroup), [51]);
    assert_eq!(ids(&found, ResourceKind::Network), [21]);
    assert_eq!(ids(&found, ResourceKind::SshKey), [11]);
    // Deletion order: load balancers and servers before what they hold on to.
    let first_network = found
        .iter()
        .position(|r| r.kind == ResourceKind::Network)
        .expect("network");
    let last_server = found
        .iter()
        .rposition(|r| r.kind == ResourceKind::Server)
        .expect("server");
    assert!(last_server < first_network);
    // Prices come from the API: server type prices, volume price per GB.
    let cp = found.iter().find(|r| r.id == 101).expect("cp");
    assert_eq!(cp.monthly_cost_eur, 13.99);
    let csi = found.iter().find(|r| r.id == 61).expect("csi volume");
    assert_eq!(csi.monthly_cost_eur, 2.2);
}

#[tokio::test]
async fn sweep_deletes_everything_it_may_and_explains_the_rest() {
    let api = StandIn::start(seed());
    let report = sweep(&api.client(TOKEN), &target(), &fast())
        .await
        .expect("sweep");

    assert_eq!(report.remaining.len(), 1, "{report:#?}");
    let left = &report.remaining[0];
    assert_eq!((left.kind, left.id), (ResourceKind::Volume, 62));
    assert!(
        left.reason
            .as_deref()
            .unwrap_or_default()
            .contains("delete protection"),
        "{left:?}"
    );
    assert_eq!(report.remaining_monthly_cost_eur(), 4.4);
    assert!(!report.is_clean());
    assert_eq!(ids(&report.removed, ResourceKind::Server), [101, 102]);
    assert_eq!(ids(&report.removed, ResourceKind::Volume), [61]);
    assert_eq!(ids(&report.removed, ResourceKind::PrimaryIp), [71]);
    assert_eq!(report.removed.len(), 10, "{:#?}", report.removed);

    // What is not ours is still there.
    let state = api.hook("state").await;
    let left_ids = |coll: &str| -> Vec<i64> {
        let mut v: Vec<i64> = state[coll]
            .as_array()
            .expect("collection")
            .iter()
            .map(|i| i["id"].as_i64().expect("id"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(left_ids("servers"), [103, 104]);
    assert_eq!(left_ids("volumes"), [62, 63]);
    assert_eq!(left_ids("primary_ips"), [73]);
    assert_eq!(left_ids("ssh_keys"), [12]);
    assert!(left_ids("networks").is_empty());
    assert!(left_ids("firewalls").is_empty());

    // Never a DELETE on something that is not ours, and servers went before their firewall.
    let requests = api.hook("requests").await;
    let deletes: Vec<String> = requests
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| r["method"] == "DELETE")
        .map(|r| r["path"].as_str().expect("path").to_string())
        .collect();
    for foreign in [
        "/v1/servers/103",
        "/v1/servers/104",
        "/v1/volumes/63",
        "/v1/primary_ips/73",
        "/v1/ssh_keys/12",
    ] {
        assert!(
            !deletes.iter().any(|d| d == foreign),
            "deleted {foreign}: {deletes:?}"
        );
    }
    let first = |p: &str| deletes.iter().position(|d| d.starts_with(p)).expect(p);
    assert!(first("/v1/servers/") < first("/v1/networks/"));

    // A second sweep finds only the protected volume and changes nothing.
    let again = sweep(&api.client(TOKEN), &target(), &fast())
        .await
        .expect("sweep again");
    assert!(again.removed.is_empty(), "{again:#?}");
    assert_eq!(again.remaining.len(), 1);
}

#[tokio::test]
async fn sweep_pages_through_large_projects() {
    let mut s = seed();
    let keys = s["ssh_keys"].as_array_mut().expect("keys");
    for i in 0..130 {
        keys.push(json!({ "id": 1000 + i, "name": format!("team-key-{i}") }));
    }
    // Ours is on the last page.
    keys.push(json!({ "id": 5000, "name": format!("{}-ssh", name_prefix(FQDN)) }));
    let api = StandIn::start(s);
    let found = inventory(&api.client(TOKEN), &target()).await.expect("inventory");
    assert_eq!(ids(&found, ResourceKind::SshKey), [11, 5000]);
}

#[tokio::test]
async fn a_rejected_token_stops_the_sweep() {
    let api = StandIn::start(seed());
    let e = sweep(&api.client("wrong-token"), &target(), &fast())
        .await
        .expect_err("rejected");
    assert!(
        matches!(e, HetznerError::Rejected { ref code, .. } if code == "unauthorized"),
        "{e:?}"
    );
    let e = sweep(&api.client(READONLY), &target(), &fast())
        .await
        .expect_err("read-only");
    assert!(
        matches!(e, HetznerError::Rejected { ref code, .. } if code == "token_readonly"),
        "{e:?}"
    );
    let state = api.hook("state").await;
    assert_eq!(
        state["servers"].as_array().expect("servers").len(),
        4,
        "nothing deleted"
    );
}

#[tokio::test]
async fn token_check_reports_the_failure_kind() {
    let api = StandIn::start(json!({}));
    api.client(TOKEN)
        .validate_token()
        .await
        .expect("read & write token");

    let e = api
        .client(READONLY)
        .validate_token()
        .await
        .expect_err("read-only");
    assert_eq!(e.kind(), "rejected", "{e}");
    assert!(e.to_string().contains("token_readonly"), "{e}");

    let e = api
        .client("not-a-token")
        .validate_token()
        .await
        .expect_err("unknown");
    assert_eq!(e.kind(), "rejected");

    // Nothing listens on port 9 here.
    let nowhere = HetznerClient::with_timeouts(
        "http://127.0.0.1:9/v1",
        Secret::new(TOKEN),
        Duration::from_secs(2),
        Duration::from_secs(2),
    )
    .expect("client");
    let e = nowhere.validate_token().await.expect_err("unreachable");
    assert!(matches!(e, TokenProblem::Unreachable(_)), "{e:?}");
    assert!(!e.to_string().contains(TOKEN));
}
