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

/// Options the chart sets itself from other values (`database`, `secretKey`, the pod's layout): setting them
/// under `config` is refused by the schema, with the value to use instead.
const CHART_SETS: &[(&str, &str)] = &[
    ("bind", "the chart listens on 0.0.0.0:3000 (service.port maps it)"),
    ("data-dir", "the chart mounts scratch space at /var/lib/catalyst"),
    (
        "database-url",
        "set database.existingSecret or database.cnpg.enabled",
    ),
    ("secret-key-file", "set secretKey.existingSecret"),
    ("site-root", "the image's site (image.siteRoot)"),
    ("metrics-bind", "set metrics.enabled (and metrics.port)"),
];

/// `charts/catalyst/values.schema.json` as the CLI defines it: `config` holds every option of `catalyst` by
/// its flag name (without `--`); the chart passes each as its environment variable. Secret options take a
/// Secret reference (`{secretName, key}`), never a value that would end up in Git.
fn chart_schema() -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let secret: BTreeSet<&str> = server::at_rest::SECRET_FLAGS
        .iter()
        .map(|(f, _)| f.trim_start_matches("--"))
        .collect();
    let mut config = Map::new();
    for a in server::cli::Cli::command().get_arguments() {
        let (Some(long), Some(env)) = (a.get_long(), a.get_env()) else {
            continue;
        };
        let env = env.to_string_lossy().into_owned();
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let flag = if let Some((_, why)) = CHART_SETS.iter().find(|(f, _)| *f == long) {
            json!({"description": format!("--{long} ({env}): {why}"), "not": {}})
        } else if secret.contains(long) {
            json!({
                "description": format!("--{long} ({env}) from a Secret: {help}"),
                "type": "object",
                "additionalProperties": false,
                "required": ["secretName", "key"],
                "properties": {
                    "secretName": {"type": "string", "minLength": 1},
                    "key": {"type": "string", "minLength": 1}
                }
            })
        } else if matches!(
            a.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse
        ) {
            json!({"description": format!("--{long} ({env}): {help}"), "type": "boolean"})
        } else {
            let mut p = json!({
                "description": format!("--{long} ({env}): {help}"),
                "type": ["string", "integer"]
            });
            let choices: Vec<Value> = a
                .get_possible_values()
                .iter()
                .map(|v| Value::String(v.get_name().to_string()))
                .collect();
            if !choices.is_empty() {
                p["enum"] = Value::Array(choices);
            }
            p
        };
        config.insert(long.to_string(), flag);
    }
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../charts/catalyst/values.schema.in.json"
    ))
    .expect("charts/catalyst/values.schema.in.json");
    let mut schema: Value = serde_json::from_str(&template).expect("values.schema.in.json is JSON");
    schema["properties"]["config"] = json!({
        "description": "Every option of `catalyst` by its flag name without `--` (README's configuration table); generated from the CLI by server/tests/it/configuration.rs",
        "type": "object",
        "additionalProperties": false,
        "properties": Value::Object(config)
    });
    schema
}

#[test]
fn the_chart_takes_every_cli_option_as_a_value() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../charts/catalyst/values.schema.json"
    );
    let want = serde_json::to_string_pretty(&chart_schema()).expect("schema") + "\n";
    if std::env::var_os("CATALYST_WRITE_CHART_SCHEMA").is_some() {
        std::fs::write(path, &want).expect("write values.schema.json");
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    let flags = |s: &str| -> BTreeSet<String> {
        serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .and_then(|v| v["properties"]["config"]["properties"].as_object().cloned())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let missing: Vec<_> = flags(&want).difference(&flags(&have)).cloned().collect();
    assert!(
        missing.is_empty(),
        "options missing from charts/catalyst/values.schema.json: {missing:?}; regenerate it with \
         CATALYST_WRITE_CHART_SCHEMA=1 cargo test -p server --test it configuration::the_chart"
    );
    assert!(
        have == want,
        "charts/catalyst/values.schema.json differs from what the CLI defines; regenerate it with \
         CATALYST_WRITE_CHART_SCHEMA=1 cargo test -p server --test it configuration::the_chart"
    );
    // The chart names each option's environment variable CATALYST_<FLAG> (site-root is set by the chart).
    for (flag, env) in cli_options() {
        let name = flag.trim_start_matches("--");
        if CHART_SETS.iter().any(|(f, _)| *f == name) {
            continue;
        }
        assert_eq!(
            env,
            format!("CATALYST_{}", name.to_uppercase().replace('-', "_")),
            "{flag}: the chart derives the variable from the flag's name"
        );
    }
}
