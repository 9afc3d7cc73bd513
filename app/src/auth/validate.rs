//! Validation of what people type into the auth pages. The same code runs in the browser (instant feedback)
//! and on the server (the check that counts).

use crate::error::FieldError;

/// Shortest password accepted. Length is what makes a password strong; no composition rules (NIST 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted: bounds the hashing work a request can cause.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Lower-cases and trims an e-mail address: the login name is case-insensitive.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible e-mail address (we do not send mail to verify it; invitations and SSO do that).
pub fn email(field: &str, email: &str) -> Result<String, FieldError> {
    let e = normalize_email(email);
    if e.is_empty() {
        return Err(FieldError::new(field, "Enter an e-mail address."));
    }
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    if valid {
        Ok(e)
    } else {
        Err(FieldError::new(
            field,
            "Enter an e-mail address like name@example.com.",
        ))
    }
}

/// A new password: at least [`MIN_PASSWORD_CHARS`] characters, not the e-mail address.
pub fn new_password(field: &str, password: &str, email: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            format!(
                "Use at least {MIN_PASSWORD_CHARS} characters (this one has {chars}). A few unrelated words work well."
            ),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(FieldError::new(
            field,
            format!("Use at most {MAX_PASSWORD_BYTES} characters."),
        ));
    }
    if !email.is_empty() && normalize_email(password) == normalize_email(email) {
        return Err(FieldError::new(
            field,
            "Do not use your e-mail address as the password.",
        ));
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(' '))
    {
        return Err(FieldError::new(field, "Use more than one repeated character."));
    }
    Ok(())
}

/// A display name: optional, at most 80 characters, no control characters.
pub fn display_name(field: &str, name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    if n.chars().count() > 80 || n.chars().any(char::is_control) {
        return Err(FieldError::new(field, "Use at most 80 characters, on one line."));
    }
    Ok(n.to_string())
}

/// An organisation's name: 2–80 characters.
pub fn org_name(field: &str, name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    let len = n.chars().count();
    if !(2..=80).contains(&len) || n.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "Name the organisation in 2–80 characters, e.g. Acme Cloud.",
        ));
    }
    Ok(n.to_string())
}

/// A URL-safe slug from a name: `Acme Cloud GmbH` → `acme-cloud-gmbh`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(40).collect();
    slug.trim_end_matches('-').to_string()
}

/// An organisation slug: 2–40 of `a-z 0-9 -`, starting with a letter.
pub fn org_slug(field: &str, slug: &str) -> Result<String, FieldError> {
    let s = slug.trim();
    let valid = (2..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "Use 2–40 lowercase letters, digits and dashes, starting with a letter, e.g. acme-cloud.",
        ))
    }
}

/// An API token's name: 1–60 characters saying what it is for.
pub fn token_name(field: &str, name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 {
        return Err(FieldError::new(
            field,
            "Name the token after what will use it, e.g. CI pipeline.",
        ));
    }
    if len > 60 || n.chars().any(char::is_control) {
        return Err(FieldError::new(field, "Use at most 60 characters, on one line."));
    }
    Ok(n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("email", "  Ada@Example.COM "),
            Ok("ada@example.com".to_string())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            let e = email("email", bad).expect_err(bad);
            assert_eq!(e.field, "email");
        }
    }

    #[test]
    fn passwords() {
        assert!(new_password("password", "correct horse battery", "ada@example.com").is_ok());
        let e = new_password("password", "short", "").expect_err("short");
        assert!(e.message.contains("at least 12"), "{}", e.message);
        assert!(e.message.contains("has 5"), "{}", e.message);
        assert!(new_password("password", "ada@example.com", "Ada@Example.com").is_err());
        assert!(new_password("password", "aaaaaaaaaaaaaaaa", "").is_err());
        assert!(new_password("password", &"x1".repeat(200), "").is_err());
        // Length counts characters, not bytes.
        assert!(new_password("password", "äöüäöüäöüäö", "").is_err());
        assert!(new_password("password", "äöüäöüäöüäöü", "").is_ok());
    }

    #[test]
    fn orgs_and_slugs() {
        assert_eq!(slugify("Acme Cloud GmbH"), "acme-cloud-gmbh");
        assert_eq!(slugify("  --Ωmega  42!! "), "mega-42");
        assert_eq!(org_slug("slug", "acme-cloud"), Ok("acme-cloud".to_string()));
        for bad in ["a", "1acme", "acme-", "Acme", "ac me", &"a".repeat(41)] {
            assert!(org_slug("slug", bad).is_err(), "{bad}");
        }
        assert!(org_name("name", "A").is_err());
        assert_eq!(org_name("name", " Acme "), Ok("Acme".to_string()));
        assert!(token_name("name", "  ").is_err());
        assert!(display_name("name", "a\nb").is_err());
    }
}
