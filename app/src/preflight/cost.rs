//! The cost of a request: every resource `infra/hetzner` creates for it ([`Plan`]) — control planes,
//! workers, load balancers, primary IPv4 addresses — and the volumes the selected components claim, priced
//! per location from Hetzner's price list, per region and in total, per hour and per month, without and with
//! VAT as Hetzner shows them. Hetzner bills by the hour and caps each resource at its monthly price, so the
//! monthly figure is the sum of the caps.

use super::money::{Money, Price};
use super::plan::{LOAD_BALANCER_TYPE, Plan, VOLUME_MIN_GB};
use super::types::{
    CostEstimate, CostLine, Footprints, LocationPrice, PriceSource, PriceTable, RegionCost, TypePrices,
};
use crate::cloud::{HETZNER_REGIONS, HETZNER_SIZES, HOURS_PER_MONTH};
use crate::deployments::DeploymentRequest;

const HOURS: i64 = HOURS_PER_MONTH as i64;

/// The estimate of `req` with `prices`. `footprints` give the volumes the selected components claim.
pub fn estimate(req: &DeploymentRequest, footprints: &Footprints, prices: &PriceTable) -> CostEstimate {
    let plan = Plan::of(req);
    let fps = footprints.of(req.ha_enabled);
    // Volumes are the same in every region (each runs the whole selection): (count, GB each).
    let mut volumes: Vec<(u32, u32)> = Vec::new();
    for f in fps.iter().filter(|f| req.components.iter().any(|c| c == &f.id)) {
        for &(n, gb) in &f.volumes {
            let gb = gb.max(VOLUME_MIN_GB);
            match volumes.iter_mut().find(|(_, g)| *g == gb) {
                Some(v) => v.0 += n,
                None => volumes.push((n, gb)),
            }
        }
    }
    volumes.sort_by_key(|v| v.1);
    let regions: Vec<RegionCost> = plan
        .regions
        .iter()
        .map(|r| {
            let mut rc = RegionCost {
                region: r.region,
                location: r.location.clone(),
                lines: Vec::new(),
                hourly: Price::ZERO,
                monthly: Price::ZERO,
                included_traffic: 0,
                unpriced: Vec::new(),
            };
            let mut priced = |what: String, count: u32, p: Option<&LocationPrice>| {
                if count == 0 {
                    return;
                }
                match p {
                    Some(p) => {
                        rc.included_traffic += p.included_traffic * u64::from(count);
                        rc.lines.push(CostLine {
                            what,
                            count,
                            hourly: p.hourly.times(u64::from(count)),
                            monthly: p.monthly.times(u64::from(count)),
                        });
                    }
                    None => rc.unpriced.push(format!("{count} × {what}")),
                }
            };
            priced(
                format!("{} control plane", r.control_plane_size),
                r.control_planes,
                prices.server(&r.control_plane_size, &r.location),
            );
            priced(
                format!("{} worker", r.worker_size),
                r.workers,
                prices.server(&r.worker_size, &r.location),
            );
            priced(
                format!("{LOAD_BALANCER_TYPE} load balancer"),
                u32::from(r.public_lb),
                prices.load_balancer(LOAD_BALANCER_TYPE, &r.location),
            );
            priced(
                format!("{LOAD_BALANCER_TYPE} Kubernetes API load balancer (private)"),
                u32::from(r.api_lb),
                prices.load_balancer(LOAD_BALANCER_TYPE, &r.location),
            );
            let ipv4 = prices.ipv4(&r.location).map(|p| LocationPrice {
                included_traffic: 0,
                ..p.clone()
            });
            priced("primary IPv4".into(), r.primary_ipv4(), ipv4.as_ref());
            for &(n, gb) in &volumes {
                let monthly = prices.volume_gb_month.times(u64::from(gb));
                let per = LocationPrice {
                    location: r.location.clone(),
                    hourly: monthly.ratio(1, HOURS),
                    monthly,
                    included_traffic: 0,
                };
                priced(format!("volume of {gb} GB"), n, Some(&per));
            }
            rc.hourly = rc.lines.iter().map(|l| l.hourly).sum();
            rc.monthly = rc.lines.iter().map(|l| l.monthly).sum();
            rc
        })
        .collect();
    CostEstimate {
        hourly: regions.iter().map(|r| r.hourly).sum(),
        monthly: regions.iter().map(|r| r.monthly).sum(),
        regions,
        currency: prices.currency.clone(),
        vat_rate: prices.vat_rate.clone(),
        source: prices.source,
        as_of_ms: prices.as_of_ms,
    }
}

