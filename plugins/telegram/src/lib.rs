//! Telegram bots (notify.py's `TG_*`, Apprise's `tgram://TOKEN/CHAT`): sends
//! with `sendMessage`, edits a run's earlier message with `editMessageText`.
//!
//! Sources: the Bot API (core.telegram.org/bots/api: `sendMessage`,
//! `editMessageText`, "Formatting options"; 1-4096 characters after entity
//! parsing; `ok`, `description`, `parameters.retry_after` on 429), qinglong's
//! sample/notify.py `telegram_bot` for `TG_*` (`TG_API_HOST` with or without a
//! scheme, the `TG_PROXY_*` proxy), Apprise's `tgram://` form.
//!
//! Questions (`replies`): `ask` sends the question with `sendMessage` and an
//! `inline_keyboard` of one button per choice (its `callback_data`,
//! `mcp-push:ASK:INDEX`, within the 1-64 bytes the Bot API allows);
//! `poll-replies` reads `getUpdates` (`offset` = the cursor, `timeout` 0,
//! `allowed_updates` `callback_query` and `message`), takes a button pressed
//! under a message in the configured chat only, confirms it with
//! `answerCallbackQuery`, takes a message typed in reply to a question
//! (`reply_to_message`; a free-text question goes with `force_reply`, so the
//! app opens the reply) from that chat only, and returns the next offset (the highest
//! `update_id` + 1: getUpdates forgets what is below it). Sources: the Bot
//! API's "Getting updates", `getUpdates`, `Update`, `CallbackQuery`
//! (`message` may be an `InaccessibleMessage`, which still has its `chat`),
//! `InlineKeyboardButton`, `ForceReply` and `answerCallbackQuery`; Apprise's
//! `detect_bot_owner` (apprise/plugins/telegram.py) for reading `getUpdates`
//! the way a sender already does (a JSON POST under the bot's URL, the
//! `chat` and `from` of each update). A bot with a webhook set cannot be
//! polled (getUpdates answers 409): such a channel is answered through the
//! reply link.
//!
//! Formats (Bot API, "Formatting options"): Markdown is converted to
//! Telegram's HTML subset and HTML is rewritten into it
//! ([`mcp_push_sdk::markdown::telegram`]), both sent with `parse_mode` HTML.
//! The legacy `Markdown` mode that notify.py never uses and that we used to
//! send refuses any unpaired `_` or `*` (snake_case, paths) with "can't parse
//! entities", and shows neither `**bold**`, headings nor lists. Should
//! Telegram still refuse the markup, the message goes again as the plain
//! text it shows, never as raw tags. A message holds 4096 characters after
//! entity parsing: longer ones are split into numbered messages, marked-up
//! ones with their tags closed and reopened at each cut.

