//! The field rules of a provisioning request, one function per field: each returns the message for a bad
//! value (naming what to do), or `None`. The browser runs them per keystroke, [`super::validate`] runs them over
//! the whole request. No regex crate (the browser bundle stays small): the checks are written out by hand.

use super::request::{MAX_WORKERS, RESERVED_SUBDOMAINS};

pub const ORG_NAME_MAX: usize = 100;
pub const HQ_MAX: usize = 100;
pub const PROJECT_ID_MAX: usize = 64;
pub const HETZNER_TOKEN_MIN: usize = 64;
pub const HETZNER_TOKEN_MAX: usize = 256;
pub const EMAIL_MAX: usize = 254;
pub const SUBDOMAIN_MAX: usize = 63;
pub const DOMAIN_MAX: usize = 253;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The organisation a wizard draft belongs to: one of `allowed` (the caller's organisations where they may
/// create deployments). Checked on step 1 and at launch; the server decides `allowed` from the session.
pub fn owner_org(value: &str, allowed: &[String]) -> Option<String> {
    if value.is_empty() {
        Some("Choose the organisation this Sovereign belongs to.".into())
    } else if !allowed.iter().any(|a| a == value) {
        Some(
            "You cannot create Sovereigns in this organisation; choose one where you are an editor or above."
                .into(),
        )
    } else {
        None
    }
}

pub fn org_name(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Enter your organisation's name.".into())
    } else if v.chars().count() > ORG_NAME_MAX {
        Some(format!("Shorten the name to {ORG_NAME_MAX} characters or fewer."))
    } else if has_control(v) {
        Some("Remove the line breaks and control characters from the name.".into())
    } else {
        None
    }
}

pub fn headquarters(value: &str) -> Option<String> {
    let v = value.trim();
    if v.chars().count() > HQ_MAX {
        Some(format!(
            "Shorten the headquarters to {HQ_MAX} characters or fewer."
        ))
    } else if has_control(v) {
        Some("Remove the line breaks and control characters from the headquarters.".into())
    } else {
        None
    }
}

pub fn worker_count(count: u32) -> Option<String> {
    (count > MAX_WORKERS).then(|| format!("Choose between 0 and {MAX_WORKERS} worker nodes per region."))
}

/// A Hetzner project id: what the console shows in the project URL (digits), or a name-like id.
pub fn hetzner_project_id(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Enter your Hetzner project ID (the number in the console URL, e.g. 1234567).".into())
    } else if v.len() > PROJECT_ID_MAX {
        Some(format!(
            "A Hetzner project ID is at most {PROJECT_ID_MAX} characters; check what you pasted."
        ))
    } else if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("Use only letters, digits, hyphens and underscores in the project ID.".into())
    } else {
        None
    }
}

/// The local check of a Hetzner API token, before the server asks Hetzner about it.
pub fn hetzner_token(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        Some("Paste a Hetzner Cloud API token with Read & Write permission.".into())
    } else if v.chars().count() < HETZNER_TOKEN_MIN {
        Some(format!(
            "Token too short — Hetzner API tokens are at least {HETZNER_TOKEN_MIN} characters; copy the whole token."
        ))
    } else if v.len() > HETZNER_TOKEN_MAX || !v.chars().all(|c| c.is_ascii_graphic()) {
        Some(
            "That is not a Hetzner API token: it has spaces or unusual characters. Paste only the token."
                .into(),
        )
    } else {
        None
    }
}

/// SSH key types the OpenTofu module accepts (`infra/hetzner`): the same list on both sides.
pub const SSH_KEY_TYPES: [&str; 3] = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];

const SSH_KEY_HELP: &str = "Paste a single line beginning with \"ssh-ed25519\", \"ecdsa-sha2-nistp256\" or \"ssh-rsa\" followed by the base64 key (the contents of your .pub file).";

/// An OpenSSH public key line: `<type> <base64 blob> [comment]`, where the blob decodes and names the same
/// type, and the type is one the OpenTofu module accepts.
pub fn ssh_public_key(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some("Generate a key pair or paste your OpenSSH public key.".into());
    }
    if v.contains('\n') || v.contains('\r') {
        return Some(format!("The key must be one line. {SSH_KEY_HELP}"));
    }
    if v.contains("PRIVATE KEY") {
        return Some(
            "That is a private key — never paste it anywhere. Paste the public key (.pub) instead.".into(),
        );
    }
    let mut parts = v.split_whitespace();
    let kind = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    if !SSH_KEY_TYPES.contains(&kind) {
        return Some(
            if kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-") {
                format!("Key type “{kind}” is not supported by the provisioner. {SSH_KEY_HELP}")
            } else {
                format!("Public key did not parse. {SSH_KEY_HELP}")
            },
        );
    }
    let Some(bytes) = base64_decode(blob) else {
        return Some(format!("The key's base64 part is damaged. {SSH_KEY_HELP}"));
    };
    // The blob starts with a length-prefixed copy of the key type; it must match the text before it.
    let inner = bytes
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
        .and_then(|n| bytes.get(4..4 + n));
    if inner != Some(kind.as_bytes()) {
        return Some(format!(
            "The key's base64 part does not hold a “{kind}” key. {SSH_KEY_HELP}"
        ));
    }
    let min_len = match kind {
        "ssh-ed25519" => 51,          // 4+11 type, 4+32 key
        "ecdsa-sha2-nistp256" => 104, // type, curve name, 65-byte point
        _ => 200,                     // RSA: 1024 bits at the very least
    };
    if bytes.len() < min_len {
        return Some(format!(
            "The key is truncated — copy the whole line. {SSH_KEY_HELP}"
        ));
    }
    None
}

