//! A small, deterministic YAML writer for the manifests Catalyst generates: block style, keys in the order
//! given, and every string that YAML could read as something else (numbers, booleans, null, versions,
//! `${VAR}` placeholders, anything with special characters) written as a double-quoted JSON string — which
//! is valid YAML. No parser, no dependency: what we write is fully under our control.

use std::fmt::Write;

/// A YAML value with ordered maps.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    /// Any other number, written as JSON writes it (`0.5`, `1e-3`).
    Num(String),
    Bool(bool),
    Null,
    Map(Vec<(String, Y)>),
    List(Vec<Y>),
}

impl Y {
    pub fn s(v: impl Into<String>) -> Y {
        Y::Str(v.into())
    }

    /// A map from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Y)>) -> Y {
        Y::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// From JSON (object keys in JSON's sorted order).
    pub fn from_json(v: &serde_json::Value) -> Y {
        match v {
            serde_json::Value::Null => Y::Null,
            serde_json::Value::Bool(b) => Y::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Y::Int(i),
                None => Y::Num(n.to_string()),
            },
            serde_json::Value::String(s) => Y::Str(s.clone()),
            serde_json::Value::Array(a) => Y::List(a.iter().map(Y::from_json).collect()),
            serde_json::Value::Object(o) => {
                Y::Map(o.iter().map(|(k, v)| (k.clone(), Y::from_json(v))).collect())
            }
        }
    }
}

/// One YAML document (no leading `---`), ending in a newline.
pub fn to_string(v: &Y) -> String {
    let mut out = String::new();
    match v {
        Y::Map(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Y::List(l) if !l.is_empty() => write_list(&mut out, l, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

fn write_map(out: &mut String, m: &[(String, Y)], indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(&key(k));
        out.push(':');
        write_value(out, v, indent);
    }
}

fn write_list(out: &mut String, l: &[Y], indent: usize) {
    for item in l {
        pad(out, indent);
        out.push('-');
        match item {
            Y::Map(m) if !m.is_empty() => {
                // First pair on the dash line, the rest aligned under it.
                let (k, v) = &m[0];
                out.push(' ');
                out.push_str(&key(k));
                out.push(':');
                write_value(out, v, indent + 2);
                write_map(out, &m[1..], indent + 2);
            }
            Y::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// After `key:` — a scalar on the same line, or a nested block on the next lines.
fn write_value(out: &mut String, v: &Y, indent: usize) {
    match v {
        Y::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Y::List(l) if !l.is_empty() => {
            out.push('\n');
            write_list(out, l, indent + 2);
        }
        Y::Str(s) if block_ok(s) => {
            // A multi-line string as a literal block: `|` keeps the final newline, `|-` has none.
            out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// A string that reads back unchanged from a literal block: several lines, no leading space on the first
/// (it would set the indentation), no trailing blank lines, no control characters but newlines and tabs,
/// and no trailing spaces (editors strip them).
fn block_ok(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    body.contains('\n')
        && !body.starts_with([' ', '\t'])
        && !body.ends_with('\n')
        && !body.is_empty()
        && body.split('\n').all(|l| !l.ends_with([' ', '\t']))
        && !s.chars().any(|c| (c as u32) < 0x20 && c != '\n' && c != '\t')
        && !s.contains('\u{feff}')
}

fn scalar(v: &Y) -> String {
    match v {
        Y::Str(s) => string(s),
        Y::Int(i) => i.to_string(),
        Y::Num(n) => n.clone(),
        Y::Bool(b) => b.to_string(),
        Y::Null => "null".into(),
        Y::Map(_) => "{}".into(),
        Y::List(_) => "[]".into(),
    }
}

fn key(k: &str) -> String {
    if plain_ok(k) { k.to_string() } else { quoted(k) }
}

fn string(s: &str) -> String {
    if plain_ok(s) { s.to_string() } else { quoted(s) }
}

/// Safe as a plain scalar: starts with a letter, only `[A-Za-z0-9._/-]` after it, and not a word YAML
/// reads as a boolean or null.
fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    // A leading digit is fine only when letters make it unmistakably a string (`01-cilium.yaml`), not a
    // number YAML 1.1 would read (`1.0`, `1e5`, `0x1F`).
    let digit_ok = first.is_ascii_digit()
        && s.chars()
            .any(|c| c.is_ascii_alphabetic() && !matches!(c, 'e' | 'E'))
        && !["0x", "0o", "0b", "0X", "0O", "0B"]
            .iter()
            .any(|p| s.starts_with(p));
    if !first.is_ascii_alphabetic() && !digit_ok {
        return false;
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')) {
        return false;
    }
    const RESERVED: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf",
    ];
    !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_block_yaml() {
        let doc = Y::map([
            ("apiVersion", Y::s("helm.toolkit.fluxcd.io/v2")),
            ("kind", Y::s("HelmRelease")),
            (
                "spec",
                Y::map([
                    ("version", Y::s("1.16.5")),
                    ("enabled", Y::s("yes")),
                    ("host", Y::s("${K8S_SERVICE_HOST}")),
                    ("port", Y::Int(6443)),
                    ("on", Y::Bool(true)),
                    (
                        "dependsOn",
                        Y::List(vec![
                            Y::map([("name", Y::s("bp-cilium"))]),
                            Y::map([("name", Y::s("bp-flux"))]),
                        ]),
                    ),
                    ("values", Y::Map(vec![])),
                    ("args", Y::List(vec![Y::s("--a"), Y::s("b")])),
                ]),
            ),
        ]);
        assert_eq!(
            to_string(&doc),
            "apiVersion: helm.toolkit.fluxcd.io/v2\n\
             kind: HelmRelease\n\
             spec:\n  \
               version: \"1.16.5\"\n  \
               enabled: \"yes\"\n  \
               host: \"${K8S_SERVICE_HOST}\"\n  \
               port: 6443\n  \
               \"on\": true\n  \
               dependsOn:\n    \
                 - name: bp-cilium\n    \
                 - name: bp-flux\n  \
               values: {}\n  \
               args:\n    \
                 - \"--a\"\n    \
                 - b\n"
        );
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_that_read_back() {
        let doc = Y::map([
            ("a", Y::s("line 1\n  line 2\n\nline 4\n")),
            ("b", Y::s("x\ny")),
            ("c", Y::s(" leading\nspace")),
            ("d", Y::s("one line\n")),
        ]);
        let text = to_string(&doc);
        assert_eq!(
            text,
            "a: |\n  line 1\n    line 2\n\n  line 4\nb: |-\n  x\n  y\nc: \" leading\\nspace\"\nd: \"one line\\n\"\n"
        );
        let back: serde_json::Value = serde_norway::from_str(&text).expect("YAML");
        assert_eq!(back["a"], "line 1\n  line 2\n\nline 4\n");
        assert_eq!(back["b"], "x\ny");
        assert_eq!(back["c"], " leading\nspace");
        assert_eq!(back["d"], "one line\n");
    }

    #[test]
    fn quotes_what_needs_quoting() {
        assert_eq!(string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(string("null"), "\"null\"");
        assert_eq!(string(""), "\"\"");
        assert_eq!(string("oci://ghcr.io/x"), "\"oci://ghcr.io/x\"");
        assert_eq!(string("kube-system"), "kube-system");
        assert_eq!(string("01-cilium.yaml"), "01-cilium.yaml");
        assert_eq!(string("1e5"), "\"1e5\"");
        assert_eq!(string("0x1F"), "\"0x1F\"");
    }
}
