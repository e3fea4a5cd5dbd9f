//! DingTalk work notices (钉钉工作通知) from a company's own app
//! (`DINGTALK_APP_KEY`, `DINGTALK_APP_SECRET`, `DINGTALK_AGENT_ID`,
//! `DINGTALK_USERID_LIST`; no one-line URL: Apprise's `dingtalk://` and
//! qinglong's `DD_BOT_*` are the group robot, the `dingtalk` channel).
//!
//! Sources: DingTalk's server API reference, 获取企业内部应用的access_token
//! (`GET /gettoken?appkey&appsecret`, `{errcode, errmsg, access_token,
//! expires_in: 7200}`, "请缓存"), 发送工作通知 (`POST
//! /topapi/message/corpconversation/asyncsend_v2?access_token=` with
//! `agent_id`, `userid_list` (comma-separated), `dept_id_list` or
//! `to_all_user`, `msg` `{msgtype: text, text: {content}}` or `{msgtype:
//! markdown, markdown: {title, text}}` "最长不超过2048个字节"; the reply
//! `{errcode: 0, task_id, request_id}`; at most 5,000 recipients a call) and
//! its global error codes (40014 an invalid and 42001 an expired token, 40089
//! a wrong appkey or appsecret, -1 busy; 90002, 90006 and 90018 the API's
//! rate limits — the numbers from memory of that table). The env names are
//! mcp-push's own (`DINGTALK_*`, beside notify.py's `DD_BOT_*`).
//!
//! Where sources disagree: the older pages cap `userid_list` at 20 or 100
//! ids, the current one at 5,000 recipients; this sends up to 5,000 a call.
//! The send is asynchronous: `errcode` 0 means DingTalk took the task, and
//! its own rules may still drop a message (the same content to the same
//! person more than once a day, more than 500 a day): the receipt is the
//! `task_id` to look that up.

use mcp_push_sdk::prelude::*;

struct DingTalkNotice;

const OFFICIAL: &str = "https://oapi.dingtalk.com";
/// Where the access token is kept between sends.
const TOKEN: &str = "access_token";
/// errcodes of a token that is no longer valid: 40014 invalid, 42001
/// expired.
const STALE_TOKEN: [i64; 2] = [40014, 42001];
/// "最长不超过2048个字节" for the whole `msg`: the content gets what the
/// JSON around it leaves.
const MAX: Limit = Limit::Bytes(1900);
/// Recipients a call.
const RECIPIENTS: usize = 5000;

