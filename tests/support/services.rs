//! What the channel tests share: the signing helpers, and the mocks of the
//! service APIs that tests beyond the channel files use too (Telegram in
//! trust.rs, DingTalk in dropin.rs, WeCom and Matrix in channel_state.rs).
//! Each handler checks the real path, query, headers and body and answers
//! with the service's own success and error replies. Every other service's
//! mock lives in `tests/mocks/<service>.rs`, declared by the test files that
//! use it (`mod mocks { pub mod bark; }`).

use super::{Recorded, Reply};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub const TG_TOKEN: &str = "123456:AAH-test-token-value";
pub const MATRIX_TOKEN: &str = "syt_bWNwcHVzaA_secretvalue_0abc";
pub const DD_TOKEN: &str = "a1b2c3d4e5f6dd-token";
pub const DD_SECRET: &str = "SEC0123456789abcdef-signing-secret";
pub const QYWX_KEY: &str = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa";

pub fn telegram() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next_id = Arc::new(AtomicU64::new(100));
    move |r: &Recorded| {
        let Some(method) = r.path().strip_prefix(&format!("/bot{TG_TOKEN}/")) else {
            return Reply::json(
                401,
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            );
        };
        let body = r.json();
        let text = body["text"].as_str().unwrap_or("");
        let shown = match body["parse_mode"].as_str() {
            None => Ok(text.to_string()),
            Some("HTML") => tg_html(text),
            Some("Markdown") => tg_legacy_markdown(text),
            Some(other) => Err(format!("unsupported parse_mode {other:?}")),
        };
        let shown = match shown {
            Ok(shown) => shown,
            Err(why) => {
                return Reply::json(
                    400,
                    json!({"ok": false, "error_code": 400, "description": format!("Bad Request: can't parse entities: {why}")}),
                );
            }
        };
        // The limit counts what the message shows, after entity parsing.
        if shown.encode_utf16().count() > 4096 {
            return Reply::json(
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: message is too long"}),
            );
        }
        match (method, body["chat_id"].as_str()) {
            (_, Some("flood")) => Reply::json(
                429,
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 31", "parameters": {"retry_after": 31}}),
            ),
            (_, Some("missing")) => Reply::json(
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
            ),
            ("sendMessage", _) => {
                let id = next_id.fetch_add(1, Ordering::SeqCst);
                Reply::ok(
                    json!({"ok": true, "result": {"message_id": id, "chat": {"id": 42, "type": "private"}, "date": 1700000000, "text": text}}),
                )
            }
            ("editMessageText", _) if body["message_id"] == 404 => Reply::json(
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: message to edit not found"}),
            ),
            ("editMessageText", _) => Reply::ok(
                json!({"ok": true, "result": {"message_id": body["message_id"], "chat": {"id": 42, "type": "private"}, "date": 1700000000, "edit_date": 1700000100, "text": text}}),
            ),
            _ => Reply::json(
                404,
                json!({"ok": false, "error_code": 404, "description": "Not Found"}),
            ),
        }
    }
}

/// Telegram's `HTML` parse mode (Bot API, "Formatting options", HTML
/// style): the text it shows, or the reason it gives for "can't parse
/// entities". Only the documented tags and entities are accepted; every tag
/// must be closed in order.
pub fn tg_html(text: &str) -> Result<String, String> {
    const TAGS: [&str; 15] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
    ];
    let mut shown = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap();
        if c == '<' {
            let Some(end) = rest.find('>') else {
                return Err(format!("Unclosed start tag at byte offset {i}"));
            };
            let inner = &rest[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                match open.pop() {
                    Some(top) if top == name => {}
                    Some(top) => {
                        return Err(format!(
                            "Can't find end tag corresponding to start tag \"{top}\""
                        ));
                    }
                    None => return Err(format!("Unexpected end tag at byte offset {i}")),
                }
            } else {
                let name: String = inner
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '/')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if !TAGS.contains(&name.as_str()) {
                    return Err(format!(
                        "Unsupported start tag \"{name}\" at byte offset {i}"
                    ));
                }
                if name == "span" && !inner.contains("class=\"tg-spoiler\"") {
                    return Err(format!(
                        "Tag \"span\" must have class \"tg-spoiler\" at byte offset {i}"
                    ));
                }
                if name == "a" && !inner.contains("href=") {
                    return Err(format!("Tag \"a\" must have href at byte offset {i}"));
                }
                open.push(name);
            }
            i += end + 1;
        } else if c == '&' {
            let end = rest.find(';').filter(|e| *e <= 10);
            let entity = end.map(|e| &rest[1..e]).unwrap_or("");
            let decoded = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            match (decoded, end) {
                (Some(ch), Some(e)) => {
                    shown.push(ch);
                    i += e + 1;
                }
                _ => {
                    return Err(format!(
                        "Unsupported HTML entity starting at byte offset {i}"
                    ));
                }
            }
        } else if c == '>' {
            return Err(format!("Unexpected character '>' at byte offset {i}"));
        } else {
            shown.push(c);
            i += c.len_utf8();
        }
    }
    match open.pop() {
        Some(name) => Err(format!(
            "Can't find end tag corresponding to start tag \"{name}\""
        )),
        None => Ok(shown),
    }
}