/// Prices Catalyst knows without asking Hetzner (EUR, Germany's 19 % VAT): the node sizes' hourly list
/// prices of `app::cloud` (× 730 for a month), and list prices of a `lb11` load balancer, a primary IPv4
/// address and a volume GB. Used only until Hetzner's own price list has been fetched once.
pub fn builtin_prices() -> PriceTable {
    let vat = |net: Money| Price {
        net,
        gross: net.ratio(119, 100),
    };
    let at_every_location = |hourly: Money, monthly: Money, traffic: u64| -> Vec<LocationPrice> {
        HETZNER_REGIONS
            .iter()
            .map(|r| LocationPrice {
                location: r.id.to_string(),
                hourly: vat(hourly),
                monthly: vat(monthly),
                included_traffic: traffic,
            })
            .collect()
    };
    const TB: u64 = 1 << 40;
    PriceTable {
        currency: "EUR".into(),
        vat_rate: "19.00".into(),
        server_types: HETZNER_SIZES
            .iter()
            .map(|s| {
                let hourly = Money((s.price_hour * 1e9).round() as i64);
                TypePrices {
                    name: s.id.to_string(),
                    prices: at_every_location(hourly, hourly.times(HOURS as u64), 20 * TB),
                }
            })
            .collect(),
        load_balancer_types: vec![TypePrices {
            name: LOAD_BALANCER_TYPE.into(),
            prices: at_every_location(Money(7_400_000), Money::eur(5, 39), 20 * TB),
        }],
        primary_ipv4: at_every_location(Money(700_000), Money::eur(0, 50), 0),
        volume_gb_month: vat(Money(44_000_000)),
        source: PriceSource::BuiltIn,
        as_of_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::sample_request;
    use crate::preflight::types::{ComponentFootprint, Resources};

    fn lp(loc: &str, hourly: (i64, i64), monthly: (i64, i64), traffic: u64) -> LocationPrice {
        LocationPrice {
            location: loc.into(),
            hourly: Price {
                net: Money(hourly.0),
                gross: Money(hourly.1),
            },
            monthly: Price {
                net: Money(monthly.0),
                gross: Money(monthly.1),
            },
            included_traffic: traffic,
        }
    }

    #[test]
    fn every_resource_of_the_request_is_priced() {
        let m = |eur: i64, cents: i64| Money::eur(eur, cents).0;
        let prices = PriceTable {
            currency: "EUR".into(),
            vat_rate: "19.00".into(),
            server_types: vec![
                TypePrices {
                    name: "cpx32".into(),
                    prices: vec![lp(
                        "fsn1",
                        (19_200_000, 22_800_000),
                        (m(13, 99), 16_648_100_000),
                        7,
                    )],
                },
                TypePrices {
                    name: "cpx42".into(),
                    prices: vec![lp(
                        "fsn1",
                        (34_900_000, 41_500_000),
                        (m(25, 49), 30_333_100_000),
                        7,
                    )],
                },
            ],
            load_balancer_types: vec![TypePrices {
                name: "lb11".into(),
                prices: vec![lp("fsn1", (7_400_000, 8_800_000), (m(5, 39), 6_414_100_000), 5)],
            }],
            primary_ipv4: vec![lp("fsn1", (700_000, 800_000), (m(0, 50), 595_000_000), 0)],
            volume_gb_month: Price {
                net: Money(44_000_000),
                gross: Money(52_400_000),
            },
            source: PriceSource::Api,
            as_of_ms: Some(1),
        };
        let mut req = sample_request();
        req.regions[0].worker_count = 2;
        req.regions[0].worker_size = "cpx42".into();
        req.components = vec!["db".into()];
        let fps = Footprints {
            standard: vec![ComponentFootprint {
                id: "db".into(),
                fixed: Resources::ZERO,
                per_node: Resources::ZERO,
                largest: Resources::ZERO,
                job_peak: Resources::ZERO,
                // Two copies of 5 GB become two of Hetzner's smallest, 10 GB.
                volumes: vec![(2, 5)],
            }],
            ha: vec![],
        };
        let e = estimate(&req, &fps, &prices);
        let r = &e.regions[0];
        let whats: Vec<(&str, u32)> = r.lines.iter().map(|l| (l.what.as_str(), l.count)).collect();
        assert_eq!(
            whats,
            [
                ("cpx32 control plane", 1),
                ("cpx42 worker", 2),
                ("lb11 load balancer", 1),
                ("primary IPv4", 3),
                ("volume of 10 GB", 2),
            ]
        );
        // Monthly net: 13.99 + 2 × 25.49 + 5.39 + 3 × 0.50 + 2 × 10 × 0.044 = 72.74.
        assert_eq!(e.monthly.net, Money::eur(72, 74));
        // Hourly net: 0.0192 + 2 × 0.0349 + 0.0074 + 3 × 0.0007 + 2 × (0.44 / 730 = 0.00060274) = 0.09970548.
        assert_eq!(e.hourly.net, Money(99_705_480));
        // Gross as Hetzner states it, summed: 16.6481 + 2 × 30.3331 + 6.4141 + 3 × 0.595 + 2 × 0.524 = 86.5614.
        assert_eq!(e.monthly.gross, Money(86_561_400_000));
        assert_eq!(r.included_traffic, 7 * 3 + 5);
        assert!(r.unpriced.is_empty());
    }

    #[test]
    fn the_builtin_list_prices_everything_the_module_creates() {
        let mut req = sample_request();
        req.ha_enabled = true;
        let e = estimate(&req, &Footprints::default(), &builtin_prices());
        assert!(e.regions[0].unpriced.is_empty(), "{:?}", e.regions[0].unpriced);
        assert_eq!(e.source, PriceSource::BuiltIn);
        // 3 control planes, a public and an API load balancer, 3 IPv4.
        assert_eq!(e.regions[0].lines.len(), 4);
    }
}
