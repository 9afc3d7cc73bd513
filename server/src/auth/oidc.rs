//! Single sign-on with OpenID Connect (authorization code flow with PKCE, state and nonce).
//!
//! `GET /sovereign/auth/oidc/start?next=…` stores a login in flight (state hash, nonce, PKCE verifier) in
//! the database — any replica can finish it — puts the state in a short-lived cookie bound to this browser,
//! and sends the browser to the provider. `GET /sovereign/auth/oidc/callback` checks the state against that
//! cookie, takes the login (once), exchanges the code, verifies the ID token (signature, issuer, audience,
//! expiry, nonce) and reads e-mail and role claims from the ID token and the userinfo endpoint. Which
//! account that identity is (an existing account only ever after its password: the linking rule), and the
//! role map, are [`super::sso`]'s.

use std::time::{Duration, Instant};

use app::audit::Outcome;
use app::auth::RequestMeta;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::audit::Actor;
use super::config::OidcSettings;
use super::service::Auth;
use super::sso::{Identity, SsoFailure, SsoSignIn};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{self, now_ms};

/// The cookie that binds a login in flight to the browser that started it.
const STATE_COOKIE: &str = "catalyst_oidc_state";
/// How long a login may stay at the provider.
const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long discovered provider metadata (endpoints, keys) is reused.
const METADATA_TTL: Duration = Duration::from_secs(15 * 60);

/// Every claim we did not model, kept to read the role claim from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type Fields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<Fields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What the single sign-on handlers need; the router's state provides it (`FromRef`).
#[derive(Clone)]
pub struct Sso {
    pub auth: Auth,
    /// `None` when `--oidc-issuer` is not set.
    pub oidc: Option<std::sync::Arc<Oidc>>,
}

pub struct Oidc {
    pub settings: OidcSettings,
    redirect: RedirectUrl,
    http: openidconnect::reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings, console_url: &str) -> Result<Self, String> {
        let redirect =
            RedirectUrl::new(format!("{console_url}/auth/oidc/callback")).map_err(|e| e.to_string())?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a provider point us anywhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            settings,
            redirect,
            http,
            metadata: RwLock::new(None),
        })
    }

    async fn client(&self) -> Result<OidcClient, SsoFailure> {
        let cached = self.metadata.read().await.clone();
        let metadata = match cached {
            Some((m, at)) if at.elapsed() < METADATA_TTL => m,
            _ => {
                let issuer = IssuerUrl::new(self.settings.issuer.as_str().trim_end_matches('/').to_string())
                    .map_err(|_| SsoFailure::Failed)?;
                let m = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
                    tracing::warn!(error = %e, issuer = %self.settings.issuer, "single sign-on: discovery failed");
                    SsoFailure::Unreachable
                })?;
                *self.metadata.write().await = Some((m.clone(), Instant::now()));
                m
            }
        };
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone()))
    }

    /// Starts a login: returns the provider's authorization URL and the state (for the browser cookie).
    pub async fn start(&self, auth: &Auth, next: &str) -> Result<(String, String), SsoFailure> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token(32);
        let state_for_request = state.clone();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                move || CsrfToken::new(state_for_request),
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, _, nonce) = request.url();
        db::sessions::put_oidc_login(
            &auth.db,
            &sha256_hex(&state),
            nonce.secret(),
            verifier.secret(),
            next,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "single sign-on: cannot store the login in flight");
            SsoFailure::Failed
        })?;
        Ok((url.to_string(), state))
    }

    /// Finishes a login: checks state, exchanges the code, verifies the tokens. Returns who signed in and
    /// where they were going.
    pub async fn finish(
        &self,
        auth: &Auth,
        code: &str,
        state: &str,
        cookie_state: Option<&str>,
    ) -> Result<(Identity, String), SsoFailure> {
        if cookie_state != Some(state) {
            return Err(SsoFailure::Expired);
        }
        let login = db::sessions::take_oidc_login(&auth.db, &sha256_hex(state))
            .await
            .map_err(|_| SsoFailure::Failed)?
            .ok_or(SsoFailure::Expired)?;
        if now_ms() - login.created_at > LOGIN_TTL.as_millis() as i64 {
            return Err(SsoFailure::Expired);
        }
        let client = self.client().await?;
        let token: TokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| {
                tracing::error!(error = %e, "single sign-on: the provider has no token endpoint");
                SsoFailure::Failed
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "single sign-on: code exchange failed");
                SsoFailure::Denied
            })?;
        let id_token = token.extra_fields().id_token().ok_or_else(|| {
            tracing::warn!("single sign-on: the provider returned no ID token");
            SsoFailure::Failed
        })?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(login.nonce))
            .map_err(|e| {
                tracing::warn!(error = %e, "single sign-on: the ID token did not verify");
                SsoFailure::Failed
            })?;
        let subject = claims.subject().to_string();
        let mut email = claims.email().map(|e| e.to_string());
        let mut verified = claims.email_verified();
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        let mut roles = role_values(&claims.additional_claims().rest, &self.settings.role_claim);
        // The userinfo endpoint often carries what the ID token leaves out.
        if let Ok(request) = client.user_info(token.access_token().clone(), Some(claims.subject().clone())) {
            match request
                .request_async::<OtherClaims, _, CoreGenderClaim>(&self.http)
                .await
            {
                Ok(info) => {
                    let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = info;
                    if email.is_none() {
                        email = info.email().map(|e| e.to_string());
                        verified = info.email_verified();
                    }
                    if name.is_none() {
                        name = info.name().and_then(|n| n.get(None)).map(|n| n.to_string());
                    }
                    for r in role_values(&info.additional_claims().rest, &self.settings.role_claim) {
                        if !roles.contains(&r) {
                            roles.push(r);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "single sign-on: userinfo request failed"),
            }
        }
        let email = email
            .map(|e| app::auth::validate::normalize_email(&e))
            .filter(|e| app::auth::validate::email("email", e).is_ok())
            .ok_or(SsoFailure::Email)?;
        if verified == Some(false) {
            return Err(SsoFailure::Email);
        }
        Ok((
            Identity {
                issuer: claims.issuer().to_string(),
                email_verified: verified,
                subject,
                email,
                name: name.unwrap_or_default(),
                roles,
            },
            login.next,
        ))
    }
}

