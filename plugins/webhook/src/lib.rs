//! The custom webhook of the classic notify.py (`WEBHOOK_*`), plus Apprise's
//! `json://`, `jsons://` and `form://` one-line URLs.
//!
//! Sources: qinglong's sample/notify.py / notify.js `webhook` and
//! config.sample.sh for `WEBHOOK_URL`, `WEBHOOK_METHOD`, `WEBHOOK_BODY` (`key:
//! value` lines, `$title`/`$content`), `WEBHOOK_HEADERS` and
//! `WEBHOOK_CONTENT_TYPE`, including their quirks (a body template with no
//! type is a form): users' existing configuration wins. Apprise's `json://`
//! and `form://` plugins for the one-line URLs.

use mcp_push_sdk::encode::url_decode;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::{self, Map, Value};
use mcp_push_sdk::template::has_placeholders;

struct Webhook;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

impl Channel for Webhook {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "webhook",
            "Custom webhook",
            env!("CARGO_PKG_VERSION"),
            "Any HTTP endpoint: notify.py's WEBHOOK_* settings with $title/$content templates",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "url",
                "Endpoint URL; $title and $content are put in URL-encoded",
            )
            .env(&["WEBHOOK_URL"])
            .required(),
        )
        .setting(
            Setting::new("method", "HTTP method")
                .env(&["WEBHOOK_METHOD"])
                .default_value("POST"),
        )
        .setting(
            Setting::new(
                "content_type",
                "application/json, application/x-www-form-urlencoded or text/plain",
            )
            .env(&["WEBHOOK_CONTENT_TYPE"]),
        )
        .setting(
            Setting::new("headers", "Extra headers, one `Name: value` per line")
                .env(&["WEBHOOK_HEADERS"])
                .secret(),
        )
        .setting(
            Setting::new(
                "body",
                "Body template: `key: value` lines (JSON or form), or the text itself",
            )
            .env(&["WEBHOOK_BODY"]),
        )
        .setting(Setting::new("user", "HTTP Basic auth user"))
        .setting(Setting::new("password", "HTTP Basic auth password").secret())
        .allow_host("setting:url")
        .schemes(&["json", "jsons", "form"])
    }

    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        parse_apprise(url)
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let (title, content) = (msg.title.as_str(), msg.body.as_str());
        let url = fill(settings.require("url")?, title, content, Escape::Url);
        let method = settings.get_or("method", "POST").to_ascii_uppercase();
        // notify.py sends a body template as a form when no content type is
        // set (config.sample.sh ships WEBHOOK_CONTENT_TYPE empty); without a
        // template, mcp-push's own default is JSON.
        let template = settings.get("body");
        let content_type = settings.get("content_type").unwrap_or(match template {
            Some(_) => FORM,
            None => JSON,
        });

        let mut req = Request::new(&method, url);
        if method != "GET" && method != "HEAD" {
            let body = match template {
                Some(template) => render_body(template, content_type, title, content)?,
                None => default_body(content_type, title, content),
            };
            req = match body_kind(content_type) {
                // A real form, as notify.js builds one: the type names its boundary.
                BodyKind::Multipart => {
                    let boundary = boundary_for(&body);
                    req.body(
                        &format!("multipart/form-data; boundary={boundary}"),
                        body.replace(BOUNDARY_SLOT, &boundary),
                    )
                }
                _ => req.body(content_type, body),
            };
        }
        if let Some(lines) = settings.get("headers") {
            req = req.header_lines(lines);
        }
        if let Some(user) = settings.get("user") {
            req = req.basic_auth(user, settings.get_or("password", ""));
        }
        req.send()?.error_for_status()?;
        Ok(Receipt::none())
    }
}

export_channel!(Webhook);

/// What kind of body a content type asks for.
#[derive(Clone, Copy, PartialEq)]
enum BodyKind {
    Json,
    Form,
    Multipart,
    Text,
}

fn body_kind(content_type: &str) -> BodyKind {
    let ct = content_type.as_bytes();
    let has = |word: &[u8]| ct.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word));
    if has(b"json") {
        BodyKind::Json
    } else if has(b"x-www-form-urlencoded") {
        BodyKind::Form
    } else if has(b"multipart/form-data") {
        BodyKind::Multipart
    } else {
        BodyKind::Text
    }
}

