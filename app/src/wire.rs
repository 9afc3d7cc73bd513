//! How values cross between server and browser where the browser's main wasm module has to decode them.
//!
//! The shell (header, navigation, overview) is in every page's main module, so whatever it needs to decode
//! is paid for on every first load. JSON cost the main module serde_json's parser, float formatting and
//! JSON deserialisers (with them gone it shrank from 811 to 690 KB raw, 297 to 253 KB gzip); postcard's
//! decoder is a few KB. So the shell's server functions answer in
//! postcard (`#[server(output = Postcard)]`), its resources carry postcard in the page ([`postcard_resource`]),
//! and every server function's error, [`AppError`](crate::error::AppError), is encoded in postcard (its
//! `FromServerFnError::Encoder`). Inputs stay URL-encoded forms or JSON, so plain form posts work without
//! JavaScript and requests stay readable. The wizard's first step, the page most people open right after the
//! overview, speaks postcard both ways (`wizard::api`: reading, saving and discarding the draft), so it carries
//! no JSON code at all; other lazy pages keep JSON, as their modules load only where they are used.
//!
//! Postcard is not self-describing: types sent this way must not use `skip_serializing_if`, `flatten`,
//! internally tagged or untagged enums. The round-trip tests below keep the shell's types honest.

use leptos::prelude::*;
use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;

/// Postcard, for server-function answers and errors (`server_fn`'s `Encodes`/`Decodes`) and for resources
/// (`codee`'s `Encoder`/`Decoder`). Its own error is [`WireError`]: postcard's error type would bring the
/// text of each of its ~30 variants into the main module for a message no one can act on.
pub struct Wire;

/// An answer that is not the postcard the caller expected (a truncated body, or a proxy's own page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError;

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("The server's answer could not be read; reload the page and try again.")
    }
}

impl std::error::Error for WireError {}

impl ContentType for Wire {
    const CONTENT_TYPE: &'static str = "application/x-postcard";
}

impl FormatType for Wire {
    const FORMAT_TYPE: Format = Format::Binary;
}

impl<T: Serialize> Encodes<T> for Wire {
    type Error = WireError;

    fn encode(value: &T) -> Result<Bytes, WireError> {
        encode(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for Wire {
    type Error = WireError;

    fn decode(bytes: Bytes) -> Result<T, WireError> {
        decode(&bytes)
    }
}

impl<T: Serialize> codee::Encoder<T> for Wire {
    type Error = WireError;
    type Encoded = Vec<u8>;

    fn encode(value: &T) -> Result<Vec<u8>, WireError> {
        encode(value)
    }
}

impl<T: DeserializeOwned> codee::Decoder<T> for Wire {
    type Error = WireError;
    type Encoded = [u8];

    fn decode(bytes: &[u8]) -> Result<T, WireError> {
        decode(bytes)
    }
}

/// The output protocol of the shell's server functions: `#[server(output = Postcard)]` with this in scope.
pub type Postcard = Post<Wire>;

/// The codec of the shell's resources (server-rendered page → hydrating browser).
pub type Codec = Wire;

/// A blocking resource with no source signal, carried in the page as postcard.
#[track_caller]
pub fn postcard_resource<T, Fut>(fetcher: impl Fn() -> Fut + Send + Sync + 'static) -> Resource<T, Codec>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(|| (), move |_| fetcher(), true)
}

/// Encodes a value as the shell's server functions answer.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, WireError> {
    postcard::to_allocvec(value).map_err(|_| WireError)
}

/// Decodes a value a shell server function answered.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    postcard::from_bytes(bytes).map_err(|_| WireError)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Credential, Me, Membership, OrgRole, PlatformRole, Principal};
    use crate::error::AppError;
    use crate::system::StatusReport;
    use codee::{Decoder, Encoder};

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = <Codec as Encoder<T>>::encode(&value).expect("encodes");
        let back: T = <Codec as Decoder<T>>::decode(&bytes).expect("decodes");
        assert_eq!(back, value);
        assert_eq!(
            decode::<T>(&encode(&value).expect("encodes")).expect("decodes"),
            value
        );
    }

