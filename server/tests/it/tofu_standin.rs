//! The `tofu` stand-in (`tests/standins/tofu`) driven the way the engine drives OpenTofu: in a work
//! directory made by `prepare_workdir` from the real `infra/hetzner`, with the variables file `TfVars`
//! writes. Checks the machine-readable UI it prints, its state, failure injection and the kubeconfig
//! hand-back it performs like cloud-init.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use server::tofu::tfvars::fixtures;
use server::tofu::{TfVars, prepare_workdir, write_tfvars};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn workdir(vars: &TfVars) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    prepare_workdir(&root().join("infra/hetzner"), dir.path()).expect("module copied");
    write_tfvars(dir.path(), vars).expect("tfvars written");
    dir
}

fn tofu(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(root().join("tests/standins/tofu"));
    cmd.current_dir(dir).args(args).env("TF_IN_AUTOMATION", "true");
    // The sensitive variables, as the engine hands them over: in the environment, never in the file.
    let vars = TfVars::new(&fixtures::request(), &fixtures::secrets(), &fixtures::context());
    cmd.envs(vars.secret_env());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the stand-in runs")
}

/// The -json lines; every one must carry OpenTofu's envelope.
fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            for key in ["@level", "@message", "@module", "@timestamp", "type"] {
                assert!(v.get(key).is_some(), "{key} missing in {l}");
            }
            v
        })
        .collect()
}

fn of_type<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == kind).collect()
}

fn vars() -> TfVars {
    TfVars::new(&fixtures::request(), &fixtures::secrets(), &fixtures::context())
}

/// Resources the module makes for the fixture: 2 regions, HA, 2 workers in the first. The stand-in derives
/// them from the module's HCL; this count is the module read by a person.
const FIXTURE_RESOURCES: usize = 1 // ssh key
    + 2 * 6 // per region: network, subnet, firewall, placement group, k3s token, API primary IP
    + 2 * 5 // per public region: LB, LB network, LB target, 2 services (HTTP, HTTPS)
    + 2 * 4 // per HA region: private API LB, its network, target and service
    + 2 * 3 // control planes
    + 2; // workers