impl Channel for DingTalkNotice {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "dingtalk-notice",
            "DingTalk work notice",
            env!("CARGO_PKG_VERSION"),
            "Sends a work notice as a company's own DingTalk app",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("app_key", "The app's AppKey (Client ID)")
                .env(&["DINGTALK_APP_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("app_secret", "The app's AppSecret (Client Secret)")
                .env(&["DINGTALK_APP_SECRET"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("agent_id", "The app's AgentId")
                .env(&["DINGTALK_AGENT_ID"])
                .required(),
        )
        .setting(
            Setting::new("userid_list", "Recipients' userids, separated by `,`")
                .env(&["DINGTALK_USERID_LIST"]),
        )
        .setting(
            Setting::new("dept_id_list", "Departments' ids, separated by `,`")
                .env(&["DINGTALK_DEPT_ID_LIST"]),
        )
        .setting(
            Setting::new("to_all_user", "true: everyone in the company (3 a day)")
                .env(&["DINGTALK_TO_ALL_USER"]),
        )
        .setting(Setting::api_url("DINGTALK_API_URL", OFFICIAL))
        .allow_host("oapi.dingtalk.com")
        .allow_host("setting:api_url")
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let base = settings.base_url("api_url", OFFICIAL)?;
        let agent_id: i64 = settings
            .parse("agent_id")?
            .ok_or_else(|| SendError::Config("setting `agent_id` is missing".into()))?;
        let users = settings.list("userid_list", &[',', ';']);
        let depts = settings.list("dept_id_list", &[',', ';']);
        let everyone = settings.flag("to_all_user")?.unwrap_or(false);
        if users.is_empty() && depts.is_empty() && !everyone {
            return Err(SendError::Config(
                "set `userid_list`, `dept_id_list` or `to_all_user`".into(),
            ));
        }
        let check = Check::errcode()
            .rate_limited(&[90002, 90006, 90018])
            .unavailable(&[-1]);
        let (key, secret) = (
            settings.require("app_key")?,
            settings.require("app_secret")?,
        );
        let get_token = || {
            let reply = Request::get(format!("{base}/gettoken"))
                .query(&[("appkey", key), ("appsecret", secret)])
                .send()?
                .check(&check)?;
            cache::token_from(&reply, "access_token", "expires_in", 7200)
        };
        let parts = if msg.is_markdown() {
            mcp_push_sdk::text::split_numbered(&msg.with_link(msg.body.clone()), MAX)
        } else {
            mcp_push_sdk::text::split_numbered(&msg.text_with_link(), MAX)
        };
        // One request per part and batch of recipients; the departments and
        // "everyone" go with the first batch.
        let batches: Vec<&[&str]> = if users.is_empty() {
            vec![&[]]
        } else {
            users.chunks(RECIPIENTS).collect()
        };
        let requests: Vec<(usize, &str)> = batches
            .iter()
            .enumerate()
            .flat_map(|(b, _)| parts.iter().map(move |p| (b, p.as_str())))
            .collect();
        let url = format!("{base}/topapi/message/corpconversation/asyncsend_v2");
        let mut first = None;
        delivery::send_parts(&requests, 2, |(b, content)| {
            let mut body = json!({"agent_id": agent_id, "msg": if msg.is_markdown() {
                json!({"msgtype": "markdown",
                       "markdown": {"title": msg.headline(64), "text": content}})
            } else {
                json!({"msgtype": "text", "text": {"content": content}})
            }});
            if !batches[*b].is_empty() {
                body["userid_list"] = json!(batches[*b].join(","));
            }
            if *b == 0 && !depts.is_empty() {
                body["dept_id_list"] = json!(depts.join(","));
            }
            if *b == 0 && everyone {
                body["to_all_user"] = json!(true);
            }
            let reply = cache::post_with_access_token(TOKEN, &url, &body, get_token, &STALE_TOKEN)?
                .check(&check)?;
            first = first.take().or(id_at(&reply, "task_id"));
            Ok(())
        })?;
        Ok(Receipt::maybe(first))
    }
}

export_channel!(DingTalkNotice);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "dingeqqpkv3xxxxxx";
    const SECRET: &str = "GT-lsu-taDAxxxsTsxxxx";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<DingTalkNotice>();
    }

    fn token(t: &str) -> Reply {
        Reply::json(
            200,
            json!({"errcode": 0, "access_token": t, "errmsg": "ok", "expires_in": 7200}),
        )
    }

    fn sent(task: i64) -> Reply {
        Reply::json(
            200,
            json!({"errcode": 0, "task_id": task, "request_id": "4jzllmte0wau"}),
        )
    }

    fn harness() -> Harness {
        Harness::new::<DingTalkNotice>()
            .setting("app_key", KEY)
            .setting("app_secret", SECRET)
            .setting("agent_id", "1234567")
            .setting("userid_list", "manager4220,zhangsan")
    }

