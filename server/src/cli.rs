//! Command-line entry: parse, validate, run; every failure is one line on stderr and a non-zero exit.

use std::process::ExitCode;

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "catalyst",
    version,
    about = "Catalyst — design, launch and run your own Kubernetes platform (a Sovereign) on your own cloud account.",
    long_about = None,
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the console (what `catalyst` does without a command).
    Serve,
    /// Work with the component catalog (`platform/`).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Work with Sovereigns' Flux trees (offline).
    #[command(subcommand)]
    Gitops(crate::gitops::render::GitopsCommand),
    /// Manage accounts from the command line (first superadmin, …).
    Admin {
        #[command(subcommand)]
        command: crate::auth::admin::AdminCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum CatalogCommand {
    /// Validate a catalog folder: exit 0 and a summary if it is valid, otherwise exit 1 and one line per
    /// problem (file: field: problem).
    Check {
        /// The catalog folder [default: --catalog-dir]
        dir: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    // Before anything is created: files and folders of Catalyst and of OpenTofu are private.
    crate::at_rest::private_umask();
    let secret_flags = crate::at_rest::secret_flags_in(std::env::args());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("catalyst: {}", one_line(&e));
                    ExitCode::from(2)
                }
            };
        }
    };
    if let Some(Command::Catalog(CatalogCommand::Check { dir })) = &cli.command {
        return check_catalog(dir.as_deref().unwrap_or(&cli.config.catalog_dir));
    }
    if let Some(Command::Gitops(command)) = &cli.command {
        return crate::gitops::render::run_command(
            command,
            &cli.config.catalog_dir,
            &cli.config.gitops.gitops_template_dir,
        );
    }
    let settings = match cli.config.validate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("catalyst: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.log_format, &settings.log_level);
    for (flag, instead) in secret_flags {
        tracing::warn!(
            "{flag} was given on the command line, where every user of this machine can read it (ps, /proc); set {instead} instead"
        );
    }
    secure_data_dir(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("catalyst: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve | Command::Catalog(_) | Command::Gitops(_) => crate::serve(settings).await,
            Command::Admin { command } => crate::auth::admin::run(settings, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("catalyst: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The data directory 0700, the database and key files in it 0600 (tightened if an earlier version or an
/// operator left them more open).
fn secure_data_dir(settings: &crate::config::Settings) {
    let mut files = vec![settings.data_dir.join("secret.key")];
    if let crate::db::DbUrl::Sqlite { path } = &settings.database {
        files.push(path.clone());
    }
    match crate::at_rest::secure_data_dir(&settings.data_dir, &files) {
        Ok(tightened) if !tightened.is_empty() => {
            tracing::warn!("made private what others could read: {}", tightened.join(", "))
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(
            data_dir = %settings.data_dir.display(),
            "cannot make the data directory private: {e}"
        ),
    }
}

/// `catalyst catalog check [DIR]`: the summary on stdout and exit 0, or one line per problem on stderr and exit 1.
fn check_catalog(dir: &std::path::Path) -> ExitCode {
    match crate::catalog::load(dir) {
        Ok(store) => {
            println!("{}: catalog is valid: {}", dir.display(), store.summary());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems.0 {
                eprintln!("{}/{p}", dir.display().to_string().trim_end_matches('/'));
            }
            let n = problems.0.len();
            eprintln!(
                "catalyst: the catalog in {} has {n} problem{}",
                dir.display(),
                if n == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
    }
}

/// Renders a clap error as one line (clap's own rendering spans several).
pub fn one_line(err: &clap::Error) -> String {
    err.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_render_on_one_line() {
        let err = Cli::try_parse_from(["catalyst", "--log-format", "xml"]).expect_err("rejected");
        let line = one_line(&err);
        assert!(!line.contains('\n'));
        assert!(line.contains("--log-format"), "{line}");
        assert!(line.contains("pretty"), "{line}");
    }
}
