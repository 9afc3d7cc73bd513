//! The catalog's schema: what `platform/families.yaml` and `platform/<id>/blueprint.yaml` contain, as Rust
//! types. The server reads the files into these types (and rejects files that do not fit them); the browser
//! receives the validated catalog as [`CatalogData`] and runs the same engine (`catalog::engine`) on it.
//!
//! Field names on disk and on the wire are camelCase. The names `id`, `name`, `family`, `tier`,
//! `dependencies`, `visibility` and `chart { repository, name, version, namespace }` are read by the Flux
//! bootstrap kit and the provisioning engine: keep them stable.

use serde::{Deserialize, Serialize};

/// How strongly a component is part of every Sovereign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Always installed; cannot be removed.
    Mandatory,
    /// In the default selection; can be removed.
    Recommended,
    /// Offered, not selected by default.
    Optional,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Mandatory, Tier::Recommended, Tier::Optional];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Mandatory => "mandatory",
            Tier::Recommended => "recommended",
            Tier::Optional => "optional",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Mandatory => "Mandatory",
            Tier::Recommended => "Recommended",
            Tier::Optional => "Optional",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where a blueprint appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    /// A card in the marketplace.
    Listed,
    /// Not in the marketplace grid; reachable by its product page and by id (infrastructure pieces).
    Unlisted,
    /// Only for the organisation that owns it (not shown in the public catalog API either).
    Private,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Visibility::Listed, Visibility::Unlisted, Visibility::Private];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Listed => "listed",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The kind of licence, as it matters for sovereignty (can we keep running and changing it on our terms?).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseKind {
    /// Apache-2.0, MIT, BSD: use, change and redistribute freely.
    Permissive,
    /// MPL-2.0, LGPL: changes to the component's own files must be shared.
    WeakCopyleft,
    /// GPL: derived works distributed must be GPL.
    Copyleft,
    /// AGPL: also applies when the software is offered over a network.
    NetworkCopyleft,
    /// Source visible, use restricted (BSL, SSPL, …).
    SourceAvailable,
}

impl LicenseKind {
    pub const ALL: [LicenseKind; 5] = [
        LicenseKind::Permissive,
        LicenseKind::WeakCopyleft,
        LicenseKind::Copyleft,
        LicenseKind::NetworkCopyleft,
        LicenseKind::SourceAvailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseKind::Permissive => "permissive",
            LicenseKind::WeakCopyleft => "weak-copyleft",
            LicenseKind::Copyleft => "copyleft",
            LicenseKind::NetworkCopyleft => "network-copyleft",
            LicenseKind::SourceAvailable => "source-available",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LicenseKind::Permissive => "Permissive",
            LicenseKind::WeakCopyleft => "Weak copyleft",
            LicenseKind::Copyleft => "Copyleft",
            LicenseKind::NetworkCopyleft => "Network copyleft",
            LicenseKind::SourceAvailable => "Source-available",
        }
    }

    pub fn parse(s: &str) -> Option<LicenseKind> {
        LicenseKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind an SPDX licence id implies, for the ids we know; `None` for others.
    pub fn of_spdx(spdx: &str) -> Option<LicenseKind> {
        Some(match spdx {
            "Apache-2.0" | "MIT" | "BSD-2-Clause" | "BSD-3-Clause" | "ISC" | "0BSD" | "Unlicense" => {
                LicenseKind::Permissive
            }
            "MPL-2.0" | "LGPL-2.1-only" | "LGPL-2.1-or-later" | "LGPL-3.0-only" | "LGPL-3.0-or-later"
            | "EPL-2.0" => LicenseKind::WeakCopyleft,
            "GPL-2.0-only" | "GPL-2.0-or-later" | "GPL-3.0-only" | "GPL-3.0-or-later" => {
                LicenseKind::Copyleft
            }
            "AGPL-3.0-only" | "AGPL-3.0-or-later" => LicenseKind::NetworkCopyleft,
            "BUSL-1.1" | "SSPL-1.0" | "Elastic-2.0" => LicenseKind::SourceAvailable,
            _ => return None,
        })
    }
}

/// The upstream project a component is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    /// Project name as its authors write it.
    pub project: String,
    /// Project home page (https).
    pub url: String,
    /// SPDX licence id of the upstream code, e.g. `Apache-2.0`.
    pub license: String,
}

