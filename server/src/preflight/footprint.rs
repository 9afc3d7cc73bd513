//! Each catalog component's footprint — what its workloads request — read once from the kit
//! (`platform/<id>/kit.yaml` → `workloads`, resolved against its curated values by
//! `gitops::spec::footprint`), without and with HA, in the shape the capacity fit and the estimate sum.

use app::catalog::Catalog;
use app::preflight::{ComponentFootprint, Footprints, Resources};

use crate::gitops::spec::{Copies, footprint};

/// A storage request in Hetzner's volume unit, rounded up: its "GB" are binary (the CSI driver makes a
/// 20Gi claim a 20 GB volume).
fn gigabytes(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1 << 30)).unwrap_or(u32::MAX)
}

/// The footprints of every component. The catalog loader has checked the kit files at start, so a
/// component whose workloads cannot be read here is logged and counted as requesting nothing.
pub fn footprints(catalog: &Catalog) -> Footprints {
    let of = |ha: bool| {
        catalog
            .blueprints()
            .iter()
            .map(|b| {
                let mut f = ComponentFootprint {
                    id: b.id.clone(),
                    ..ComponentFootprint::default()
                };
                let workloads = match footprint(b, ha) {
                    Ok(w) => w,
                    Err(e) => {
                        tracing::error!(component = %b.id, problem = %e, "pre-flight: the component's workloads cannot be read; counted as requesting nothing");
                        Vec::new()
                    }
                };
                for w in workloads {
                    let one = Resources::new(w.cpu_millis, w.memory_bytes);
                    if w.job {
                        f.job_peak = f.job_peak.max(one);
                        continue;
                    }
                    f.largest = f.largest.max(one);
                    match w.copies {
                        Copies::Fixed(n) => {
                            f.fixed += one.times(u64::from(n));
                            if w.storage_bytes > 0 && n > 0 {
                                f.volumes.push((n, gigabytes(w.storage_bytes)));
                            }
                        }
                        Copies::PerNode => f.per_node += one,
                    }
                }
                f
            })
            .collect()
    };
    Footprints {
        standard: of(false),
        ha: of(true),
    }
}
