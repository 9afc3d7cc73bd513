//! Cloud reference data: providers, their regions and node sizes with list prices, the topology templates,
//! and the headquarters → provider hint. Shared by the wizard (browser), validation and the engine.
//!
//! Prices are EUR. Non-Hetzner prices are converted from USD at 0.92. Monthly = hourly × 730.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Hetzner,
    Huawei,
    Oci,
    Aws,
    Azure,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Hetzner,
        Provider::Huawei,
        Provider::Oci,
        Provider::Aws,
        Provider::Azure,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Provider::Hetzner => "hetzner",
            Provider::Huawei => "huawei",
            Provider::Oci => "oci",
            Provider::Aws => "aws",
            Provider::Azure => "azure",
        }
    }

    pub fn parse(id: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.id() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::Hetzner => "Hetzner Cloud",
            Provider::Huawei => "Huawei Cloud",
            Provider::Oci => "Oracle Cloud (OCI)",
            Provider::Aws => "Amazon Web Services",
            Provider::Azure => "Microsoft Azure",
        }
    }

    /// Only Hetzner can be provisioned today; the others are shown, disabled, with this reason.
    pub fn unsupported_reason(self) -> Option<&'static str> {
        match self {
            Provider::Hetzner => None,
            _ => Some("not yet supported"),
        }
    }

    pub fn is_provisionable(self) -> bool {
        self.unsupported_reason().is_none()
    }

    pub fn regions(self) -> &'static [CloudRegion] {
        match self {
            Provider::Hetzner => HETZNER_REGIONS,
            Provider::Huawei => HUAWEI_REGIONS,
            Provider::Oci => OCI_REGIONS,
            Provider::Aws => AWS_REGIONS,
            Provider::Azure => AZURE_REGIONS,
        }
    }

    pub fn region(self, id: &str) -> Option<&'static CloudRegion> {
        self.regions().iter().find(|r| r.id == id)
    }

    pub fn sizes(self) -> &'static [NodeSize] {
        match self {
            Provider::Hetzner => HETZNER_SIZES,
            Provider::Huawei => HUAWEI_SIZES,
            Provider::Oci => OCI_SIZES,
            Provider::Aws => AWS_SIZES,
            Provider::Azure => AZURE_SIZES,
        }
    }

    pub fn size(self, id: &str) -> Option<&'static NodeSize> {
        self.sizes().iter().find(|s| s.id == id)
    }

    /// The recommended size, else the first.
    pub fn default_size(self) -> &'static NodeSize {
        let sizes = self.sizes();
        sizes.iter().find(|s| s.recommended).unwrap_or(&sizes[0])
    }
}

/// A provider's region (location).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudRegion {
    pub id: &'static str,
    pub city: &'static str,
    /// ISO 3166-1 alpha-2: the jurisdiction the data sits in.
    pub country: &'static str,
}

const fn r(id: &'static str, city: &'static str, country: &'static str) -> CloudRegion {
    CloudRegion { id, city, country }
}

