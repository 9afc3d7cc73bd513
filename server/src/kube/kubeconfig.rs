//! A Sovereign's kubeconfig is data, never instructions.
//!
//! A kubeconfig can name commands to run (`exec`, `auth-provider`), files to read (`tokenFile`,
//! `client-certificate`, `certificate-authority`), a proxy, and can switch TLS verification off. Loaded by a
//! general kubeconfig loader on the console, a kubeconfig PUT by a tenant would run its commands as the
//! console and read the console's files. So the console never hands a Sovereign's kubeconfig to such a
//! loader. It accepts exactly:
//!
//! - one cluster with `certificate-authority-data` (PEM certificates, base64) and a `server` equal to the
//!   API address the deployment's OpenTofu outputs gave for that region (`regions[<key>].api_endpoint`);
//! - one user with `client-certificate-data` + `client-key-data`, or an inline `token`;
//! - at most one context joining the two, `current-context` naming it, `apiVersion: v1`, `kind: Config`
//!   and empty `preferences`.
//!
//! Anything else is refused with the field's path (`users[0].user.exec`). [`parse`] uses the strict serde
//! types below (`deny_unknown_fields`), never a parser that can reach files or spawn processes; [`reduce`]
//! writes the accepted parts back as a canonical kubeconfig (what is stored, encrypted, and downloaded), and
//! [`client_config`] builds the `kube::Config` from those parts in memory: the cluster URL, the CA as the
//! only trust root, data-only credentials, no proxy, TLS verification on (kube's client reads no file and no
//! environment for a `Config` built this way: `root_cert_file`, `exec` and `token_file` stay empty, and
//! `Config::apply_debug_overrides` is never called).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The name a k3s control plane's serving certificate always carries; the watcher checks the certificate
/// against it (the API address is an IP address the certificate may not list).
pub const TLS_SERVER_NAME: &str = "kubernetes.default.svc";
/// The longest inline token accepted.
const MAX_TOKEN: usize = 8 * 1024;

/// Why a kubeconfig is refused: the field's path and what to send instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `users[0].user.exec`, `clusters`, `clusters[0].cluster.server` … (empty: the document itself).
    pub field: String,
    pub message: String,
}

impl Refusal {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// How the console authenticates to the cluster.
#[derive(Clone)]
pub enum Credential {
    /// `token`.
    Token(SecretString),
    /// `client-certificate-data` + `client-key-data` (base64 of PEM, as in the kubeconfig).
    ClientCertificate { cert_b64: String, key_b64: SecretString },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(…)"),
            Credential::ClientCertificate { .. } => f.write_str("ClientCertificate(…)"),
        }
    }
}

/// What an accepted kubeconfig carries.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The API address (`https://<host>:6443`), equal to the OpenTofu output.
    pub server: String,
    /// `certificate-authority-data` as sent (base64 of PEM).
    pub ca_b64: String,
    /// The CA certificates, DER.
    pub ca_der: Vec<Vec<u8>>,
    pub credential: Credential,
}