/// Telegram's legacy `Markdown` parse mode: `*bold*`, `_italic_`,
/// `` `code` ``, ```` ```pre``` ```` and `[text](url)`; a marker without its
/// end (snake_case, a path with `*`) is refused.
pub fn tg_legacy_markdown(text: &str) -> Result<String, String> {
    let mut shown = String::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let c = rest.chars().next().unwrap();
        let unclosed = || format!("Can't find end of the entity starting at byte offset {i}");
        match c {
            '\\' if rest[1..].starts_with(['_', '*', '`', '[']) => {
                shown.push_str(&rest[1..2]);
                i += 2;
            }
            '*' | '_' | '`' => {
                let fence = if rest.starts_with("```") {
                    "```"
                } else {
                    &rest[..1]
                };
                let body = &rest[fence.len()..];
                let end = body.find(fence).ok_or_else(unclosed)?;
                shown.push_str(&body[..end]);
                i += fence.len() * 2 + end;
            }
            '[' => {
                let close = rest.find("](").ok_or_else(unclosed)?;
                let end = rest[close..].find(')').ok_or_else(unclosed)?;
                shown.push_str(&rest[1..close]);
                i += close + end + 1;
            }
            c => {
                shown.push(c);
                i += c.len_utf8();
            }
        }
    }
    Ok(shown)
}

/// Matrix client-server API v3, `PUT /rooms/{roomId}/send/{eventType}/{txnId}`.
/// The txnId is the idempotency key: the same one again (with the same
/// token) answers the first event's id and posts nothing new. A body with
/// "lost answer" is posted and then answered 504 the first time, as when a
/// proxy times out on a homeserver that did its work.
pub fn matrix() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next = Arc::new(AtomicU64::new(1));
    let seen = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        String,
    >::new()));
    move |r: &Recorded| {
        if r.header("authorization") != Some(&format!("Bearer {MATRIX_TOKEN}")) {
            return Reply::json(
                401,
                json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}),
            );
        }
        let prefix = "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/";
        let Some(txn) = r.path().strip_prefix(prefix) else {
            return Reply::json(
                403,
                json!({"errcode": "M_FORBIDDEN", "error": "User @bot:example.org not in room"}),
            );
        };
        if r.method != "PUT" || txn.is_empty() {
            return Reply::json(
                405,
                json!({"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"}),
            );
        }
        if r.json()["body"].as_str().unwrap_or("").contains("flood") {
            return Reply::json(
                429,
                json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500}),
            );
        }
        let mut seen = seen.lock().unwrap();
        if let Some(id) = seen.get(txn) {
            return Reply::ok(json!({"event_id": id}));
        }
        let id = format!("$event{}", next.fetch_add(1, Ordering::SeqCst));
        seen.insert(txn.to_string(), id.clone());
        if r.json()["body"]
            .as_str()
            .unwrap_or("")
            .contains("lost answer")
        {
            return Reply::text(504, "Gateway Time-out");
        }
        Reply::ok(json!({"event_id": id}))
    }
}

