//! Telegram bots (notify.py's `TG_*`, Apprise's `tgram://TOKEN/CHAT`): sends
//! with `sendMessage`, edits a run's earlier message with `editMessageText`.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::reply::{lookup, text_of};
use mcp_push_sdk::serde_json::Value;

struct Telegram;

/// A message holds 4096 characters (UTF-16 units) after entity parsing.
const LIMIT: Limit = Limit::Utf16(4096);

fn check() -> Check<'static> {
    Check::field("ok")
        .is_true()
        .message("description")
        .retry_after("parameters.retry_after")
}

impl Channel for Telegram {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "telegram",
            "Telegram",
            env!("CARGO_PKG_VERSION"),
            "A Telegram bot writes to a chat; edits a run's earlier message in place",
        )
        .formats(&["text", "markdown", "html"])
        .setting(
            Setting::new("token", "Bot token from @BotFather")
                .env(&["TG_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("chat_id", "Chat id (a user, group or @channel)")
                .env(&["TG_USER_ID"])
                .required(),
        )
        .setting(
            Setting::new(
                "api_host",
                "Bot API server (a self-hosted one or a reverse proxy)",
            )
            .env(&["TG_API_HOST"])
            .default_value("https://api.telegram.org"),
        )
        // notify.py's HTTP proxy for networks that block Telegram; the host
        // routes this channel's requests through it (the component never
        // sees a socket).
        .setting(Setting::new("proxy_host", "HTTP proxy host").env(&["TG_PROXY_HOST"]))
        .setting(Setting::new("proxy_port", "HTTP proxy port").env(&["TG_PROXY_PORT"]))
        .setting(
            Setting::new("proxy_auth", "HTTP proxy user:password")
                .env(&["TG_PROXY_AUTH"])
                .secret(),
        )
        .allow_host("api.telegram.org")
        .allow_host("setting:api_host")
        .schemes(&["tgram"])
        .can_edit()
    }

    /// `tgram://BOT_TOKEN/CHAT_ID`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["tgram"])?;
        let chat = match u.path.as_slice() {
            [chat] => chat.clone(),
            [] => return Err("tgram:// needs a chat: tgram://BOT_TOKEN/CHAT_ID".into()),
            _ => {
                return Err(
                    "tgram:// takes one chat per channel: tgram://BOT_TOKEN/CHAT_ID".into(),
                );
            }
        };
        Pairs::new()
            .set("token", u.authority())
            .set("chat_id", chat)
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        // notify.py accepts TG_API_HOST with or without a scheme.
        let base = format!(
            "{}/bot{}",
            settings.base_url("api_host", "https://api.telegram.org")?,
            settings.require("token")?
        );
        let chat = settings.require("chat_id")?;
        let (text, mode) = render(msg);

        if let Some(id) = msg.previous.as_deref() {
            let edit = json!({
                "chat_id": chat, "message_id": id.parse::<i64>().unwrap_or_default(),
                "text": truncate(&text, LIMIT, CUT_MARKER),
                "link_preview_options": { "is_disabled": true },
            });
            match call(&base, "editMessageText", edit, mode) {
                Ok(_) => return Ok(Receipt::id(id)),
                // Editing to the same text is not a failure.
                Err(SendError::Rejected(why)) if why.contains("message is not modified") => {
                    return Ok(Receipt::id(id));
                }
                // The message is gone (deleted, too old): send a new one.
                Err(SendError::Rejected(why)) if why.contains("message to edit not found") => {}
                Err(e) => return Err(e),
            }
        }

        // Plain text is split into several messages; marked-up text is cut, as
        // a split could break its markup.
        let pieces = match mode {
            None => mcp_push_sdk::text::split_numbered(&text, LIMIT),
            Some(_) => vec![truncate(&text, LIMIT, CUT_MARKER)],
        };
        let mut first = None;
        for piece in pieces {
            let body = json!({
                "chat_id": chat, "text": piece,
                "link_preview_options": { "is_disabled": true },
                "disable_notification": msg.priority == Priority::Low,
            });
            let reply = call(&base, "sendMessage", body, mode)?;
            first = first.or_else(|| lookup(&reply, "result.message_id").map(text_of));
        }
        Ok(first.map(Receipt::id).unwrap_or_else(Receipt::none))
    }
}

export_channel!(Telegram);

/// The text and its `parse_mode`.
fn render(msg: &Message) -> (String, Option<&'static str>) {
    let mut text = match msg.format {
        Format::Html => {
            let title = mcp_push_sdk::text::escape_html(&msg.title);
            let title = if title.trim().is_empty() {
                title
            } else {
                format!("<b>{title}</b>")
            };
            join(&title, &msg.body)
        }
        Format::Markdown => join(&format!("*{}*", msg.title.trim()), &msg.body),
        Format::Text => msg.text(),
    };
    text = msg.with_link(text);
    let mode = match msg.format {
        Format::Html => Some("HTML"),
        Format::Markdown => Some("Markdown"),
        Format::Text => None,
    };
    (text, mode)
}

fn join(title: &str, body: &str) -> String {
    match (title.trim_matches('*').trim().is_empty(), body.is_empty()) {
        (true, _) => body.to_string(),
        (false, true) => title.to_string(),
        (false, false) => format!("{title}\n\n{body}"),
    }
}

/// One Bot API call. Marked-up text that Telegram cannot parse is sent again as
/// plain text rather than lost.
fn call(base: &str, method: &str, mut body: Value, mode: Option<&str>) -> Result<Value, SendError> {
    if let Some(mode) = mode {
        body["parse_mode"] = json!(mode);
    }
    let url = format!("{base}/{method}");
    let reply = Request::post(&url).json(&body).send()?;
    match check().judge(&reply) {
        Err(SendError::Rejected(why)) if mode.is_some() && why.contains("can't parse entities") => {
            if let Some(o) = body.as_object_mut() {
                o.remove("parse_mode");
            }
            check().judge(&Request::post(&url).json(&body).send()?)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tgram_urls() {
        let s = Telegram::parse_url("tgram://123456:ABC-def/-1001234").unwrap();
        assert_eq!(s[0], ("token".into(), "123456:ABC-def".into()));
        assert_eq!(s[1], ("chat_id".into(), "-1001234".into()));
        assert!(Telegram::parse_url("tgram://123456:ABC").is_err());
    }
}
