//! The PowerDNS adapter (`server::pdns`) against a real PowerDNS (`common::pdns`): zones, record sets,
//! delegation with DS, DNSSEC keys, TSIG keys and the update permission, and its typed errors.

use app::deployments::Secret;
use server::pdns::{PdnsClient, PdnsError, RecordSet};

use crate::common::pdns::{nsupdate, pdns, unique_zone};

fn ns() -> Vec<String> {
    vec!["ns1.catalyst.test".into(), "ns2.catalyst.test".into()]
}

#[tokio::test]
async fn zones_are_created_checked_written_and_deleted() {
    let c = pdns().client();
    let info = c.server_info().await.expect("server info");
    assert_eq!(info.daemon_type, "authoritative");
    let zone = unique_zone("zones");
    assert!(!c.zone_exists(&zone).await.expect("check"));
    assert!(c.create_zone(&zone, &ns(), false).await.expect("create"));
    assert!(
        !c.create_zone(&zone, &ns(), false).await.expect("create again"),
        "a second create reports the zone as existing"
    );
    assert!(c.zone_exists(&zone).await.expect("check"));
    let z = c.zone(&zone).await.expect("read").expect("exists");
    assert_eq!(
        z.records(&zone, "NS"),
        vec!["ns1.catalyst.test.", "ns2.catalyst.test."]
    );

    let www = format!("www.{zone}");
    c.replace_rrsets(
        &zone,
        &[RecordSet::new(
            &www,
            "A",
            300,
            vec!["192.0.2.1".into(), "192.0.2.2".into()],
        )],
    )
    .await
    .expect("write");
    // REPLACE replaces the whole set.
    c.replace_rrsets(&zone, &[RecordSet::new(&www, "A", 300, vec!["192.0.2.3".into()])])
        .await
        .expect("replace");
    let z = c.zone(&zone).await.expect("read").expect("exists");
    assert_eq!(z.records(&www, "A"), vec!["192.0.2.3"]);
    assert_eq!(
        z.rrsets
            .iter()
            .find(|r| r.name == format!("{www}."))
            .map(|r| r.ttl),
        Some(300)
    );
    // A set without records is deleted.
    c.replace_rrsets(&zone, &[RecordSet::new(&www, "A", 300, vec![])])
        .await
        .expect("delete set");
    let z = c.zone(&zone).await.expect("read").expect("exists");
    assert!(z.records(&www, "A").is_empty());

    assert!(c.delete_zone(&zone).await.expect("delete"));
    assert!(!c.zone_exists(&zone).await.expect("check"));
    assert!(!c.delete_zone(&zone).await.expect("delete again"));
    assert!(c.zone(&zone).await.expect("read").is_none());
}

#[tokio::test]
async fn a_signed_child_is_delegated_with_its_ds_and_undelegated() {
    let c = pdns().client();
    let parent = unique_zone("parent");
    let child = format!("acme.{parent}");
    c.create_zone(&parent, &ns(), false).await.expect("parent");
    c.create_zone(&child, &ns(), false).await.expect("child");
    assert!(c.ds_records(&child).await.expect("ds").is_empty(), "unsigned");
    let ds = c.secure_zone(&child).await.expect("sign");
    assert_eq!(ds.len(), 1, "one SHA-256 DS for the one CSK: {ds:?}");
    let fields: Vec<&str> = ds[0].split_whitespace().collect();
    assert_eq!(fields[1], "13", "ECDSA P-256");
    assert_eq!(fields[2], "2", "SHA-256 digest");
    assert_eq!(
        c.secure_zone(&child).await.expect("sign again"),
        ds,
        "signing twice keeps the key"
    );
    assert!(c.zone(&child).await.expect("read").expect("exists").dnssec);

    c.delegate(&parent, &child, &ns(), &ds, 3600)
        .await
        .expect("delegate");
    let p = c.zone(&parent).await.expect("read").expect("exists");
    assert_eq!(
        p.records(&child, "NS"),
        vec!["ns1.catalyst.test.", "ns2.catalyst.test."]
    );
    assert_eq!(p.records(&child, "DS"), ds);

    assert!(c.undelegate(&parent, &child).await.expect("undelegate"));
    let p = c.zone(&parent).await.expect("read").expect("exists");
    assert!(p.records(&child, "NS").is_empty() && p.records(&child, "DS").is_empty());
    assert!(!c.undelegate(&parent, &child).await.expect("again"));
    c.delete_zone(&child).await.expect("cleanup");
    c.delete_zone(&parent).await.expect("cleanup");
}

