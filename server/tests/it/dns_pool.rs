//! The pool manager (`server::dns::PoolManager`) on both databases against a real PowerDNS: reserve →
//! commit → release with every error kind, the zone signed and delegated, the record set answered over
//! DNS with signatures, expiry of a reservation whose run is gone, and a commit whose PowerDNS write
//! failed being published later.

use std::process::Command;

use app::deployments::{EventKind, Phase, Secret};
use app::dns::PoolError;
use server::db::Db;
use server::db::deployment_events::NewEvent;
use server::db::deployments::{self as store, NewDeployment};
use server::db::{dns as zones, leases};
use server::dns::{PoolManager, tsig_key_name};
use server::pdns::PdnsClient;

use crate::common;
use crate::common::pdns::{pdns, unique_zone};

const NS: &str = "ns1.catalyst.test";

fn manager(db: &Db, pool: &str) -> PoolManager {
    PoolManager {
        db: db.clone(),
        pdns: pdns().client(),
        pools: vec![pool.to_string()],
        nameservers: vec![NS.to_string()],
        resolver: None,
    }
}

/// A deployment row whose run holds a live lease (or none when `alive` is false).
async fn deployment(db: &Db, id: &str, fqdn: &str, alive: bool) {
    store::insert(
        db,
        &NewDeployment {
            id: id.into(),
            org_id: "org".into(),
            created_by: "u1".into(),
            fqdn: fqdn.into(),
            request: "{}".into(),
            bearer_sha256: "ab".repeat(32),
            secrets: vec![],
            first_event: NewEvent::info(Phase::Gitops, "created")
                .with_kind(EventKind::Status, Some("pending")),
        },
    )
    .await
    .expect("deployment");
    if alive {
        assert!(leases::acquire(db, id, "replica-1", 60_000).await.expect("lease"));
    }
}