// --- the strict document -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[serde(rename = "apiVersion", default, skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default)]
    clusters: Option<Vec<NamedCluster>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contexts: Option<Vec<NamedContext>>,
    #[serde(rename = "current-context", default, skip_serializing_if = "Option::is_none")]
    current_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preferences: Option<BTreeMap<String, serde_norway::Value>>,
    #[serde(default)]
    users: Option<Vec<NamedUser>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NamedCluster {
    #[serde(default)]
    name: String,
    cluster: Cluster,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Cluster {
    #[serde(default)]
    server: Option<String>,
    #[serde(rename = "certificate-authority-data", default)]
    certificate_authority_data: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NamedContext {
    #[serde(default)]
    name: String,
    context: Context,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Context {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NamedUser {
    #[serde(default)]
    name: String,
    user: User,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct User {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(
        rename = "client-certificate-data",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    client_certificate_data: Option<String>,
    #[serde(rename = "client-key-data", default, skip_serializing_if = "Option::is_none")]
    client_key_data: Option<String>,
}

/// What to say about a field the strict types do not know: the ones kubeconfigs use to run commands, read
/// files or weaken TLS get their reason.
fn reason_for(field: &str) -> String {
    match field {
        "exec" | "auth-provider" => format!(
            "`{field}` names a program to run; Catalyst never runs commands from a kubeconfig. Send client-certificate-data and client-key-data, or an inline token."
        ),
        "tokenFile" | "token-file" | "client-certificate" | "client-key" | "certificate-authority" => format!(
            "`{field}` is a file path; Catalyst reads no file named by a kubeconfig. Send the data inline ({}) instead.",
            match field {
                "client-certificate" => "client-certificate-data",
                "client-key" => "client-key-data",
                "certificate-authority" => "certificate-authority-data",
                _ => "token",
            }
        ),
        "proxy-url" => {
            "Catalyst connects to the cluster's API address directly, never through a proxy named by a kubeconfig; remove `proxy-url`.".into()
        }
        "insecure-skip-tls-verify" => {
            "TLS verification cannot be switched off; remove `insecure-skip-tls-verify` and send certificate-authority-data.".into()
        }
        "username" | "password" => {
            "Basic authentication is not accepted; send client-certificate-data and client-key-data, or an inline token.".into()
        }
        "as" | "as-uid" | "as-groups" | "as-user-extra" => {
            "Impersonation is not accepted in a kubeconfig sent to Catalyst; remove it.".into()
        }
        other => format!(
            "`{other}` is not accepted in a kubeconfig sent to Catalyst: it takes one cluster (server, certificate-authority-data), one user (client-certificate-data + client-key-data, or token) and at most one context."
        ),
    }
}

/// The name between the first pair of backticks of serde's "unknown field `x`, expected …".
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split_once("unknown field `")?.1;
    Some(rest.split_once('`')?.0)
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn decode_b64(field: &str, value: &str) -> Result<Vec<u8>, Refusal> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact.as_bytes()).map_err(|_| {
        Refusal::new(
            field,
            "is not base64: send the PEM data base64-encoded, as kubectl writes it.",
        )
    })
}

/// The PEM blocks of `value` (base64 of PEM) with one of `tags`; at least one.
fn pem_blocks(field: &str, value: &str, tags: &[&str], what: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    let bytes = decode_b64(field, value)?;
    let blocks =
        pem::parse_many(&bytes).map_err(|_| Refusal::new(field, format!("is not PEM: send {what}.")))?;
    if blocks.is_empty() || blocks.iter().any(|b| !tags.contains(&b.tag())) {
        return Err(Refusal::new(field, format!("must hold {what} and nothing else.")));
    }
    Ok(blocks.into_iter().map(|b| b.into_contents()).collect())
}

/// Parses and checks a kubeconfig sent by a control plane. `expected_server`: the region's API address from
/// the OpenTofu outputs; the cluster's `server` must be exactly that.
pub fn parse(text: &str, expected_server: &str) -> Result<Accepted, Refusal> {
    if text.trim().is_empty() {
        return Err(Refusal::new("", "The body is empty; send the kubeconfig."));
    }
    let de = serde_norway::Deserializer::from_str(text);
    let doc: Doc = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        match unknown_field(&message) {
            // serde_path_to_error's path already ends with the unknown key.
            Some(field) if path == field || path.ends_with(&format!(".{field}")) => {
                Refusal::new(path, reason_for(field))
            }
            Some(field) => Refusal::new(join(&path, field), reason_for(field)),
            None => {
                // serde's own words about the shape (wrong type, missing key), without the location suffix.
                let short: String = message
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                let field = if path == "." { String::new() } else { path };
                Refusal::new(
                    field,
                    format!("This is not a kubeconfig Catalyst accepts ({short})."),
                )
            }
        }
    })?;
    check(doc, expected_server)
}

fn check(doc: Doc, expected_server: &str) -> Result<Accepted, Refusal> {
    if let Some(v) = doc.api_version.as_deref().filter(|v| *v != "v1") {
        return Err(Refusal::new(
            "apiVersion",
            format!("must be v1 (is “{}”).", v.chars().take(40).collect::<String>()),
        ));
    }
    if let Some(k) = doc.kind.as_deref().filter(|k| *k != "Config") {
        return Err(Refusal::new(
            "kind",
            format!(
                "must be Config (is “{}”).",
                k.chars().take(40).collect::<String>()
            ),
        ));
    }
    if doc.preferences.as_ref().is_some_and(|p| !p.is_empty()) {
        return Err(Refusal::new("preferences", "must be empty ({})."));
    }
    let clusters = doc.clusters.unwrap_or_default();
    let users = doc.users.unwrap_or_default();
    let contexts = doc.contexts.unwrap_or_default();
    let [cluster] = <[NamedCluster; 1]>::try_from(clusters).map_err(|c| {
        Refusal::new(
            "clusters",
            format!("must list exactly one cluster (this lists {}).", c.len()),
        )
    })?;
    let [user] = <[NamedUser; 1]>::try_from(users).map_err(|u| {
        Refusal::new(
            "users",
            format!("must list exactly one user (this lists {}).", u.len()),
        )
    })?;
    if contexts.len() > 1 {
        return Err(Refusal::new(
            "contexts",
            format!("may list one context at most (this lists {}).", contexts.len()),
        ));
    }
    if let Some(ctx) = contexts.first() {
        if ctx.context.cluster != cluster.name {
            return Err(Refusal::new(
                "contexts[0].context.cluster",
                "must name the one cluster.",
            ));
        }
        if ctx.context.user != user.name {
            return Err(Refusal::new(
                "contexts[0].context.user",
                "must name the one user.",
            ));
        }
    }
    if let Some(current) = doc.current_context.as_deref().filter(|c| !c.is_empty())
        && contexts.first().is_none_or(|c| c.name != current)
    {
        return Err(Refusal::new("current-context", "must name the one context."));
    }

    let server = cluster
        .cluster
        .server
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::new("clusters[0].cluster.server", "is missing: send the API address."))?;
    let expected = expected_server.trim().trim_end_matches('/');
    if server.trim_end_matches('/') != expected {
        return Err(Refusal::new(
            "clusters[0].cluster.server",
            format!(
                "must be this region's API address as OpenTofu created it ({expected}); the kubeconfig names {}.",
                server.chars().take(100).collect::<String>()
            ),
        ));
    }
    if !expected.starts_with("https://") {
        return Err(Refusal::new(
            "clusters[0].cluster.server",
            "must be an https:// address.",
        ));
    }
    let ca_field = "clusters[0].cluster.certificate-authority-data";
    let ca_b64 = cluster
        .cluster
        .certificate_authority_data
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            Refusal::new(
                ca_field,
                "is missing: send the cluster's CA certificate (TLS verification cannot be switched off).",
            )
        })?;
    let ca_der = pem_blocks(
        ca_field,
        &ca_b64,
        &["CERTIFICATE"],
        "the cluster's CA certificate(s)",
    )?;
    let mut roots = rustls::RootCertStore::empty();
    for der in &ca_der {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|_| {
                Refusal::new(
                    ca_field,
                    "holds a certificate that cannot be read as a CA certificate.",
                )
            })?;
    }

    let u = user.user;
    let credential = match (u.token, u.client_certificate_data, u.client_key_data) {
        (Some(token), None, None) => {
            let token = token.trim().to_string();
            if token.is_empty() || token.len() > MAX_TOKEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Refusal::new(
                    "users[0].user.token",
                    format!("must be a bearer token: 1 to {MAX_TOKEN} printable characters without spaces."),
                ));
            }
            Credential::Token(SecretString::from(token))
        }
        (None, Some(cert), Some(key)) => {
            pem_blocks(
                "users[0].user.client-certificate-data",
                &cert,
                &["CERTIFICATE"],
                "the client certificate (and its chain)",
            )?;
            let keys = pem_blocks(
                "users[0].user.client-key-data",
                &key,
                &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"],
                "one private key",
            )?;
            if keys.len() != 1 {
                return Err(Refusal::new(
                    "users[0].user.client-key-data",
                    "must hold exactly one private key.",
                ));
            }
            Credential::ClientCertificate {
                cert_b64: cert.split_whitespace().collect(),
                key_b64: SecretString::from(key.split_whitespace().collect::<String>()),
            }
        }
        (None, Some(_), None) => {
            return Err(Refusal::new(
                "users[0].user.client-key-data",
                "is missing: a client certificate needs its key.",
            ));
        }
        (None, None, Some(_)) => {
            return Err(Refusal::new(
                "users[0].user.client-certificate-data",
                "is missing: a client key needs its certificate.",
            ));
        }
        (None, None, None) => {
            return Err(Refusal::new(
                "users[0].user",
                "has no credentials: send client-certificate-data and client-key-data, or an inline token.",
            ));
        }
        (Some(_), _, _) => {
            return Err(Refusal::new(
                "users[0].user.token",
                "send either a token or a client certificate and key, not both.",
            ));
        }
    };
    Ok(Accepted {
        server: expected.to_string(),
        ca_b64: ca_b64.split_whitespace().collect(),
        ca_der,
        credential,
    })
}