#[test]
fn plan_apply_output_destroy_round_trip() {
    let dir = workdir(&vars());
    let d = dir.path();
    let init = tofu(d, &["init", "-input=false", "-no-color"], &[]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    assert!(d.join(".terraform").is_dir());

    let plan = tofu(
        d,
        &["plan", "-input=false", "-no-color", "-json", "-out=tfplan"],
        &[],
    );
    assert!(plan.status.success());
    let pl = lines(&plan);
    assert_eq!(pl[0]["type"], "version");
    assert_eq!(pl[0]["@module"], "tofu.ui");
    assert_eq!(of_type(&pl, "planned_change").len(), FIXTURE_RESOURCES);
    assert!(
        of_type(&pl, "diagnostic").is_empty(),
        "no warnings: every key Catalyst writes is declared"
    );
    let summary = of_type(&pl, "change_summary");
    assert_eq!(summary[0]["changes"]["add"], FIXTURE_RESOURCES);
    assert_eq!(summary[0]["changes"]["operation"], "plan");
    let cp = of_type(&pl, "planned_change")
        .into_iter()
        .find(|l| l["change"]["resource"]["addr"] == "hcloud_server.control_plane[\"hel1-cp3\"]")
        .expect("the third control plane of the second region");
    assert_eq!(cp["change"]["resource"]["resource_key"], "hel1-cp3");
    assert_eq!(cp["change"]["action"], "create");

    let apply = tofu(
        d,
        &[
            "apply",
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-json",
            "tfplan",
        ],
        &[],
    );
    assert!(apply.status.success());
    let al = lines(&apply);
    assert_eq!(of_type(&al, "apply_start").len(), FIXTURE_RESOURCES);
    assert_eq!(of_type(&al, "apply_complete").len(), FIXTURE_RESOURCES);
    assert!(
        !of_type(&al, "apply_progress").is_empty(),
        "servers report progress"
    );
    let server_done = of_type(&al, "apply_complete")
        .into_iter()
        .find(|l| l["hook"]["resource"]["resource_type"] == "hcloud_server")
        .expect("a server");
    assert!(server_done["hook"]["id_value"].is_string());
    assert!(server_done["hook"]["elapsed_seconds"].is_number());

    let out = tofu(d, &["output", "-json", "-no-color"], &[]);
    let outputs: Value = serde_json::from_slice(&out.stdout).expect("output -json");
    for name in [
        "control_plane_ip",
        "load_balancer_ip",
        "sovereign_fqdn",
        "console_url",
        "gitops_repo_url",
        "regions",
    ] {
        assert_eq!(outputs[name]["sensitive"], false, "{name}");
        assert!(outputs[name].get("value").is_some(), "{name}");
    }
    assert_eq!(
        outputs["console_url"]["value"],
        "https://console.acme.omani.works"
    );
    assert_eq!(
        outputs["regions"]["value"]["hel1"]["control_plane_ips"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(outputs["regions"]["value"]["fsn1"]["primary"], true);
    // Each region's API address is its first control plane's own address, never a load balancer's.
    for key in ["fsn1", "hel1"] {
        let region = &outputs["regions"]["value"][key];
        let cp1 = region["control_plane_ips"][0].as_str().expect("cp1");
        assert_eq!(region["api_endpoint"], format!("https://{cp1}:6443"), "{key}");
        assert_ne!(
            region["api_endpoint"],
            format!(
                "https://{}:6443",
                region["load_balancer_ip"].as_str().expect("lb")
            )
        );
    }
    assert!(
        of_type(&pl, "planned_change")
            .iter()
            .all(|l| !l["change"]["resource"]["addr"]
                .as_str()
                .unwrap_or_default()
                .contains("kube-api")),
        "no load balancer service forwards the Kubernetes API"
    );

    // Applying again changes nothing.
    let again = tofu(
        d,
        &["apply", "-input=false", "-no-color", "-auto-approve", "-json"],
        &[],
    );
    assert!(again.status.success());
    let al = lines(&again);
    assert!(of_type(&al, "apply_start").is_empty());
    assert_eq!(
        of_type(&al, "change_summary").last().expect("summary")["changes"]["add"],
        0
    );

    // Fewer workers: only the dropped worker goes.
    let mut fewer = vars();
    fewer.regions[0].worker_count = 1;
    write_tfvars(d, &fewer).expect("rewrite");
    let shrink = tofu(d, &["apply", "-input=false", "-auto-approve", "-json"], &[]);
    let sl = lines(&shrink);
    let changed: Vec<&Value> = of_type(&sl, "apply_start");
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0]["hook"]["resource"]["addr"],
        "hcloud_server.worker[\"fsn1-w2\"]"
    );
    assert_eq!(changed[0]["hook"]["action"], "delete");

    let destroy = tofu(
        d,
        &["destroy", "-input=false", "-no-color", "-auto-approve", "-json"],
        &[],
    );
    assert!(destroy.status.success());
    let dl = lines(&destroy);
    assert_eq!(of_type(&dl, "apply_complete").len(), FIXTURE_RESOURCES - 1);
    assert_eq!(
        of_type(&dl, "change_summary").last().expect("summary")["changes"]["operation"],
        "destroy"
    );
    let out = tofu(d, &["output", "-json"], &[]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("json"),
        serde_json::json!({})
    );
}

#[test]
fn failures_can_be_injected_and_a_retry_continues() {
    let dir = workdir(&vars());
    let d = dir.path();
    assert!(tofu(d, &["init"], &[]).status.success());

    let failing = [
        ("TOFU_STANDIN_FAIL_RESOURCE", "worker[\"fsn1-w1\"]"),
        ("TOFU_STANDIN_FAIL_TIMES", "1"),
    ];
    let first = tofu(d, &["apply", "-auto-approve", "-json"], &failing);
    assert!(!first.status.success());
    let fl = lines(&first);
    let errored = of_type(&fl, "apply_errored");
    assert_eq!(errored.len(), 1);
    assert_eq!(
        errored[0]["hook"]["resource"]["addr"],
        "hcloud_server.worker[\"fsn1-w1\"]"
    );
    let diag = of_type(&fl, "diagnostic");
    assert_eq!(diag.last().expect("diagnostic")["@level"], "error");
    assert_eq!(
        diag.last().expect("diagnostic")["diagnostic"]["severity"],
        "error"
    );
    let done_before = of_type(&fl, "apply_complete").len();
    assert!(done_before > 0 && done_before < FIXTURE_RESOURCES);

    // The retry creates only what is missing.
    let retry = tofu(d, &["apply", "-auto-approve", "-json"], &failing);
    assert!(
        retry.status.success(),
        "{}",
        String::from_utf8_lossy(&retry.stdout)
    );
    assert_eq!(
        of_type(&lines(&retry), "apply_complete").len(),
        FIXTURE_RESOURCES - done_before
    );

    // A command can fail as a whole, and a plan made before a state change is stale.
    let e = tofu(d, &["plan", "-json"], &[("TOFU_STANDIN_FAIL_AT", "plan")]);
    assert!(!e.status.success());
    assert!(tofu(d, &["plan", "-out=old.plan"], &[]).status.success());
    let mut more = vars();
    more.regions[1].worker_count = 1;
    more.regions[1].worker_size = "cpx32".into();
    write_tfvars(d, &more).expect("rewrite");
    assert!(tofu(d, &["apply", "-auto-approve"], &[]).status.success());
    let stale = tofu(d, &["apply", "-auto-approve", "-json", "old.plan"], &[]);
    assert!(!stale.status.success());
    assert!(String::from_utf8_lossy(&stale.stdout).contains("Saved plan is stale"));
}

#[test]
fn missing_variables_are_reported_like_opentofu_does() {
    let dir = workdir(&vars());
    let d = dir.path();
    assert!(tofu(d, &["init"], &[]).status.success());
    let mut json: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(d.join("tofu.auto.tfvars.json")).expect("read")).expect("json");
    json.remove("deployment_id");
    json.insert("not_a_variable".into(), Value::Bool(true));
    std::fs::write(d.join("tofu.auto.tfvars.json"), Value::Object(json).to_string()).expect("write");
    let plan = tofu(d, &["plan", "-json"], &[]);
    assert!(!plan.status.success());
    let diags: Vec<String> = of_type(&lines(&plan), "diagnostic")
        .iter()
        .map(|l| l["diagnostic"]["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        diags.iter().any(|d| d.contains("\"deployment_id\" is not set")),
        "{diags:?}"
    );
    assert!(
        diags.iter().any(|d| d.contains("\"not_a_variable\"")),
        "{diags:?}"
    );
}