/// The role claim's values: a string, a list of strings, or (Keycloak-style) a nested `realm_access.roles`
/// when the claim name has a dot.
pub fn role_values(claims: &serde_json::Map<String, serde_json::Value>, claim: &str) -> Vec<String> {
    let mut value = None;
    for (i, part) in claim.split('.').enumerate() {
        value = if i == 0 {
            claims.get(part)
        } else {
            value.and_then(|v| v.get(part))
        };
    }
    match value {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /sovereign/auth/oidc/start`
pub async fn start(State(state): State<Sso>, Query(q): Query<StartQuery>) -> Response {
    let Some(oidc) = state.oidc.as_ref() else {
        return login_error("off");
    };
    let next = app::auth::safe_next(q.next.as_deref().unwrap_or_default());
    match oidc.start(&state.auth, &next).await {
        Ok((url, st)) => {
            let mut res = see_other(&url);
            let cookie = format!(
                "{STATE_COOKIE}={st}; Path=/sovereign/auth/oidc; Max-Age={}; HttpOnly; SameSite=Lax{}",
                LOGIN_TTL.as_secs(),
                if state.auth.settings.secure_cookies {
                    "; Secure"
                } else {
                    ""
                }
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(f) => login_error(f.code()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /sovereign/auth/oidc/callback`
pub async fn callback(
    State(state): State<Sso>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
    axum::Extension(meta): axum::Extension<RequestMeta>,
) -> Response {
    let Some(oidc) = state.oidc.as_ref() else {
        return login_error("off");
    };
    let clear = format!(
        "{STATE_COOKIE}=; Path=/sovereign/auth/oidc; Max-Age=0; HttpOnly; SameSite=Lax{}",
        if state.auth.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    let result = match (q.code, q.state, q.error) {
        (_, _, Some(error)) => {
            tracing::info!(error, "single sign-on: the provider returned an error");
            Err(SsoFailure::Denied)
        }
        (Some(code), Some(st), None) => {
            let cookie_state = super::session::cookie_value(&headers, STATE_COOKIE);
            match oidc.finish(&state.auth, &code, &st, cookie_state).await {
                Ok((identity, next)) => {
                    state
                        .auth
                        .sso_sign_in(&identity, &next, &meta)
                        .await
                        .map(|signed_in| match signed_in {
                            SsoSignIn::Session(cookie) => (cookie, next),
                            // The e-mail belongs to an existing account: its password first (the login page asks).
                            SsoSignIn::ProveAccount(cookie) => {
                                (cookie, format!("{}?link=sso", app::routes::page("login")))
                            }
                        })
                }
                Err(f) => Err(f),
            }
        }
        _ => Err(SsoFailure::Expired),
    };
    let mut res = match result {
        Ok((cookie, next)) => {
            let mut res = see_other(&next);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(f) => {
            state
                .auth
                .record(
                    Actor::Anonymous("single sign-on"),
                    "auth.login_failed",
                    "",
                    Outcome::Failure,
                    &format!("Single sign-on failed ({}).", f.code()),
                    &meta,
                )
                .await;
            login_error(f.code())
        }
    };
    if let Ok(v) = HeaderValue::from_str(&clear) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn login_error(code: &str) -> Response {
    see_other(&format!("{}?sso={code}", app::routes::page("login")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        json.as_object().cloned().expect("object")
    }

    #[test]
    fn role_claims_as_string_list_or_nested() {
        assert_eq!(
            role_values(&claims(serde_json::json!({"groups": ["a", "b", 3]})), "groups"),
            vec!["a", "b"]
        );
        assert_eq!(
            role_values(&claims(serde_json::json!({"role": "admins"})), "role"),
            vec!["admins"]
        );
        assert_eq!(
            role_values(
                &claims(serde_json::json!({"realm_access": {"roles": ["x"]}})),
                "realm_access.roles"
            ),
            vec!["x"]
        );
        assert!(role_values(&claims(serde_json::json!({})), "groups").is_empty());
    }
}
