//! One SMTP delivery with lettre: a multipart/alternative message (plain text and HTML), a fresh connection
//! per send, STARTTLS or TLS through rustls as configured.

use std::time::Duration;

use clap::ValueEnum;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::outbox::MailRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Validated SMTP settings; `None` in `MailSettings::smtp` when no server is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, Password)>,
    /// A mailbox as lettre parses it (`Name <a@b>` or `a@b`).
    pub from: String,
}

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a send failed; `permanent` failures (a 5xx answer, an address that cannot be parsed) are not retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub permanent: bool,
    /// Safe to store and show: the server's answer or the transport problem, never credentials.
    pub message: String,
}

#[derive(Clone)]
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Sender {
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let builder = match s.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("cannot set up STARTTLS to {}: {e}", s.host))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("cannot set up TLS to {}: {e}", s.host))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        };
        let mut builder = builder.port(s.port).timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = &s.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        let from = s
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("“{}” is not a sender address: {e}", s.from))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one queued message.
    pub async fn send(&self, m: &MailRow) -> Result<(), SendError> {
        let to = m.recipient.parse::<Mailbox>().map_err(|e| SendError {
            permanent: true,
            message: format!("“{}” is not an address: {e}", m.recipient),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                m.body_text.clone(),
                m.body_html.clone(),
            ))
            .map_err(|e| SendError {
                permanent: true,
                message: format!("cannot build the message: {e}"),
            })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }
}
