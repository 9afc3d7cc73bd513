//! What Hetzner sells: `GET /server_types` (with each type's locations, availability and deprecation) and
//! `GET /pricing` (prices per location). Hetzner's datacenters endpoint is gone (410 since 2026-10-01);
//! availability is per location, on the server type.

use app::preflight::{LocationPrice, Money, Price, PriceSource, PriceTable, TypePrices};
use serde::Deserialize;

use super::client::{HetznerClient, HetznerError};

/// A server type as `GET /server_types` lists it (the fields Catalyst reads).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerType {
    pub id: i64,
    pub name: String,
    pub cores: u32,
    /// GB of memory.
    pub memory: f64,
    /// GB of local disk.
    pub disk: u32,
    /// `shared` or `dedicated`.
    #[serde(default)]
    pub cpu_type: String,
    /// `x86` or `arm`.
    #[serde(default)]
    pub architecture: String,
    /// Where the type is sold, with its availability there.
    #[serde(default)]
    pub locations: Vec<ServerTypeLocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerTypeLocation {
    pub name: String,
    /// Can be ordered there now.
    #[serde(default)]
    pub available: bool,
    #[serde(default)]
    pub deprecation: Option<Deprecation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Deprecation {
    pub announced: String,
    /// RFC 3339: after this, the type can no longer be ordered there.
    pub unavailable_after: String,
}

/// A type's standing in one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Sold there and available now.
    Available,
    /// Sold there, available now, but deprecated: orders stop after the date.
    Deprecated { unavailable_after: String },
    /// Sold there, but Hetzner has none to give now.
    Unavailable,
    /// Not sold in that location.
    NotSold,
    /// No type of that name.
    Unknown,
}

impl ServerType {
    pub fn offer(&self, location: &str) -> Offer {
        match self.locations.iter().find(|l| l.name == location) {
            None => Offer::NotSold,
            Some(l) if !l.available => Offer::Unavailable,
            Some(l) => match &l.deprecation {
                Some(d) => Offer::Deprecated {
                    unavailable_after: d.unavailable_after.clone(),
                },
                None => Offer::Available,
            },
        }
    }
}

/// Every server type, with `name` looked up in them.
pub fn offer_of(types: &[ServerType], name: &str, location: &str) -> Offer {
    types
        .iter()
        .find(|t| t.name == name)
        .map_or(Offer::Unknown, |t| t.offer(location))
}

/// The nearest type to `name` that `location` has available now: same CPU architecture and kind (shared or
/// dedicated), at least as many cores and as much memory, the fewest cores and memory above that, then the
/// lowest id; failing that, the largest available of the same architecture.
pub fn nearest_available<'a>(types: &'a [ServerType], name: &str, location: &str) -> Option<&'a ServerType> {
    let wanted = types.iter().find(|t| t.name == name)?;
    let candidates: Vec<&ServerType> = types
        .iter()
        .filter(|t| t.name != wanted.name && t.architecture == wanted.architecture)
        .filter(|t| matches!(t.offer(location), Offer::Available))
        .collect();
    let key = |t: &&&ServerType| (t.cores, (t.memory * 1000.0) as u64, t.id);
    let same_kind_bigger = candidates
        .iter()
        .filter(|t| t.cpu_type == wanted.cpu_type && t.cores >= wanted.cores && t.memory >= wanted.memory)
        .min_by_key(key);
    let any_bigger = candidates
        .iter()
        .filter(|t| t.cores >= wanted.cores && t.memory >= wanted.memory)
        .min_by_key(key);
    same_kind_bigger
        .or(any_bigger)
        .or_else(|| candidates.iter().max_by_key(key))
        .copied()
}

impl HetznerClient {
    pub async fn server_types(&self) -> Result<Vec<ServerType>, HetznerError> {
        self.list("/server_types", "server_types", None).await
    }

    /// `GET /pricing` as Catalyst's price table (as of `now_ms`).
    pub async fn pricing(&self, now_ms: i64) -> Result<PriceTable, HetznerError> {
        let body: PricingBody = self.get("/pricing").await?;
        body.pricing.table(now_ms)
    }
}

// --- `GET /pricing` ------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct PricingBody {
    pricing: Pricing,
}

#[derive(Debug, Deserialize)]
struct Pricing {
    currency: String,
    vat_rate: String,
    #[serde(default)]
    server_types: Vec<ApiTypePrices>,
    #[serde(default)]
    load_balancer_types: Vec<ApiTypePrices>,
    #[serde(default)]
    primary_ips: Vec<ApiIpPrices>,
    volume: ApiVolume,
}

#[derive(Debug, Deserialize)]
struct ApiPrice {
    net: String,
    gross: String,
}

#[derive(Debug, Deserialize)]
struct ApiLocationPrice {
    location: String,
    price_hourly: ApiPrice,
    price_monthly: ApiPrice,
    #[serde(default)]
    included_traffic: u64,
}

#[derive(Debug, Deserialize)]
struct ApiTypePrices {
    name: String,
    #[serde(default)]
    prices: Vec<ApiLocationPrice>,
}

#[derive(Debug, Deserialize)]
struct ApiIpPrices {
    #[serde(rename = "type")]
    ip_type: String,
    #[serde(default)]
    prices: Vec<ApiLocationPrice>,
}

#[derive(Debug, Deserialize)]
struct ApiVolume {
    price_per_gb_month: ApiPrice,
}

