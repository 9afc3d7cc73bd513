//! The DOM ids of the wizard's inputs and of their messages, derived from the field names the shared
//! validation uses, so a server's field error finds its input.

/// The `id` of the input that edits `field` (`regions[1].workerCount` → `f-regions-1-workerCount`).
pub fn field_id(field: &str) -> String {
    let mut id = String::from("f-");
    for c in field.chars() {
        match c {
            '.' | '[' => id.push('-'),
            ']' => {}
            c => id.push(c),
        }
    }
    id
}

/// The `id` of the message element of `field` (for `aria-describedby`).
pub fn error_id(field: &str) -> String {
    format!("{}-error", field_id(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_field_names() {
        assert_eq!(field_id("regions[1].workerCount"), "f-regions-1-workerCount");
        assert_eq!(field_id("org.name"), "f-org-name");
        assert_eq!(error_id("sshPublicKey"), "f-sshPublicKey-error");
    }
}