pub const HETZNER_REGIONS: &[CloudRegion] = &[
    r("fsn1", "Falkenstein", "DE"),
    r("nbg1", "Nuremberg", "DE"),
    r("hel1", "Helsinki", "FI"),
    r("ash", "Ashburn", "US"),
    r("hil", "Hillsboro", "US"),
];
pub const HUAWEI_REGIONS: &[CloudRegion] = &[
    r("eu-west-101", "Dublin", "IE"),
    r("eu-west-204", "Paris", "FR"),
    r("cn-north-4", "Beijing", "CN"),
    r("ap-southeast-1", "Hong Kong", "HK"),
    r("me-east-1", "Riyadh", "SA"),
];
pub const OCI_REGIONS: &[CloudRegion] = &[
    r("eu-frankfurt-1", "Frankfurt", "DE"),
    r("eu-amsterdam-1", "Amsterdam", "NL"),
    r("us-ashburn-1", "Ashburn", "US"),
    r("us-phoenix-1", "Phoenix", "US"),
    r("ap-singapore-1", "Singapore", "SG"),
];
pub const AWS_REGIONS: &[CloudRegion] = &[
    r("eu-central-1", "Frankfurt", "DE"),
    r("eu-west-1", "Dublin", "IE"),
    r("us-east-1", "N. Virginia", "US"),
    r("us-west-2", "Oregon", "US"),
    r("ap-southeast-1", "Singapore", "SG"),
];
pub const AZURE_REGIONS: &[CloudRegion] = &[
    r("westeurope", "Amsterdam", "NL"),
    r("northeurope", "Dublin", "IE"),
    r("eastus", "Virginia", "US"),
    r("westus2", "Washington", "US"),
    r("southeastasia", "Singapore", "SG"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disk {
    /// Local SSD of this many GB.
    Ssd(u32),
    EbsOnly,
    Variable,
}

impl Disk {
    pub fn label(self) -> String {
        match self {
            Disk::Ssd(gb) => format!("{gb} GB SSD"),
            Disk::EbsOnly => "EBS-only".into(),
            Disk::Variable => "Variable".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeSize {
    pub id: &'static str,
    pub vcpu: u32,
    pub ram_gb: u32,
    pub disk: Disk,
    /// EUR per hour, 4 decimals.
    pub price_hour: f64,
    pub recommended: bool,
    pub category: &'static str,
}

impl NodeSize {
    /// EUR per month (730 h), 2 decimals.
    pub fn price_month(&self) -> f64 {
        round2(self.price_hour * HOURS_PER_MONTH)
    }

    /// `4 vCPU · 8 GB · 160 GB SSD`: what the size is, without a price (prices depend on the location and
    /// come from Hetzner's list: `preflight::PriceTable`).
    pub fn spec_label(&self) -> String {
        format!("{} vCPU · {} GB · {}", self.vcpu, self.ram_gb, self.disk.label())
    }

    /// `4 vCPU · 8 GB · 160 GB SSD · €0.0232/hr · €16.94/mo` (the built-in list price).
    pub fn sublabel(&self) -> String {
        format!(
            "{} vCPU · {} GB · {} · €{:.4}/hr · €{:.2}/mo",
            self.vcpu,
            self.ram_gb,
            self.disk.label(),
            self.price_hour,
            self.price_month()
        )
    }
}

pub const HOURS_PER_MONTH: f64 = 730.0;

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

const fn s(
    id: &'static str,
    vcpu: u32,
    ram_gb: u32,
    disk: Disk,
    price_hour: f64,
    category: &'static str,
) -> NodeSize {
    NodeSize {
        id,
        vcpu,
        ram_gb,
        disk,
        price_hour,
        recommended: false,
        category,
    }
}

const fn rec(mut n: NodeSize) -> NodeSize {
    n.recommended = true;
    n
}

use Disk::{EbsOnly, Ssd, Variable};

pub const HETZNER_SIZES: &[NodeSize] = &[
    s("cx23", 2, 4, Ssd(40), 0.0064, "shared-intel"),
    s("cx33", 4, 8, Ssd(80), 0.0104, "shared-intel"),
    s("cx43", 8, 16, Ssd(160), 0.0192, "shared-intel"),
    s("cx53", 16, 32, Ssd(320), 0.0360, "shared-intel"),
    s("cpx22", 2, 4, Ssd(80), 0.0128, "shared-amd"),
    rec(s("cpx32", 4, 8, Ssd(160), 0.0232, "shared-amd")),
    s("cpx42", 8, 16, Ssd(320), 0.0408, "shared-amd"),
    s("cpx52", 12, 24, Ssd(480), 0.0585, "shared-amd"),
    s("cpx62", 16, 32, Ssd(640), 0.0809, "shared-amd"),
    s("cax11", 2, 4, Ssd(40), 0.0072, "shared-arm"),
    s("cax21", 4, 8, Ssd(80), 0.0128, "shared-arm"),
    s("cax31", 8, 16, Ssd(160), 0.0256, "shared-arm"),
    s("cax41", 16, 32, Ssd(320), 0.0505, "shared-arm"),
    s("ccx13", 2, 8, Ssd(80), 0.0256, "dedicated"),
    s("ccx23", 4, 16, Ssd(160), 0.0505, "dedicated"),
    s("ccx33", 8, 32, Ssd(240), 0.1001, "dedicated"),
    s("ccx43", 16, 64, Ssd(360), 0.2003, "dedicated"),
    s("ccx53", 32, 128, Ssd(600), 0.4006, "dedicated"),
    s("ccx63", 48, 192, Ssd(960), 0.6001, "dedicated"),
];

pub const HUAWEI_SIZES: &[NodeSize] = &[
    s("s7.large.2", 2, 4, Variable, 0.0782, "general-purpose"),
    s("s7.xlarge.2", 4, 8, Variable, 0.1564, "general-purpose"),
    s("s7.2xlarge.2", 8, 16, Variable, 0.3128, "general-purpose"),
    s("s7.4xlarge.2", 16, 32, Variable, 0.6256, "general-purpose"),
    s("c7n.large.2", 2, 4, Variable, 0.092, "compute-optimized"),
    rec(s("c7n.xlarge.2", 4, 8, Variable, 0.184, "compute-optimized")),
    s("c7n.2xlarge.2", 8, 16, Variable, 0.368, "compute-optimized"),
    s("c7n.4xlarge.2", 16, 32, Variable, 0.736, "compute-optimized"),
    s("m7.large.8", 2, 16, Variable, 0.1049, "memory-optimized"),
    s("m7.xlarge.8", 4, 32, Variable, 0.2098, "memory-optimized"),
    s("m7.2xlarge.8", 8, 64, Variable, 0.4195, "memory-optimized"),
];

pub const OCI_SIZES: &[NodeSize] = &[
    s(
        "VM.Standard.E5.Flex.1.8",
        2,
        8,
        Variable,
        0.0423,
        "general-purpose",
    ),
    rec(s(
        "VM.Standard.E5.Flex.2.16",
        4,
        16,
        Variable,
        0.0846,
        "general-purpose",
    )),
    s(
        "VM.Standard.E5.Flex.4.32",
        8,
        32,
        Variable,
        0.1693,
        "general-purpose",
    ),
    s(
        "VM.Standard.E5.Flex.8.64",
        16,
        64,
        Variable,
        0.3386,
        "general-purpose",
    ),
    s(
        "VM.Standard.E4.Flex.2.16",
        4,
        16,
        Variable,
        0.0681,
        "general-purpose",
    ),
    s(
        "VM.Standard.E4.Flex.4.32",
        8,
        32,
        Variable,
        0.1362,
        "general-purpose",
    ),
    s(
        "VM.Standard3.Flex.2.16",
        4,
        16,
        Variable,
        0.0957,
        "general-purpose",
    ),
    s(
        "VM.Standard3.Flex.4.32",
        8,
        32,
        Variable,
        0.1914,
        "general-purpose",
    ),
    s("VM.Standard.A1.Flex.2.12", 2, 12, Variable, 0.035, "shared-arm"),
    s("VM.Standard.A1.Flex.4.24", 4, 24, Variable, 0.0699, "shared-arm"),
    s("VM.Standard.A1.Flex.8.48", 8, 48, Variable, 0.1398, "shared-arm"),
];

pub const AWS_SIZES: &[NodeSize] = &[
    s("m6i.large", 2, 8, EbsOnly, 0.0883, "general-purpose"),
    rec(s("m6i.xlarge", 4, 16, EbsOnly, 0.1766, "general-purpose")),
    s("m6i.2xlarge", 8, 32, EbsOnly, 0.3533, "general-purpose"),
    s("m6i.4xlarge", 16, 64, EbsOnly, 0.7066, "general-purpose"),
    s("c6i.large", 2, 4, EbsOnly, 0.0782, "compute-optimized"),
    s("c6i.xlarge", 4, 8, EbsOnly, 0.1564, "compute-optimized"),
    s("c6i.2xlarge", 8, 16, EbsOnly, 0.3128, "compute-optimized"),
    s("c6i.4xlarge", 16, 32, EbsOnly, 0.6256, "compute-optimized"),
    s("r6i.large", 2, 16, EbsOnly, 0.1159, "memory-optimized"),
    s("r6i.xlarge", 4, 32, EbsOnly, 0.2318, "memory-optimized"),
    s("r6i.2xlarge", 8, 64, EbsOnly, 0.4637, "memory-optimized"),
    s("m7g.large", 2, 8, EbsOnly, 0.0751, "shared-arm"),
    s("m7g.xlarge", 4, 16, EbsOnly, 0.1501, "shared-arm"),
    s("m7g.2xlarge", 8, 32, EbsOnly, 0.3003, "shared-arm"),
    s("m7g.4xlarge", 16, 64, EbsOnly, 0.6006, "shared-arm"),
];

pub const AZURE_SIZES: &[NodeSize] = &[
    s("Standard_D2s_v5", 2, 8, Variable, 0.0883, "general-purpose"),
    rec(s("Standard_D4s_v5", 4, 16, Variable, 0.1766, "general-purpose")),
    s("Standard_D8s_v5", 8, 32, Variable, 0.3533, "general-purpose"),
    s("Standard_D16s_v5", 16, 64, Variable, 0.7066, "general-purpose"),
    s("Standard_E2s_v5", 2, 16, Variable, 0.1159, "memory-optimized"),
    s("Standard_E4s_v5", 4, 32, Variable, 0.2318, "memory-optimized"),
    s("Standard_E8s_v5", 8, 64, Variable, 0.4637, "memory-optimized"),
    s("Standard_D2ps_v5", 2, 8, Variable, 0.0708, "shared-arm"),
    s("Standard_D4ps_v5", 4, 16, Variable, 0.1417, "shared-arm"),
    s("Standard_D8ps_v5", 8, 32, Variable, 0.2834, "shared-arm"),
];

/// A headquarters hint: if the HQ text mentions one of `words`, pre-select `provider` and these regions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HqHint {
    pub words: &'static [&'static str],
    pub provider: Provider,
    pub regions: &'static [&'static str],
}

pub const HQ_HINTS: &[HqHint] = &[
    HqHint {
        words: &["germany", "frankfurt", "berlin", "munich", "hamburg", "cologne"],
        provider: Provider::Hetzner,
        regions: &["fsn1", "nbg1", "hel1"],
    },
    HqHint {
        words: &["finland", "helsinki", "sweden", "norway", "denmark", "nordic"],
        provider: Provider::Hetzner,
        regions: &["hel1", "fsn1", "nbg1"],
    },
    HqHint {
        words: &["netherlands", "amsterdam", "belgium"],
        provider: Provider::Oci,
        regions: &["eu-amsterdam-1", "eu-frankfurt-1", "ap-singapore-1"],
    },
    HqHint {
        words: &["france", "paris"],
        provider: Provider::Huawei,
        regions: &["eu-west-204", "eu-west-101", "ap-southeast-1"],
    },
    HqHint {
        words: &["ireland", "dublin", "uk", "london", "britain"],
        provider: Provider::Aws,
        regions: &["eu-west-1", "eu-central-1", "us-east-1"],
    },
    HqHint {
        words: &[
            "virginia",
            "ashburn",
            "washington",
            "new york",
            "east us",
            "eastern us",
        ],
        provider: Provider::Aws,
        regions: &["us-east-1", "us-west-2", "eu-west-1"],
    },
    HqHint {
        words: &[
            "california",
            "oregon",
            "seattle",
            "phoenix",
            "west us",
            "western us",
        ],
        provider: Provider::Aws,
        regions: &["us-west-2", "us-east-1", "ap-southeast-1"],
    },
    HqHint {
        words: &["singapore", "malaysia", "indonesia"],
        provider: Provider::Aws,
        regions: &["ap-southeast-1", "us-east-1", "eu-central-1"],
    },
    HqHint {
        words: &["hong kong", "china", "beijing"],
        provider: Provider::Huawei,
        regions: &["ap-southeast-1", "cn-north-4", "eu-west-101"],
    },
    HqHint {
        words: &["saudi", "riyadh", "dubai", "uae", "middle east"],
        provider: Provider::Huawei,
        regions: &["me-east-1", "ap-southeast-1", "eu-west-101"],
    },
    HqHint {
        words: &["japan", "tokyo", "korea", "seoul"],
        provider: Provider::Aws,
        regions: &["ap-southeast-1", "us-west-2", "eu-central-1"],
    },
    HqHint {
        words: &["australia", "sydney", "melbourne"],
        provider: Provider::Oci,
        regions: &["ap-singapore-1", "us-ashburn-1", "eu-frankfurt-1"],
    },
];

/// The first hint whose word appears in `headquarters` as a whole word (case-insensitive).
///
/// The hint words are ASCII, so ASCII case folding finds the same matches as Unicode's; it keeps Unicode's
/// case tables (13 KB) out of the wizard's first page, which runs this as the headquarters are typed.
pub fn hq_hint(headquarters: &str) -> Option<&'static HqHint> {
    let text: String = headquarters
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let padded = format!(" {} ", text.split_whitespace().collect::<Vec<_>>().join(" "));
    HQ_HINTS
        .iter()
        .find(|h| h.words.iter().any(|w| padded.contains(&format!(" {w} "))))
}

/// The topology templates of step 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Topology {
    Citadel,
    Dual,
    Zoned,
    Compact,
    Solo,
}