/// The body when the user gave no template.
fn default_body(content_type: &str, title: &str, content: &str) -> String {
    match body_kind(content_type) {
        // `to_string` on a `Value` goes through `fmt`; `to_string(&value)`
        // writes the bytes straight out.
        BodyKind::Json => serde_json::to_string(&json!({ "title": title, "content": content }))
            .unwrap_or_default(),
        BodyKind::Form => form_encode(&[("title", title), ("content", content)]),
        BodyKind::Multipart => multipart(&[("title", title), ("content", content)]),
        BodyKind::Text if title.is_empty() => content.to_string(),
        BodyKind::Text => format!("{title}\n\n{content}"),
    }
}

/// notify.py's WEBHOOK_BODY: for JSON and form, `key: value` lines; for any
/// other type, the text itself. `$title`/`$content` are JSON-escaped inside
/// JSON values, and kept as they are (newlines included) elsewhere.
fn render_body(
    template: &str,
    content_type: &str,
    title: &str,
    content: &str,
) -> Result<String, SendError> {
    let kind = body_kind(content_type);
    if kind == BodyKind::Text {
        return Ok(fill(template, title, content, Escape::None));
    }
    // notify.py reads only `key: value` lines, and a JSON object sent
    // nothing there; written as JSON is what people do, so it is taken as
    // the object it is, `$title`/`$content` filled in its strings.
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(template.trim()) {
        let filled = fill_strings(Value::Object(object), title, content);
        return Ok(match kind {
            BodyKind::Json => filled.to_string(),
            _ => {
                let pairs: Vec<(String, String)> = filled
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), String::from),
                        )
                    })
                    .collect();
                let refs: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                if kind == BodyKind::Multipart {
                    multipart(&refs)
                } else {
                    form_encode(&refs)
                }
            }
        });
    }
    let pairs = body_lines(template);
    if pairs.is_empty() {
        return Err(SendError::Config(
            "WEBHOOK_BODY has no `key: value` line; write one per line, e.g. `text: $content` \
             (or a JSON object)"
                .into(),
        ));
    }
    if matches!(kind, BodyKind::Form | BodyKind::Multipart) {
        let filled: Vec<(&str, String)> = pairs
            .iter()
            .map(|(k, v)| (*k, fill(&unquote(v), title, content, Escape::None)))
            .collect();
        if kind == BodyKind::Multipart {
            let refs: Vec<(&str, &str)> = filled.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return Ok(multipart(&refs));
        }
        return Ok(form_encode(&filled));
    }
    let mut object = Map::new();
    for (key, value) in pairs {
        object.insert(key.to_string(), json_value(value, title, content));
    }
    Ok(serde_json::to_string(&Value::Object(object)).unwrap_or_default())
}

/// Where the boundary goes in a multipart body until one is chosen that
/// occurs nowhere in the values.
const BOUNDARY_SLOT: &str = "\u{0}BOUNDARY\u{0}";

/// A value written as a JSON string (`"1.0"`, quoted to stay a string in a
/// JSON body) is that string in a form: `version=1.0`, as Apprise's
/// `form://` sends it, not `version="1.0"`.
fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2
        && v.starts_with('"')
        && v.ends_with('"')
        && let Ok(s) = serde_json::from_str::<String>(v)
    {
        return s;
    }
    value.to_string()
}

/// `multipart/form-data` (RFC 7578): one part per field.
fn multipart(fields: &[(&str, &str)]) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY_SLOT}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY_SLOT}--\r\n"));
    body
}

/// A boundary that does not occur in `body`.
fn boundary_for(body: &str) -> String {
    let mut boundary = String::from("mcp-push-form-boundary");
    while body.contains(&boundary) {
        boundary.push('x');
    }
    boundary
}

/// A template value that is JSON in its own right (`{"a": "$title"}`, `3`,
/// `true`) stays JSON; anything else becomes a string. Decided on the template,
/// not on the filled text, so a title that happens to read `123` stays a string.
/// `$title` and `$content` put into every string of a JSON template.
fn fill_strings(value: Value, title: &str, content: &str) -> Value {
    match value {
        Value::String(s) => Value::String(fill(&s, title, content, Escape::None)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| fill_strings(v, title, content))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, fill_strings(v, title, content)))
                .collect(),
        ),
        other => other,
    }
}