/// Collects the requests a tiny HTTP server receives (method, path, headers, body), answering 204.
fn capture_server() -> (String, mpsc::Receiver<(String, String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut headers = String::new();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                headers.push_str(&h);
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send((
                request_line.trim().to_string(),
                headers,
                String::from_utf8_lossy(&body).to_string(),
            ));
        }
    });
    (format!("http://{addr}/sovereign"), rx)
}

#[test]
fn apply_hands_each_regions_kubeconfig_back_like_cloud_init() {
    let (url, rx) = capture_server();
    let mut ctx = fixtures::context();
    ctx.catalyst_api_url = url;
    let v = TfVars::new(&fixtures::request(), &fixtures::secrets(), &ctx);
    let dir = workdir(&v);
    let d = dir.path();
    assert!(tofu(d, &["init"], &[]).status.success());
    let env = [
        ("TOFU_STANDIN_KUBECONFIG", "put"),
        ("TOFU_STANDIN_KUBECONFIG_DELAY", "0"),
    ];
    assert!(
        tofu(d, &["apply", "-auto-approve", "-json"], &env)
            .status
            .success()
    );

    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(
            rx.recv_timeout(Duration::from_secs(20))
                .expect("a kubeconfig PUT"),
        );
    }
    got.sort();
    let (line, headers, body) = &got[0];
    assert_eq!(
        line,
        "PUT /sovereign/api/v1/deployments/3f2a9c4e8b1d4f6a/kubeconfig HTTP/1.1"
    );
    assert!(
        headers.contains(&format!("Authorization: Bearer {}", fixtures::BEARER)),
        "{headers}"
    );
    assert!(
        got[1]
            .1
            .contains(&format!("Authorization: Bearer {}", fixtures::BEARER_2)),
        "each region PUTs with its own bearer: {}",
        got[1].1
    );
    assert!(headers.contains("Content-Type: application/yaml"), "{headers}");
    // The server is the region's API address (its first control plane's primary IP), not a load balancer.
    assert!(body.contains("server: https://203.0.113."), "{body}");
    assert!(body.contains("current-context: acme.omani.works-fsn1"), "{body}");
    assert_eq!(
        got[1].0,
        "PUT /sovereign/api/v1/deployments/3f2a9c4e8b1d4f6a/kubeconfig?region=hel1 HTTP/1.1"
    );
}

