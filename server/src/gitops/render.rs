//! Rendering `clusters/<fqdn>/`: the template's files as they are (Flux substitutes the `${…}` at apply time
//! from the `sovereign-settings` ConfigMap cloud-init writes), the template's kit replaced by the kit of the
//! selected components, and a README saying what the folder is.

use std::collections::BTreeMap;
use std::path::Path;

use app::catalog::Catalog;
use app::deployments::DeploymentRequest;

use super::catalog::components_for;
use super::kit::{Acme, KitOptions, bootstrap_kit};
use super::{GitopsError, RenderInput, cluster_path};

/// A rendered tree: `files` are paths relative to `root` (`clusters/<fqdn>`), `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub root: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

const KIT_DIR: &str = "bootstrap-kit";

/// Renders the tree of a provisioning request: its selected components (with their dependencies), its HA
/// setting and the certificate mode. The engine's GitOps step and `catalyst gitops render` both call this.
pub fn render_request(
    template_dir: &Path,
    catalog: &Catalog,
    request: &DeploymentRequest,
    deployment_id: &str,
    acme: Acme,
) -> Result<Rendered, GitopsError> {
    render(
        template_dir,
        &RenderInput {
            fqdn: request.fqdn(),
            deployment_id: deployment_id.to_string(),
            components: components_for(catalog, &request.components)?,
            kit: KitOptions {
                ha: request.ha_enabled,
                acme,
            },
        },
    )
}

/// Renders the tree for `input` from the template folder (`clusters/_template`).
pub fn render(template_dir: &Path, input: &RenderInput) -> Result<Rendered, GitopsError> {
    let fqdn = input.fqdn.trim().to_ascii_lowercase();
    if !valid_fqdn(&fqdn) {
        return Err(GitopsError::Invalid(format!(
            "“{}” is not a domain name",
            input.fqdn
        )));
    }
    let mut files = BTreeMap::new();
    read_tree(template_dir, template_dir, &mut files)?;
    if !files.contains_key("kustomization.yaml") {
        return Err(GitopsError::Template(format!(
            "{} has no kustomization.yaml",
            template_dir.display()
        )));
    }
    files.retain(|path, _| !path.starts_with(&format!("{KIT_DIR}/")));
    for (name, content) in bootstrap_kit(&input.components, &input.kit)? {
        files.insert(format!("{KIT_DIR}/{name}"), content.into_bytes());
    }
    let mut ids: Vec<&str> = input.components.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    files.insert(
        "README.md".into(),
        format!(
            "# {fqdn}\n\n\
             Flux tree of the Sovereign `{fqdn}` (Catalyst deployment `{id}`), written by Catalyst. \
             Changes made here by hand are replaced the next time Catalyst renders this folder.\n\n\
             - `flux-system/`: the Flux Kustomizations (this folder is their source).\n\
             - `bootstrap-kit/`: the kit's units in dependency order, each applied by its own Kustomization \
             (`units.yaml`): a component's HelmRelease and what it consumes, or what the kit wires \
             (issuers, Gateway, secret store, shared database).\n\
             - `infrastructure/`: Crossplane's Hetzner provider, applied after the kit.\n\n\
             Components: {list}.\n\n\
             High availability: {ha}. Certificate: {cert} from Let's Encrypt{staging}.\n",
            id = input.deployment_id,
            list = ids.join(", "),
            ha = if input.kit.ha { "on" } else { "off" },
            cert = if input.kit.acme.dns01 {
                "one wildcard certificate (DNS-01)"
            } else {
                "one certificate naming every host (HTTP-01)"
            },
            staging = if input.kit.acme.staging { " (staging)" } else { "" }
        )
        .into_bytes(),
    );
    Ok(Rendered {
        root: cluster_path(&fqdn),
        files,
    })
}

/// `catalyst gitops …`: offline work on Sovereigns' trees.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum GitopsCommand {
    /// Render the Flux tree of a provisioning request into DIR/clusters/<fqdn>/, exactly as a deployment
    /// pushes it (same catalog, template and renderer). Exit 0 and the files written, or exit 1 and why.
    Render {
        /// JSON of the request: a DeploymentRequest, or a REST create body holding one under "request".
        /// Empty `components` means the catalog's default selection.
        #[arg(long, value_name = "FILE")]
        request: std::path::PathBuf,
        /// Folder to write into (created; clusters/<fqdn>/ inside it is replaced).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
        /// Deployment id written into the tree's README.
        #[arg(long, value_name = "ID", default_value = "offline")]
        deployment_id: String,
        /// Certificates by DNS-01 (one wildcard) instead of HTTP-01 (one certificate naming every host).
        #[arg(long)]
        dns01: bool,
        /// Let's Encrypt's staging issuer.
        #[arg(long)]
        acme_staging: bool,
    },
}

/// Runs a `catalyst gitops` command; errors are one line on stderr and exit 1.
pub fn run_command(
    command: &GitopsCommand,
    catalog_dir: &Path,
    template_dir: &Path,
) -> std::process::ExitCode {
    match run(command, catalog_dir, template_dir) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("catalyst: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: &GitopsCommand, catalog_dir: &Path, template_dir: &Path) -> Result<Vec<String>, String> {
    let GitopsCommand::Render {
        request,
        out,
        deployment_id,
        dns01,
        acme_staging,
    } = command;
    let store = crate::catalog::load(catalog_dir)
        .map_err(|p| format!("the catalog in {} is invalid:\n{p}", catalog_dir.display()))?;
    let text =
        std::fs::read_to_string(request).map_err(|e| format!("--request {}: {e}", request.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("--request {}: not JSON: {e}", request.display()))?;
    let body = json.get("request").cloned().unwrap_or(json);
    let mut req: DeploymentRequest = serde_json::from_value(body)
        .map_err(|e| format!("--request {}: not a provisioning request: {e}", request.display()))?;
    if req.components.is_empty() {
        req.components = store.engine.selection_ids(&store.engine.default_selection());
    }
    let tree = render_request(
        template_dir,
        &store.engine,
        &req,
        deployment_id,
        Acme {
            staging: *acme_staging,
            dns01: *dns01,
        },
    )
    .map_err(|e| e.to_string())?;
    let root = out.join(&tree.root);
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .map_err(|e| format!("--out: cannot replace {}: {e}", root.display()))?;
    }
    for (rel, bytes) in &tree.files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("--out: {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("--out: {}: {e}", path.display()))?;
    }
    Ok(vec![format!(
        "wrote {} files to {}",
        tree.files.len(),
        root.display()
    )])
}

fn read_tree(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), GitopsError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| GitopsError::Template(format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| GitopsError::Template(format!("{}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(|e| GitopsError::Template(format!("{}: {e}", path.display())))?;
        if kind.is_dir() {
            read_tree(base, &path, out)?;
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(base)
                .map_err(|e| GitopsError::Template(e.to_string()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = std::fs::read(&path)
                .map_err(|e| GitopsError::Template(format!("{}: {e}", path.display())))?;
            out.insert(rel, bytes);
        }
    }
    Ok(())
}

fn valid_fqdn(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdns() {
        assert!(valid_fqdn("acme.omani.works"));
        assert!(!valid_fqdn("acme"));
        assert!(!valid_fqdn("../etc.x"));
        assert!(!valid_fqdn("a..b"));
        assert!(!valid_fqdn("-a.b"));
    }
}