use mcp_push_sdk::markdown::telegram as html;
use mcp_push_sdk::prelude::*;
use mcp_push_sdk::replies::{Asked, Polled, Question, Replies, Reply};
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
        let base = bot_url(settings)?;
        let chat = settings.require("chat_id")?;
        let (text, mode) = render(msg);
        // Plain text is split at lines and spaces; HTML by what it shows,
        // its tags kept balanced in every piece.
        let pieces = match mode {
            None => mcp_push_sdk::text::split_numbered(&text, LIMIT),
            Some(_) => html::split(&text, LIMIT),
        };

        if let Some(id) = msg.previous.as_deref() {
            // An edit changes one message: the first piece, marked as cut.
            let first = match pieces.as_slice() {
                [one] => one.clone(),
                _ if mode.is_none() => truncate(&text, LIMIT, CUT_MARKER),
                [first, ..] => format!("{}{CUT_MARKER}", without_counter(first)),
                [] => String::new(),
            };
            let edit = json!({
                "chat_id": chat, "message_id": id.parse::<i64>().unwrap_or_default(),
                "text": first,
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

        // A retry resumes after the pieces already delivered; the first
        // piece's id (what a later edit changes) is kept for it.
        let first_key = format!("first:{}", delivery::key());
        let resumed = cache::get(&first_key);
        let mut first = None;
        // A piece may take two requests (sent again as plain text).
        let extra = pieces.len() as u32 + 1;
        delivery::send_parts(&pieces, extra, |piece| {
            let body = json!({
                "chat_id": chat, "text": piece,
                "link_preview_options": { "is_disabled": true },
                "disable_notification": msg.priority == Priority::Low,
            });
            let reply = call(&base, "sendMessage", body, mode)?;
            if first.is_none() {
                first = id_at(&reply, "result.message_id");
                if let (None, Some(id), true) = (&resumed, &first, pieces.len() > 1) {
                    cache::set(&first_key, id, 24 * 3600);
                }
            }
            Ok(())
        })?;
        Ok(Receipt::maybe(resumed.or(first)))
    }
}

export_channel!(Telegram, replies);

/// What a button's `callback_data` starts with: the rest is `ASK:INDEX`.
const CALLBACK: &str = "mcp-push:";
/// Updates read per poll: each accepted answer costs one more request
/// (`answerCallbackQuery`), and a call has 8; the rest wait for the next poll.
const UPDATES_PER_POLL: u32 = 6;

impl Replies for Telegram {
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError> {
        let base = bot_url(settings)?;
        let chat = settings.require("chat_id")?;
        let text = truncate(&join_title(&q.title, &q.text, "\n\n"), LIMIT, CUT_MARKER);
        let mut body = json!({
            "chat_id": chat, "text": text,
            "link_preview_options": { "is_disabled": true },
        });
        if q.choices.is_empty() {
            // The app opens a reply to the question: a reply is the answer.
            body["reply_markup"] = json!({
                "force_reply": true, "input_field_placeholder": "Your answer",
            });
        } else {
            // One button per row: choices may be 100 characters long.
            let rows: Vec<Value> = q
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| json!([{ "text": c, "callback_data": callback_data(&q.ask_id, i) }]))
                .collect();
            body["reply_markup"] = json!({ "inline_keyboard": rows });
        }
        let reply = call(&base, "sendMessage", body, None)?;
        let id = id_at(&reply, "result.message_id");
        if let Some(id) = &id {
            // Which question a reply to this message answers, for a message
            // without buttons (the reply link in its text says it too).
            cache::set(&asked_key(id), &q.ask_id, 24 * 3600);
        }
        Ok(Asked::maybe(id))
    }

    fn poll_replies(settings: &Settings, cursor: Option<&str>) -> Result<Polled, SendError> {
        let base = bot_url(settings)?;
        let chat = settings.require("chat_id")?;
        let mut body = json!({
            "timeout": 0, "limit": UPDATES_PER_POLL,
            "allowed_updates": ["callback_query", "message"],
        });
        if let Some(offset) = cursor.and_then(|c| c.parse::<i64>().ok()) {
            body["offset"] = json!(offset);
        }
        let reply = call(&base, "getUpdates", body, None)?;
        let updates = reply["result"].as_array().cloned().unwrap_or_default();
        let mut polled = Polled::nothing();
        let mut next = None;
        for update in &updates {
            if let Some(id) = update["update_id"].as_i64() {
                next = Some(next.unwrap_or(id).max(id) + 1);
            }
            let Some(query) = update.get("callback_query") else {
                match update.get("message").map(|m| typed_answer(m, chat)) {
                    Some(Ok(Some(reply))) => polled.replies.push(reply),
                    Some(Err(why)) => polled.ignored.push(why),
                    _ => {}
                }
                continue;
            };
            match answer_of(query, chat) {
                Ok(Some(reply)) => {
                    let id = query["id"].as_str().unwrap_or_default();
                    let confirm = json!({
                        "callback_query_id": id,
                        "text": format!("Answer recorded: {}", reply.answer),
                    });
                    // Unconfirmed, the button only spins a while: the answer counts.
                    if let Err(e) = call(&base, "answerCallbackQuery", confirm, None) {
                        mcp_push_sdk::log::warn(&format!("answerCallbackQuery: {e:?}"));
                    }
                    polled.replies.push(reply);
                }
                Ok(None) => {}
                Err(why) => polled.ignored.push(why),
            }
        }
        polled.cursor = next.map(|n| n.to_string());
        Ok(polled)
    }
}