impl Topology {
    pub const ALL: [Topology; 5] = [
        Topology::Citadel,
        Topology::Dual,
        Topology::Zoned,
        Topology::Compact,
        Topology::Solo,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Topology::Citadel => "citadel",
            Topology::Dual => "dual",
            Topology::Zoned => "zoned",
            Topology::Compact => "compact",
            Topology::Solo => "solo",
        }
    }

    pub fn parse(id: &str) -> Option<Topology> {
        Topology::ALL.into_iter().find(|t| t.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Topology::Citadel => "CITADEL",
            Topology::Dual => "DUAL",
            Topology::Zoned => "ZONED",
            Topology::Compact => "COMPACT",
            Topology::Solo => "SOLO",
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Topology::Citadel => "Tier-1 Bank",
            Topology::Dual => "Enterprise",
            Topology::Zoned => "Mid-market",
            Topology::Compact => "Starter",
            Topology::Solo => "Dev / POC",
        }
    }

    /// Regions of the template (the AIR-GAP add-on adds one more).
    pub fn region_count(self) -> usize {
        self.slot_labels().len()
    }

    pub fn clusters(self) -> u32 {
        match self {
            Topology::Citadel | Topology::Dual => 6,
            Topology::Zoned => 4,
            Topology::Compact => 2,
            Topology::Solo => 1,
        }
    }

    pub fn vclusters(self) -> u32 {
        match self {
            Topology::Solo => 3,
            _ => 6,
        }
    }

    pub fn slot_labels(self) -> &'static [&'static str] {
        match self {
            Topology::Citadel => &[
                "CP Region 1 — MGMT",
                "CP Region 2 — MGMT",
                "DP Region 1 — DMZ + RTZ",
                "DP Region 2 — DMZ + RTZ",
            ],
            Topology::Dual => &["Region 1 — MGMT + DMZ + RTZ", "Region 2 — MGMT + DMZ + RTZ"],
            Topology::Zoned => &["Region 1 — DMZ / RTZ / MGMT", "Region 2 — DMZ / RTZ / MGMT"],
            Topology::Compact => &["Region 1 — Primary", "Region 2 — Secondary"],
            Topology::Solo => &["Region 1 — All Components"],
        }
    }
}