/// The Helm chart Flux installs for a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartRef {
    /// Helm repository URL (`https://…`) or OCI registry path (`oci://…`, without the chart name).
    pub repository: String,
    /// Chart name in that repository.
    pub name: String,
    /// Pinned chart version: semantic version, optionally with a leading `v` as some upstreams publish.
    pub version: String,
    /// The namespace the component installs into (the HelmRelease's `targetNamespace`).
    pub namespace: String,
    /// Catalyst's values for the chart (used with the generic app-template chart for upstreams that publish
    /// no chart of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<serde_json::Value>,
}

/// What we know about who controls a component and under which law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sovereignty {
    /// Who governs the project (a foundation, a company, a community).
    pub steward: String,
    /// Where the steward is established (a country), or `International` for communities without one.
    pub jurisdiction: String,
    #[serde(rename = "licenseKind")]
    pub license_kind: LicenseKind,
}

/// One platform component: `platform/<id>/blueprint.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    /// Lowercase letters, digits and hyphens; equals the folder name.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Id of a family in `families.yaml`.
    pub family: String,
    /// Tier as written; the effective tier (`Catalog::effective_tier`) can be stricter.
    pub tier: Tier,
    pub visibility: Visibility,
    /// One line (at most 120 characters) for cards.
    pub summary: String,
    /// A paragraph or two for the product page.
    pub description: String,
    pub upstream: Upstream,
    /// Absent only for components Flux does not deploy (OpenTofu runs from Catalyst itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartRef>,
    /// Ids of the components this one needs.
    #[serde(default)]
    pub dependencies: Vec<String>,
    pub sovereignty: Sovereignty,
    /// File name under `public/sovereign/component-logos/`; absent → a letter tile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Server-side only: the kit files beside `blueprint.yaml`; never serialised.
    #[serde(skip)]
    pub kit: KitFiles,
}

/// The files beside a `blueprint.yaml` that shape the component in a Sovereign's bootstrap kit
/// (platform/README.md → "The bootstrap kit"): its curated Helm values, their high-availability overlay and
/// its wiring. The server's catalog loader reads them and the GitOps renderer uses them; the browser never
/// receives them (`#[serde(skip)]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KitFiles {
    /// `values.yaml`: the chart values Catalyst sets (`${VAR}` are Flux substitutions).
    pub values: Option<serde_json::Value>,
    /// `values-ha.yaml`: merged over `values.yaml` when the Sovereign is highly available.
    pub values_ha: Option<serde_json::Value>,
    /// `kit.yaml`: workloads (where the values set requests and replicas), host, database, buckets, OIDC
    /// client and generated secrets.
    pub kit: Option<serde_json::Value>,
}

/// A family of components: one entry of `platform/families.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Family {
    /// Lowercase id, e.g. `cortex`.
    pub id: String,
    /// Display name, e.g. `CORTEX`.
    pub name: String,
    /// e.g. `AI & Machine Learning`.
    pub subtitle: String,
    pub tier: Tier,
    /// Choosing any member adds the whole family (and the families it depends on).
    #[serde(rename = "cascadeOnMemberSelection")]
    pub cascade_on_member_selection: bool,
    /// Ids of families whose members come along when this family is added as a whole.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Chip colour, `#RRGGBB`.
    pub color: String,
    /// One line for chips and headers.
    pub summary: String,
    /// Paragraphs for the family page.
    #[serde(default)]
    pub overview: Vec<String>,
    /// Bullet points for the family page.
    #[serde(default)]
    pub capabilities: Vec<String>,
}

/// `platform/families.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamiliesFile {
    pub families: Vec<Family>,
}

/// The whole catalog as it travels: families in file order, blueprints sorted by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogData {
    pub families: Vec<Family>,
    pub blueprints: Vec<Blueprint>,
}

/// One blueprint as the REST API serves it: the file's fields plus what the engine computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlueprintView {
    #[serde(flatten)]
    pub blueprint: Blueprint,
    /// The tier after promotion (a dependency of a mandatory component is mandatory).
    #[serde(rename = "effectiveTier")]
    pub effective_tier: Tier,
    /// Ids of the components that depend on this one.
    #[serde(rename = "dependents")]
    pub dependents: Vec<String>,
}

/// `GET /sovereign/api/v1/catalog`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogDocument {
    pub families: Vec<Family>,
    pub blueprints: Vec<BlueprintView>,
    /// Mandatory + recommended components and their dependencies.
    #[serde(rename = "defaultSelection")]
    pub default_selection: Vec<String>,
}
