//! The SMTP options (`--smtp-…`). The password comes from the environment (`CATALYST_SMTP_PASSWORD`) or a
//! file (`--smtp-password-file`), never from a command-line value (which `ps` shows every user).

use std::path::{Path, PathBuf};

use clap::Args;

use super::sender::Sender;
pub use super::sender::{Password, SmtpSecurity, SmtpSettings};
use crate::config::value::ConfigError;

/// The environment variable holding the SMTP password (there is deliberately no flag for it).
pub const PASSWORD_ENV: &str = "CATALYST_SMTP_PASSWORD";

#[derive(Debug, Clone, Args)]
pub struct MailArgs {
    /// SMTP server that sends Catalyst's e-mail (voucher messages). Unset: no e-mail is sent.
    #[arg(long, env = "CATALYST_SMTP_HOST", value_name = "HOST", global = true)]
    pub smtp_host: Option<String>,

    /// SMTP port. [default: 587 with starttls, 465 with tls, 25 with none]
    #[arg(long, env = "CATALYST_SMTP_PORT", value_name = "PORT", global = true)]
    pub smtp_port: Option<u16>,

    /// How the connection is secured: `starttls` (upgrade, required), `tls` (TLS from the start), or `none`
    /// (plain; only for a relay on the same host or network, and never with a password).
    #[arg(long, env = "CATALYST_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurity::Starttls, global = true)]
    pub smtp_security: SmtpSecurity,

    /// User name for SMTP authentication; the password is read from CATALYST_SMTP_PASSWORD or --smtp-password-file.
    #[arg(long, env = "CATALYST_SMTP_USERNAME", value_name = "USER", global = true)]
    pub smtp_username: Option<String>,

    /// File holding the SMTP password (one line; instead of CATALYST_SMTP_PASSWORD).
    #[arg(long, env = "CATALYST_SMTP_PASSWORD_FILE", value_name = "FILE", global = true)]
    pub smtp_password_file: Option<PathBuf>,

    /// Sender of Catalyst's e-mail, e.g. `Catalyst <vouchers@example.com>`.
    /// [default: Catalyst <catalyst@<host of --public-url>>]
    #[arg(long, env = "CATALYST_SMTP_FROM", value_name = "ADDRESS", global = true)]
    pub smtp_from: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailSettings {
    pub smtp: Option<SmtpSettings>,
    /// The console's public origin (`https://console.example.com`): links in e-mails start here.
    pub public_origin: String,
}

impl MailArgs {
    /// Checks the options; `env` reads an environment variable (the process's in production, a map in tests).
    pub fn validate(
        &self,
        public_origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<MailSettings, ConfigError> {
        let mut settings = MailSettings {
            smtp: None,
            public_origin: public_origin.to_string(),
        };
        let Some(host) = self.smtp_host.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
            if self.smtp_username.is_some() || self.smtp_password_file.is_some() || self.smtp_from.is_some() {
                return Err(ConfigError::new(
                    "--smtp-host",
                    "set the SMTP server's host name too (the other --smtp-… options need it)",
                ));
            }
            return Ok(settings);
        };
        if host.contains(['/', ' ', ':']) && !host.starts_with('[') {
            return Err(ConfigError::new(
                "--smtp-host",
                format!(
                    "“{host}” is not a host name; give it without scheme or port, e.g. smtp.example.com (the port is --smtp-port)"
                ),
            ));
        }
        let port = self.smtp_port.unwrap_or(self.smtp_security.default_port());
        if port == 0 {
            return Err(ConfigError::new("--smtp-port", "0 is not a port; use e.g. 587"));
        }
        let password = match (&self.smtp_password_file, env(PASSWORD_ENV)) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "--smtp-password-file",
                    format!("give the SMTP password once: either {PASSWORD_ENV} or --smtp-password-file"),
                ));
            }
            (Some(file), None) => Some(read_password_file(file)?),
            (None, Some(p)) if !p.is_empty() => Some(Password(p)),
            _ => None,
        };
        let credentials = match (self.smtp_username.as_deref().map(str::trim), password) {
            (Some(user), Some(password)) if !user.is_empty() => Some((user.to_string(), password)),
            (Some(user), None) if !user.is_empty() => {
                return Err(ConfigError::new(
                    "--smtp-username",
                    format!("a user name needs a password: set {PASSWORD_ENV} or --smtp-password-file"),
                ));
            }
            (_, Some(_)) => {
                return Err(ConfigError::new(
                    "--smtp-username",
                    "a password is set but no user name; set --smtp-username too",
                ));
            }
            _ => None,
        };
        if credentials.is_some() && self.smtp_security == SmtpSecurity::None {
            return Err(ConfigError::new(
                "--smtp-security",
                "“none” would send the SMTP password unencrypted; use starttls or tls",
            ));
        }
        let from = match self.smtp_from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => f.to_string(),
            None => default_from(public_origin),
        };
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "--smtp-from",
                format!("“{from}” is not an e-mail address; use e.g. Catalyst <vouchers@example.com>"),
            ));
        }
        let smtp = SmtpSettings {
            host: host.to_string(),
            port,
            security: self.smtp_security,
            credentials,
            from,
        };
        // The transport's own checks (a host name TLS can verify) at start, not at the first message.
        Sender::new(&smtp).map_err(|p| ConfigError::new("--smtp-host", p))?;
        settings.smtp = Some(smtp);
        Ok(settings)
    }
}