/// `https://api.telegram.org/bot<token>`, or the configured API host's.
fn bot_url(settings: &Settings) -> Result<String, SendError> {
    // notify.py accepts TG_API_HOST with or without a scheme.
    Ok(format!(
        "{}/bot{}",
        settings.base_url("api_host", "https://api.telegram.org")?,
        settings.require("token")?
    ))
}

/// A button's data: which question and which of its choices.
fn callback_data(ask_id: &str, index: usize) -> String {
    format!("{CALLBACK}{ask_id}:{index}")
}

/// The answer a pressed button gives: `Ok(None)` for a button that is not a
/// question's (another bot feature), `Err(why)` for one pressed where this
/// channel does not deliver (another chat), which is never an answer.
fn answer_of(query: &Value, chat: &str) -> Result<Option<Reply>, String> {
    let Some((ask_id, index)) = query["data"]
        .as_str()
        .and_then(|d| d.strip_prefix(CALLBACK))
        .and_then(|d| d.split_once(':'))
    else {
        return Ok(None);
    };
    let Ok(index) = index.parse::<u32>() else {
        return Ok(None);
    };
    // An InaccessibleMessage (older than 48 hours) still says its chat.
    let in_chat = &query["message"]["chat"];
    let from = who(&query["from"]);
    if !is_configured(in_chat, chat) {
        return Err(format!(
            "a button of question {ask_id} pressed by {from} in chat {}, not this channel's",
            in_chat["id"]
                .as_i64()
                .map_or("unknown".to_string(), |i| i.to_string())
        ));
    }
    // The button's own text is the choice as it was offered.
    let answer = query["message"]["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .find(|b| b["callback_data"].as_str() == query["data"].as_str())
        .and_then(|b| b["text"].as_str())
        .map_or_else(|| (index + 1).to_string(), str::to_string);
    Ok(Some(Reply {
        ask_id: ask_id.to_string(),
        answer,
        choice: Some(index),
        from,
    }))
}

/// Where `ask` keeps which question a message asks.
fn asked_key(message_id: &str) -> String {
    format!("asked:{message_id}")
}

/// Whether `chat` (a `Chat` object) is the configured `chat_id`: its id, or
/// its `@username` for a channel configured by name.
fn is_configured(chat: &Value, configured: &str) -> bool {
    let configured = configured.trim();
    match chat["id"].as_i64() {
        Some(id) if id.to_string() == configured => true,
        _ => configured.strip_prefix('@').is_some_and(|name| {
            chat["username"]
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(name))
        }),
    }
}

/// The answer a message typed in reply to a question gives: `Ok(None)` for
/// a message that answers no question (the bot's chat goes on), `Err(why)`
/// for one that replies to a question from another chat.
fn typed_answer(message: &Value, chat: &str) -> Result<Option<Reply>, String> {
    let asked = &message["reply_to_message"];
    let Some(text) = message["text"].as_str().filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    let Some(ask_id) = question_of(asked) else {
        return Ok(None);
    };
    let from = who(&message["from"]);
    if !is_configured(&message["chat"], chat) {
        return Err(format!(
            "a reply to question {ask_id} by {from} in chat {}, not this channel's",
            message["chat"]["id"]
                .as_i64()
                .map_or("unknown".to_string(), |i| i.to_string())
        ));
    }
    Ok(Some(Reply {
        ask_id,
        answer: text.trim().to_string(),
        choice: None,
        from,
    }))
}

