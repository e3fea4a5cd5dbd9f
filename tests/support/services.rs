//! One mock per service API, as the tests run them: each handler checks the
//! real path, query, headers and body and answers with the service's own
//! success and error replies. `Mock::service(services::telegram())` serves one.

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
pub const FS_KEY: &str = "9c1b7c3e-feishu-hook-key";
pub const FS_SECRET: &str = "fsSecretValue123456";
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

pub fn slack() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/services/T000/B000/XXXX" {
            return Reply::text(404, "no_service");
        }
        match r.json()["text"].as_str() {
            Some(t) if t.contains("archived") => Reply::text(410, "channel_is_archived"),
            Some(t) if t.contains("slow") => {
                Reply::text(429, "rate_limited").header("retry-after", "12")
            }
            Some(_) => Reply::text(200, "ok"),
            None => Reply::text(400, "invalid_payload"),
        }
    }
}

pub fn discord() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let next_id = Arc::new(AtomicU64::new(1_100_000_000_000_000_000));
    move |r: &Recorded| {
        let Some(rest) = r.path().strip_prefix("/api/webhooks/111/tok-en") else {
            return Reply::json(404, json!({"message": "Unknown Webhook", "code": 10015}));
        };
        let body = r.json();
        let content = body["content"].as_str().unwrap_or("");
        if content.chars().count() > 2000 {
            return Reply::json(
                400,
                json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}),
            );
        }
        if content.contains("slow") {
            return Reply::json(
                429,
                json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
            )
            .header("retry-after", "2");
        }
        match (r.method.as_str(), rest) {
            ("POST", "") if r.query("wait").as_deref() == Some("true") => {
                let id = next_id.fetch_add(1, Ordering::SeqCst).to_string();
                Reply::ok(json!({"id": id, "type": 0, "content": content, "channel_id": "9"}))
            }
            ("PATCH", m) if m.starts_with("/messages/") => Reply::ok(
                json!({"id": &m["/messages/".len()..], "type": 0, "content": content, "edited_timestamp": "2026-01-01T00:00:00+00:00"}),
            ),
            _ => Reply::json(
                405,
                json!({"message": "405: Method Not Allowed", "code": 0}),
            ),
        }
    }
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

pub fn pushover() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/1/messages.json" || r.method != "POST" {
            return Reply::not_found();
        }
        if r.form("token").as_deref() != Some("azGDORePK8gMaC0QOYAMyEEuzJnyUi") {
            return Reply::json(
                400,
                json!({"token": "invalid", "errors": ["application token is invalid"], "status": 0, "request": "5042853c"}),
            );
        }
        if r.form("user").as_deref() == Some("over-limit") {
            return Reply::json(
                429,
                json!({"errors": ["message limit reached"], "status": 0, "request": "1"}),
            );
        }
        Reply::ok(json!({"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"}))
    }
}

pub fn teams() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if !r
            .path()
            .starts_with("/workflows/abc/triggers/manual/paths/invoke")
        {
            return Reply::json(
                404,
                json!({"error": {"code": "WorkflowNotFound", "message": "The workflow 'abc' could not be found."}}),
            );
        }
        let body = r.json();
        if body["type"] != "message"
            || body["attachments"][0]["contentType"] != "application/vnd.microsoft.card.adaptive"
        {
            return Reply::json(
                400,
                json!({"error": {"code": "InvalidRequestContent", "message": "The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}),
            );
        }
        Reply::text(202, "")
    }
}

pub fn ntfy() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
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
        let id = format!("msg{}", next.fetch_add(1, Ordering::SeqCst));
        let mut msg = json!({"id": id, "time": 1700000000, "event": "message", "topic": topic, "message": r.text()});
        if let Some(s) = sequence {
            msg["sequence_id"] = json!(s);
        }
        Reply::ok(msg)
    }
}

pub fn gotify() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/gotify/message" {
            return Reply::not_found();
        }
        if r.header("x-gotify-key") != Some("AzX1.token_value") {
            return Reply::json(
                401,
                json!({"error": "Unauthorized", "errorCode": 401, "errorDescription": "you need to provide a valid access token or user credentials to access this api"}),
            );
        }
        let b = r.json();
        Reply::ok(
            json!({"id": 25, "appid": 5, "message": b["message"], "title": b["title"], "priority": b["priority"], "date": "2026-01-01T00:00:00Z"}),
        )
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