/// The isolation the Sovereigns rely on: a zone takes RFC 2136 updates signed with its own key only;
/// another zone's key, an unsigned update and a zone without the permission are refused.
#[tokio::test]
async fn tsig_keys_update_their_own_zone_only() {
    let server = pdns();
    let c = server.client();
    let parent = unique_zone("tsig");
    let (a, b) = (format!("a.{parent}"), format!("b.{parent}"));
    for z in [&parent, &a, &b] {
        c.create_zone(z, &ns(), false).await.expect("zone");
    }
    let mut secrets = Vec::new();
    for z in [&a, &b] {
        let name = format!("sovereign-{z}");
        let secret = Secret::new(base64_of(&rand_bytes()));
        assert!(
            c.create_tsig_key(&name, "hmac-sha256", &secret)
                .await
                .expect("key")
        );
        assert!(
            !c.create_tsig_key(&name, "hmac-sha256", &secret)
                .await
                .expect("key again")
        );
        let stored = c.tsig_key(&name).await.expect("read").expect("exists");
        assert_eq!(stored.key, secret.expose());
        c.allow_tsig_updates(z, &name).await.expect("allow");
        assert_eq!(
            c.metadata(z, "TSIG-ALLOW-DNSUPDATE").await.expect("meta"),
            vec![name.clone()]
        );
        secrets.push((name, secret));
    }
    let (a_key, a_secret) = (&secrets[0].0, secrets[0].1.expose());
    let update = |zone: &str| format!("zone {zone}\nupdate add _acme-challenge.{zone} 60 TXT \"token\"");

    let (ok, out) = nsupdate(server.dns, Some((a_key, a_secret)), &update(&a));
    assert!(ok, "A's key updates A's zone: {out}");
    let z = c.zone(&a).await.expect("read").expect("exists");
    assert_eq!(
        z.records(&format!("_acme-challenge.{a}"), "TXT"),
        vec!["\"token\""]
    );

    let (ok, out) = nsupdate(server.dns, Some((a_key, a_secret)), &update(&b));
    assert!(!ok && out.contains("REFUSED"), "A's key is refused for B: {out}");
    let (ok, out) = nsupdate(server.dns, Some((a_key, a_secret)), &update(&parent));
    assert!(
        !ok && out.contains("REFUSED"),
        "A's key is refused for the parent, which allows no updates: {out}"
    );
    let (ok, out) = nsupdate(server.dns, None, &update(&a));
    assert!(
        !ok && out.contains("REFUSED"),
        "unsigned updates are refused: {out}"
    );
    let (ok, out) = nsupdate(
        server.dns,
        Some((a_key, a_secret)),
        &format!("zone {a}\nupdate add x.{parent} 60 TXT \"outside\""),
    );
    assert!(!ok, "a name outside A's zone is refused: {out}");
    let z = c.zone(&b).await.expect("read").expect("exists");
    assert!(z.records(&format!("_acme-challenge.{b}"), "TXT").is_empty());

    for (name, _) in &secrets {
        assert!(c.delete_tsig_key(name).await.expect("delete key"));
        assert!(!c.delete_tsig_key(name).await.expect("again"));
        assert!(c.tsig_key(name).await.expect("read").is_none());
    }
    for z in [&a, &b, &parent] {
        c.delete_zone(z).await.expect("cleanup");
    }
}

#[tokio::test]
async fn failures_are_typed() {
    let server = pdns();
    let wrong_key = PdnsClient::new(&server.url, Secret::new("not-the-key"), "localhost").expect("client");
    assert_eq!(
        wrong_key.zone_exists("x.test").await,
        Err(PdnsError::Unauthorized)
    );
    let wrong_id = PdnsClient::new(&server.url, Secret::new(server.api_key.clone()), "nope").expect("client");
    assert!(matches!(
        wrong_id.server_info().await,
        Err(PdnsError::NotFound(_))
    ));
    // Nothing listens on the discard port.
    let down = PdnsClient::new("http://127.0.0.1:9", Secret::new("k"), "localhost").expect("client");
    let e = down.zone_exists("x.test").await.expect_err("down");
    assert!(
        matches!(e, PdnsError::Unreachable(_)) && e.is_transient(),
        "{e:?}"
    );

    let c = server.client();
    let zone = unique_zone("errors");
    c.create_zone(&zone, &ns(), false).await.expect("zone");
    let e = c
        .replace_rrsets(
            &zone,
            &[RecordSet::new(
                "elsewhere.example",
                "A",
                300,
                vec!["192.0.2.1".into()],
            )],
        )
        .await
        .expect_err("out of zone");
    match &e {
        PdnsError::Rejected { message, .. } => assert!(message.contains("out of zone"), "{message}"),
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!e.is_transient());
    // Tenants read a sentence without PowerDNS's internals.
    assert!(!e.tenant_message().contains("zone"));
    let e = c
        .replace_rrsets(&unique_zone("missing"), &[])
        .await
        .expect_err("no such zone");
    assert!(matches!(e, PdnsError::NotFound(_)), "{e:?}");
    c.delete_zone(&zone).await.expect("cleanup");
}

fn rand_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("random");
    b
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