/// The label of the extra region card the AIR-GAP add-on adds.
pub const AIRGAP_SLOT_LABEL: &str = "AIR-GAP Region — isolated";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_recommended_size_and_regions() {
        for p in Provider::ALL {
            assert!(p.sizes().iter().filter(|s| s.recommended).count() == 1, "{p:?}");
            assert!(!p.regions().is_empty());
            assert_eq!(Provider::parse(p.id()), Some(p));
        }
        assert_eq!(Provider::Hetzner.default_size().id, "cpx32");
        assert!(Provider::Hetzner.is_provisionable());
        assert_eq!(Provider::Aws.unsupported_reason(), Some("not yet supported"));
    }

    #[test]
    fn prices_follow_the_730_hour_month() {
        let cpx32 = Provider::Hetzner.size("cpx32").expect("exists");
        assert_eq!(cpx32.price_month(), 16.94);
        assert_eq!(
            cpx32.sublabel(),
            "4 vCPU · 8 GB · 160 GB SSD · €0.0232/hr · €16.94/mo"
        );
    }

    #[test]
    fn hq_hints_match_whole_words() {
        assert_eq!(
            hq_hint("Frankfurt, Germany").map(|h| h.provider),
            Some(Provider::Hetzner)
        );
        assert_eq!(hq_hint("Helsinki").map(|h| h.regions[0]), Some("hel1"));
        assert_eq!(hq_hint("London, UK").map(|h| h.provider), Some(Provider::Aws));
        assert_eq!(hq_hint("Hong Kong").map(|h| h.provider), Some(Provider::Huawei));
        // "uk" must not match inside another word.
        assert_eq!(hq_hint("Fukuoka"), None);
        assert_eq!(hq_hint(""), None);
        // Any case, and non-ASCII punctuation between words.
        assert_eq!(hq_hint("HELSINKI").map(|h| h.regions[0]), Some("hel1"));
        assert_eq!(
            hq_hint("Paris · France").map(|h| h.provider),
            hq_hint("paris").map(|h| h.provider)
        );
        assert!(hq_hint("Paris · France").is_some());
        // A word with a non-ASCII letter is a word of its own, not split at that letter.
        assert_eq!(hq_hint("Dubaï"), None);
    }

    /// `hq_hint` folds case in ASCII only: that finds every match only while the hint words are lowercase ASCII.
    #[test]
    fn hint_words_are_lowercase_ascii() {
        for hint in HQ_HINTS {
            for word in hint.words {
                assert!(
                    word.bytes().all(|b| b.is_ascii_lowercase() || b == b' '),
                    "hint word {word:?} must be lowercase ASCII"
                );
            }
        }
    }

    #[test]
    fn topologies() {
        assert_eq!(Topology::Citadel.region_count(), 4);
        assert_eq!(Topology::Solo.region_count(), 1);
        assert_eq!(Topology::parse("zoned"), Some(Topology::Zoned));
        assert_eq!(serde_json::to_string(&Topology::Dual).expect("json"), "\"dual\"");
    }
}