pub fn feishu() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != format!("/open-apis/bot/v2/hook/{FS_KEY}") {
            return Reply::ok(
                json!({"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}),
            );
        }
        let body = r.json();
        let ts = body["timestamp"].as_str().unwrap_or("0");
        let expected = hmac_b64(format!("{ts}\n{FS_SECRET}").as_bytes(), b"");
        let skew = (now_ms() / 1000).abs_diff(ts.parse::<u64>().unwrap_or(0));
        if body["sign"] != expected.as_str() || skew > 3600 {
            return Reply::ok(
                json!({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time", "data": {}}),
            );
        }
        if body.to_string().contains("busy") {
            return Reply::ok(
                json!({"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]", "data": {}}),
            );
        }
        Reply::ok(
            json!({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}),
        )
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

pub fn bark() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let Some(key) = r.path().strip_prefix("/") else {
            return Reply::not_found();
        };
        if key != "DeviceKey123" {
            return Reply::json(
                400,
                json!({"code": 400, "message": "failed to get device token: failed to get [DeviceKey] device token from database", "timestamp": 1700000000}),
            );
        }
        // APNs refuses a payload over 4 KB, and bark-server passes it on as
        // a 500 (what Bark's own limit comes to).
        if r.body.len() > 4096 {
            return Reply::json(
                500,
                json!({"code": 500, "message": "push failed: PayloadTooLarge", "timestamp": 1700000000}),
            );
        }
        Reply::ok(json!({"code": 200, "message": "success", "timestamp": 1700000000}))
    }
}

pub fn pushplus() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let busy = Arc::new(AtomicU64::new(0));
    move |r: &Recorded| {
        if r.path() != "/send" {
            return Reply::not_found();
        }
        let b = r.json();
        // pushplus.plus/doc/guide/code.html: 903 an invalid token, 999 a
        // request that fails validation (never worth repeating), 500 a
        // passing system error.
        if b["token"] != "pp-token-0123456789" {
            return Reply::ok(json!({"code": 903, "msg": "无效的用户token", "data": null}));
        }
        if b["content"].as_str().unwrap_or("").is_empty() {
            return Reply::ok(json!({"code": 999, "msg": "内容不能为空", "data": null}));
        }
        if b["title"] == "系统繁忙" && busy.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::ok(json!({"code": 500, "msg": "系统异常，请稍后再试", "data": null}));
        }
        Reply::ok(json!({"code": 200, "msg": "请求成功", "data": "f9c9d5bc0a1d4e8b"}))
    }
}

pub const SC_KEY: &str = "SCT123456TsecretSendKey";
pub const SC3_KEY: &str = "sctp4321tSecretSc3Key";

/// ServerChan: Turbo at `/<key>.send`, ServerChan³ at `/send/<key>.send`,
/// form `title` and `desp`.
pub fn serverchan() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let path = r.path();
        if path != format!("/{SC_KEY}.send") && path != format!("/send/{SC3_KEY}.send") {
            return Reply::ok(json!({"code": 40001, "message": "bad pushkey", "data": null}));
        }
        if r.form("title").unwrap_or_default().is_empty() {
            return Reply::ok(json!({"code": 40001, "message": "标题不能为空", "data": null}));
        }
        if path.starts_with("/send/") {
            return Reply::ok(
                json!({"code": 0, "message": "SUCCESS", "errno": 0, "data": {"pushid": "1", "meta": {}}}),
            );
        }
        Reply::ok(
            json!({"code": 0, "message": "", "data": {"pushid": "123", "readkey": "abc", "error": "SUCCESS", "errno": 0}}),
        )
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

/// PushDeer: form `text`, `desp`, `type`, `pushkey` at `/message/push`.
pub fn pushdeer() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/message/push" {
            return Reply::not_found();
        }
        if r.form("pushkey").as_deref() != Some("PDU1TdeerKey") {
            return Reply::ok(json!({"code": 80501, "error": "key不存在或没有权限"}));
        }
        Reply::ok(
            json!({"code": 0, "content": {"result": ["{\"counts\":1,\"logs\":[],\"success\":\"ok\"}"]}}),
        )
    }
}

/// Qmsg酱: `/<send|group>/<key>?msg=`.
pub fn qmsg() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/send/qmsgKey123" && r.path() != "/group/qmsgKey123" {
            return Reply::ok(
                json!({"success": false, "reason": "无效的KEY", "code": 500, "info": {}}),
            );
        }
        Reply::ok(json!({"success": true, "reason": "操作成功", "code": 0, "info": {}}))
    }
}

/// go-cqhttp: GET `/send_private_msg?user_id&message&access_token`.
pub fn gocqhttp() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.query("access_token").as_deref() != Some("cq-token-123") {
            return Reply::json(
                401,
                json!({"status": "failed", "retcode": 1403, "msg": "token验证失败", "wording": "token验证失败"}),
            );
        }
        if r.path() != "/send_private_msg" || r.query("user_id").is_none() {
            return Reply::ok(
                json!({"status": "failed", "retcode": 100, "msg": "API_ERROR", "wording": "请参考 go-cqhttp 端输出"}),
            );
        }
        Reply::ok(json!({"status": "ok", "retcode": 0, "data": {"message_id": 123}}))
    }
}

