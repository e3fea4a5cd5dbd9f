//! Discord as a bot (`DISCORD_BOT_TOKEN`, `DISCORD_CHANNEL_ID`,
//! `discordbot://TOKEN/CHANNEL_ID`): posts to one channel with the bot's
//! token, edits a run's earlier message, and reads the answers people give
//! by replying to a question (see [`replies`]).
//!
//! Why a plugin of its own: Discord's webhooks (the `discord` channel,
//! Apprise's `discord://ID/TOKEN`) can post but read nothing, and a webhook
//! URL and a bot token are different credentials with different settings.
//! Apprise has no bot form: `discordbot://` and the `DISCORD_BOT_TOKEN`,
//! `DISCORD_CHANNEL_ID` and `DISCORD_API_URL` names are mcp-push's own (not
//! in qinglong's notify.py either).
//!
//! Sources: Discord's developer docs (discord.com/developers/docs):
//! "Reference" (`https://discord.com/api/v10`, `Authorization: Bot TOKEN`,
//! snowflake ids), resources/message (Create Message: POST
//! `/channels/{channel.id}/messages` with `content` of at most 2000
//! characters, `components`, `allowed_mentions`; Edit Message: PATCH
//! `/channels/{channel.id}/messages/{message.id}`; Get Channel Messages:
//! `after`, `limit` 1–100; the message object's `author`,
//! `message_reference`, `referenced_message`), components/reference (an
//! action row, type 1, holding a button, type 2, of style 5 "Link" with a
//! `url` and a `label` of at most 80 characters), resources/user (Get
//! Current User, `GET /users/@me`), topics/rate-limits (HTTP 429 with the
//! JSON `retry_after` in seconds, `global`, and `Retry-After`,
//! `X-RateLimit-*` headers), topics/opcodes-and-status-codes (the error
//! JSON `{code, message}`: 10003 Unknown Channel, 10008 Unknown Message,
//! 50001 Missing Access, 50013 Missing Permissions; 401 for a wrong token).

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::serde_json::Value;

mod replies;

struct DiscordBot;

/// A message's content holds 2000 characters.
const LIMIT: Limit = Limit::Chars(2000);
const OFFICIAL_API: &str = "https://discord.com/api/v10";

impl Channel for DiscordBot {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "discord-bot",
            "Discord (bot)",
            env!("CARGO_PKG_VERSION"),
            "Posts to a Discord channel as a bot; edits a run's earlier message; questions are answered by a reply",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("bot_token", "The bot's token (Developer Portal → Bot → Token)")
                .env(&["DISCORD_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "channel_id",
                "The channel's id (a number); the bot needs View Channel, Send Messages and Read Message History there",
            )
            .env(&["DISCORD_CHANNEL_ID"])
            .required(),
        )
        .setting(
            Setting::new("api_url", "The API's base URL")
                .env(&["DISCORD_API_URL"])
                .default_value(OFFICIAL_API),
        )
        .allow_host("discord.com")
        .allow_host("setting:api_url")
        .schemes(&["discordbot"])
        .can_edit()
    }

    /// `discordbot://BOT_TOKEN/CHANNEL_ID`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["discordbot"])?;
        let ([channel], false) = (u.path.as_slice(), u.host.is_empty()) else {
            return Err(
                "discordbot:// needs the bot's token and a channel id: discordbot://TOKEN/CHANNEL_ID"
                    .into(),
            );
        };
        Pairs::new()
            .set("bot_token", u.host.clone())
            .set("channel_id", channel.clone())
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let api = Api::of(settings)?;
        // Discord renders Markdown; a plain text is sent as it is.
        let text = heading(&Bold::Markdown.title(&msg.title), &msg.body, "\n");
        let content = truncate(&msg.with_link(text), LIMIT, CUT_MARKER);
        if let Some(id) = msg.previous.as_deref() {
            let edited = api
                .request("PATCH", Some(id))
                .json(&json!({ "content": content }))
                .send()?;
            // A message deleted since (404, 10008 Unknown Message) is posted
            // anew rather than losing the update.
            if edited.status != 404 {
                judged(edited.check(&checked()))?;
                return Ok(Receipt::id(id));
            }
        }
        let posted = api.post(json!({ "content": content }))?;
        Ok(Receipt::from_reply(&posted, "id"))
    }
}

/// The bot's token and its channel.
struct Api<'s> {
    base: String,
    token: &'s str,
    channel: &'s str,
}

impl<'s> Api<'s> {
    fn of(settings: &'s Settings) -> Result<Self, SendError> {
        let channel = settings.require("channel_id")?;
        if channel.is_empty() || !channel.chars().all(|c| c.is_ascii_digit()) {
            return Err(SendError::Config(format!(
                "channel_id must be a channel's id (a number), not {channel:?}"
            )));
        }
        Ok(Api {
            base: settings.base_url("api_url", OFFICIAL_API)?,
            token: settings.require("bot_token")?,
            channel,
        })
    }

    /// A request to the channel's messages (`message`: one of them).
    fn request(&self, method: &str, message: Option<&str>) -> Request {
        let mut r = Request::new(method, format!("{}/channels", self.base))
            .segment(self.channel)
            .segment("messages");
        if let Some(id) = message {
            r = r.segment(id);
        }
        r.header("authorization", &format!("Bot {}", self.token))
    }

    /// Create Message: `message` with no mention pinging anyone (an agent's
    /// text may hold `@everyone`); the message object back.
    fn post(&self, mut message: Value) -> Result<Value, SendError> {
        message["allowed_mentions"] = json!({ "parse": [] });
        judged(
            self.request("POST", None)
                .json(&message)
                .send()?
                .check(&checked()),
        )
    }

    /// A GET of `path` under the API, checked.
    fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, SendError> {
        let reply = Request::get(format!("{}{path}", self.base))
            .query(query)
            .header("authorization", &format!("Bot {}", self.token))
            .send()?;
        if reply.is_success() {
            return reply.json();
        }
        judged(reply.check(&checked()))
    }
}

/// Success is a 2xx with the message's `id`; an error is `{code, message}`,
/// a rate limit 429 with `retry_after` in seconds. A 401 is a wrong token:
/// the settings must change.
fn checked() -> Check<'static> {
    Check::field("id")
        .message("message")
        .retry_after("retry_after")
}

/// [`checked`]'s verdict, with a refused token as a settings problem.
fn judged(result: Result<Value, SendError>) -> Result<Value, SendError> {
    match result {
        Err(SendError::Rejected(why)) if why.starts_with("HTTP 401") => Err(SendError::Config(
            format!("Discord refused the bot token ({why})"),
        )),
        other => other,
    }
}

export_channel!(DiscordBot, replies);

#[cfg(test)]
mod tests;
