//! A typed client of the PowerDNS Authoritative Server's HTTP API (`/api/v1/servers/<id>/…`, header
//! `X-API-Key`): zones, record sets (PATCH with `REPLACE`/`DELETE`), DNSSEC keys, zone metadata and TSIG
//! keys. The API key is a [`Secret`] sent in a header and never logged; errors carry the HTTP status and
//! PowerDNS's own `error` text (for the operator's log), never the request.

use std::fmt;
use std::time::Duration;

use app::deployments::Secret;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::PdnsError;
use super::names::{absolute, bare};

/// How often a call that PowerDNS answers with a 5xx is tried (50 ms, then doubling: ~1.5 s in all).
const SERVER_ERROR_ATTEMPTS: u32 = 6;

/// A record set to write: every record of one name and type (PowerDNS replaces the whole set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSet {
    /// Absolute name with the trailing dot, e.g. `console.acme.omani.works.`.
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    /// Record contents in zone-file presentation (`192.0.2.1`, `ns1.omani.works.`, `"text"`).
    pub records: Vec<String>,
}

impl RecordSet {
    pub fn new(name: &str, rtype: &str, ttl: u32, records: Vec<String>) -> Self {
        Self {
            name: absolute(name),
            rtype: rtype.to_string(),
            ttl,
            records,
        }
    }
}

/// One DNSSEC key of a zone, with the DS digests to publish in the parent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CryptoKey {
    pub id: u64,
    #[serde(default)]
    pub keytype: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub published: bool,
    #[serde(default)]
    pub algorithm: String,
    /// `<keytag> <algorithm> <digest type> <digest>`, one per digest type.
    #[serde(default)]
    pub ds: Vec<String>,
}

/// A TSIG key as PowerDNS keeps it. `key` is the base64 secret: handle it like any other secret.
#[derive(Clone, Deserialize)]
pub struct TsigKey {
    /// PowerDNS's id: the name with a trailing dot.
    pub id: String,
    pub name: String,
    pub algorithm: String,
    #[serde(default)]
    pub key: String,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// What the server says about itself (`GET /servers/<id>`).
#[derive(Debug, Clone, Deserialize)]
pub struct ServerInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub daemon_type: String,
}

#[derive(Deserialize)]
struct ZoneBody {
    #[serde(default)]
    rrsets: Vec<RrsetBody>,
    #[serde(default)]
    dnssec: bool,
}

#[derive(Deserialize)]
struct RrsetBody {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    #[serde(default)]
    ttl: u32,
    #[serde(default)]
    records: Vec<RecordBody>,
}

#[derive(Deserialize, Serialize)]
struct RecordBody {
    content: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
struct MetadataBody {
    #[serde(default)]
    metadata: Vec<String>,
}

/// A zone as read back: whether DNSSEC is on, and its record sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub dnssec: bool,
    pub rrsets: Vec<RecordSet>,
}

impl Zone {
    /// The contents of the record set `name`/`rtype`, sorted (empty if there is none).
    pub fn records(&self, name: &str, rtype: &str) -> Vec<String> {
        let name = absolute(name);
        let mut out: Vec<String> = self
            .rrsets
            .iter()
            .filter(|r| r.name == name && r.rtype == rtype)
            .flat_map(|r| r.records.iter().cloned())
            .collect();
        out.sort();
        out
    }
}

/// The PowerDNS HTTP API of one server.
#[derive(Clone)]
pub struct PdnsClient {
    http: reqwest::Client,
    /// `<url>/api/v1/servers/<server-id>`
    base: String,
    api_key: Secret,
}

impl fmt::Debug for PdnsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdnsClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl PdnsClient {
    /// `url` is the API's root (`http://127.0.0.1:8081`, with or without `/api/v1`).
    pub fn new(url: &str, api_key: Secret, server_id: &str) -> Result<Self, PdnsError> {
        Self::with_timeouts(
            url,
            api_key,
            server_id,
            Duration::from_secs(5),
            Duration::from_secs(20),
        )
    }

