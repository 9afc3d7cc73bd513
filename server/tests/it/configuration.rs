//! README's configuration table is the CLI's: every option of `catalyst` (flag and environment variable) has
//! its row, and every row names an option that exists. Secret options have an environment variable and say
//! so; the ones with a `…-file` twin list it.

use std::collections::BTreeSet;

use clap::CommandFactory;

fn readme_rows() -> BTreeSet<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    let start = readme
        .find("| Flag | Environment | Default | Meaning |")
        .expect("README has the configuration table");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let unquote = |c: &str| c.trim_matches('`').to_string();
            (unquote(cells[1]), unquote(cells[2]))
        })
        .collect()
}

fn cli_options() -> BTreeSet<(String, String)> {
    server::cli::Cli::command()
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            let env = a.get_env()?.to_string_lossy().into_owned();
            Some((format!("--{long}"), env))
        })
        .collect()
}

#[test]
fn the_readme_table_lists_exactly_the_cli_options() {
    let readme = readme_rows();
    let cli = cli_options();
    let missing: Vec<_> = cli.difference(&readme).collect();
    let stale: Vec<_> = readme.difference(&cli).collect();
    assert!(
        missing.is_empty(),
        "options without a README row (add them to the configuration table): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "README rows for options that do not exist: {stale:?}"
    );
}

#[test]
fn every_secret_option_can_be_given_without_the_command_line() {
    let cli = cli_options();
    for (flag, instead) in server::at_rest::SECRET_FLAGS {
        let env = cli
            .iter()
            .find(|(f, _)| f == flag)
            .unwrap_or_else(|| panic!("{flag} is an option"));
        assert!(instead.contains(env.1.as_str()), "{flag}: {instead}");
        if instead.contains("-file") {
            assert!(
                cli.iter().any(|(f, _)| *f == format!("{flag}-file")),
                "{flag}-file exists"
            );
        }
    }
}
