//! Hostile input (issue 18.9): every REST endpoint and every server function — enumerated from the route
//! walk (`auth_http::every_route`: the registered server functions and the REST list), so a new one is
//! covered without anyone adding it here — gets [`bodies`] (wrong types, missing fields, huge strings, deep
//! nesting, invalid UTF-8, wrong and missing content types, other encodings …), signed in and signed out.
//! No answer may be a 5xx; every REST answer is JSON, every server-function error is the app's error
//! encoding; and the database is the same before and after each endpoint's barrage. On SQLite and Postgres.

use crate::auth_http::every_route;
use crate::common;

use std::net::SocketAddr;

use app::auth::{OrgRole, PlatformRole};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode};
use leptos::server_fn::ServerFn;
use server::db::Db;
use server::state::AppState;

on_both_backends!(no_malformed_body_gets_a_5xx_a_foreign_encoding_or_writes_anything);

/// One malformed request body: what it is, its content type (if any), the bytes.
struct Hostile {
    what: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn hostile(what: &'static str, content_type: Option<&'static str>, body: impl Into<Vec<u8>>) -> Hostile {
    Hostile {
        what,
        content_type,
        body: body.into(),
    }
}

const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// The barrage: at least 20 kinds of malformed bodies.
fn bodies() -> Vec<Hostile> {
    let deep_array = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    let huge = "x".repeat(3 * 1024 * 1024);
    let many_keys = format!(
        "{{{}}}",
        (0..50_000)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let wrong_types = r#"{"name":1,"email":[],"password":{},"token":true,"orgId":null,"org_id":7,"id":[1],
        "value":{"a":[{}]},"phase":42,"component":false,"confirm":{},"hetznerToken":[],"request":"x",
        "theme":null,"role":1.5,"next":{"a":1},"fqdn":[],"expires_in_days":-1,"draft":"[]","input":9}"#;
    vec![
        hostile("an empty body", None, ""),
        hostile("an empty JSON body", JSON, ""),
        hostile("an empty object (every field missing)", JSON, "{}"),
        hostile("null", JSON, "null"),
        hostile("an array", JSON, "[]"),
        hostile("a bare string", JSON, r#""hello""#),
        hostile("a bare number", JSON, "12345"),
        hostile("truncated JSON", JSON, r#"{"name": "#),
        hostile("wrong types for every usual field", JSON, wrong_types),
        hostile(
            "numbers out of every range",
            JSON,
            r#"{"page":1e400,"perPage":-99999999999999999999,"after":18446744073709551616,"limit":-1,"expires_in_days":4294967296}"#,
        ),
        hostile(
            "invalid UTF-8 as JSON",
            JSON,
            vec![0xff, 0xfe, 0xfd, b'{', 0xc3, 0x28],
        ),
        hostile(
            "invalid UTF-8 inside a JSON string",
            JSON,
            b"{\"name\":\"\xed\xa0\x80\xff\"}".to_vec(),
        ),
        hostile(
            "a lone surrogate escape",
            JSON,
            r#"{"name":"\ud800","email":"\udfff@x"}"#,
        ),
        hostile(
            "NULs and control characters",
            JSON,
            "{\"name\":\"a\\u0000b\\u001b[31m\",\"email\":\"\\u0000\"}",
        ),
        hostile("deeply nested arrays", JSON, deep_array),
        hostile("deeply nested objects", JSON, deep_object),
        hostile(
            "a 3 MiB string",
            JSON,
            format!(r#"{{"name":"{huge}","email":"{huge}"}}"#),
        ),
        hostile("50,000 keys", JSON, many_keys),
        hostile(
            "duplicate keys",
            JSON,
            r#"{"name":"a","name":"b","token":"x","token":1}"#,
        ),
        hostile("malformed form encoding", FORM, "a=%ZZ&&==&%&b=%c3%28&=x"),
        hostile(
            "a form with a 3 MiB value",
            FORM,
            format!("name={huge}&email={huge}"),
        ),
        hostile(
            "form fields of the wrong shape",
            FORM,
            "email[]=x&password[a]=1&next[0][1]=2&page=-1&perPage=1e400",
        ),
        hostile("JSON sent as a form", FORM, r#"{"email":"a@b.c"}"#),
        hostile("a form sent as JSON", JSON, "email=a%40b.c&password=x"),
        hostile("JSON as text/plain", Some("text/plain"), r#"{"name":"x"}"#),
        hostile(
            "an unknown content type",
            Some("application/x-unknown"),
            "\u{1}\u{2}\u{3}",
        ),
        hostile(
            "a content type with a strange charset",
            Some("application/json; charset=utf-16"),
            "\u{feff}{}",
        ),
        hostile(
            "XML",
            Some("application/xml"),
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
        ),
        hostile(
            "broken multipart",
            Some("multipart/form-data; boundary=zz"),
            "--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--z",
        ),
        hostile(
            "random bytes as postcard",
            Some("application/x-postcard"),
            vec![0xff; 64],
        ),
        hostile(
            "a truncated postcard value",
            Some("application/x-postcard"),
            vec![0x05, b'a'],
        ),
        hostile(
            "random bytes without a content type",
            None,
            (0..=255u8).collect::<Vec<_>>(),
        ),
    ]
}

/// Every registered server function is in `app::server_fns` (the server refuses a call whose
/// `Content-Type` is not its function's; a function missing there would decode any body).
#[test]
fn every_server_function_declares_its_input_encoding() {
    let missing: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(path, _)| app::server_fns::input_content_type(path).is_none())
        .map(|(path, method)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "add these server functions to app::server_fns::INPUT_CONTENT_TYPES: {missing:?}"
    );
}

/// Tables and the columns compared (activity timestamps that reading may touch are left out).
async fn snapshot(db: &Db) -> Vec<String> {
    const SKIPPED: &[&str] = &["last_seen_at", "last_used_at", "last_login_at"];
    let tables: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(pool)
        .await
        .expect("tables"),
        Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations' ORDER BY 1",
        )
        .fetch_all(pool)
        .await
        .expect("tables"),
    };
    let mut rows = Vec::new();
    for table in tables {
        let columns: Vec<String> = match db {
            Db::Sqlite(pool) => sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(pool)
                .await
                .expect("columns"),
            Db::Postgres(pool) => sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(&table)
            .fetch_all(pool)
            .await
            .expect("columns"),
        };
        let columns: Vec<String> = columns
            .into_iter()
            .filter(|c| !SKIPPED.contains(&c.as_str()))
            .collect();
        let mut values: Vec<String> = match db {
            Db::Sqlite(pool) => {
                let expr = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join("||'|'||");
                sqlx::query_scalar(&format!("SELECT {expr} FROM \"{table}\""))
                    .fetch_all(pool)
                    .await
                    .expect("rows")
            }
            Db::Postgres(pool) => {
                let expr = columns
                    .iter()
                    .map(|c| format!("coalesce(\"{c}\"::text, 'NULL')"))
                    .collect::<Vec<_>>()
                    .join(",");
                sqlx::query_scalar(&format!("SELECT concat_ws('|', {expr}) FROM \"{table}\""))
                    .fetch_all(pool)
                    .await
                    .expect("rows")
            }
        };
        values.sort();
        rows.extend(values.into_iter().map(|v| format!("{table}: {v}")));
    }
    rows
}

/// What changed between two snapshots, for the failure message.
fn diff(before: &[String], after: &[String]) -> String {
    let gone: Vec<&String> = before.iter().filter(|r| !after.contains(r)).collect();
    let new: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    let cut = |r: &&String| r.chars().take(300).collect::<String>();
    format!(
        "removed {:?}; added {:?}",
        gone.iter().map(cut).collect::<Vec<_>>(),
        new.iter().map(cut).collect::<Vec<_>>()
    )
}

/// Server functions that take no input: any body is a well-formed call of theirs, so what they do is not
/// a write caused by malformed input. Signing out is the one among them that writes.
fn takes_no_input(path: &str) -> bool {
    path == app::auth::api::Logout::PATH
}

async fn no_malformed_body_gets_a_5xx_a_foreign_encoding_or_writes_anything(db: Db) {
    let state: AppState = server::app_state(common::memory_settings(), db.clone());
    let router: Router = server::http::router(state.clone());
    let mut n = 0u32;
    let (_, mut cookie) = common::sign_in(
        &state,
        "admin@example.com",
        Some(PlatformRole::Superadmin),
        Some(OrgRole::Owner),
    )
    .await;
    let targets: Vec<(Method, String)> = every_route()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/sovereign/api/v1/") || p.starts_with(app::routes::SERVER_FN_PREFIX))
        .collect();
    let functions = targets
        .iter()
        .filter(|(_, p)| p.starts_with(app::routes::SERVER_FN_PREFIX))
        .count();
    assert!(
        functions >= 30,
        "the walk sees every server function ({functions})"
    );
    assert!(targets.len() - functions >= 15, "the walk sees the REST API");
    let bodies = bodies();
    assert!(bodies.len() >= 20);
    let mut problems = Vec::new();
    for signed_in in [false, true] {
        for (method, path) in &targets {
            let before = snapshot(&db).await;
            for hostile in &bodies {
                n += 1;
                let mut req = Request::builder()
                    .method(method.clone())
                    .uri(format!("{path}?page=-1&perPage=%ZZ&after=x&limit=1e99"))
                    .header("origin", common::ORIGIN);
                if let Some(ct) = hostile.content_type {
                    req = req.header("content-type", ct);
                }
                if signed_in {
                    req = req.header("cookie", &cookie);
                }
                let mut req = req.body(Body::from(hostile.body.clone())).expect("request");
                // A different client address for each request: the per-address limits are not under test.
                req.extensions_mut().insert(ConnectInfo(SocketAddr::from((
                    [10, (n >> 16) as u8, (n >> 8) as u8, n as u8],
                    40000,
                ))));
                let (status, headers, body) = common::send(&router, req).await;
                let what = format!(
                    "{} {method} {path} with {} ({status})",
                    if signed_in { "signed in" } else { "signed out" },
                    hostile.what
                );
                if status.is_server_error() {
                    problems.push(format!(
                        "{what}: {}",
                        String::from_utf8_lossy(&body)
                            .chars()
                            .take(300)
                            .collect::<String>()
                    ));
                    continue;
                }
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if path.starts_with("/sovereign/api/v1/") {
                    if !content_type.starts_with("application/json")
                        || serde_json::from_slice::<serde_json::Value>(&body).is_err()
                    {
                        problems.push(format!(
                            "{what}: not JSON ({content_type}): {}",
                            String::from_utf8_lossy(&body)
                                .chars()
                                .take(200)
                                .collect::<String>()
                        ));
                    }
                } else if status.is_client_error()
                    && (content_type != "application/x-postcard"
                        || app::wire::decode::<app::error::AppError>(&body).is_err())
                {
                    problems.push(format!(
                        "{what}: not the server-function error encoding ({content_type}): {}",
                        String::from_utf8_lossy(&body)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ));
                }
                if signed_in && takes_no_input(path) && status == StatusCode::OK {
                    // Signed out by a call that ignores its body: sign in again for the rest.
                    cookie = common::sign_in(
                        &state,
                        &format!("admin{n}@example.com"),
                        Some(PlatformRole::Superadmin),
                        Some(OrgRole::Owner),
                    )
                    .await
                    .1;
                }
            }
            if takes_no_input(path) {
                continue;
            }
            let after = snapshot(&db).await;
            if before != after {
                problems.push(format!(
                    "{} {method} {path}: malformed bodies wrote to the database: {}",
                    if signed_in { "signed in" } else { "signed out" },
                    diff(&before, &after)
                ));
            }
        }
    }
    assert!(n >= 20 * 45 * 2, "{n} requests");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