/// The accepted parts written back as a canonical kubeconfig named `name` (cluster, user and context):
/// what is stored (encrypted) and what an owner downloads.
pub fn reduce(accepted: &Accepted, name: &str) -> String {
    use secrecy::ExposeSecret;
    let user = match &accepted.credential {
        Credential::Token(t) => User {
            token: Some(t.expose_secret().to_string()),
            client_certificate_data: None,
            client_key_data: None,
        },
        Credential::ClientCertificate { cert_b64, key_b64 } => User {
            token: None,
            client_certificate_data: Some(cert_b64.clone()),
            client_key_data: Some(key_b64.expose_secret().to_string()),
        },
    };
    let doc = Doc {
        api_version: Some("v1".into()),
        kind: Some("Config".into()),
        clusters: Some(vec![NamedCluster {
            name: name.into(),
            cluster: Cluster {
                server: Some(accepted.server.clone()),
                certificate_authority_data: Some(accepted.ca_b64.clone()),
            },
        }]),
        contexts: Some(vec![NamedContext {
            name: name.into(),
            context: Context {
                cluster: name.into(),
                user: name.into(),
            },
        }]),
        current_context: Some(name.into()),
        preferences: None,
        users: Some(vec![NamedUser {
            name: name.into(),
            user,
        }]),
    };
    serde_norway::to_string(&doc).expect("a kubeconfig of plain strings serializes")
}

