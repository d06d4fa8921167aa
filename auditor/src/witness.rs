//! Witnesses: heads of the trail recorded outside the bucket. Every report's alert carries the
//! new head — its sequence, object key and the SHA-256 of the stored bytes — as a line
//! `witness: <sequence> <key> <sha256>` in the message and as the SNS message attributes
//! `headSequence`, `headKey` and `headSha256`. A mailbox or a SIEM that received the alerts is
//! then a record that a principal able to rewrite the bucket cannot rewrite.
//!
//! `auditor verify --witness FILE` reads such records in any of these shapes:
//!
//! * text, one `sequence key sha256` per line, with an optional leading `witness:`; blank lines
//!   and lines starting with `#` are ignored (so `grep '^witness: ' mailbox.txt` works as is);
//! * JSON: an object, or an array of objects, with `sequence`, `key` and `sha256` at the top
//!   level or under `head`; or SNS notification envelopes (`"Type": "Notification"`) with the
//!   three message attributes, or else a `witness:` line in their `Message`;
//! * JSON Lines of any of these.
//!
//! A record that breaks the format is an error naming `FILE:line` and the rule it broke: a
//! witness file is evidence, so it is read strictly.

use std::fmt;
use std::path::Path;

use serde_json::Value;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::key::parse_key;

/// One head recorded outside the trail (or, for [`Origin::Head`], by the generator beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    pub sequence: u64,
    /// The object key of the report, as the alert gave it.
    pub key: String,
    /// Lower-case hex SHA-256 of the report's stored bytes.
    pub sha256: String,
    pub origin: Origin,
}

/// Where a witness comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `--witness` file, at this line.
    File { file: String, line: usize },
    /// A stored version of the generator's `chain/head.json`.
    Head { location: String, version: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, line } => write!(f, "the witness at {file}:{line}"),
            Origin::Head { location, version } if version == "current" => {
                write!(f, "{location}")
            }
            Origin::Head { location, version } => write!(f, "{location} (version {version})"),
        }
    }
}

/// A witness file that cannot be used: the command cannot run (exit 2).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{file}:{line}: {rule}")]
pub struct WitnessFileError {
    pub file: String,
    pub line: usize,
    pub rule: String,
}

/// The three fields of a head, checked: `sequence` a whole number that fits in 64 bits, `key` a
/// report key naming that sequence, `sha256` 64 hex digits (lower-cased).
pub fn head_fields(
    sequence: &Value,
    key: &Value,
    sha256: &Value,
) -> Result<(u64, String, String), String> {
    let sequence = match sequence {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            "sequence {sequence} is not a whole number from 0 to {}",
            u64::MAX
        )
    })?;
    let Value::String(key) = key else {
        return Err(format!("key {key} is not a string"));
    };
    let named = parse_key(key).ok_or_else(|| {
        format!(
            "key {key:?} does not follow reports/[<account>/<region>/]YYYY/MM/DD/<8+ digit sequence>-<reportId>.json"
        )
    })?;
    if named.sequence != sequence {
        return Err(format!(
            "key {key:?} names sequence {}, not {sequence}",
            named.sequence
        ));
    }
    let sha256 = match sha256 {
        Value::String(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            h.to_ascii_lowercase()
        }
        other => return Err(format!("sha256 {other} is not 64 hexadecimal digits")),
    };
    Ok((sequence, key.clone(), sha256))
}

/// Reads a witness file.
pub fn read_witness_file(path: &Path) -> Result<Vec<Witness>, WitnessFileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| WitnessFileError {
        file: file.clone(),
        line: 0,
        rule: format!("cannot be read: {e}"),
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| WitnessFileError {
        file: file.clone(),
        line: line_at(&bytes, e.valid_up_to()),
        rule: "not UTF-8 text".to_owned(),
    })?;
    parse_witnesses(&file, text)
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses the text of a witness file named `file` (for messages).
pub fn parse_witnesses(file: &str, text: &str) -> Result<Vec<Witness>, WitnessFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let fail = |line: usize, rule: String| WitnessFileError {
        file: file.to_owned(),
        line,
        rule,
    };
    let witness = |line: usize, (sequence, key, sha256): (u64, String, String)| Witness {
        sequence,
        key,
        sha256,
        origin: Origin::File {
            file: file.to_owned(),
            line,
        },
    };
    let mut out = Vec::new();
    if text.trim_start().starts_with(['{', '[']) {
        let line_of = |raw: &RawValue| {
            line_at(
                text.as_bytes(),
                raw.get().as_ptr() as usize - text.as_ptr() as usize,
            )
        };
        let stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
        for value in stream {
            let value = value.map_err(|e| fail(e.line(), format!("not valid JSON: {e}")))?;
            let items: Vec<&RawValue> = if value.get().starts_with('[') {
                serde_json::from_str(value.get())
                    .map_err(|e| fail(line_of(value), format!("not valid JSON: {e}")))?
            } else {
                vec![value]
            };
            for item in items {
                let line = line_of(item);
                let parsed: Value = serde_json::from_str(item.get())
                    .map_err(|e| fail(line, format!("not valid JSON: {e}")))?;
                out.push(witness(
                    line,
                    from_json(&parsed).map_err(|rule| fail(line, rule))?,
                ));
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            out.push(witness(
                i + 1,
                from_line(trimmed).map_err(|rule| fail(i + 1, rule))?,
            ));
        }
    }
    if out.is_empty() {
        return Err(fail(
            1,
            "holds no witness (expected lines `sequence key sha256`, or the JSON the alerts carry)"
                .to_owned(),
        ));
    }
    Ok(out)
}

