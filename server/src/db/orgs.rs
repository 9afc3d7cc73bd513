//! Organisations, their members, and invitations to join them.

use app::auth::{InvitationSummary, Membership, OrgRole, Organisation};

use super::{Db, DbError, now_ms};
use crate::db::on_db;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct OrgRow {
    id: String,
    slug: String,
    name: String,
    created_at: i64,
}

impl From<OrgRow> for Organisation {
    fn from(r: OrgRow) -> Self {
        Organisation {
            id: r.id,
            slug: r.slug,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

/// Creates an organisation; a taken slug is `Ok(None)`.
pub async fn create(db: &Db, slug: &str, name: &str) -> Result<Option<Organisation>, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let row: Option<OrgRow> = on_db!(db, pool => {
        sqlx::query_as(
            "INSERT INTO organisations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name, created_at",
        )
        .bind(&id)
        .bind(slug)
        .bind(name)
        .bind(now_ms())
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(Into::into))
}

pub async fn by_id(db: &Db, id: &str) -> Result<Option<Organisation>, DbError> {
    let row: Option<OrgRow> = on_db!(db, pool => {
        sqlx::query_as("SELECT id, slug, name, created_at FROM organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(Into::into))
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Organisation>, DbError> {
    let row: Option<OrgRow> = on_db!(db, pool => {
        sqlx::query_as("SELECT id, slug, name, created_at FROM organisations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(Into::into))
}

/// Every organisation, by name.
pub async fn list(db: &Db) -> Result<Vec<Organisation>, DbError> {
    let rows: Vec<OrgRow> = on_db!(db, pool => {
        sqlx::query_as("SELECT id, slug, name, created_at FROM organisations ORDER BY name, slug")
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(Debug, sqlx::FromRow)]
struct MembershipRow {
    user_id: String,
    org_id: String,
    slug: String,
    name: String,
    role: String,
}

impl MembershipRow {
    fn into_membership(self) -> Option<(String, Membership)> {
        Some((
            self.user_id,
            Membership {
                org_id: self.org_id,
                org_slug: self.slug,
                org_name: self.name,
                role: OrgRole::parse(&self.role)?,
            },
        ))
    }
}

const MEMBERSHIP_SELECT: &str = "SELECT m.user_id, m.org_id, o.slug, o.name, m.role
     FROM memberships m JOIN organisations o ON o.id = m.org_id";

/// One user's memberships, by organisation name.
pub async fn memberships_of(db: &Db, user_id: &str) -> Result<Vec<Membership>, DbError> {
    let rows: Vec<MembershipRow> = on_db!(db, pool => {
        sqlx::query_as(&format!("{MEMBERSHIP_SELECT} WHERE m.user_id = $1 ORDER BY o.name, o.slug"))
            .bind(user_id)
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(MembershipRow::into_membership)
        .map(|(_, m)| m)
        .collect())
}

/// Every membership, as (user id, membership), by organisation name.
pub async fn all_memberships(db: &Db) -> Result<Vec<(String, Membership)>, DbError> {
    let rows: Vec<MembershipRow> = on_db!(db, pool => {
        sqlx::query_as(&format!("{MEMBERSHIP_SELECT} ORDER BY o.name, o.slug"))
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .filter_map(MembershipRow::into_membership)
        .collect())
}

pub async fn role_of(db: &Db, org_id: &str, user_id: &str) -> Result<Option<OrgRole>, DbError> {
    let role: Option<String> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(role.as_deref().and_then(OrgRole::parse))
}

/// Adds a member or changes their role.
pub async fn set_member(db: &Db, org_id: &str, user_id: &str, role: OrgRole) -> Result<(), DbError> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(())
}

/// Removes a member; returns whether they were one.
pub async fn remove_member(db: &Db, org_id: &str, user_id: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

pub async fn count_role(db: &Db, org_id: &str, role: OrgRole) -> Result<i64, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2")
            .bind(org_id)
            .bind(role.as_str())
            .fetch_one(pool)
            .await?
    }))
}

// ---- invitations ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub org_id: String,
    pub org_name: String,
    pub role: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

impl InvitationRow {
    pub fn role(&self) -> OrgRole {
        OrgRole::parse(&self.role).unwrap_or(OrgRole::Viewer)
    }

    pub fn into_summary(self) -> InvitationSummary {
        InvitationSummary {
            role: self.role(),
            id: self.id,
            email: self.email,
            org_id: self.org_id,
            org_name: self.org_name,
            created_by: self.created_by,
            expires_at: self.expires_at,
        }
    }
}

const INVITATION_SELECT: &str = "SELECT i.id, i.email, i.org_id, o.name AS org_name, i.role, i.created_by,
            i.created_at, i.expires_at, i.accepted_at
     FROM invitations i JOIN organisations o ON o.id = i.org_id";

pub struct NewInvitation<'a> {
    pub token_hash: &'a str,
    pub email: &'a str,
    pub org_id: &'a str,
    pub role: OrgRole,
    pub created_by: &'a str,
    pub expires_at: i64,
}

pub async fn create_invitation(db: &Db, i: &NewInvitation<'_>) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO invitations (id, token_hash, email, org_id, role, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(i.token_hash)
        .bind(i.email)
        .bind(i.org_id)
        .bind(i.role.as_str())
        .bind(i.created_by)
        .bind(now_ms())
        .bind(i.expires_at)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(id)
}

/// An open (not accepted, not expired) invitation by its link's secret hash.
pub async fn open_invitation(db: &Db, token_hash: &str) -> Result<Option<InvitationRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!(
            "{INVITATION_SELECT} WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(pool)
        .await?
    }))
}

/// Marks an invitation used; false if someone else used it first.
pub async fn accept_invitation(db: &Db, id: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => {
        sqlx::query("UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL")
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// Open invitations to these organisations (all when `org_ids` is `None`), newest first.
pub async fn open_invitations(db: &Db, org_ids: Option<&[String]>) -> Result<Vec<InvitationRow>, DbError> {
    let now = now_ms();
    let rows: Vec<InvitationRow> = on_db!(db, pool => {
        sqlx::query_as(&format!(
            "{INVITATION_SELECT} WHERE i.accepted_at IS NULL AND i.expires_at > $1 ORDER BY i.created_at DESC"
        ))
        .bind(now)
        .fetch_all(pool)
        .await?
    });
    Ok(match org_ids {
        None => rows,
        Some(ids) => rows.into_iter().filter(|r| ids.contains(&r.org_id)).collect(),
    })
}

pub async fn invitation_by_id(db: &Db, id: &str) -> Result<Option<InvitationRow>, DbError> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(&format!("{INVITATION_SELECT} WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn delete_invitation(db: &Db, id: &str) -> Result<bool, DbError> {
    let n = on_db!(db, pool => sqlx::query("DELETE FROM invitations WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
    Ok(n > 0)
}