    pub fn with_timeouts(
        url: &str,
        api_key: Secret,
        server_id: &str,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, PdnsError> {
        let root = url.trim().trim_end_matches('/');
        let root = root.strip_suffix("/api/v1").unwrap_or(root);
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(concat!("catalyst/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PdnsError::Unreachable(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: format!("{root}/api/v1/servers/{}", server_id.trim()),
            api_key,
        })
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(StatusCode, String), PdnsError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-API-Key", self.api_key.expose())
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| {
            // reqwest's text names the URL (no secret in it) and the cause.
            PdnsError::Unreachable(if e.is_timeout() {
                "no answer in time".into()
            } else if e.is_connect() {
                "connection refused or unreachable".into()
            } else {
                "the request failed".into()
            })
        })?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|_| PdnsError::Unreachable("the answer broke off".into()))?;
        Ok((status, text))
    }

    /// Fails on anything but a success status, mapping PowerDNS's answers to [`PdnsError`].
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<String, PdnsError> {
        // Every call Catalyst makes is idempotent (REPLACE, PUT, create-or-409, delete-or-404), so a 5xx is
        // tried again a few times: PowerDNS's SQLite backend answers concurrent writes with “database is
        // locked” (500) instead of waiting.
        let mut delay = Duration::from_millis(50);
        let mut attempt = 1;
        loop {
            let (status, text) = self.send(method.clone(), path, body.clone()).await?;
            if status.is_success() {
                return Ok(text);
            }
            let err = error_of(status, &text, what);
            if !status.is_server_error() || attempt >= SERVER_ERROR_ATTEMPTS {
                return Err(err);
            }
            tracing::debug!(error = %err, attempt, "PowerDNS answered with a server error; trying again");
            tokio::time::sleep(delay).await;
            delay *= 2;
            attempt += 1;
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, PdnsError> {
        let text = self.call(Method::GET, path, None, what).await?;
        serde_json::from_str(&text).map_err(|e| PdnsError::Malformed(format!("{what}: {e}")))
    }

    /// The server's version: a cheap check that URL, server id and key are right.
    pub async fn server_info(&self) -> Result<ServerInfo, PdnsError> {
        self.get_json("", "the server").await
    }

    /// Whether PowerDNS has the zone.
    pub async fn zone_exists(&self, zone: &str) -> Result<bool, PdnsError> {
        let path = format!("/zones/{}?rrsets=false", zone_id(zone));
        match self.call(Method::GET, &path, None, zone).await {
            Ok(_) => Ok(true),
            Err(PdnsError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The zone with its record sets; `None` if it does not exist.
    pub async fn zone(&self, zone: &str) -> Result<Option<Zone>, PdnsError> {
        let path = format!("/zones/{}", zone_id(zone));
        match self.get_json::<ZoneBody>(&path, zone).await {
            Ok(z) => Ok(Some(Zone {
                dnssec: z.dnssec,
                rrsets: z
                    .rrsets
                    .into_iter()
                    .map(|r| RecordSet {
                        name: r.name,
                        rtype: r.rtype,
                        ttl: r.ttl,
                        records: r
                            .records
                            .into_iter()
                            .filter(|x| !x.disabled)
                            .map(|x| x.content)
                            .collect(),
                    })
                    .collect(),
            })),
            Err(PdnsError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a native zone served by `nameservers` (its apex NS set). Returns `false` if it already
    /// existed (it is left as it is). `dnssec`: sign it from the start (PowerDNS generates a CSK).
    pub async fn create_zone(
        &self,
        zone: &str,
        nameservers: &[String],
        dnssec: bool,
    ) -> Result<bool, PdnsError> {
        let body = serde_json::json!({
            "name": absolute(zone),
            "kind": "Native",
            "nameservers": nameservers.iter().map(|n| absolute(n)).collect::<Vec<_>>(),
            "dnssec": dnssec,
            "soa_edit_api": "DEFAULT",
        });
        match self.call(Method::POST, "/zones", Some(body), zone).await {
            Ok(_) => Ok(true),
            Err(PdnsError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the zone with everything in it. Returns `false` if there was none.
    pub async fn delete_zone(&self, zone: &str) -> Result<bool, PdnsError> {
        let path = format!("/zones/{}", zone_id(zone));
        match self.call(Method::DELETE, &path, None, zone).await {
            Ok(_) => Ok(true),
            Err(PdnsError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Replaces each given record set of `zone` in one atomic change (`changetype: REPLACE`); a set with
    /// no records is deleted.
    pub async fn replace_rrsets(&self, zone: &str, sets: &[RecordSet]) -> Result<(), PdnsError> {
        let rrsets: Vec<serde_json::Value> = sets
            .iter()
            .map(|s| {
                if s.records.is_empty() {
                    serde_json::json!({"name": absolute(&s.name), "type": s.rtype, "changetype": "DELETE"})
                } else {
                    serde_json::json!({
                        "name": absolute(&s.name),
                        "type": s.rtype,
                        "ttl": s.ttl,
                        "changetype": "REPLACE",
                        "records": s.records.iter().map(|c| RecordBody { content: c.clone(), disabled: false }).collect::<Vec<_>>(),
                    })
                }
            })
            .collect();
        let path = format!("/zones/{}", zone_id(zone));
        self.call(
            Method::PATCH,
            &path,
            Some(serde_json::json!({ "rrsets": rrsets })),
            zone,
        )
        .await
        .map(|_| ())
    }

    /// The zone's DNSSEC keys.
    pub async fn cryptokeys(&self, zone: &str) -> Result<Vec<CryptoKey>, PdnsError> {
        self.get_json(&format!("/zones/{}/cryptokeys", zone_id(zone)), zone)
            .await
    }

    /// Signs the zone if it has no active key yet: one ECDSA P-256 combined signing key (algorithm 13,
    /// what every validating resolver supports). Returns the DS records to publish in the parent.
    pub async fn secure_zone(&self, zone: &str) -> Result<Vec<String>, PdnsError> {
        let keys = self.cryptokeys(zone).await?;
        if !keys.iter().any(|k| k.active) {
            let body = serde_json::json!({"keytype": "csk", "active": true, "published": true, "algorithm": "ECDSAP256SHA256"});
            self.call(
                Method::POST,
                &format!("/zones/{}/cryptokeys", zone_id(zone)),
                Some(body),
                zone,
            )
            .await?;
        }
        self.ds_records(zone).await
    }

    /// The DS records of the zone's active key-signing keys (SHA-256 digests only: digest type 2 is the
    /// one every resolver must support; SHA-1 is deprecated).
    pub async fn ds_records(&self, zone: &str) -> Result<Vec<String>, PdnsError> {
        let mut ds: Vec<String> = self
            .cryptokeys(zone)
            .await?
            .into_iter()
            .filter(|k| k.active && (k.keytype == "csk" || k.keytype == "ksk"))
            .flat_map(|k| k.ds)
            .filter(|d| d.split_whitespace().nth(2) == Some("2"))
            .collect();
        ds.sort();
        Ok(ds)
    }

    /// Delegates `child` from `parent`: its NS set there (and its DS set when the child is signed), in one
    /// change. The parent must contain the child's name.
    pub async fn delegate(
        &self,
        parent: &str,
        child: &str,
        nameservers: &[String],
        ds: &[String],
        ttl: u32,
    ) -> Result<(), PdnsError> {
        let ns = RecordSet::new(
            child,
            "NS",
            ttl,
            nameservers.iter().map(|n| absolute(n)).collect(),
        );
        let ds = RecordSet::new(child, "DS", ttl, ds.to_vec());
        self.replace_rrsets(parent, &[ns, ds]).await
    }

    /// Removes `child`'s NS and DS sets from `parent`. Returns whether the parent still had a delegation.
    pub async fn undelegate(&self, parent: &str, child: &str) -> Result<bool, PdnsError> {
        let had = match self.zone(parent).await? {
            Some(z) => !z.records(child, "NS").is_empty() || !z.records(child, "DS").is_empty(),
            None => return Ok(false),
        };
        if had {
            self.replace_rrsets(
                parent,
                &[
                    RecordSet::new(child, "NS", 0, vec![]),
                    RecordSet::new(child, "DS", 0, vec![]),
                ],
            )
            .await?;
        }
        Ok(had)
    }

    /// The values of one metadata kind of a zone (empty if unset).
    pub async fn metadata(&self, zone: &str, kind: &str) -> Result<Vec<String>, PdnsError> {
        let body: MetadataBody = self
            .get_json(&format!("/zones/{}/metadata/{kind}", zone_id(zone)), zone)
            .await?;
        Ok(body.metadata)
    }

    /// Sets one metadata kind of a zone to exactly `values`.
    pub async fn set_metadata(&self, zone: &str, kind: &str, values: &[String]) -> Result<(), PdnsError> {
        self.call(
            Method::PUT,
            &format!("/zones/{}/metadata/{kind}", zone_id(zone)),
            Some(serde_json::json!({ "metadata": values })),
            zone,
        )
        .await
        .map(|_| ())
    }

    /// Lets RFC 2136 updates of `zone` in when they are signed with the TSIG key `key_name`, from any
    /// address: the key is the credential. The key requirement is written before the address range, so
    /// the zone never accepts unsigned updates, not even between the two writes. (PowerDNS must run with
    /// an empty `allow-dnsupdate-from`: then a zone without `ALLOW-DNSUPDATE-FROM` takes no update at
    /// all.) The SOA serial goes up with every update.
    pub async fn allow_tsig_updates(&self, zone: &str, key_name: &str) -> Result<(), PdnsError> {
        self.set_metadata(zone, "TSIG-ALLOW-DNSUPDATE", &[bare(key_name)])
            .await?;
        self.set_metadata(zone, "SOA-EDIT-DNSUPDATE", &["INCREASE".to_string()])
            .await?;
        self.set_metadata(
            zone,
            "ALLOW-DNSUPDATE-FROM",
            &["0.0.0.0/0".to_string(), "::/0".to_string()],
        )
        .await
    }

    /// Creates a TSIG key with the given base64 secret. Returns `false` if a key of that name existed (left
    /// unchanged: call [`delete_tsig_key`](Self::delete_tsig_key) first to replace it).
    pub async fn create_tsig_key(
        &self,
        name: &str,
        algorithm: &str,
        secret: &Secret,
    ) -> Result<bool, PdnsError> {
        let body = serde_json::json!({"name": bare(name), "algorithm": algorithm, "key": secret.expose()});
        match self.call(Method::POST, "/tsigkeys", Some(body), name).await {
            Ok(_) => Ok(true),
            Err(PdnsError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The TSIG key `name`, if it exists.
    pub async fn tsig_key(&self, name: &str) -> Result<Option<TsigKey>, PdnsError> {
        match self
            .get_json::<TsigKey>(&format!("/tsigkeys/{}", absolute(name)), name)
            .await
        {
            Ok(k) => Ok(Some(k)),
            Err(PdnsError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the TSIG key `name`. Returns `false` if there was none.
    pub async fn delete_tsig_key(&self, name: &str) -> Result<bool, PdnsError> {
        match self
            .call(
                Method::DELETE,
                &format!("/tsigkeys/{}", absolute(name)),
                None,
                name,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(PdnsError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// PowerDNS's id of a zone in URLs: the absolute name. Catalyst's zone names are checked domain names
/// (letters, digits, hyphens and dots), so no escaping is needed.
fn zone_id(zone: &str) -> String {
    absolute(zone)
}

fn error_of(status: StatusCode, text: &str, what: &str) -> PdnsError {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    let message = serde_json::from_str::<ErrorBody>(text)
        .map(|b| b.error)
        .unwrap_or_else(|_| text.chars().take(200).collect());
    match status.as_u16() {
        401 | 403 => PdnsError::Unauthorized,
        404 => PdnsError::NotFound(what.to_string()),
        409 => PdnsError::Conflict(what.to_string()),
        400 | 422 => PdnsError::Rejected {
            what: what.to_string(),
            message,
        },
        s => PdnsError::Server { status: s, message },
    }
}