/// `Catalyst <catalyst@console.example.com>` for a public URL with a host name; `catalyst@localhost` for
/// an IP address (which is not a mail domain).
fn default_from(public_origin: &str) -> String {
    let host = url::Url::parse(public_origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| h.contains('.') && !h.starts_with('[') && h.parse::<std::net::IpAddr>().is_err())
        .unwrap_or_else(|| "localhost".into());
    format!("Catalyst <catalyst@{host}>")
}

fn read_password_file(path: &Path) -> Result<Password, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "--smtp-password-file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let p = text.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        return Err(ConfigError::new(
            "--smtp-password-file",
            format!("{} is empty; write the SMTP password into it", path.display()),
        ));
    }
    Ok(Password(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(host: Option<&str>) -> MailArgs {
        MailArgs {
            smtp_host: host.map(str::to_string),
            smtp_port: None,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password_file: None,
            smtp_from: None,
        }
    }

    const ORIGIN: &str = "https://console.example.com";

    #[test]
    fn no_host_no_mail() {
        assert_eq!(args(None).validate(ORIGIN, |_| None).expect("ok").smtp, None);
        let mut a = args(None);
        a.smtp_from = Some("x@example.com".into());
        assert_eq!(
            a.validate(ORIGIN, |_| None).expect_err("host").option,
            "--smtp-host"
        );
    }

    #[test]
    fn defaults_follow_the_security_and_the_public_url() {
        let s = args(Some("smtp.example.com"))
            .validate(ORIGIN, |_| None)
            .expect("ok")
            .smtp
            .expect("smtp");
        assert_eq!((s.port, s.security), (587, SmtpSecurity::Starttls));
        assert_eq!(s.from, "Catalyst <catalyst@console.example.com>");
        assert_eq!(s.credentials, None);
        let mut a = args(Some("smtp.example.com"));
        a.smtp_security = SmtpSecurity::Tls;
        let s = a
            .validate("http://127.0.0.1:3000", |_| None)
            .expect("ok")
            .smtp
            .expect("smtp");
        assert_eq!(s.port, 465);
        assert_eq!(s.from, "Catalyst <catalyst@localhost>");
    }

    #[test]
    fn the_password_comes_from_the_environment_or_a_file_and_never_prints() {
        let mut a = args(Some("smtp.example.com"));
        a.smtp_username = Some("mailer".into());
        let e = a.validate(ORIGIN, |_| None).expect_err("needs a password");
        assert_eq!(e.option, "--smtp-username");
        let s = a
            .validate(ORIGIN, |k| (k == PASSWORD_ENV).then(|| "hunter2".to_string()))
            .expect("ok")
            .smtp
            .expect("smtp");
        let (user, password) = s.credentials.clone().expect("credentials");
        assert_eq!((user.as_str(), password.0.as_str()), ("mailer", "hunter2"));
        assert!(!format!("{s:?}").contains("hunter2"), "Debug hides the password");

        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("smtp-password");
        std::fs::write(&file, "from-a-file\n").expect("write");
        a.smtp_password_file = Some(file.clone());
        let s = a.validate(ORIGIN, |_| None).expect("ok").smtp.expect("smtp");
        assert_eq!(s.credentials.expect("credentials").1.0, "from-a-file");
        let e = a
            .validate(ORIGIN, |k| (k == PASSWORD_ENV).then(|| "x".to_string()))
            .expect_err("twice");
        assert_eq!(e.option, "--smtp-password-file");
        a.smtp_password_file = Some(dir.path().join("missing"));
        assert_eq!(
            a.validate(ORIGIN, |_| None).expect_err("missing").option,
            "--smtp-password-file"
        );

        a.smtp_password_file = Some(file);
        a.smtp_security = SmtpSecurity::None;
        let e = a.validate(ORIGIN, |_| None).expect_err("plain text password");
        assert_eq!(e.option, "--smtp-security");
    }

    #[test]
    fn bad_values_name_their_option() {
        for (host, option) in [
            ("smtp://x.example", "--smtp-host"),
            ("x.example:25", "--smtp-host"),
        ] {
            assert_eq!(
                args(Some(host))
                    .validate(ORIGIN, |_| None)
                    .expect_err(host)
                    .option,
                option
            );
        }
        let mut a = args(Some("smtp.example.com"));
        a.smtp_from = Some("not an address".into());
        assert_eq!(
            a.validate(ORIGIN, |_| None).expect_err("from").option,
            "--smtp-from"
        );
    }
}