/// The client configuration for an accepted kubeconfig, built in memory: the API address, the cluster's CA
/// as the only trust root, data-only credentials, no proxy, certificates verified.
pub fn client_config(accepted: &Accepted) -> Result<kube::Config, Refusal> {
    let url: http::Uri = accepted
        .server
        .parse()
        .map_err(|_| Refusal::new("clusters[0].cluster.server", "is not a URL the client can use."))?;
    let mut config = kube::Config::new(url);
    config.root_cert = Some(accepted.ca_der.clone());
    config.root_cert_file = None;
    config.accept_invalid_certs = false;
    config.proxy_url = None;
    config.tls_server_name = Some(TLS_SERVER_NAME.into());
    config.headers = Vec::new();
    let mut auth = kube::config::AuthInfo::default();
    match &accepted.credential {
        Credential::Token(t) => auth.token = Some(t.clone()),
        Credential::ClientCertificate { cert_b64, key_b64 } => {
            auth.client_certificate_data = Some(cert_b64.clone());
            auth.client_key_data = Some(key_b64.clone());
        }
    }
    config.auth_info = auth;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The rules with real certificates are tested in `server/tests/it/kubeconfig.rs`.
    #[test]
    fn unknown_field_names_are_read_from_serde_messages() {
        assert_eq!(
            unknown_field("unknown field `exec`, expected one of `token`"),
            Some("exec")
        );
        assert_eq!(unknown_field("invalid type"), None);
        assert_eq!(join(".", "exec"), "exec");
        assert_eq!(join("users[0].user", "exec"), "users[0].user.exec");
    }

    #[test]
    fn an_exec_user_is_refused_before_anything_else_is_read() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: x\n  user:\n    exec:\n      command: /bin/sh\n      args: [-c, 'id > /tmp/pwned']\n";
        let e = parse(yaml, "https://192.0.2.1:6443").expect_err("refused");
        assert_eq!(e.field, "users[0].user.exec");
        assert!(e.message.contains("never runs commands"), "{e}");
    }
}
