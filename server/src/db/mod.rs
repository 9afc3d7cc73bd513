//! Storage on SQLite (embedded default) or Postgres (production), chosen by the URL scheme.
//!
//! One implementation serves both: [`Db`] holds a native sqlx pool for either backend, and every query is
//! written once in the SQL both dialects share and run through [`on_db!`], which compiles the same body
//! against each pool type. Column types are kept to what both decode identically (`BIGINT` as `i64`,
//! `TEXT`, `BOOLEAN`, `BLOB`/`BYTEA` as bytes); timestamps are milliseconds since the epoch. Where the dialects
//! differ (row locks, `LISTEN/NOTIFY`) the code matches on the backend explicitly. The store test suite runs
//! unchanged against both backends and is what keeps them equal.

pub mod audit;
pub mod bearers;
pub mod deployment_events;
pub mod deployments;
pub mod dns;
pub mod drafts;
pub mod hetzner_cache;
pub mod jobs;
pub mod leases;
pub mod orgs;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Runs `$body` with `$pool` bound to the native pool of whichever backend `$db` is. Both arms must produce
/// the same type, so statements end in e.g. `.rows_affected()` rather than the backend's own result type.
/// Crate-private: the stores (`db/` and each capability's `store.rs`) are the only places SQL is written.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A parsed `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite { path: PathBuf },
    SqliteMemory,
    Postgres { url: String },
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        let url = url.trim();
        if url == "sqlite::memory:" {
            return Ok(DbUrl::SqliteMemory);
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err("the SQLite URL has no file path; use e.g. sqlite://data/catalyst.db".into());
            }
            return Ok(DbUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url).map_err(|e| {
                format!(
                    "“{}” is not a valid Postgres URL ({e}); use postgres://USER:PASSWORD@HOST:PORT/DB",
                    redact(url)
                )
            })?;
            return Ok(DbUrl::Postgres { url: url.to_string() });
        }
        Err(format!(
            "unsupported database URL “{}”; use sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB",
            redact(url)
        ))
    }

    /// The URL without its password, for logs and messages.
    pub fn display(&self) -> String {
        match self {
            DbUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DbUrl::SqliteMemory => "sqlite::memory:".into(),
            DbUrl::Postgres { url } => redact(url),
        }
    }
}

/// Replaces the password of a URL's userinfo with `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection pool to either backend.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

impl Db {
    pub async fn connect(url: &DbUrl) -> Result<Db, DbError> {
        let connect_err = |source| DbError::Connect {
            url: url.display(),
            source,
        };
        match url {
            DbUrl::Sqlite { .. } | DbUrl::SqliteMemory => {
                let options = match url {
                    DbUrl::Sqlite { path } => {
                        SqliteConnectOptions::new().filename(path).create_if_missing(true)
                    }
                    _ => SqliteConnectOptions::from_str("sqlite::memory:").map_err(connect_err)?,
                }
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
                // An in-memory database exists per connection: keep exactly one.
                let max = if matches!(url, DbUrl::SqliteMemory) { 1 } else { 8 };
                let pool = SqlitePoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Ok(Db::Sqlite(pool))
            }
            DbUrl::Postgres { url: raw } => {
                let options = PgConnectOptions::from_str(raw).map_err(connect_err)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(connect_err)?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration of this backend's set. Safe to run from several replicas at once:
    /// sqlx takes an advisory lock on Postgres and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<(), DbError> {
        on_db!(self, pool => self.migrator().run(pool).await?);
        Ok(())
    }

    /// The newest migration version this build knows.
    pub fn latest_known_migration(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// The newest migration applied to the database (0 if none).
    pub async fn applied_migration(&self) -> Result<i64, DbError> {
        let version: Option<i64> = on_db!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(pool)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    /// A trivial round trip.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await?.rows_affected());
        Ok(())
    }

    /// The database server's version string.
    pub async fn server_version(&self) -> Result<String, DbError> {
        Ok(match self {
            Db::Sqlite(pool) => {
                sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                let v: String = sqlx::query_scalar("SHOW server_version").fetch_one(pool).await?;
                v.split_whitespace().next().unwrap_or_default().to_string()
            }
        })
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await);
    }
}

/// Milliseconds since the Unix epoch, as stored in every timestamp column.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_urls() {
        assert_eq!(
            DbUrl::parse("sqlite://data/x.db"),
            Ok(DbUrl::Sqlite {
                path: "data/x.db".into()
            })
        );
        assert_eq!(
            DbUrl::parse("sqlite:/tmp/x.db"),
            Ok(DbUrl::Sqlite {
                path: "/tmp/x.db".into()
            })
        );
        assert_eq!(DbUrl::parse("sqlite::memory:"), Ok(DbUrl::SqliteMemory));
        assert!(matches!(
            DbUrl::parse("postgres://u:p@localhost:5432/db"),
            Ok(DbUrl::Postgres { .. })
        ));
        assert!(matches!(
            DbUrl::parse("postgresql://localhost/db"),
            Ok(DbUrl::Postgres { .. })
        ));
    }