pub fn dingtalk() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/robot/send" || r.method != "POST" {
            return Reply::not_found();
        }
        if r.query("access_token").as_deref() != Some(DD_TOKEN) {
            return Reply::ok(json!({"errcode": 300005, "errmsg": "token is not exist"}));
        }
        let (Some(ts), Some(sign)) = (r.query("timestamp"), r.query("sign")) else {
            return Reply::ok(json!({"errcode": 310000, "errmsg": "sign not match"}));
        };
        let expected = hmac_b64(
            DD_SECRET.as_bytes(),
            format!("{ts}\n{DD_SECRET}").as_bytes(),
        );
        let skew = now_ms().abs_diff(ts.parse::<u64>().unwrap_or(0));
        if sign != expected || skew > 3_600_000 {
            return Reply::ok(
                json!({"errcode": 310000, "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}),
            );
        }
        let body = r.json();
        let text = body["text"]["content"]
            .as_str()
            .or(body["markdown"]["text"].as_str())
            .unwrap_or("");
        if text.contains("too fast") {
            return Reply::ok(
                json!({"errcode": 410100, "errmsg": "send too fast, exceed 20 times per minute"}),
            );
        }
        Reply::ok(json!({"errcode": 0, "errmsg": "ok"}))
    }
}

pub fn wecom_bot() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/cgi-bin/webhook/send" {
            return Reply::not_found();
        }
        if r.query("key").as_deref() != Some(QYWX_KEY) {
            return Reply::ok(
                json!({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}),
            );
        }
        let body = r.json();
        let kind = body["msgtype"].as_str().unwrap_or("");
        let content = body[kind]["content"].as_str().unwrap_or("");
        let max = if kind == "markdown" { 4096 } else { 2048 };
        if content.len() > max {
            return Reply::ok(
                json!({"errcode": 40058, "errmsg": "content exceed max length 2048"}),
            );
        }
        if content.contains("freq") {
            return Reply::ok(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
        Reply::ok(json!({"errcode": 0, "errmsg": "ok"}))
    }
}

pub const WX_CORP_SECRET: &str = "corpSecretValue-0123456789";

/// WeCom application messages: `gettoken` then `message/send`
/// (developer.work.weixin.qq.com/document/path/91039 and /90236).
pub fn wecom_app() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| match r.path() {
        "/cgi-bin/gettoken" => {
            if r.query("corpid").as_deref() != Some("ww0corp")
                || r.query("corpsecret").as_deref() != Some(WX_CORP_SECRET)
            {
                return Reply::ok(
                    json!({"errcode": 40001, "errmsg": "invalid credential, hint: [1700000000_1]"}),
                );
            }
            Reply::ok(
                json!({"errcode": 0, "errmsg": "ok", "access_token": "ACCESS_TOKEN_1", "expires_in": 7200}),
            )
        }
        "/cgi-bin/message/send" => {
            if r.query("access_token").as_deref() != Some("ACCESS_TOKEN_1") {
                return Reply::ok(json!({"errcode": 40014, "errmsg": "invalid access_token"}));
            }
            let b = r.json();
            if b["agentid"] != 1000002 || b["touser"] != "@all" {
                return Reply::ok(json!({"errcode": 40056, "errmsg": "invalid agentid"}));
            }
            // 发送应用消息: an mpnews needs the thumb_media_id of uploaded
            // media; a textcard needs its title, description and url.
            match b["msgtype"].as_str().unwrap_or("") {
                "mpnews" => {
                    let media = &b["mpnews"]["articles"][0]["thumb_media_id"];
                    if media.as_str().is_none_or(|m| !m.starts_with("2-")) {
                        return Reply::ok(json!({"errcode": 40007, "errmsg": "invalid media_id"}));
                    }
                }
                "textcard" => {
                    let card = &b["textcard"];
                    if ["title", "description", "url"]
                        .iter()
                        .any(|k| card[*k].as_str().unwrap_or("").is_empty())
                    {
                        return Reply::ok(json!({"errcode": 41016, "errmsg": "missing title"}));
                    }
                }
                "text" => {}
                _ => return Reply::ok(json!({"errcode": 40008, "errmsg": "invalid message type"})),
            }
            if b["text"]["content"]
                .as_str()
                .is_some_and(|t| t.len() > 2048)
            {
                return Reply::ok(json!({"errcode": 44004, "errmsg": "text content over limit"}));
            }
            Reply::ok(json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "xyz"}))
        }
        _ => Reply::not_found(),
    }
}