/// Standard base64 with canonical padding (what OpenSSH writes). `None` if malformed or empty.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if s.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// The key's SHA-256 fingerprint as `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the
/// digest of the decoded key blob. `None` for a line [`ssh_public_key`] refuses. The console shows it for a
/// pasted key so the operator can compare it with `ssh-keygen -lf key.pub` before launching.
pub fn ssh_fingerprint(line: &str) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    if ssh_public_key(line).is_some() {
        return None;
    }
    let blob = base64_decode(line.split_whitespace().nth(1)?)?;
    let digest = sha2::Sha256::digest(&blob);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

/// One DNS label as a Sovereign subdomain: `^[a-z]([a-z0-9-]*[a-z0-9])?$`, at most 63 characters.
pub fn subdomain_format(value: &str) -> Option<String> {
    const RULE: &str =
        "Use a-z, 0-9 and hyphens, start with a letter, end with a letter or digit, at most 63 characters.";
    let v = value;
    if v.is_empty() {
        return Some("Choose a subdomain for your Sovereign.".into());
    }
    if v.len() > SUBDOMAIN_MAX {
        return Some(format!("The subdomain is too long. {RULE}"));
    }
    let bytes = v.as_bytes();
    let ok_chars = bytes
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    let ok_ends = bytes[0].is_ascii_lowercase() && bytes[bytes.len() - 1] != b'-';
    if !ok_chars {
        let upper = bytes.iter().any(|c| c.is_ascii_uppercase());
        return Some(if upper {
            format!("Use lowercase letters. {RULE}")
        } else {
            format!("The subdomain has characters that cannot appear in a DNS name. {RULE}")
        });
    }
    if !ok_ends {
        return Some(format!(
            "The subdomain must start with a letter and not end with a hyphen. {RULE}"
        ));
    }
    None
}

pub fn is_reserved_subdomain(value: &str) -> bool {
    RESERVED_SUBDOMAINS.contains(&value)
}

/// The format rule plus the reserved names (§F.1): everything the browser can decide alone.
pub fn subdomain(value: &str) -> Option<String> {
    subdomain_format(value).or_else(|| {
        is_reserved_subdomain(value).then(|| {
            format!("“{value}” is reserved for the Sovereign's own services; choose another subdomain.")
        })
    })
}

/// A domain the customer owns: at most 253 characters, at least two labels, each a valid label.
pub fn domain_name(value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return Some("Enter the domain your Sovereign will live under, e.g. sovereign.example.com.".into());
    }
    if v.len() > DOMAIN_MAX {
        return Some(format!("A domain name is at most {DOMAIN_MAX} characters."));
    }
    let labels: Vec<&str> = v.trim_end_matches('.').split('.').collect();
    if labels.len() < 2 {
        return Some("Enter a full domain with at least two parts, e.g. example.com.".into());
    }
    if labels.iter().any(|l| subdomain_format(l).is_some()) {
        return Some(
            "Each part of the domain must use a-z, 0-9 and hyphens, start with a letter and not end with a hyphen (e.g. sovereign.example.com)."
                .into(),
        );
    }
    None
}

/// An e-mail address: `local@domain.tld`, no spaces, one `@`.
pub fn email(value: &str) -> Option<String> {
    let v = value.trim();
    let bad = || Some("Enter an e-mail address like platform@example.com.".to_string());
    if v.is_empty() {
        return Some("Enter the admin e-mail address (used for TLS certificates and notices).".into());
    }
    if v.len() > EMAIL_MAX {
        return Some(format!("An e-mail address is at most {EMAIL_MAX} characters."));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    let Some((local, domain)) = v.split_once('@') else {
        return bad();
    };
    if local.is_empty() || domain.contains('@') {
        return bad();
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return bad();
    }
    None
}

/// A catalog component id: lowercase kebab-case.
pub fn component_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !value.starts_with('-')
}