/// The question a message of the bot asks: by its buttons' data, what
/// `ask` kept, or the reply link in its text.
fn question_of(asked: &Value) -> Option<String> {
    let from_buttons = asked["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().into_iter().flatten())
        .find_map(|b| {
            let data = b["callback_data"].as_str()?.strip_prefix(CALLBACK)?;
            Some(data.split_once(':')?.0.to_string())
        });
    from_buttons
        .or_else(|| {
            let id = asked["message_id"].as_i64()?;
            cache::get(&asked_key(&id.to_string()))
        })
        .or_else(|| {
            let after = asked["text"].as_str()?.split("/v1/asks/").nth(1)?;
            let id: String = after.chars().take_while(char::is_ascii_digit).collect();
            (!id.is_empty() && after[id.len()..].starts_with("/answer")).then_some(id)
        })
}

/// A Telegram user as people know them: "Ada Lovelace (@ada)".
fn who(user: &Value) -> String {
    let name = [&user["first_name"], &user["last_name"]]
        .iter()
        .filter_map(|v| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    match (name.is_empty(), user["username"].as_str()) {
        (false, Some(u)) => format!("{name} (@{u})"),
        (true, Some(u)) => format!("@{u}"),
        (false, None) => name,
        (true, None) => user["id"]
            .as_i64()
            .map_or("someone".to_string(), |id| format!("user {id}")),
    }
}

/// The text and its `parse_mode`: HTML for both marked-up formats.
fn render(msg: &Message) -> (String, Option<&'static str>) {
    if msg.format == Format::Text {
        return (msg.text_with_link(), None);
    }
    let title = Bold::Html.title_escaped(&msg.title, html::escape);
    let body = match msg.format {
        Format::Markdown => html::from_markdown(&msg.body),
        _ => html::sanitize(&msg.body),
    };
    let mut text = join_title(&title, &body, "\n\n");
    if let Some(link) = msg.link.as_deref().filter(|l| !l.is_empty()) {
        text.push_str("\n\n");
        text.push_str(&html::escape(link));
    }
    (text, Some("HTML"))
}

/// `(1/3) text` → `text`.
fn without_counter(piece: &str) -> &str {
    piece.split_once(") ").map_or(piece, |(_, rest)| rest)
}

/// One Bot API call. Marked-up text that Telegram cannot parse is sent again as
/// the plain text it would have shown rather than lost.
fn call(base: &str, method: &str, mut body: Value, mode: Option<&str>) -> Result<Value, SendError> {
    if let Some(mode) = mode {
        body["parse_mode"] = json!(mode);
    }
    let url = format!("{base}/{method}");
    let reply = Request::post(&url).json(&body).send()?;
    match check().judge(&reply) {
        Err(SendError::Rejected(why)) if mode.is_some() && why.contains("can't parse entities") => {
            let shown = html::to_text(body["text"].as_str().unwrap_or_default());
            body["text"] = json!(shown);
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
    use mcp_push_sdk::reply::text_of;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Telegram>();
    }

    #[test]
    fn parses_tgram_urls() {
        let s = Telegram::parse_url("tgram://123456:ABC-def/-1001234").unwrap();
        assert_eq!(s[0], ("token".into(), "123456:ABC-def".into()));
        assert_eq!(s[1], ("chat_id".into(), "-1001234".into()));
        assert!(Telegram::parse_url("tgram://123456:ABC").is_err());
    }

    use mcp_push_sdk::testing::{Harness, Reply, message};

    fn harness() -> Harness {
        Harness::new::<Telegram>()
            .setting("token", "123:tok")
            .setting("chat_id", "42")
    }

    fn sent(id: i64) -> Reply {
        Reply::json(200, json!({"ok": true, "result": {"message_id": id}}))
    }

    fn formatted(format: Format, title: &str, body: &str) -> Message {
        let mut m = message(title, body);
        m.format = format;
        m
    }

    #[test]
    fn markdown_goes_as_telegram_html() {
        let h = harness().reply(sent(1));
        let body = "# Build_7\n\n**passed** in `src/main_loop.rs` (`a < b && c`)\n\n\
                    - snake_case_item\n- paths/with*stars\n\n[log](https://ci.example/?run=7&job=2)";
        h.send(&formatted(Format::Markdown, "CI *report*", body))
            .unwrap();
        let req = h.requests()[0].json();
        assert_eq!(req["parse_mode"], "HTML");
        assert_eq!(
            req["text"],
            "<b>CI *report*</b>\n\n<b>Build_7</b>\n\n<b>passed</b> in \
             <code>src/main_loop.rs</code> (<code>a &lt; b &amp;&amp; c</code>)\n\n\
             • snake_case_item\n• paths/with*stars\n\n\
             <a href=\"https://ci.example/?run=7&amp;job=2\">log</a>"
        );
    }

    #[test]
    fn html_is_rewritten_into_telegrams_subset() {
        let h = harness().reply(sent(1));
        let body = "<h1>Deploy</h1><p>one &amp; <em>two</em><br>three</p>\
                    <ul><li>a</li><li>b</li></ul><p>1 < 2 &nbsp;<font>x</font></p>";
        h.send(&formatted(Format::Html, "T <1>", body)).unwrap();
        let req = h.requests()[0].json();
        assert_eq!(req["parse_mode"], "HTML");
        assert_eq!(
            req["text"],
            "<b>T &lt;1&gt;</b>\n\n<b>Deploy</b>\n\none &amp; <i>two</i>\nthree\n\n\
             • a\n• b\n\n1 &lt; 2 \u{a0}x"
        );
    }

    #[test]
    fn refused_markup_goes_again_as_the_text_it_shows() {
        let h = harness()
            .reply(Reply::json(
                400,
                json!({"ok": false, "error_code": 400,
                       "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3"}),
            ))
            .reply(sent(2));
        let receipt = h
            .send(&formatted(Format::Markdown, "T", "**a** & `b`"))
            .unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("2"));
        let retry = h.requests()[1].json();
        assert!(retry.get("parse_mode").is_none(), "{retry}");
        assert_eq!(retry["text"], "T\n\na & b");
    }

    #[test]
    fn long_markup_is_split_by_what_it_shows_with_tags_balanced() {
        let h = harness().reply(sent(1)).reply(sent(2)).reply(sent(3));
        // Each line shows "bold & it" (10 characters with its line break)
        // but is 28 characters of HTML: 600 lines are 6,000 shown, two
        // messages, where counting the markup would make five.
        let body = "**bold** &amp; *it*\n".repeat(600);
        h.send(&formatted(Format::Markdown, "", &body)).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        for (i, r) in reqs.iter().enumerate() {
            let text = r.json()["text"].as_str().unwrap().to_string();
            assert_eq!(r.json()["parse_mode"], "HTML");
            assert!(
                text.starts_with(&format!("({}/2) ", i + 1)),
                "{}",
                &text[..20]
            );
            assert!(html::to_text(&text).encode_utf16().count() <= 4096);
            assert_eq!(html::sanitize(&text), text, "balanced and in the subset");
        }
    }

    /// Plain text as the Bot API takes it (moved from tests/channels_intl.rs):
    /// `sendMessage` under the bot's URL, no `parse_mode`, link previews off,
    /// and the token only on the wire.
    #[test]
    fn plain_text_goes_without_parse_mode_or_previews() {
        let h = harness().reply(sent(1));
        let receipt = h.send(&message("Build 7", "passed")).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("1"));
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains("123:tok"), "{}", req.url);
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://api.telegram.org/bot123:tok/sendMessage"
        );
        let body = req.json();
        assert_eq!(body["chat_id"], "42");
        assert_eq!(body["text"], "Build 7\n\npassed");
        assert_eq!(body["link_preview_options"]["is_disabled"], true);
        assert!(body.get("parse_mode").is_none(), "{body}");
    }

    /// The Bot API's refusals and its flood control, as the service words
    /// them (moved from tests/channels_intl.rs).
    #[test]
    fn refusals_and_flood_control_map_to_kinds() {
        let h = harness()
            .reply(Reply::json(
                400,
                json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
            ))
            .reply(Reply::json(
                429,
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 31",
                       "parameters": {"retry_after": 31}}),
            ))
            .reply(Reply::json(
                401,
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            ));
        let msg = message("T", "B");
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("ok false: Bad Request: chat not found".into())
        );
        assert_eq!(h.send(&msg).unwrap_err(), SendError::RateLimited(Some(31)));
        assert_eq!(
            h.send(&msg).unwrap_err(),
            SendError::Rejected("ok false: Unauthorized".into())
        );
    }

    /// 6,400 UTF-16 units of plain text (emoji count two) go as two
    /// numbered messages, each within the 4096 a message holds (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn long_plain_text_goes_as_numbered_messages_within_the_limit() {
        let h = harness().reply(sent(1)).reply(sent(2)).reply(sent(3));
        let long = "line of text 😀\n".repeat(400);
        let receipt = h.send(&message("Long", &long)).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("1"));
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        let texts: Vec<String> = reqs.iter().map(|r| text_of(&r.json()["text"])).collect();
        assert!(texts[0].starts_with("(1/2) Long"), "{}", &texts[0][..20]);
        assert!(texts[1].starts_with("(2/2) "), "{}", &texts[1][..20]);
        assert!(texts.iter().all(|t| t.encode_utf16().count() <= 4096));
        assert!(reqs.iter().all(|r| r.json().get("parse_mode").is_none()));
    }

    /// What notify.py's legacy `Markdown` mode refused (snake_case, a path
    /// with `*`) and the HTML tags Telegram refuses (`<h2>`, `<p>`, `<br>`,
    /// `<ul>`) go as its subset, accepted at once (moved from
    /// tests/channels_intl.rs).
    #[test]
    fn snake_case_markdown_and_block_html_go_as_the_subset() {
        let h = harness().reply(sent(1)).reply(sent(2));
        h.send(&formatted(
            Format::Markdown,
            "Report",
            "**snake_case** word in paths/with*stars",
        ))
        .unwrap();
        h.send(&formatted(
            Format::Html,
            "Deploy",
            "<h2>Done</h2><p>a &amp; b<br>c</p><ul><li>x</li><li>y</li></ul>",
        ))
        .unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2, "each sent once: {reqs:?}");
        let (md, html_msg) = (reqs[0].json(), reqs[1].json());
        assert_eq!(md["parse_mode"], "HTML");
        assert_eq!(
            md["text"],
            "<b>Report</b>\n\n<b>snake_case</b> word in paths/with*stars"
        );
        assert_eq!(html_msg["parse_mode"], "HTML");
        let text = text_of(&html_msg["text"]);
        assert_eq!(
            text,
            "<b>Deploy</b>\n\n<b>Done</b>\n\na &amp; b\nc\n\n• x\n• y"
        );
        assert_eq!(html::sanitize(&text), text, "balanced and in the subset");
        assert_eq!(
            html::to_text(&text),
            "Deploy\n\nDone\n\na & b\nc\n\n• x\n• y"
        );
    }

    fn replying() -> Harness {
        Harness::replying::<Telegram>()
            .setting("token", "123:tok")
            .setting("chat_id", "42")
    }

    fn deploy_question() -> Question {
        Question {
            ask_id: "12".into(),
            title: "Question".into(),
            text: "Deploy?\n\nAnswer yes / no: http://127.0.0.1:8080/v1/asks/12/answer".into(),
            choices: vec!["yes".into(), "no".into()],
            link: Some("http://127.0.0.1:8080/v1/asks/12/answer".into()),
        }
    }

    /// A button pressed under the question, as `getUpdates` reports it
    /// (Bot API: `Update`, `CallbackQuery`, the `Message` with its markup).
    fn pressed(update: i64, chat: i64, data: &str, from: Value) -> Value {
        json!({
            "update_id": update,
            "callback_query": {
                "id": format!("cb-{update}"),
                "from": from,
                "chat_instance": "-77",
                "data": data,
                "message": {
                    "message_id": 7, "date": 1_700_000_000,
                    "chat": {"id": chat, "type": "private", "first_name": "Ada"},
                    "text": "Question\n\nDeploy?",
                    "reply_markup": {"inline_keyboard": [
                        [{"text": "yes", "callback_data": "mcp-push:12:0"}],
                        [{"text": "no", "callback_data": "mcp-push:12:1"}],
                    ]},
                },
            },
        })
    }

    fn ada() -> Value {
        json!({"id": 42, "is_bot": false, "first_name": "Ada", "username": "ada"})
    }

    /// The question goes with `sendMessage` and one button per choice; each
    /// button's data names the question and the choice within the 64 bytes
    /// Telegram allows.
    #[test]
    fn a_question_goes_with_a_button_per_choice() {
        let h = replying().reply(sent(7));
        let asked = h.ask(&deploy_question()).unwrap();
        assert_eq!(asked.remote_id.as_deref(), Some("7"));
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://api.telegram.org/bot123:tok/sendMessage"
        );
        let body = h.requests()[0].json();
        assert_eq!(body["chat_id"], "42");
        assert_eq!(
            body["text"],
            "Question\n\nDeploy?\n\nAnswer yes / no: http://127.0.0.1:8080/v1/asks/12/answer"
        );
        assert_eq!(
            body["reply_markup"],
            json!({"inline_keyboard": [
                [{"text": "yes", "callback_data": "mcp-push:12:0"}],
                [{"text": "no", "callback_data": "mcp-push:12:1"}],
            ]})
        );
        let longest = callback_data(&i64::MAX.to_string(), 9);
        assert!(longest.len() <= 64, "{longest}");
    }

    /// `getUpdates` from the cursor; a button pressed in the configured chat
    /// is an answer and is confirmed, one pressed in another chat is passed
    /// over (and not confirmed), and the next cursor is past both.
    #[test]
    fn a_button_pressed_in_the_configured_chat_answers_and_no_other() {
        let stranger = json!({"id": 999, "is_bot": false, "first_name": "Mallory"});
        let h = replying()
            .reply(Reply::json(
                200,
                json!({"ok": true, "result": [
                    pressed(500, 999, "mcp-push:12:0", stranger),
                    pressed(501, 42, "mcp-push:12:1", ada()),
                    {"update_id": 502, "message": {"message_id": 9, "date": 1,
                        "chat": {"id": 42, "type": "private"}, "text": "hello"}},
                ]}),
            ))
            .reply(Reply::json(200, json!({"ok": true, "result": true})));
        let polled = h.poll_replies(Some("500")).unwrap();
        assert_eq!(
            polled.replies,
            vec![mcp_push_sdk::replies::Reply {
                ask_id: "12".into(),
                answer: "no".into(),
                choice: Some(1),
                from: "Ada (@ada)".into(),
            }]
        );
        assert_eq!(polled.cursor.as_deref(), Some("503"));
        assert_eq!(polled.ignored.len(), 1, "{:?}", polled.ignored);
        assert!(
            polled.ignored[0].contains("chat 999"),
            "{:?}",
            polled.ignored
        );

        let reqs = h.requests();
        assert_eq!(reqs.len(), 2, "getUpdates, then one confirmation: {reqs:?}");
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://api.telegram.org/bot123:tok/getUpdates"
        );
        let get = reqs[0].json();
        assert_eq!(get["offset"], 500);
        assert_eq!(get["timeout"], 0);
        assert_eq!(get["allowed_updates"], json!(["callback_query", "message"]));
        assert!(
            reqs[1].url.ends_with("/answerCallbackQuery"),
            "{}",
            reqs[1].url
        );
        assert_eq!(reqs[1].json()["callback_query_id"], "cb-501");
    }

    /// The first poll has no cursor (whatever Telegram still holds); one that
    /// finds nothing keeps the cursor where it was.
    #[test]
    fn a_first_poll_has_no_offset_and_an_empty_one_keeps_the_cursor() {
        let h = replying().reply(Reply::json(200, json!({"ok": true, "result": []})));
        let polled = h.poll_replies(None).unwrap();
        assert!(h.requests()[0].json().get("offset").is_none());
        assert_eq!(polled, Polled::nothing());
    }

    /// A free-text question opens a reply in the app; a reply typed in the
    /// configured chat answers the question the replied-to message asks (by
    /// what `ask` kept, or its reply link), one typed elsewhere does not,
    /// and a message that replies to nothing is no answer.
    #[test]
    fn a_reply_typed_to_a_question_answers_it_in_the_configured_chat_only() {
        let free = Question {
            choices: Vec::new(),
            ..deploy_question()
        };
        let h = replying()
            .reply(sent(7))
            .reply(Reply::json(200, json!({"ok": true, "result": [
                {"update_id": 10, "message": {"message_id": 20, "date": 1,
                    "from": ada(), "chat": {"id": 42, "type": "private"},
                    "text": " in an hour ",
                    "reply_to_message": {"message_id": 7, "date": 1,
                        "chat": {"id": 42, "type": "private"}, "text": "Question"}}},
                {"update_id": 11, "message": {"message_id": 21, "date": 1,
                    "from": {"id": 999, "first_name": "Mallory"},
                    "chat": {"id": 999, "type": "private"}, "text": "now",
                    "reply_to_message": {"message_id": 3, "date": 1,
                        "chat": {"id": 999, "type": "private"},
                        "text": "Deploy?\n\nAnswer: http://h:1/v1/asks/12/answer?channel=tg&token=x"}}},
                {"update_id": 12, "message": {"message_id": 22, "date": 1,
                    "from": ada(), "chat": {"id": 42, "type": "private"}, "text": "hi"}},
            ]})));
        h.ask(&free).unwrap();
        assert_eq!(
            h.requests()[0].json()["reply_markup"],
            json!({"force_reply": true, "input_field_placeholder": "Your answer"})
        );
        let polled = h.poll_replies(None).unwrap();
        assert_eq!(
            polled.replies,
            vec![mcp_push_sdk::replies::Reply {
                ask_id: "12".into(),
                answer: "in an hour".into(),
                choice: None,
                from: "Ada (@ada)".into(),
            }]
        );
        assert_eq!(polled.ignored.len(), 1, "{:?}", polled.ignored);
        assert!(polled.ignored[0].contains("question 12 by Mallory in chat 999"));
        assert_eq!(polled.cursor.as_deref(), Some("13"));
    }

    /// A channel configured as `@name` takes buttons pressed in that chat.
    #[test]
    fn a_channel_named_by_username_matches_its_chat() {
        let mut update = pressed(1, -1005, "mcp-push:3:0", ada());
        update["callback_query"]["message"]["chat"]["username"] = json!("Deploys");
        let query = &update["callback_query"];
        assert!(matches!(answer_of(query, "@deploys"), Ok(Some(_))));
        assert!(answer_of(query, "@others").is_err());
        assert!(matches!(answer_of(query, "-1005"), Ok(Some(_))));
        // Another bot feature's button is not a question's.
        let mut other = query.clone();
        other["data"] = json!("page:2");
        assert_eq!(answer_of(&other, "-1005"), Ok(None));
    }

    /// 20,000 characters are 5+ messages; when one fails, the retry sends
    /// the rest only, and the receipt is still the first message's id.
    #[test]
    fn a_retry_resumes_after_the_pieces_delivered() {
        let body = "line of a long log\n".repeat(1100);
        let mut h = harness();
        h = h.reply(sent(10)).reply(sent(11));
        h = h.reply(Reply::json(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}}),
        ));
        let msg = message("log", &body);
        assert!(matches!(h.send(&msg), Err(SendError::RateLimited(Some(3)))));
        assert_eq!(h.parts_sent(), 2);
        for id in 12..20 {
            h = h.reply(sent(id));
        }
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("10"));
        let texts: Vec<String> = h
            .requests()
            .iter()
            .map(|r| text_of(&r.json()["text"]))
            .collect();
        assert!(texts[2].starts_with("(3/"), "{}", &texts[2][..10]);
        assert!(texts[3].starts_with("(3/"), "the failed piece again");
        assert_eq!(
            texts.iter().filter(|t| t.starts_with("(1/")).count(),
            1,
            "the first piece went once"
        );
    }
}
