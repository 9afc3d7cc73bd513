//! Domain names as PowerDNS writes them (absolute, with the trailing dot) and as Catalyst keeps them
//! (without it).

/// `acme.omani.works` → `acme.omani.works.` (lowercased; an absolute name stays as it is).
pub fn absolute(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with('.') { n } else { format!("{n}.") }
}

/// `acme.omani.works.` → `acme.omani.works` (lowercased).
pub fn bare(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(absolute("Acme.Omani.Works"), "acme.omani.works.");
        assert_eq!(absolute("acme.omani.works."), "acme.omani.works.");
        assert_eq!(bare("acme.omani.works."), "acme.omani.works");
        assert_eq!(bare(&absolute("x.example")), "x.example");
    }
}
