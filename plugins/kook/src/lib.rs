//! KOOK (开黑啦) bot messages (`KOOK_BOT_TOKEN` and `KOOK_CHANNEL_ID` or
//! `KOOK_USER_ID`; no one-line URL: neither Apprise nor qinglong's
//! notify.py has KOOK, so the names are mcp-push's own).
//!
//! Sources: KOOK's developer docs (developer.kookapp.cn; the same text in
//! the kaiheila/api-docs repository): the reference (base URL
//! `https://www.kookapp.cn/api/v3`, `Authorization: Bot TOKEN`, every reply
//! `{code, message, data}` with `code` 0 for success), 频道消息
//! (`POST /message/create` with `target_id`, `content`, `type` 1 text or 9
//! KMarkdown; the reply's `data.msg_id`; "请不要超过 8000 字符"), 私信聊天消息
//! (`POST /direct-message/create`, the same fields, `target_id` a user id)
//! and 速率限制 (HTTP 429 with `X-Rate-Limit-Reset`, the seconds until the
//! bucket refills). The docs list no error codes by number, so a `code`
//! other than 0 is read as the bot's or the request's fault (KOOK's 401 and
//! 403 say the token or its rights), and 5xx as KOOK's.

use mcp_push_sdk::prelude::*;

struct Kook;

const OFFICIAL: &str = "https://www.kookapp.cn/api/v3";

/// "为了保障消息正常发出，请不要超过 8000 字符".
const MAX: Limit = Limit::Chars(8000);

impl Channel for Kook {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "kook",
            "KOOK",
            env!("CARGO_PKG_VERSION"),
            "Posts as a KOOK bot to a channel or a user",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("token", "The bot's token (developer center, 机器人)")
                .env(&["KOOK_BOT_TOKEN"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("channel_id", "The text channel to post in").env(&["KOOK_CHANNEL_ID"]),
        )
        .setting(
            Setting::new(
                "user_id",
                "A user to message directly, instead of a channel",
            )
            .env(&["KOOK_USER_ID"]),
        )
        .setting(Setting::api_url("KOOK_API_URL", OFFICIAL))
        .allow_host("www.kookapp.cn")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let (path, target) = match (settings.get("channel_id"), settings.get("user_id")) {
            (Some(channel), None) => ("message/create", channel),
            (None, Some(user)) => ("direct-message/create", user),
            _ => {
                return Err(SendError::Config(
                    "set one of `channel_id` (KOOK_CHANNEL_ID) and `user_id` (KOOK_USER_ID)".into(),
                ));
            }
        };
        // KMarkdown for Markdown (type 9); plain text (type 1) otherwise.
        let (kind, text) = if msg.is_markdown() {
            (9, msg.with_link(msg.markdown()))
        } else {
            (1, msg.text_with_link())
        };
        let parts = mcp_push_sdk::text::split_numbered(&text, MAX);
        let token = settings.require("token")?;
        let check = Check::field("code").eq(0).message("message");
        let mut first = None;
        delivery::send_parts(&parts, 0, |content| {
            let reply = Request::post(format!("{base}/{path}"))
                .header("Authorization", &format!("Bot {token}"))
                .json(&json!({"type": kind, "target_id": target, "content": content}))
                .send()?;
            // KOOK's 429 says when its bucket refills in X-Rate-Limit-Reset.
            if reply.status == 429 {
                let reset = reply
                    .header("x-rate-limit-reset")
                    .and_then(|s| s.trim().parse::<u32>().ok());
                return Err(SendError::RateLimited(reset.or(reply.retry_after())));
            }
            let value = reply.check(&check)?;
            first = first.take().or(id_at(&value, "data.msg_id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

export_channel!(Kook);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const TOKEN: &str = "1/MTAyMjQ=/BHsTZ4232tLatgV5AFyjoqZGA";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Kook>();
    }

    fn created(id: &str) -> Reply {
        Reply::json(
            200,
            json!({"code": 0, "message": "操作成功",
                   "data": {"msg_id": id, "msg_timestamp": 1607072537177u64, "nonce": ""}}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<Kook>()
            .setting("token", TOKEN)
            .setting("channel_id", "6543211234567890")
    }

    /// The documented request: JSON to `/message/create` with the bot
    /// token, type 1 for text, 9 for KMarkdown; the reply's `msg_id` kept.
    #[test]
    fn posts_text_and_kmarkdown_as_documented() {
        let h = harness().reply(created("50974c-364c983fa6cb"));
        assert_eq!(
            h.send(&message("构建", "通过"))
                .unwrap()
                .remote_id
                .as_deref(),
            Some("50974c-364c983fa6cb")
        );
        let req = &h.requests()[0];
        assert_eq!(req.url, "https://www.kookapp.cn/api/v3/message/create");
        assert_ne!(
            req.header("authorization"),
            Some(format!("Bot {TOKEN}").as_str())
        );
        assert_eq!(
            h.on_the_wire()[0].header("authorization"),
            Some(format!("Bot {TOKEN}").as_str())
        );
        assert_eq!(
            req.json(),
            json!({"type": 1, "target_id": "6543211234567890", "content": "构建\n\n通过"})
        );

        let h = Harness::new::<Kook>()
            .setting("token", TOKEN)
            .setting("user_id", "1780328444")
            .reply(created("m2"));
        let mut msg = message("Deploy", "*v2* is live");
        msg.format = Format::Markdown;
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(
            req.url,
            "https://www.kookapp.cn/api/v3/direct-message/create"
        );
        assert_eq!(req.json()["type"], 9);
        assert_eq!(req.json()["content"], "**Deploy**\n\n*v2* is live");
    }

    /// 8,000 characters a message: a longer text goes out in numbered parts.
    #[test]
    fn a_long_text_is_split_at_eight_thousand_characters() {
        let h = harness().reply(created("a")).reply(created("b"));
        h.send(&message("", &"字".repeat(9000))).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 2);
        for r in &reqs {
            let content = r.json()["content"].as_str().unwrap().to_string();
            assert!(content.chars().count() <= 8000, "{}", content.len());
        }
    }

    #[test]
    fn refusals_and_limits_as_documented() {
        let outcome =
            |h: Harness, reply: Reply| h.reply(reply).send(&message("T", "B")).unwrap_err();
        assert_eq!(
            outcome(
                harness(),
                Reply::json(
                    401,
                    json!({"code": 401, "message": "你的用户凭证不正确", "data": {}})
                )
            ),
            SendError::Rejected("code 401: 你的用户凭证不正确".into())
        );
        assert_eq!(
            outcome(
                harness(),
                Reply::json(
                    200,
                    json!({"code": 40000, "message": "频道不存在", "data": []})
                )
            ),
            SendError::Rejected("code 40000: 频道不存在".into())
        );
        assert_eq!(
            outcome(
                harness(),
                Reply::json(
                    429,
                    json!({"code": 429, "message": "请求过于频繁", "data": []})
                )
                .header("X-Rate-Limit-Reset", "14")
            ),
            SendError::RateLimited(Some(14))
        );
        assert!(matches!(
            outcome(harness(), Reply::text(502, "bad gateway")),
            SendError::Unavailable(_)
        ));
        // Neither a channel nor a user, or both: the user's to fix.
        for h in [
            Harness::new::<Kook>().setting("token", TOKEN),
            harness().setting("user_id", "1780328444"),
        ] {
            assert!(matches!(
                h.send(&message("T", "B")),
                Err(SendError::Config(_))
            ));
            assert!(h.requests().is_empty());
        }
    }
}