fn json_value(template: &str, title: &str, content: &str) -> Value {
    let probe = fill(template, "x", "x", Escape::Json);
    if serde_json::from_str::<Value>(&probe).is_ok()
        && let Ok(v) = serde_json::from_str(&fill(template, title, content, Escape::Json))
    {
        return v;
    }
    Value::String(fill(template, title, content, Escape::None))
}

/// `key: value` lines, as notify.py's parser reads them: a key is a word, the
/// value runs to the end of the line; other lines are ignored.
fn body_lines(template: &str) -> Vec<(&str, &str)> {
    template
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let key = key.trim();
            let is_word = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_');
            is_word.then(|| (key, value.trim()))
        })
        .collect()
}

/// Apprise's `json://`, `jsons://` and `form://`:
/// `SCHEME://[user[:password]@]host[:port][/path][?method=M&+Header=v&-param=v&:key=v]`.
fn parse_apprise(url: &str) -> Result<Vec<(String, String)>, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not a URL: {url:?}"))?;
    let (http, content_type) = match scheme.to_ascii_lowercase().as_str() {
        "json" => ("http", JSON),
        "jsons" => ("https", JSON),
        "form" => ("http", FORM),
        "forms" => ("https", FORM),
        other => {
            return Err(format!(
                "scheme {other}:// is not a webhook URL (json, jsons, form)"
            ));
        }
    };
    if has_placeholders(url) {
        return Err("a one-line URL cannot hold $title/$content; use WEBHOOK_URL for that".into());
    }
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(format!("{scheme}:// URL has no host"));
    }

    let mut method = "POST".to_string();
    let mut headers = Vec::new();
    let mut params = Vec::new();
    // Apprise's payload, with `:key=value` renaming (or, empty, dropping) a key.
    let mut payload: Vec<(String, String)> = vec![
        ("version".into(), "\"1.0\"".into()),
        ("title".into(), "$title".into()),
        ("message".into(), "$content".into()),
        ("type".into(), "info".into()),
    ];
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        // The prefix is read before decoding: in a query a literal `+` would
        // otherwise decode to a space.
        let (prefix, name) = match k.chars().next() {
            Some(c @ ('+' | '-' | ':')) => (Some(c), &k[1..]),
            _ => (None, k),
        };
        let (name, v) = (url_decode(name, true), url_decode(v, true));
        let k = match prefix {
            Some(c) => format!("{c}{name}"),
            None => name,
        };
        if let Some(name) = k.strip_prefix('+') {
            headers.push(format!("{name}: {v}"));
        } else if let Some(name) = k.strip_prefix('-') {
            params.push((name.to_string(), v));
        } else if let Some(name) = k.strip_prefix(':') {
            match payload.iter().position(|(key, _)| key == name) {
                Some(i) if v.is_empty() => {
                    payload.remove(i);
                }
                Some(i) => payload[i].0 = v,
                None => payload.push((name.to_string(), v)),
            }
        } else if k.eq_ignore_ascii_case("method") {
            method = v.to_ascii_uppercase();
        }
    }

    let mut endpoint = format!("{http}://{host}{path}");
    if !params.is_empty() {
        endpoint.push('?');
        endpoint.push_str(&form_encode(&params));
    }
    let body = payload
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut settings = vec![
        ("url".to_string(), endpoint),
        ("method".to_string(), method),
        ("content_type".to_string(), content_type.to_string()),
        ("body".to_string(), body),
    ];
    if !headers.is_empty() {
        settings.push(("headers".into(), headers.join("\n")));
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        settings.push(("user".into(), url_decode(user, false)));
        if !password.is_empty() {
            settings.push(("password".into(), url_decode(password, false)));
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Webhook>();
    }

    use mcp_push_sdk::testing::{Harness, Reply, message};

    fn sent(settings: &[(&str, &str)]) -> (Option<String>, String) {
        let mut h = Harness::new::<Webhook>().reply(Reply::text(200, "ok"));
        for (k, v) in settings {
            h = h.setting(k, v);
        }
        h.send(&message("Deploy", "v2 is live")).unwrap();
        let req = h.requests().remove(0);
        (req.header("content-type").map(String::from), req.text())
    }

    /// config.sample.sh ships WEBHOOK_CONTENT_TYPE empty; notify.py then
    /// sends the WEBHOOK_BODY fields as a urlencoded form.
    #[test]
    fn a_body_template_without_a_content_type_is_a_form_as_in_notify_py() {
        let (ct, body) = sent(&[
            ("url", "https://hook.example/x"),
            ("body", "title: $title\ncontent: $content"),
        ]);
        assert_eq!(ct.as_deref(), Some(FORM));
        assert_eq!(body, "title=Deploy&content=v2%20is%20live");
    }

    #[test]
    fn form_urls_send_the_version_unquoted() {
        let pairs = Webhook::parse_url("form://hook.example/x").unwrap();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).unwrap().1.clone();
        let (_, body) = sent(&[
            ("url", &get("url")),
            ("content_type", &get("content_type")),
            ("body", &get("body")),
        ]);
        assert!(body.starts_with("version=1.0&"), "{body}");
    }

    /// multipart/form-data is a real form with a boundary (notify.js).
    #[test]
    fn multipart_is_a_real_form() {
        let (ct, body) = sent(&[
            ("url", "https://hook.example/x"),
            ("content_type", "multipart/form-data"),
            ("body", "title: $title\ncontent: $content"),
        ]);
        let ct = ct.unwrap();
        let boundary = ct
            .strip_prefix("multipart/form-data; boundary=")
            .expect(&ct);
        assert_eq!(
            body,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nDeploy\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nv2 is live\r\n\
                 --{boundary}--\r\n"
            )
        );
    }

    #[test]
    fn json_body_lines_keep_types_and_escape() {
        let body = render_body(
            "text: $content\nn: 3\nnested: {\"t\": \"$title\"}\nbad line\n",
            JSON,
            "say \"hi\"",
            "a\nb",
        )
        .unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["text"], "a\nb");
        assert_eq!(v["n"], 3);
        assert_eq!(v["nested"]["t"], "say \"hi\"");
        assert_eq!(v.as_object().unwrap().len(), 3);
    }

    #[test]
    fn a_title_that_reads_as_json_stays_a_string() {
        let body = render_body("t: $title", JSON, "123", "").unwrap();
        assert_eq!(body, r#"{"t":"123"}"#);
    }

    #[test]
    fn apprise_url_maps_to_settings() {
        let s = parse_apprise("jsons://bob:p%40ss@example.com:8443/hook?method=put&+X-Key=abc&-q=1&:message=msg&:type=").unwrap();
        let get = |k: &str| s.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("url"), Some("https://example.com:8443/hook?q=1"));
        assert_eq!(get("method"), Some("PUT"));
        assert_eq!(get("headers"), Some("X-Key: abc"));
        assert_eq!(get("user"), Some("bob"));
        assert_eq!(get("password"), Some("p@ss"));
        assert_eq!(
            get("body"),
            Some("version: \"1.0\"\ntitle: $title\nmsg: $content")
        );
        assert!(parse_apprise("tgram://x/y").is_err());
    }

    /// A WEBHOOK_BODY written as a JSON object (notify.py reads `key: value`
    /// lines only, and every send failed) is the object, filled in.
    #[test]
    fn a_json_object_body_template_is_taken_as_it_is() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let template = r#"{"msg_type": "text", "content": {"text": "$title\n$content"}, "n": 1}"#;
        let h = Harness::new::<Webhook>()
            .setting("url", "https://hooks.example.com/x")
            .setting("body", template)
            .setting("content_type", "application/json")
            .reply(Reply::text(200, "ok"));
        h.send(&message("Deploy \"v2\"", "line 1\nline 2")).unwrap();
        let sent = h.requests()[0].json();
        assert_eq!(
            sent,
            json!({"msg_type": "text", "content": {"text": "Deploy \"v2\"\nline 1\nline 2"}, "n": 1})
        );
        // As a form, its top-level fields.
        let h = Harness::new::<Webhook>()
            .setting("url", "https://hooks.example.com/x")
            .setting("body", r#"{"text": "$content", "n": 1}"#)
            .reply(Reply::text(200, "ok"));
        h.send(&message("T", "a b")).unwrap();
        assert_eq!(h.requests()[0].text(), "n=1&text=a%20b");
    }
}