    /// The documented exchange: `gettoken` with the app's key and secret
    /// (only on the wire), then the notice with the token, as text or
    /// Markdown; the `task_id` is the receipt.
    #[test]
    fn gets_a_token_then_sends_the_notice() {
        let h = harness().reply(token("AT1")).reply(sent(256271667526));
        assert_eq!(
            h.send(&message("构建", "通过"))
                .unwrap()
                .remote_id
                .as_deref(),
            Some("256271667526")
        );
        let wire = h.on_the_wire();
        assert_eq!(
            wire[0].url,
            format!("https://oapi.dingtalk.com/gettoken?appkey={KEY}&appsecret={SECRET}")
        );
        assert!(!h.requests()[0].url.contains(SECRET));
        assert_eq!(
            wire[1].url,
            "https://oapi.dingtalk.com/topapi/message/corpconversation/asyncsend_v2?access_token=AT1"
        );
        assert_eq!(
            wire[1].json(),
            json!({"agent_id": 1234567, "userid_list": "manager4220,zhangsan",
                   "msg": {"msgtype": "text", "text": {"content": "构建\n\n通过"}}})
        );

        let h = harness()
            .setting("dept_id_list", "123,456")
            .reply(token("AT1"))
            .reply(sent(1));
        let mut msg = message("Deploy", "**v2** is live");
        msg.format = Format::Markdown;
        h.send(&msg).unwrap();
        let b = h.requests()[1].json();
        assert_eq!(
            b["msg"],
            json!({"msgtype": "markdown", "markdown": {"title": "Deploy", "text": "**v2** is live"}})
        );
        assert_eq!(b["dept_id_list"], "123,456");
    }

    /// DingTalk asks that the token be kept: the second send asks for none;
    /// one it calls expired is fetched again, once.
    #[test]
    fn the_token_is_kept_and_fetched_again_when_stale() {
        let h = harness()
            .reply(token("AT1"))
            .reply(sent(1))
            .reply(sent(2))
            .reply(Reply::json(
                200,
                json!({"errcode": 42001, "errmsg": "access_token expired"}),
            ))
            .reply(token("AT2"))
            .reply(sent(3));
        for n in 0..3 {
            h.send(&message("T", &n.to_string())).unwrap();
        }
        let urls: Vec<String> = h.requests().iter().map(|r| r.url.clone()).collect();
        assert_eq!(urls.iter().filter(|u| u.contains("gettoken")).count(), 2);
        assert!(urls[3].ends_with("access_token=AT1"), "{urls:?}");
        assert!(urls[5].ends_with("access_token=AT2"), "{urls:?}");
        assert_eq!(h.kept(TOKEN), Some(("AT2".into(), 7140)));
    }

    /// The whole `msg` is at most 2,048 bytes: a longer text goes out in
    /// numbered parts.
    #[test]
    fn a_long_text_is_split_under_2048_bytes() {
        let h = harness().reply(token("AT")).reply(sent(1)).reply(sent(2));
        h.send(&message("", &"钉".repeat(1000))).unwrap();
        let reqs = h.requests();
        assert_eq!(reqs.len(), 3);
        for r in &reqs[1..] {
            assert!(r.json()["msg"].to_string().len() <= 2048);
        }
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        let outcome = |replies: Vec<Reply>| {
            let h = replies.into_iter().fold(harness(), Harness::reply);
            h.send(&message("T", "B")).unwrap_err()
        };
        let err =
            |code: i64, text: &str| Reply::json(200, json!({"errcode": code, "errmsg": text}));
        assert_eq!(
            outcome(vec![err(40089, "不合法的corpid或corpsecret")]),
            SendError::Rejected("errcode 40089: 不合法的corpid或corpsecret".into())
        );
        assert_eq!(
            outcome(vec![token("AT"), err(33012, "无效的userid")]),
            SendError::Rejected("errcode 33012: 无效的userid".into())
        );
        assert_eq!(
            outcome(vec![token("AT"), err(90018, "调用频率超过限制")]),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(vec![token("AT"), err(-1, "系统繁忙")]),
            SendError::Unavailable("errcode -1: 系统繁忙".into())
        );
        // A token still refused after a fresh one is a refusal, not a loop.
        assert_eq!(
            outcome(vec![
                token("AT"),
                err(40014, "不合法的access_token"),
                token("AT2"),
                err(40014, "不合法的access_token"),
            ]),
            SendError::Rejected("errcode 40014: 不合法的access_token".into())
        );
        for (k, v) in [("agent_id", "abc"), ("userid_list", "")] {
            let h = harness().setting(k, v);
            assert!(
                matches!(h.send(&message("T", "B")), Err(SendError::Config(_))),
                "{k}"
            );
            assert!(h.requests().is_empty());
        }
    }
}
