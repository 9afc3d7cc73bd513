//! Rendering `clusters/<fqdn>/`: the template's files as they are (Flux substitutes the `${…}` at apply time
//! from the `sovereign-settings` ConfigMap cloud-init writes), the template's kit replaced by the kit of the
//! selected components, and a README saying what the folder is.

use std::collections::BTreeMap;
use std::path::Path;

use super::kit::bootstrap_kit;
use super::{GitopsError, RenderInput, cluster_path};

/// A rendered tree: `files` are paths relative to `root` (`clusters/<fqdn>`), `/`-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub root: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

const KIT_DIR: &str = "bootstrap-kit";

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
    for (name, content) in bootstrap_kit(&input.components)? {
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
             - `bootstrap-kit/`: one HelmRepository and HelmRelease per component, in dependency order.\n\
             - `infrastructure/`: Crossplane's Hetzner provider, applied after the kit.\n\n\
             Components: {list}.\n",
            id = input.deployment_id,
            list = ids.join(", ")
        )
        .into_bytes(),
    );
    Ok(Rendered {
        root: cluster_path(&fqdn),
        files,
    })
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
