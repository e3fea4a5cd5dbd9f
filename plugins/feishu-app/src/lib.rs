//! Feishu / Lark messages from a company's own app (飞书自建应用:
//! `FEISHU_APP_ID`, `FEISHU_APP_SECRET`, `FEISHU_RECEIVE_ID`; no one-line
//! URL: Apprise's `feishu://` and `lark://` and qinglong's `FSKEY` are the
//! group bot, the `feishu` and `lark` channels).
//!
//! Sources: Feishu's open platform reference, 自建应用获取
//! tenant_access_token (`POST /open-apis/auth/v3/tenant_access_token/internal`
//! with `{app_id, app_secret}`; `{code: 0, msg, tenant_access_token, expire}`
//! in seconds, at most 2 hours, "请缓存"), 发送消息 (`POST
//! /open-apis/im/v1/messages?receive_id_type=open_id|union_id|user_id|email|chat_id`
//! with `Authorization: Bearer` the token and `{receive_id, msg_type,
//! content, uuid}`, `content` a JSON string: `{"text"}` for text, a `post`
//! for rich text; `uuid` dedupes a retry within an hour; "文本消息请求体最大不能
//! 超过150KB", "卡片及富文本消息请求体最大不能超过30KB"; the reply `{code: 0,
//! msg, data: {message_id}}`) and its error codes (99991663 and 99991677 a
//! token that is invalid or expired, 99991400 and 230020 rate limits,
//! 230001 a bad parameter, 230002 the bot not in the chat, 230013 the user
//! out of the app's range: the numbers from memory of those tables). The
//! Lark suite is the same API at `https://open.larksuite.com`
//! (`FEISHU_API_URL`). The env names are mcp-push's own.
//!
//! Where sources disagree: the docs let the caller say which kind of id
//! `receive_id` is; its prefixes are documented too (`oc_` a chat, `ou_` an
//! open_id, `on_` a union_id), so this reads the kind from the id, an
//! address as an email and anything else as a user_id, unless
//! `FEISHU_RECEIVE_ID_TYPE` says otherwise.

use mcp_push_sdk::prelude::*;

struct FeishuApp;

const OFFICIAL: &str = "https://open.feishu.cn";
/// Where the tenant access token is kept between sends.
const TOKEN: &str = "tenant_access_token";
/// Codes of a token that is no longer valid: 99991663 invalid, 99991677
/// expired.
const STALE_TOKEN: [i64; 2] = [99991663, 99991677];
/// The request body's caps, less room for the JSON around the text (which
/// is escaped twice: `content` is a JSON string inside the JSON body).
const TEXT_MAX: Limit = Limit::Bytes(100_000);
const POST_MAX: Limit = Limit::Bytes(20_000);