/// `[witness:] <sequence> <key> <sha256>`.
fn from_line(line: &str) -> Result<(u64, String, String), String> {
    let line = line.strip_prefix("witness:").unwrap_or(line);
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [sequence, key, sha256] = parts.as_slice() else {
        return Err(format!(
            "expected `sequence key sha256` (three fields), found {} field(s)",
            parts.len()
        ));
    };
    let s = |t: &str| Value::String(t.to_owned());
    head_fields(&s(sequence), &s(key), &s(sha256))
}

/// A head from one JSON object: the fields themselves, under `head`, or an SNS notification.
fn from_json(v: &Value) -> Result<(u64, String, String), String> {
    let Value::Object(o) = v else {
        return Err("expected a JSON object with sequence, key and sha256".to_owned());
    };
    if o.get("Type").and_then(Value::as_str) == Some("Notification")
        || o.contains_key("MessageAttributes")
    {
        return from_notification(o);
    }
    let fields = match o.get("head") {
        Some(Value::Object(head)) => head,
        Some(_) => return Err("head is not an object".to_owned()),
        None => o,
    };
    let get = |name: &str| {
        fields
            .get(name)
            .ok_or_else(|| format!("no \"{name}\" field (expected sequence, key and sha256)"))
    };
    head_fields(get("sequence")?, get("key")?, get("sha256")?)
}

/// An SNS notification envelope: the `headSequence`, `headKey` and `headSha256` message
/// attributes (each `{"Type": …, "Value": "…"}`), or else a `witness:` line in `Message`.
fn from_notification(o: &serde_json::Map<String, Value>) -> Result<(u64, String, String), String> {
    let attribute = |name: &str| {
        o.get("MessageAttributes")
            .and_then(|a| a.get(name))
            .and_then(|a| a.get("Value"))
    };
    if let (Some(sequence), Some(key), Some(sha256)) = (
        attribute("headSequence"),
        attribute("headKey"),
        attribute("headSha256"),
    ) {
        return head_fields(sequence, key, sha256);
    }
    if let Some(message) = o.get("Message").and_then(Value::as_str) {
        if let Some(line) = message
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("witness:"))
        {
            return from_line(line);
        }
    }
    Err("an SNS notification without the headSequence, headKey and headSha256 message attributes or a `witness:` line in its Message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "reports/2026/07/03/00000002-0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b.json";
    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn one(text: &str) -> Witness {
        let w = parse_witnesses("w.txt", text).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        w.into_iter().next().unwrap()
    }

    #[test]
    fn text_lines_with_or_without_the_prefix() {
        let text = format!("# exported\n\nwitness: 2 {KEY} {SHA}\r\n");
        let w = one(&text);
        assert_eq!(
            (w.sequence, w.key.as_str(), w.sha256.as_str()),
            (2, KEY, SHA)
        );
        assert_eq!(
            w.origin,
            Origin::File {
                file: "w.txt".into(),
                line: 3
            }
        );
        assert_eq!(one(&format!("2 {KEY} {}", SHA.to_uppercase())).sha256, SHA);
    }

    #[test]
    fn json_objects_arrays_heads_notifications_and_lines() {
        let plain = format!(r#"{{"sequence": 2, "key": "{KEY}", "sha256": "{SHA}"}}"#);
        let nested =
            format!(r#"{{"head": {{"sequence": "2", "key": "{KEY}", "sha256": "{SHA}"}}}}"#);
        let sns = format!(
            r#"{{"Type":"Notification","Message":"x","MessageAttributes":{{"headSequence":{{"Type":"Number","Value":"2"}},"headKey":{{"Type":"String","Value":"{KEY}"}},"headSha256":{{"Type":"String","Value":"{SHA}"}}}}}}"#
        );
        let in_message = format!(
            r#"{{"Type":"Notification","Message":"Report stored.\nwitness: 2 {KEY} {SHA}\n"}}"#
        );
        for text in [&plain, &nested, &sns, &in_message] {
            assert_eq!(one(text).sequence, 2, "{text}");
        }
        let array = format!("[\n{plain},\n{sns}\n]");
        let lines: Vec<usize> = parse_witnesses("w.json", &array)
            .unwrap()
            .iter()
            .map(|w| match &w.origin {
                Origin::File { line, .. } => *line,
                Origin::Head { .. } => 0,
            })
            .collect();
        assert_eq!(lines, vec![2, 3]);
        let jsonl = format!("{plain}\n{nested}\n");
        assert_eq!(parse_witnesses("w.jsonl", &jsonl).unwrap().len(), 2);
    }

    #[test]
    fn each_broken_rule_names_the_line() {
        let cases = [
            (format!("2 {KEY}"), 1, "three fields"),
            (format!("\n-1 {KEY} {SHA}"), 2, "whole number"),
            (
                format!("18446744073709551616 {KEY} {SHA}"),
                1,
                "whole number",
            ),
            (format!("3 {KEY} {SHA}"), 1, "names sequence 2, not 3"),
            (format!("2 reports/x.json {SHA}"), 1, "does not follow"),
            (format!("2 {KEY} abc"), 1, "64 hexadecimal"),
            (
                format!("{{\"sequence\": 2, \"key\": \"{KEY}\"}}"),
                1,
                "no \"sha256\"",
            ),
            ("[1]".to_owned(), 1, "expected a JSON object"),
            (
                "{\"Type\":\"Notification\",\"Message\":\"hi\"}".to_owned(),
                1,
                "SNS notification",
            ),
            (
                "{\"sequence\": 2,\n\"key\": }".to_owned(),
                2,
                "not valid JSON",
            ),
            ("# nothing\n".to_owned(), 1, "holds no witness"),
        ];
        for (text, line, rule) in cases {
            let e = parse_witnesses("w", &text).unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.rule.contains(rule), "{text}: {e}");
            assert!(e.to_string().starts_with(&format!("w:{line}: ")), "{e}");
        }
    }
}
