//! Command-line entry: parse, validate, run; every failure is one line on stderr and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::config::{CatalogCommand, Cli, Command, one_line};

pub fn main() -> ExitCode {
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
    let settings = match cli.config.validate() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("catalyst: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.log_format, &settings.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("catalyst: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve | Command::Catalog(_) => crate::serve(settings).await,
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
