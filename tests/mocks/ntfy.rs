//! A mock of the ntfy API, built from its documentation: it checks the
//! real path, query, headers and body, and answers with the service's own
//! success and error replies. `Mock::service(mocks::ntfy::api())` serves it.
//!
//! Action buttons (docs.ntfy.sh/publish, "Action buttons", "Using a
//! header"): the `Actions` header (or `X-Actions`, `Action`) is read as the
//! docs define it, up to three actions, `;` between actions, `,` between
//! fields, values quoted with `"` or `'`, the short form's leading
//! `<action>, <label>, <url>` positional, an RFC 2047 encoded word decoded
//! first. A published message carries its actions as ntfy's JSON shows
//! them; an action ntfy would refuse is answered 400.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next = Arc::new(AtomicU64::new(1));
    move |r: &Recorded| {
        if r.header("authorization") != Some("Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2") {
            return Reply::json(
                403,
                json!({"code": 40301, "http": 403, "error": "forbidden", "link": "https://ntfy.sh/docs/publish/#authentication"}),
            );
        }
        // ntfy's router before 2.16 takes `/{topic}` only: the path form of an
        // update is a 404 there. The sequence id comes as a header.
        let parts: Vec<&str> = r.path().trim_start_matches('/').split('/').collect();
        let topic = match parts.as_slice() {
            [t] => *t,
            _ => {
                return Reply::json(
                    404,
                    json!({"code": 40401, "http": 404, "error": "page not found"}),
                );
            }
        };
        let sequence = r.header("x-sequence-id");
        // server.go's handlePublishBody: a body that reaches the 4096-byte
        // `message-size-limit` (`read == limit`) is handled as a file, and
        // without `attachment-cache-dir` that is errHTTPBadRequestAttachmentsDisallowed.
        if r.body.len() >= 4096 {
            return Reply::json(
                400,
                json!({"code": 40014, "http": 400, "error": "invalid request: attachments not allowed", "link": "https://ntfy.sh/docs/config/#attachments"}),
            );
        }
        if r.text().contains("too many") {
            return Reply::json(
                429,
                json!({"code": 42901, "http": 429, "error": "limit reached: too many requests"}),
            );
        }
        let header = ["x-actions", "actions", "action"]
            .iter()
            .find_map(|h| r.header(h));
        let actions = match header.map(actions) {
            None => Vec::new(),
            Some(Ok(a)) => a,
            Some(Err(why)) => {
                return Reply::json(
                    400,
                    json!({"code": 40018, "http": 400, "error": format!("invalid request: actions invalid, {why}"), "link": "https://ntfy.sh/docs/publish/#action-buttons"}),
                );
            }
        };
        let id = format!("msg{}", next.fetch_add(1, Ordering::SeqCst));
        let mut msg = json!({"id": id, "time": 1700000000, "event": "message", "topic": topic, "message": r.text()});
        if !actions.is_empty() {
            msg["actions"] = json!(actions);
        }
        if let Some(s) = sequence {
            msg["sequence_id"] = json!(s);
        }
        Reply::ok(msg)
    }
}

/// The actions of an `Actions` header, as ntfy's JSON has them (`action`,
/// `label`, `url`, `method`, `headers`, `body`, `clear`), or why ntfy
/// refuses them.
pub fn actions(header: &str) -> Result<Vec<Value>, String> {
    let header = decoded(header.trim());
    let mut all = Vec::new();
    for raw in split_outside_quotes(&header, ';') {
        if raw.trim().is_empty() {
            continue;
        }
        let mut action = json!({"clear": false});
        for (i, field) in split_outside_quotes(&raw, ',').iter().enumerate() {
            let field = field.trim();
            // `key=value`, the key a known one; else the short form's
            // positional action, label and url.
            let keyed = field.split_once('=').filter(|(k, _)| {
                let k = k.trim();
                [
                    "action", "label", "url", "method", "body", "clear", "intent", "value",
                ]
                .contains(&k)
                    || k.starts_with("headers.")
                    || k.starts_with("extras.")
            });
            let (key, value) = match keyed {
                Some((k, v)) => (k.trim().to_string(), unquoted(v.trim())),
                None => match i {
                    0 => ("action".to_string(), unquoted(field)),
                    1 => ("label".to_string(), unquoted(field)),
                    2 => ("url".to_string(), unquoted(field)),
                    _ => return Err(format!("term '{field}' unknown")),
                },
            };
            if let Some(h) = key.strip_prefix("headers.") {
                action["headers"][h] = json!(value);
            } else if key == "clear" {
                action["clear"] = json!(value == "true" || value == "yes" || value == "1");
            } else {
                action[key.as_str()] = json!(value);
            }
        }
        match action["action"].as_str() {
            Some("view") | Some("http") if action["url"].as_str().is_none() => {
                return Err("url is required".into());
            }
            Some("view") | Some("http") | Some("broadcast") | Some("copy") => {}
            other => return Err(format!("action {other:?} unknown")),
        }
        if action["label"].as_str().is_none_or(str::is_empty) {
            return Err("label is required".into());
        }
        if action["action"] == "http" && action.get("method").is_none() {
            // "By default, this action sends a POST request".
            action["method"] = json!("POST");
        }
        all.push(action);
    }
    if all.len() > 3 {
        return Err("only 3 actions allowed".into());
    }
    Ok(all)
}

/// `=?UTF-8?B?…?=` decoded (the docs: "you may also encode any header
/// (including actions) as RFC 2047").
fn decoded(header: &str) -> String {
    use base64::Engine as _;
    match header
        .strip_prefix("=?UTF-8?B?")
        .and_then(|h| h.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        None => header.to_string(),
    }
}

fn split_outside_quotes(s: &str, sep: char) -> Vec<String> {
    let (mut parts, mut cur, mut quote) = (Vec::new(), String::new(), None);
    for c in s.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                cur.push(c);
            }
            (None, _) if c == sep => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn unquoted(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}