    #[test]
    fn rejects_others_without_leaking_passwords() {
        let e = DbUrl::parse("nonsense").expect_err("rejected");
        assert!(e.contains("unsupported database URL"), "{e}");
        let e = DbUrl::parse("mysql://root:hunter2@db/x").expect_err("rejected");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(DbUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn migration_sets_are_in_lockstep() {
        let names = |m: &sqlx::migrate::Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS));
        assert!(SQLITE_MIGRATIONS.iter().next().is_some());
    }

    /// What one migration step does to the schema, by name: the tables it creates, alters or drops, the
    /// columns it adds, drops or renames, and the indexes it creates or drops. Dialects spell types and
    /// conflicts differently, so the SQL text cannot be compared; the objects it touches can.
    fn objects(sql: &str) -> std::collections::BTreeSet<String> {
        let without_comments = sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
            .to_ascii_lowercase();
        let patterns = [
            r"create\s+table\s+(?:if\s+not\s+exists\s+)?(\w+)",
            r"drop\s+table\s+(?:if\s+exists\s+)?(\w+)",
            r"alter\s+table\s+(\w+\s+(?:add|drop|rename)\s+(?:column\s+)?(?:if\s+(?:not\s+)?exists\s+)?\w+)",
            r"create\s+(?:unique\s+)?index\s+(?:if\s+not\s+exists\s+)?(\w+\s+on\s+\w+)",
            r"drop\s+index\s+(?:if\s+exists\s+)?(\w+)",
        ];
        let mut found = std::collections::BTreeSet::new();
        for (kind, pattern) in ["create", "drop", "alter", "index", "drop index"]
            .iter()
            .zip(patterns)
        {
            let re = regex::Regex::new(pattern).expect("pattern");
            for c in re.captures_iter(&without_comments) {
                let what = c[1].split_whitespace().collect::<Vec<_>>().join(" ");
                found.insert(format!("{kind} {what}"));
            }
        }
        found
    }

    /// The two sets are the same steps: each step creates, alters and drops the same tables, columns and
    /// indexes on both backends (a step written for one backend and forgotten, or a column added to one only,
    /// fails here; the integration test `it::migrations` compares the schemas the sets build).
    #[test]
    fn each_migration_step_touches_the_same_objects_on_both_backends() {
        let mut steps = 0;
        for (lite, pg) in SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS.iter()) {
            let (a, b) = (objects(&lite.sql), objects(&pg.sql));
            assert!(!a.is_empty(), "step {} changes nothing we can name", lite.version);
            assert_eq!(
                a, b,
                "step {} {} differs between the backends",
                lite.version, lite.description
            );
            steps += 1;
        }
        assert_eq!(steps, SQLITE_MIGRATIONS.iter().count());
        // The comparison sees what it must: a column added on one side only.
        assert_ne!(
            objects("ALTER TABLE t ADD COLUMN a TEXT; ALTER TABLE t ADD COLUMN b TEXT;"),
            objects("ALTER TABLE t ADD COLUMN a TEXT;")
        );
        assert_ne!(
            objects("CREATE INDEX i ON t (a);"),
            objects("CREATE INDEX j ON t (a);")
        );
    }
}