#[test]
fn state_list_and_replace_re_create_a_server() {
    let v = TfVars::new(&fixtures::request(), &fixtures::secrets(), &fixtures::context());
    let dir = workdir(&v);
    let d = dir.path();
    assert!(tofu(d, &["init"], &[]).status.success());
    let none = tofu(d, &["state", "list"], &[]);
    assert!(!none.status.success(), "no state yet");
    let userdata = tempfile::tempdir().expect("tempdir");
    let env = [("TOFU_STANDIN_USERDATA", userdata.path().to_str().expect("utf-8"))];
    assert!(
        tofu(d, &["apply", "-auto-approve", "-json"], &env)
            .status
            .success()
    );
    let listed = String::from_utf8_lossy(&tofu(d, &["state", "list"], &[]).stdout).into_owned();
    let cp = "hcloud_server.control_plane[\"hel1-cp1\"]";
    assert!(listed.lines().any(|l| l == cp), "{listed}");
    let read = |region: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(
                userdata
                    .path()
                    .join("3f2a9c4e8b1d4f6a")
                    .join(format!("{region}.json")),
            )
            .expect("user data"),
        )
        .expect("json")
    };
    assert_eq!(read("hel1")["bearer"], fixtures::BEARER_2);

    // A new bearer reaches only a re-created server: -replace deletes and creates it (new id).
    let before = String::from_utf8_lossy(&tofu(d, &["output", "-json"], &[]).stdout).into_owned();
    let mut cmd_env: Vec<(&str, &str)> = env.to_vec();
    let fresh = r#"{"hel1": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}"#;
    cmd_env.push(("TF_VAR_kubeconfig_bearer_tokens", fresh));
    let replace = format!("-replace={cp}");
    let out = tofu(d, &["apply", "-auto-approve", "-json", &replace], &cmd_env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let l = lines(&out);
    let summary = of_type(&l, "change_summary");
    assert_eq!(summary.last().expect("summary")["changes"]["add"], 1);
    assert_eq!(summary.last().expect("summary")["changes"]["remove"], 1);
    assert_eq!(
        read("hel1")["bearer"],
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    );
    assert_eq!(
        read("fsn1")["bearer"],
        fixtures::BEARER,
        "fsn1 was not re-created"
    );
    let after = String::from_utf8_lossy(&tofu(d, &["output", "-json"], &[]).stdout).into_owned();
    assert_eq!(before, after, "the outputs stay (same addresses)");
}
