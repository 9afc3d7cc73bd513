//! `ApiTokensPort`: the caller's own API tokens (`Authorization: Bearer cat_…`). Only a SHA-256 of a token
//! is stored; the secret is shown once, in the answer that creates it. A token acts with its owner's roles
//! (resolved in [`super::callers`]).

use app::audit::Outcome;
use app::auth::policy::{self, Action};
use app::auth::validate;
use app::auth::{ApiTokenInfo, Credential, NewApiToken, Principal, RequestMeta};
use app::error::AppError;
use app::ports::ApiTokensPort;
use async_trait::async_trait;

use super::audit::Actor;
use super::callers::TOKEN_PREFIX;
use super::service::{AuthService, invalid};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{self, now_ms};
use crate::error::Error;

/// Live API tokens one person may have.
pub const MAX_TOKENS_PER_USER: i64 = 50;

#[async_trait]
impl ApiTokensPort for AuthService {
    async fn tokens(&self, me: &Principal) -> Result<Vec<ApiTokenInfo>, AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        Ok(db::tokens::list_for_user(&self.db, &me.user_id)
            .await
            .map_err(Error::from)?)
    }

    async fn create_token(
        &self,
        me: &Principal,
        name: &str,
        expires_in_days: Option<u32>,
        meta: &RequestMeta,
    ) -> Result<NewApiToken, AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        if matches!(me.credential, Credential::Token { .. }) {
            return Err(AppError::BadRequest(
                "An API token cannot create API tokens; create them in the console while signed in.".into(),
            ));
        }
        let name = validate::token_name("name", name).map_err(|e| invalid(vec![e]))?;
        if db::tokens::count_live_for_user(&self.db, &me.user_id)
            .await
            .map_err(Error::from)?
            >= MAX_TOKENS_PER_USER
        {
            return Err(AppError::Conflict(format!(
                "You have {MAX_TOKENS_PER_USER} API tokens; revoke some you no longer use first."
            )));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_token(32));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 4).collect();
        let expires_at = expires_in_days.map(|d| now_ms() + i64::from(d) * 86_400_000);
        let info = db::tokens::create(
            &self.db,
            &db::tokens::NewToken {
                user_id: &me.user_id,
                name: &name,
                token_hash: &sha256_hex(&secret),
                prefix: &prefix,
                expires_at,
            },
        )
        .await
        .map_err(Error::from)?;
        let detail = match expires_in_days {
            Some(d) => format!("Created API token “{name}” ({prefix}…), valid for {d} days."),
            None => format!("Created API token “{name}” ({prefix}…), valid until revoked."),
        };
        self.record(
            Actor::of(me),
            "tokens.created",
            &info.id,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(NewApiToken { info, secret })
    }

    async fn revoke_token(&self, me: &Principal, id: &str, meta: &RequestMeta) -> Result<(), AppError> {
        policy::require(me, Action::OwnTokensManage, None)?;
        let name = db::tokens::revoke(&self.db, &me.user_id, id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| AppError::NotFound("You have no live API token with this id.".into()))?;
        self.forget_callers();
        let detail = format!("Revoked API token “{name}”.");
        self.record(
            Actor::of(me),
            "tokens.revoked",
            id,
            Outcome::Success,
            &detail,
            meta,
        )
        .await;
        Ok(())
    }
}