    fn me(credential: Credential) -> Me {
        Me {
            principal: Principal {
                user_id: "u1".into(),
                email: "eve@example.com".into(),
                display_name: "Eve".into(),
                platform_role: Some(PlatformRole::SovereignAdmin),
                memberships: vec![Membership {
                    org_id: "o1".into(),
                    org_slug: "eve".into(),
                    org_name: "Eve's organisation".into(),
                    role: OrgRole::Owner,
                }],
                credential,
                has_password: true,
            },
            can_manage_users: true,
            can_read_audit: false,
        }
    }

    /// Every type the shell decodes survives postcard (no serde attribute postcard cannot follow).
    #[test]
    fn the_shells_values_survive_postcard() {
        round_trip::<Result<Option<Me>, AppError>>(Ok(Some(me(Credential::Session { id: "s1".into() }))));
        round_trip::<Result<Option<Me>, AppError>>(Ok(Some(me(Credential::Token { id: "t1".into() }))));
        round_trip::<Result<Option<Me>, AppError>>(Ok(None));
        round_trip::<Result<Option<Me>, AppError>>(Err(AppError::Unauthenticated));
        let report = StatusReport {
            version: Some("0.1.0".into()),
            database: "postgres".into(),
            database_version: Some("PostgreSQL 15.14".into()),
            schema_version: Some(7),
            database_latency_us: 412,
            uptime_secs: 3600,
            instance: "catalyst-0".into(),
        };
        round_trip::<Result<StatusReport, AppError>>(Ok(report.clone()));
        round_trip::<Result<StatusReport, AppError>>(Ok(
            report.for_viewer(&me(Credential::Session { id: "s1".into() }).principal)
        ));
        round_trip::<Result<StatusReport, AppError>>(Err(AppError::Unavailable(
            "The database is down.".into(),
        )));
    }

    /// What the wizard's first step decodes (its draft, its console facts) survives postcard, with every
    /// origin of the SSH key.
    #[test]
    fn the_wizards_values_survive_postcard() {
        use crate::deployments::validate::ValidationContext;
        use crate::wizard::{OrgChoice, SshKeyOrigin, WizardBootstrap, WizardConfig, WizardDraft};
        let config = WizardConfig {
            validation: ValidationContext {
                pool_domains: vec!["omani.works".into()],
            },
            nameservers: vec!["ns1.example.net".into()],
            default_components: vec!["cilium".into(), "flux".into()],
        };
        for ssh_key in [
            SshKeyOrigin::None,
            SshKeyOrigin::Pasted,
            SshKeyOrigin::Generated {
                fingerprint: "SHA256:abc".into(),
            },
        ] {
            let mut draft = WizardDraft::new(&config);
            draft.org_id = "o1".into();
            draft.completed = 3;
            draft.ssh_key = ssh_key;
            round_trip::<Result<WizardDraft, AppError>>(Ok(draft.clone()));
            round_trip::<Result<WizardBootstrap, AppError>>(Ok(WizardBootstrap {
                draft,
                config: config.clone(),
                orgs: vec![OrgChoice {
                    id: "o1".into(),
                    name: "Acme".into(),
                }],
            }));
        }
        round_trip::<Result<(), AppError>>(Ok(()));
    }

    /// The stored draft (JSON) keeps its internally tagged SSH key origin, whatever postcard needs.
    #[test]
    fn the_ssh_key_origin_keeps_its_json_form() {
        use crate::wizard::SshKeyOrigin;
        let generated = SshKeyOrigin::Generated {
            fingerprint: "SHA256:abc".into(),
        };
        let json = serde_json::to_value(&generated).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"source": "generated", "fingerprint": "SHA256:abc"})
        );
        assert_eq!(
            serde_json::from_value::<SshKeyOrigin>(serde_json::json!({"source": "pasted"})).expect("reads"),
            SshKeyOrigin::Pasted
        );
        assert_eq!(
            serde_json::from_value::<SshKeyOrigin>(json).expect("reads"),
            generated
        );
        assert!(serde_json::from_value::<SshKeyOrigin>(serde_json::json!({"source": "stolen"})).is_err());
    }

    /// A truncated answer is an error, never a panic or a wrong value.
    #[test]
    fn truncated_bytes_are_an_error() {
        let bytes = encode(&me(Credential::Session { id: "s1".into() })).expect("encodes");
        assert!(decode::<Me>(&bytes[..bytes.len() - 3]).is_err());
    }
}