/// iGot: POST `/<key>`, form `title`, `content`.
pub fn igot() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/igotKey01" {
            return Reply::ok(json!({"ret": 201, "data": {}, "errMsg": "key无效"}));
        }
        Reply::ok(json!({"ret": 0, "data": {"id": "5f0d8c0a"}, "errMsg": ""}))
    }
}

/// PushMe: POST `/`, form; answers the word `success`.
pub fn pushme() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/" {
            return Reply::not_found();
        }
        if r.form("push_key").as_deref() != Some("pushmeKey01") {
            return Reply::text(200, "push_key error");
        }
        Reply::text(200, "success")
    }
}

/// Synology Chat: the webhook with `token`, form `payload={"text":…}`.
pub fn synology_chat() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/webapi/entry.cgi"
            || r.query("api").as_deref() != Some("SYNO.Chat.External")
        {
            return Reply::not_found();
        }
        if r.query("token").as_deref() != Some("synoToken99") {
            return Reply::ok(
                json!({"error": {"code": 404, "errors": "invalid token"}, "success": false}),
            );
        }
        let payload: serde_json::Value =
            serde_json::from_str(&r.form("payload").unwrap_or_default()).unwrap_or_default();
        if payload["text"].as_str().is_none() {
            return Reply::ok(
                json!({"error": {"code": 120, "errors": {"name": "payload", "reason": "required"}}, "success": false}),
            );
        }
        Reply::ok(json!({"success": true}))
    }
}

/// WxPusher: `/api/send/message` and `/api/send/message/simple-push`.
pub fn wxpusher() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let b = r.json();
        match r.path() {
            "/api/send/message" if b["appToken"] == "AT_wxpusherToken" => Reply::ok(
                json!({"code": 1000, "msg": "处理成功", "data": [{"uid": "UID_1", "messageId": 1, "code": 1000, "status": "创建发送任务成功"}], "success": true}),
            ),
            "/api/send/message" => Reply::ok(
                json!({"code": 1001, "msg": "appToken不正确", "data": null, "success": false}),
            ),
            "/api/send/message/simple-push"
                if b["spt"] == "SPT_one" || b["sptList"] == json!(["SPT_one", "SPT_two"]) =>
            {
                Reply::ok(json!({"code": 1000, "msg": "处理成功", "data": [], "success": true}))
            }
            "/api/send/message/simple-push" => {
                Reply::ok(json!({"code": 1001, "msg": "spt不正确", "data": null, "success": false}))
            }
            _ => Reply::not_found(),
        }
    }
}

/// WePlus bot: POST `/send` JSON.
pub fn weplus() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/send" {
            return Reply::not_found();
        }
        if r.json()["token"] != "weplusToken" {
            return Reply::ok(json!({"code": 500, "msg": "token错误", "data": null}));
        }
        Reply::ok(json!({"code": 200, "msg": "请求成功", "data": null}))
    }
}

/// AIBotK: POST `/openapi/v1/chat/<room|contact>`.
pub fn aibotk() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let b = r.json();
        if b["apiKey"] != "aibotkKey" {
            return Reply::ok(json!({"code": 500, "error": "apiKey无效"}));
        }
        match r.path() {
            "/openapi/v1/chat/room" if b["roomName"].is_string() => {
                Reply::ok(json!({"code": 0, "msg": "success", "data": {}}))
            }
            "/openapi/v1/chat/contact" if b["name"].is_string() => {
                Reply::ok(json!({"code": 0, "msg": "success", "data": {}}))
            }
            _ => Reply::ok(json!({"code": 500, "error": "参数错误"})),
        }
    }
}

/// Chronocat: POST `/api/message/send` with a Bearer token.
pub fn chronocat() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/api/message/send" {
            return Reply::not_found();
        }
        if r.header("authorization") != Some("Bearer chronoToken") {
            return Reply::text(401, "Unauthorized");
        }
        Reply::ok(
            json!({"msgId": "7300000000000000001", "msgType": 2, "chatType": r.json()["peer"]["chatType"]}),
        )
    }
}

/// OpeniLink: POST `/bot/v1/message/send` with a Bearer token.
pub fn openilink() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.path() != "/bot/v1/message/send" {
            return Reply::not_found();
        }
        if r.header("authorization") != Some("Bearer oiAppToken") {
            return Reply::json(401, json!({"ok": false, "error": "invalid app token"}));
        }
        Reply::ok(json!({"ok": true, "message_id": "m1"}))
    }
}
