//! `catalyst admin …`: account administration from the command line (first run, lost passwords).

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;

use crate::config::{ConfigError, Settings};

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Create a superadmin account. Without --password-stdin, asks for the password on a terminal, or
    /// generates one and prints it once.
    Create {
        /// The account's e-mail address (its login name).
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Read the password from the first line of standard input (for scripts).
        #[arg(long, default_value_t = false)]
        password_stdin: bool,
        /// The name shown in the console.
        #[arg(long, value_name = "NAME", default_value = "")]
        display_name: String,
    },
}

pub async fn run(settings: Settings, command: AdminCommand) -> Result<(), ConfigError> {
    let db = crate::open_database(&settings).await?;
    let state = crate::app_state(settings, db.clone());
    let result = match command {
        AdminCommand::Create {
            email,
            password_stdin,
            display_name,
        } => {
            let (password, generated) = read_password(password_stdin)?;
            match state
                .auth
                .create_superadmin(&email, &password, &display_name)
                .await
            {
                Ok(user) => {
                    println!("Created superadmin {}.", user.email);
                    if generated {
                        println!("Password (shown once, store it now): {password}");
                    }
                    Ok(())
                }
                Err(e) => Err(ConfigError::new("admin create", e.to_string())),
            }
        }
    };
    db.close().await;
    result
}

/// The password from stdin, a terminal prompt, or a generated one (`true`).
fn read_password(from_stdin: bool) -> Result<(String, bool), ConfigError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| ConfigError::new("--password-stdin", format!("cannot read standard input: {e}")))?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            return Err(ConfigError::new(
                "--password-stdin",
                "standard input had no password on its first line",
            ));
        }
        return Ok((pw, false));
    }
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        print!("Password for the new superadmin (empty: generate one): ");
        let _ = std::io::stdout().flush();
        let first = rpassword::read_password()
            .map_err(|e| ConfigError::new("admin create", format!("cannot read the password: {e}")))?;
        if !first.is_empty() {
            print!("Same password again: ");
            let _ = std::io::stdout().flush();
            let second = rpassword::read_password()
                .map_err(|e| ConfigError::new("admin create", format!("cannot read the password: {e}")))?;
            if first != second {
                return Err(ConfigError::new(
                    "admin create",
                    "the two passwords differ; run the command again",
                ));
            }
            return Ok((first, false));
        }
    }
    // 18 random bytes → 24 characters: far beyond any guessing.
    Ok((crate::crypto::random_token(18), true))
}