impl Channel for FeishuApp {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "feishu-app",
            "Feishu / Lark app",
            env!("CARGO_PKG_VERSION"),
            "Sends as a company's own Feishu or Lark app to a user or a chat",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("app_id", "The app's App ID (cli_…)")
                .env(&["FEISHU_APP_ID"])
                .required(),
        )
        .setting(
            Setting::new("app_secret", "The app's App Secret")
                .env(&["FEISHU_APP_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "receive_id",
                "Who gets it: a chat (oc_…), an open_id (ou_…), a union_id (on_…), an email or a user_id",
            )
            .env(&["FEISHU_RECEIVE_ID"])
            .required(),
        )
        .setting(
            Setting::new(
                "receive_id_type",
                "open_id, union_id, user_id, email or chat_id; default: read from the id",
            )
            .env(&["FEISHU_RECEIVE_ID_TYPE"]),
        )
        .setting(Setting::api_url("FEISHU_API_URL", OFFICIAL))
        .allow_host("open.feishu.cn")
        .allow_host("open.larksuite.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let receive_id = settings.require("receive_id")?.trim();
        let kind = settings.choice(
            "receive_id_type",
            &["open_id", "union_id", "user_id", "email", "chat_id"],
            id_kind(receive_id),
        )?;
        let check = Check::field("code")
            .eq(0)
            .message("msg")
            .rate_limited(&[99991400, 230020]);
        let (app_id, app_secret) = (settings.require("app_id")?, settings.require("app_secret")?);
        let get_token = || {
            let reply = Request::post(format!(
                "{base}/open-apis/auth/v3/tenant_access_token/internal"
            ))
            .json(&json!({"app_id": app_id, "app_secret": app_secret}))
            .send()?
            .check(&check)?;
            cache::token_from(&reply, "tenant_access_token", "expire", 7200)
        };
        let bodies: Vec<(&str, String)> = if msg.is_markdown() {
            mcp_push_sdk::text::split_numbered(&msg.with_link(msg.body.clone()), POST_MAX)
                .into_iter()
                .map(|part| {
                    let post = json!({"zh_cn": {"title": msg.title.trim(),
                        "content": [[{"tag": "md", "text": part}]]}});
                    ("post", post.to_string())
                })
                .collect()
        } else {
            mcp_push_sdk::text::split_numbered(&msg.text_with_link(), TEXT_MAX)
                .into_iter()
                .map(|part| ("text", json!({ "text": part }).to_string()))
                .collect()
        };
        let url = format!("{base}/open-apis/im/v1/messages");
        // The same on every attempt of this delivery: Feishu sends a uuid
        // it has seen in the last hour only once.
        let key = delivery::key();
        let mut first = None;
        let mut n = 0;
        delivery::send_parts(&bodies, 2, |(msg_type, content)| {
            n += 1;
            // At most 50 characters.
            let uuid = format!("{}-{n}", key.chars().take(40).collect::<String>());
            let body = json!({"receive_id": receive_id, "msg_type": msg_type,
                              "content": content, "uuid": uuid});
            let post = |token: &str| {
                Request::post(&url)
                    .query(&[("receive_id_type", kind)])
                    .bearer(token)
                    .json(&body)
                    .send()
            };
            let stale = |r: &Response| cache::code_in(r, "code", &STALE_TOKEN);
            let reply = cache::with_token(TOKEN, get_token, stale, post)?.check(&check)?;
            first = first.take().or(id_at(&reply, "data.message_id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

/// The kind of id by its documented prefix: `oc_` a chat, `ou_` an open_id,
/// `on_` a union_id; an address is an email; anything else a user_id.
fn id_kind(id: &str) -> &'static str {
    if id.starts_with("oc_") {
        "chat_id"
    } else if id.starts_with("ou_") {
        "open_id"
    } else if id.starts_with("on_") {
        "union_id"
    } else if id.contains('@') {
        "email"
    } else {
        "user_id"
    }
}

export_channel!(FeishuApp);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const SECRET: &str = "dskLLdkasdjlasdKK";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<FeishuApp>();
    }

    fn token(t: &str) -> Reply {
        Reply::json(
            200,
            json!({"code": 0, "msg": "ok", "tenant_access_token": t, "expire": 7200}),
        )
    }

    fn sent(id: &str) -> Reply {
        Reply::json(
            200,
            json!({"code": 0, "msg": "success", "data": {"message_id": id, "msg_type": "text",
                   "chat_id": "oc_84983ff6516d731e5b5f68d4ea2e1da5"}}),
        )
    }

    fn harness(to: &str) -> Harness {
        Harness::new::<FeishuApp>()
            .setting("app_id", "cli_slkdjalasdkjasd")
            .setting("app_secret", SECRET)
            .setting("receive_id", to)
    }

    /// The documented exchange: the tenant token from the app's id and
    /// secret (only on the wire), then the message with it as a Bearer
    /// token, `content` a JSON string; the kind of id from its prefix.
    #[test]
    fn gets_a_token_then_sends_the_message() {
        let h = harness("oc_5ad11d72b830411d72b836c20")
            .reply(token("t-g1044ghJRUIJJ5ELPRYUC"))
            .reply(sent("om_dc13264520392913993dd051dba21dcf"));
        assert_eq!(
            h.send(&message("构建", "通过"))
                .unwrap()
                .remote_id
                .as_deref(),
            Some("om_dc13264520392913993dd051dba21dcf")
        );
        let wire = h.on_the_wire();
        assert_eq!(
            wire[0].url,
            "https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal"
        );
        assert_eq!(
            wire[0].json(),
            json!({"app_id": "cli_slkdjalasdkjasd", "app_secret": SECRET})
        );
        assert!(!h.requests()[0].text().contains(SECRET));
        assert_eq!(
            wire[1].url,
            "https://open.feishu.cn/open-apis/im/v1/messages?receive_id_type=chat_id"
        );
        assert_eq!(
            wire[1].header("authorization"),
            Some("Bearer t-g1044ghJRUIJJ5ELPRYUC")
        );
        let b = wire[1].json();
        assert_eq!(b["receive_id"], "oc_5ad11d72b830411d72b836c20");
        assert_eq!(b["msg_type"], "text");
        assert_eq!(b["content"], r#"{"text":"构建\n\n通过"}"#);
        assert!(!b["uuid"].as_str().unwrap().is_empty());

        let h = harness("alice@example.com")
            .reply(token("t-1"))
            .reply(sent("om_2"));
        let mut msg = message("Deploy", "**v2** is live");
        msg.format = Format::Markdown;
        h.send(&msg).unwrap();
        let r = &h.requests()[1];
        assert!(r.url.ends_with("receive_id_type=email"), "{}", r.url);
        assert_eq!(r.json()["msg_type"], "post");
        let post: mcp_push_sdk::serde_json::Value =
            mcp_push_sdk::serde_json::from_str(r.json()["content"].as_str().unwrap()).unwrap();
        assert_eq!(
            post,
            json!({"zh_cn": {"title": "Deploy", "content": [[{"tag": "md", "text": "**v2** is live"}]]}})
        );
    }

    #[test]
    fn the_kind_of_id() {
        for (id, kind) in [
            ("oc_a0553eda9014c201e6969b478895c230", "chat_id"),
            ("ou_7d8a6e6df7621556ce0d21922b676706ccs", "open_id"),
            ("on_94a1ee5551019f18cd73d9f111898cf2", "union_id"),
            ("zhangsan@example.com", "email"),
            ("ea7b4b5d", "user_id"),
        ] {
            assert_eq!(id_kind(id), kind, "{id}");
        }
        let h = harness("ea7b4b5d")
            .setting("receive_id_type", "open_id")
            .reply(token("t"))
            .reply(sent("om"));
        h.send(&message("T", "B")).unwrap();
        assert!(h.requests()[1].url.ends_with("receive_id_type=open_id"));
        let h = harness("x").setting("receive_id_type", "phone");
        assert!(matches!(
            h.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    /// Feishu asks that the token be kept; one it calls invalid is fetched
    /// again, once; a retry of the same delivery carries the same uuid.
    #[test]
    fn the_token_is_kept_and_fetched_again_when_stale() {
        let h = harness("ou_1")
            .reply(token("t-1"))
            .reply(sent("om_1"))
            .reply(Reply::json(
                400,
                json!({"code": 99991663, "msg": "Invalid access token for authorization. Please make a request with token attached."}),
            ))
            .reply(token("t-2"))
            .reply(sent("om_2"));
        h.send(&message("T", "1")).unwrap();
        h.send(&message("T", "2")).unwrap();
        let reqs = h.on_the_wire();
        assert_eq!(reqs.len(), 5);
        assert_eq!(reqs[2].header("authorization"), Some("Bearer t-1"));
        assert_eq!(reqs[4].header("authorization"), Some("Bearer t-2"));
        assert_eq!(reqs[2].json()["uuid"], reqs[4].json()["uuid"]);
        assert_eq!(h.kept(TOKEN), Some(("t-2".into(), 7140)));
    }

    /// A long text goes out in numbered parts under the body cap.
    #[test]
    fn a_long_text_is_split() {
        let h = harness("ou_1")
            .reply(token("t"))
            .reply(sent("a"))
            .reply(sent("b"));
        h.send(&message("", &"飞".repeat(40_000))).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 3);
        for r in &reqs[1..] {
            assert!(r.body.len() < 150 * 1024);
        }
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        let outcome = |replies: Vec<Reply>| {
            let h = replies.into_iter().fold(harness("ou_1"), Harness::reply);
            h.send(&message("T", "B")).unwrap_err()
        };
        let err = |status: u16, code: i64, text: &str| {
            Reply::json(status, json!({"code": code, "msg": text}))
        };
        assert_eq!(
            outcome(vec![err(400, 10014, "app secret invalid")]),
            SendError::Rejected("code 10014: app secret invalid".into())
        );
        assert_eq!(
            outcome(vec![
                token("t"),
                err(400, 230002, "The bot can not be outside the group.")
            ]),
            SendError::Rejected("code 230002: The bot can not be outside the group.".into())
        );
        assert_eq!(
            outcome(vec![
                token("t"),
                err(400, 230020, "This operation triggers the frequency limit.")
            ]),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(vec![
                token("t"),
                err(429, 99991400, "request trigger frequency limit")
            ]),
            SendError::RateLimited(None)
        );
        assert!(matches!(
            outcome(vec![token("t"), Reply::text(503, "")]),
            SendError::Unavailable(_)
        ));
    }
}