fn price(p: &ApiPrice, what: &str) -> Result<Price, HetznerError> {
    let parse = |s: &str| {
        Money::parse(s)
            .ok_or_else(|| HetznerError::Malformed(format!("GET /pricing: {what}: “{s}” is not an amount")))
    };
    Ok(Price {
        net: parse(&p.net)?,
        gross: parse(&p.gross)?,
    })
}

fn location_prices(list: &[ApiLocationPrice], what: &str) -> Result<Vec<LocationPrice>, HetznerError> {
    list.iter()
        .map(|p| {
            Ok(LocationPrice {
                location: p.location.clone(),
                hourly: price(&p.price_hourly, what)?,
                monthly: price(&p.price_monthly, what)?,
                included_traffic: p.included_traffic,
            })
        })
        .collect()
}

fn type_prices(list: &[ApiTypePrices]) -> Result<Vec<TypePrices>, HetznerError> {
    list.iter()
        .map(|t| {
            Ok(TypePrices {
                name: t.name.clone(),
                prices: location_prices(&t.prices, &t.name)?,
            })
        })
        .collect()
}

impl Pricing {
    fn table(self, now_ms: i64) -> Result<PriceTable, HetznerError> {
        let ipv4 = self
            .primary_ips
            .iter()
            .find(|p| p.ip_type == "ipv4")
            .map(|p| location_prices(&p.prices, "primary IPv4"))
            .transpose()?
            .unwrap_or_default();
        Ok(PriceTable {
            currency: self.currency,
            vat_rate: self.vat_rate,
            server_types: type_prices(&self.server_types)?,
            load_balancer_types: type_prices(&self.load_balancer_types)?,
            primary_ipv4: ipv4,
            volume_gb_month: price(&self.volume.price_per_gb_month, "volume")?,
            source: PriceSource::Api,
            as_of_ms: Some(now_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(
        id: i64,
        name: &str,
        cores: u32,
        memory: f64,
        cpu: &str,
        arch: &str,
        locs: &[(&str, bool)],
    ) -> ServerType {
        ServerType {
            id,
            name: name.into(),
            cores,
            memory,
            disk: 80,
            cpu_type: cpu.into(),
            architecture: arch.into(),
            locations: locs
                .iter()
                .map(|(n, a)| ServerTypeLocation {
                    name: (*n).into(),
                    available: *a,
                    deprecation: None,
                })
                .collect(),
        }
    }

    #[test]
    fn the_nearest_alternative_is_the_next_size_up_of_the_same_kind() {
        let types = vec![
            st(1, "cpx22", 2, 4.0, "shared", "x86", &[("hel1", true)]),
            st(
                2,
                "cpx32",
                4,
                8.0,
                "shared",
                "x86",
                &[("hel1", false), ("fsn1", true)],
            ),
            st(3, "ccx23", 4, 16.0, "dedicated", "x86", &[("hel1", true)]),
            st(4, "cpx42", 8, 16.0, "shared", "x86", &[("hel1", true)]),
            st(5, "cax21", 4, 8.0, "shared", "arm", &[("hel1", true)]),
        ];
        assert_eq!(offer_of(&types, "cpx32", "hel1"), Offer::Unavailable);
        assert_eq!(offer_of(&types, "cpx32", "ash"), Offer::NotSold);
        assert_eq!(offer_of(&types, "nope", "hel1"), Offer::Unknown);
        assert_eq!(
            nearest_available(&types, "cpx32", "hel1").map(|t| t.name.as_str()),
            Some("cpx42")
        );
        // Nothing bigger of the same kind: any bigger x86.
        let types2 = vec![types[0].clone(), types[1].clone(), types[2].clone()];
        assert_eq!(
            nearest_available(&types2, "cpx32", "hel1").map(|t| t.name.as_str()),
            Some("ccx23")
        );
        // Nothing bigger at all: the largest there is.
        let types3 = vec![types[0].clone(), types[1].clone()];
        assert_eq!(
            nearest_available(&types3, "cpx32", "hel1").map(|t| t.name.as_str()),
            Some("cpx22")
        );
    }

    #[test]
    fn prices_are_read_exactly() {
        let body = serde_json::json!({"pricing": {
            "currency": "EUR", "vat_rate": "19.00",
            "volume": {"price_per_gb_month": {"net": "0.0440000000000000", "gross": "0.0524000000000000"}},
            "primary_ips": [{"type": "ipv6", "prices": []}, {"type": "ipv4", "prices": [{"location": "fsn1",
                "price_hourly": {"net": "0.0007000000000000", "gross": "0.0008000000000000"},
                "price_monthly": {"net": "0.5000000000000000", "gross": "0.5950000000000000"}}]}],
            "server_types": [{"id": 6, "name": "cpx32", "prices": [{"location": "fsn1",
                "price_hourly": {"net": "0.0192000000000000", "gross": "0.0228000000000000"},
                "price_monthly": {"net": "13.9900000000000000", "gross": "16.6481000000000000"},
                "included_traffic": 21_990_232_555_520_u64,
                "price_per_tb_traffic": {"net": "1.0000000000000000", "gross": "1.1900000000000000"}}]}],
            "load_balancer_types": []
        }});
        let p: PricingBody = serde_json::from_value(body).expect("shape");
        let t = p.pricing.table(42).expect("table");
        let cpx32 = t.server("cpx32", "fsn1").expect("priced");
        assert_eq!(cpx32.monthly.gross, Money(16_648_100_000));
        assert_eq!(cpx32.included_traffic, 20 << 40);
        assert_eq!(t.ipv4("fsn1").map(|p| p.monthly.net), Some(Money::eur(0, 50)));
        assert_eq!(t.as_of_ms, Some(42));
    }
}
