//! The two migration sets build the same schema: the same tables, columns (name, nullability, kind of type)
//! and indexes on SQLite and on Postgres. `db::tests::each_migration_step_touches_the_same_objects_on_both_backends`
//! compares the steps one by one; this compares what they add up to, as each database reports it.

use std::collections::BTreeSet;

use server::db::Db;

/// Indexes only one backend has, with the reason. Empty today; a backend-only index (e.g. a Postgres
/// trigram index for search, where SQLite uses a lowered-text index) goes here with its reason.
const ONE_BACKEND_ONLY: &[&str] = &[];

/// The kind of a column's type, as both dialects' spellings of it decode in `db/`.
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("bool") {
        "boolean"
    } else if t.contains("blob") || t.contains("bytea") {
        "bytes"
    } else if t.contains("text") || t.contains("char") {
        "text"
    } else if t.contains("real") || t.contains("double") || t.contains("float") || t.contains("numeric") {
        "number"
    } else {
        "other"
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Schema {
    columns: BTreeSet<String>,
    indexes: BTreeSet<String>,
}

async fn schema(db: &Db) -> Schema {
    let mut columns = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    match db {
        Db::Sqlite(pool) => {
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await
            .expect("tables");
            for (table,) in tables {
                let cols: Vec<(String, String, i64, i64)> =
                    sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
                        .bind(&table)
                        .fetch_all(pool)
                        .await
                        .expect("columns");
                for (name, ty, notnull, pk) in cols {
                    let null = if notnull != 0 || pk != 0 {
                        "not null"
                    } else {
                        "null"
                    };
                    columns.insert(format!("{table}.{name} {} {null}", kind(&ty)));
                }
            }
            let idx: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
            )
            .fetch_all(pool)
            .await
            .expect("indexes");
            indexes.extend(idx.into_iter().map(|(n, t)| format!("{t}.{n}")));
        }
        Db::Postgres(pool) => {
            let cols: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
                 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await
            .expect("columns");
            for (table, name, ty, nullable) in cols {
                let null = if nullable == "NO" { "not null" } else { "null" };
                columns.insert(format!("{table}.{name} {} {null}", kind(&ty)));
            }
            // Indexes created by CREATE INDEX, not the ones backing PRIMARY KEY / UNIQUE constraints.
            let idx: Vec<(String, String)> = sqlx::query_as(
                "SELECT indexname::text, tablename::text FROM pg_indexes
                 WHERE schemaname = current_schema() AND tablename <> '_sqlx_migrations'
                 AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            )
            .fetch_all(pool)
            .await
            .expect("indexes");
            indexes.extend(idx.into_iter().map(|(n, t)| format!("{t}.{n}")));
        }
    }
    indexes.retain(|i| !ONE_BACKEND_ONLY.iter().any(|o| i.ends_with(&format!(".{o}"))));
    Schema { columns, indexes }
}

#[tokio::test]
async fn both_migration_sets_build_the_same_schema() {
    let lite = schema(&crate::common::sqlite().await).await;
    let pg = schema(&crate::common::postgres().await).await;
    assert!(
        lite.columns.iter().any(|c| c.starts_with("deployments.id ")),
        "the schema was read: {lite:?}"
    );
    assert!(!lite.indexes.is_empty(), "indexes were read: {lite:?}");
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
    assert!(
        lite == pg,
        "the backends' schemas differ.\nonly on SQLite: {:?} {:?}\nonly on Postgres: {:?} {:?}",
        only(&lite.columns, &pg.columns),
        only(&lite.indexes, &pg.indexes),
        only(&pg.columns, &lite.columns),
        only(&pg.indexes, &lite.indexes),
    );
}
