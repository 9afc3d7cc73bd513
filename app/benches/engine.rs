//! Dependency engine on a generated catalog of 2,000 blueprints: add, remove (with its impact), explain.
//! Criterion measures each operation; afterwards a percentile pass times 20,000 single operations on random
//! components and prints p50/p99, with the ratio to a baseline in the same process (turning the selection into
//! its id list, an O(n) copy). Run: `cargo bench -p app --bench engine`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::catalog::{
    Blueprint, Catalog, CatalogData, Family, LicenseKind, Selection, Sovereignty, Tier, Upstream, Visibility,
};
use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 2000;
const FAMILIES: usize = 20;

/// Deterministic pseudo-random numbers (xorshift), so every run measures the same catalog.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn generated() -> Catalog {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let families = (0..FAMILIES)
        .map(|f| Family {
            id: format!("f{f}"),
            name: format!("F{f}"),
            subtitle: "Generated".into(),
            tier: Tier::Optional,
            cascade_on_member_selection: f % 10 == 0,
            dependencies: vec![],
            color: "#38BDF8".into(),
            summary: "Generated family.".into(),
            overview: vec![],
            capabilities: vec![],
        })
        .collect();
    let blueprints = (0..N)
        .map(|i| {
            let tier = match rng.below(20) {
                0 => Tier::Mandatory,
                1..=4 => Tier::Recommended,
                _ => Tier::Optional,
            };
            let mut deps: Vec<String> = if i == 0 {
                vec![]
            } else {
                (0..rng.below(5))
                    .map(|_| format!("c{:04}", rng.below(i)))
                    .collect()
            };
            deps.sort();
            deps.dedup();
            Blueprint {
                id: format!("c{i:04}"),
                name: format!("Component {i}"),
                family: format!("f{}", rng.below(FAMILIES)),
                tier,
                visibility: Visibility::Listed,
                summary: "Generated.".into(),
                description: "Generated component.".into(),
                upstream: Upstream {
                    project: "Gen".into(),
                    url: "https://example.org".into(),
                    license: "Apache-2.0".into(),
                },
                chart: None,
                dependencies: deps,
                sovereignty: Sovereignty {
                    steward: "Gen".into(),
                    jurisdiction: "International".into(),
                    license_kind: LicenseKind::Permissive,
                },
                logo: None,
                kit: Default::default(),
            }
        })
        .collect();
    Catalog::new(CatalogData { families, blueprints }).expect("generated catalog is valid")
}

fn non_mandatory(c: &Catalog) -> Vec<String> {
    c.blueprints()
        .iter()
        .filter(|b| !c.is_mandatory(&b.id))
        .map(|b| b.id.clone())
        .collect()
}

fn bench(cr: &mut Criterion) {
    let c = generated();
    let base = c.default_selection();
    let ids = non_mandatory(&c);
    let mut k = 0usize;
    let mut pick = move || {
        k = (k + 7919) % ids.len();
        ids[k].clone()
    };
    cr.bench_function("add (2000 blueprints)", |b| {
        b.iter(|| {
            let mut s = base.clone();
            black_box(c.add(&mut s, &pick()).expect("known"));
        })
    });
    let ids = non_mandatory(&c);
    let mut full = base.clone();
    for id in ids.iter().step_by(3) {
        c.add(&mut full, id).expect("known");
    }
    let mut k = 0usize;
    cr.bench_function("remove incl. impact (2000 blueprints)", |b| {
        b.iter(|| {
            k = (k + 7919) % ids.len();
            let mut s = full.clone();
            black_box(c.removal_impact(&s, &ids[k]).expect("removable"));
            black_box(c.remove(&mut s, &ids[k]).expect("removable"));
        })
    });
    let mut k = 0usize;
    cr.bench_function("explain (2000 blueprints)", |b| {
        b.iter(|| {
            k = (k + 7919) % ids.len();
            black_box(c.explain(&full, &ids[k]).expect("known"));
        })
    });
    cr.bench_function("baseline: selection → ids (2000 blueprints)", |b| {
        b.iter(|| black_box(c.selection_ids(&full)))
    });
    percentiles(&c, &base, &full);
}

fn pct(mut d: Vec<Duration>, p: f64) -> Duration {
    d.sort();
    d[((d.len() as f64 - 1.0) * p).round() as usize]
}

fn time<F: FnMut(usize)>(runs: usize, mut f: F) -> Vec<Duration> {
    (0..runs)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect()
}

fn percentiles(c: &Catalog, base: &Selection, full: &Selection) {
    const RUNS: usize = 20_000;
    let ids = non_mandatory(c);
    let mut rng = Rng(42);
    let picks: Vec<&String> = (0..RUNS).map(|_| &ids[rng.below(ids.len())]).collect();
    let baseline = time(RUNS, |_| {
        black_box(c.selection_ids(full));
    });
    let add = time(RUNS, |i| {
        let mut s = base.clone();
        black_box(c.add(&mut s, picks[i]).expect("known"));
    });
    let remove = time(RUNS, |i| {
        let mut s = full.clone();
        black_box(c.removal_impact(&s, picks[i]).expect("removable"));
        black_box(c.remove(&mut s, picks[i]).expect("removable"));
    });
    let explain = time(RUNS, |i| {
        black_box(c.explain(full, picks[i]).expect("known"));
    });
    let b50 = pct(baseline.clone(), 0.5);
    let b99 = pct(baseline, 0.99);
    println!("\npercentiles over {RUNS} single operations on random components ({N} blueprints):");
    println!(
        "{:<28} {:>10} {:>10} {:>12}",
        "operation", "p50", "p99", "p99/baseline"
    );
    println!(
        "{:<28} {:>10.1?} {:>10.1?} {:>12}",
        "baseline: selection → ids", b50, b99, "1.0"
    );
    for (name, d) in [("add", add), ("remove (+ impact)", remove), ("explain", explain)] {
        let p50 = pct(d.clone(), 0.5);
        let p99 = pct(d, 0.99);
        println!(
            "{:<28} {:>10.1?} {:>10.1?} {:>12.2}",
            name,
            p50,
            p99,
            p99.as_secs_f64() / b99.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