/// `dig` (bind9-dnsutils) at the test PowerDNS: the answer section's lines.
fn dig(args: &[&str]) -> String {
    let server = pdns().dns;
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args([
            "-p",
            &server.port().to_string(),
            "+norecurse",
            "+noall",
            "+answer",
        ])
        .args(args)
        .output()
        .expect("dig runs (install Debian's bind9-dnsutils)");
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn reserve_commit_release(db: Db) {
    let pool = unique_zone("pool");
    let m = manager(&db, &pool);
    let zone = format!("acme.{pool}");
    deployment(&db, "d1", &zone, true).await;
    deployment(&db, "d2", &format!("other.{pool}"), true).await;

    // The rules before anything is stored.
    assert!(matches!(
        m.reserve(&pool, "1bad", "d1", "u1").await,
        Err(PoolError::InvalidFormat(_))
    ));
    assert_eq!(
        m.reserve("elsewhere.test", "acme", "d1", "u1").await,
        Err(PoolError::UnsupportedPool("elsewhere.test".into()))
    );
    assert_eq!(
        m.reserve(&pool, "console", "d1", "u1").await,
        Err(PoolError::Reserved("console".into()))
    );

    let row = m.reserve(&pool, "Acme", "d1", "u1").await.expect("reserved");
    assert_eq!(
        (row.zone.as_str(), row.state.as_str()),
        (zone.as_str(), "reserved")
    );
    assert_eq!(row.tsig_key_name, tsig_key_name(&zone));
    // The zone is served, signed, delegated with its DS, and its key may update it.
    let c = pdns().client();
    let z = c.zone(&zone).await.expect("read").expect("zone exists");
    assert!(z.dnssec);
    let parent = c.zone(&pool).await.expect("read").expect("pool zone exists");
    assert_eq!(parent.records(&zone, "NS"), vec![format!("{NS}.")]);
    assert_eq!(
        parent.records(&zone, "DS"),
        c.ds_records(&zone).await.expect("ds")
    );
    assert_eq!(parent.records(&zone, "DS").len(), 1);
    assert!(c.tsig_key(&row.tsig_key_name).await.expect("key").is_some());
    assert_eq!(
        c.metadata(&zone, "TSIG-ALLOW-DNSUPDATE").await.expect("meta"),
        vec![row.tsig_key_name.clone()]
    );

    let again = m.reserve(&pool, "acme", "d1", "u1").await.expect("idempotent");
    assert_eq!(
        again.reservation_token, row.reservation_token,
        "the same reservation"
    );
    assert_eq!(
        m.reserve(&pool, "acme", "d2", "u2").await,
        Err(PoolError::Conflict(zone.clone()))
    );

    assert_eq!(
        m.commit(&zone, "not-the-token", "192.0.2.10").await,
        Err(PoolError::TokenMismatch(zone.clone()))
    );
    assert_eq!(
        m.commit(&zone, &row.reservation_token, "").await,
        Err(PoolError::MissingLbIp(zone.clone()))
    );
    assert_eq!(
        m.commit(&format!("nobody.{pool}"), "t", "192.0.2.10").await,
        Err(PoolError::NotFound(format!("nobody.{pool}")))
    );
    let done = m
        .commit(&zone, &row.reservation_token, "192.0.2.10")
        .await
        .expect("committed");
    assert!(done.published && done.row.is_active());
    let again = m
        .commit(&zone, &row.reservation_token, "192.0.2.10")
        .await
        .expect("a repeated commit is fine");
    assert!(again.published);
    assert_eq!(
        m.commit(&zone, "someone-else", "192.0.2.10").await,
        Err(PoolError::AlreadyActive(zone.clone()))
    );
    assert_eq!(
        m.reserve(&pool, "acme", "d2", "u2").await,
        Err(PoolError::Conflict(zone.clone())),
        "an active name is taken"
    );

    // The record set, over DNS, signed.
    for name in [zone.clone(), format!("console.{zone}"), format!("gitea.{zone}")] {
        let answer = dig(&["+dnssec", &name, "A"]);
        assert!(answer.contains("192.0.2.10"), "{name}: {answer}");
        assert!(answer.contains("300"), "TTL 300: {answer}");
        assert!(answer.contains("RRSIG"), "{name} is signed: {answer}");
    }

    let released = m.release(&zone).await.expect("released");
    assert_eq!(released.freed.zone, zone);
    assert!(released.left.is_empty(), "{:?}", released.left);
    assert!(!c.zone_exists(&zone).await.expect("check"));
    let parent = c.zone(&pool).await.expect("read").expect("pool zone");
    assert!(parent.records(&zone, "NS").is_empty() && parent.records(&zone, "DS").is_empty());
    assert!(c.tsig_key(&row.tsig_key_name).await.expect("key").is_none());
    assert_eq!(m.release(&zone).await, Err(PoolError::NotFound(zone.clone())));
    assert!(zones::get(&db, &zone).await.expect("get").is_none());
    // Free again: another deployment may have it.
    m.reserve(&pool, "acme", "d2", "u2").await.expect("free again");
    m.release(&zone).await.expect("cleanup");
}

/// A reservation lives as long as its run holds its lease: once the run is gone, the commit is refused as
/// expired, the sweeper removes it (row, zone, delegation, key), and another deployment can take the name.
async fn a_dead_runs_reservation_expires(db: Db) {
    let pool = unique_zone("pool");
    let m = manager(&db, &pool);
    let zone = format!("bank.{pool}");
    deployment(&db, "dead", &zone, true).await;
    deployment(&db, "next", &format!("x.{pool}"), true).await;
    let row = m.reserve(&pool, "bank", "dead", "u1").await.expect("reserved");
    assert!(m.sweep().await.expect("sweep").is_empty(), "a live run keeps it");

    leases::release(&db, "dead", "replica-1").await.expect("run gone");
    assert_eq!(
        m.commit(&zone, &row.reservation_token, "192.0.2.20").await,
        Err(PoolError::ReservationExpired(zone.clone()))
    );
    assert_eq!(m.sweep().await.expect("sweep"), vec![zone.clone()]);
    let c = pdns().client();
    assert!(!c.zone_exists(&zone).await.expect("check"));
    assert!(c.tsig_key(&row.tsig_key_name).await.expect("key").is_none());
    assert!(zones::get(&db, &zone).await.expect("get").is_none());
    assert!(m.sweep().await.expect("sweep again").is_empty());

    let taken = m
        .reserve(&pool, "bank", "next", "u2")
        .await
        .expect("free for another");
    assert_ne!(taken.reservation_token, row.reservation_token);
    m.release(&zone).await.expect("cleanup");
}

/// A stale reservation taken over without a sweep: the old holder's key stops working (a new secret).
async fn a_takeover_rotates_the_key(db: Db) {
    let pool = unique_zone("pool");
    let m = manager(&db, &pool);
    let zone = format!("shop.{pool}");
    deployment(&db, "old", &zone, true).await;
    deployment(&db, "new", &format!("y.{pool}"), true).await;
    m.reserve(&pool, "shop", "old", "u1").await.expect("reserved");
    let c = pdns().client();
    let before = c
        .tsig_key(&tsig_key_name(&zone))
        .await
        .expect("read")
        .expect("key")
        .key;
    leases::release(&db, "old", "replica-1").await.expect("run gone");
    let row = m.reserve(&pool, "shop", "new", "u2").await.expect("taken over");
    assert_eq!(row.deployment_id, "new");
    let after = c
        .tsig_key(&tsig_key_name(&zone))
        .await
        .expect("read")
        .expect("key")
        .key;
    assert_ne!(before, after, "the old holder's secret no longer works");
    assert!(c.zone(&zone).await.expect("read").expect("zone").dnssec);
    m.release(&zone).await.expect("cleanup");
}

/// A commit whose PowerDNS write fails is a commit all the same (the name stays taken), reported as not
/// published; publishing again once PowerDNS answers writes the record set.
async fn a_failed_publish_is_owed_and_retried(db: Db) {
    let pool = unique_zone("pool");
    let m = manager(&db, &pool);
    let zone = format!("late.{pool}");
    deployment(&db, "d", &zone, true).await;
    let row = m.reserve(&pool, "late", "d", "u1").await.expect("reserved");
    let down = PoolManager {
        pdns: PdnsClient::new("http://127.0.0.1:9", Secret::new("k"), "localhost").expect("client"),
        ..m.clone()
    };
    let c = down
        .commit(&zone, &row.reservation_token, "192.0.2.30")
        .await
        .expect("committed");
    assert!(!c.published && c.row.is_active());
    assert!(!zones::get(&db, &zone).await.expect("get").expect("row").published);
    assert!(
        dig(&[&format!("console.{zone}"), "A"]).is_empty(),
        "nothing published yet"
    );
    assert!(matches!(
        down.publish(&c.row).await,
        Err(PoolError::DnsUnavailable(_))
    ));

    let row = m.publish(&c.row).await.expect("published");
    assert!(row.published);
    assert!(dig(&[&format!("console.{zone}"), "A"]).contains("192.0.2.30"));
    // A new address (a re-apply) makes the record set owed again.
    let moved = m
        .commit(&zone, &row.reservation_token, "192.0.2.31")
        .await
        .expect("recommitted");
    assert!(moved.published);
    assert!(dig(&[&format!("console.{zone}"), "A"]).contains("192.0.2.31"));
    m.release(&zone).await.expect("cleanup");
}

/// What the wizard's check reads: free, a reservation in progress, free again once its run is gone, a
/// live Sovereign, and a zone PowerDNS serves that the pool manager never gave out.
async fn availability_follows_the_state(db: Db) {
    use server::dns::PoolCheck;
    let pool = unique_zone("pool");
    let m = manager(&db, &pool);
    deployment(&db, "d", &format!("acme.{pool}"), true).await;
    assert_eq!(m.check(&pool, "acme").await, Ok(PoolCheck::Free));
    assert_eq!(
        m.check(&pool, "console").await,
        Err(PoolError::Reserved("console".into()))
    );
    assert!(matches!(
        m.check(&pool, "-x").await,
        Err(PoolError::InvalidFormat(_))
    ));
    let row = m.reserve(&pool, "acme", "d", "u1").await.expect("reserved");
    assert_eq!(m.check(&pool, "acme").await, Ok(PoolCheck::InProgress));
    leases::release(&db, "d", "replica-1").await.expect("run gone");
    assert_eq!(
        m.check(&pool, "acme").await,
        Ok(PoolCheck::Free),
        "an expired reservation counts as free"
    );
    assert!(
        leases::acquire(&db, "d", "replica-1", 60_000)
            .await
            .expect("lease")
    );
    m.commit(&row.zone, &row.reservation_token, "192.0.2.40")
        .await
        .expect("committed");
    assert_eq!(m.check(&pool, "acme").await, Ok(PoolCheck::Active));
    pdns()
        .client()
        .create_zone(&format!("manual.{pool}"), &[NS.into()], false)
        .await
        .expect("zone");
    assert_eq!(m.check(&pool, "manual").await, Ok(PoolCheck::Elsewhere));
    let down = PoolManager {
        pdns: PdnsClient::new("http://127.0.0.1:9", Secret::new("k"), "localhost").expect("client"),
        ..m.clone()
    };
    assert!(matches!(
        down.check(&pool, "fresh").await,
        Err(PoolError::DnsUnavailable(_))
    ));
    m.release(&row.zone).await.expect("cleanup");
    pdns()
        .client()
        .delete_zone(&format!("manual.{pool}"))
        .await
        .expect("cleanup");
}

on_both_backends!(
    availability_follows_the_state,
    reserve_commit_release,
    a_dead_runs_reservation_expires,
    a_takeover_rotates_the_key,
    a_failed_publish_is_owed_and_retried,
);
