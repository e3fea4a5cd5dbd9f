//! ServerChan (Server酱, notify.py's `PUSH_KEY`, Apprise's `schan://KEY`):
//! SendKeys of ServerChan³ (`sctp{uid}t...`) go to `{uid}.push.ft07.com`, the
//! others to sctapi.ftqq.com.
//!
//! Sources: ServerChan's site (sct.ftqq.com: POST `{SendKey}.send` on
//! sctapi.ftqq.com, or on `{uid}.push.ft07.com` for ServerChan³, with `title`
//! and Markdown `desp`; `code` 0 on success, ServerChan³ also `errno`), qinglong's
//! sample/notify.py `serverJ`, Apprise's `serverchan.py` for `schan://`. The
//! 32-character title and 64 KB `desp` are this file's assumptions, not
//! confirmed in ServerChan's pages.
//!
//! `desp` is rendered as Markdown (ServerChan's API page). Markdown is sent
//! as written. Plain text would lose its line breaks (Markdown joins lines)
//! and its `*`, `_`, `#`…: its newlines are doubled, as qinglong's
//! `sample/notify.py` does (`serverJ`: `content.replace("\n", "\n\n")`), and
//! its Markdown syntax is backslash-escaped
//! ([`mcp_push_sdk::markdown::escape_markdown`]) so it shows as written.

use mcp_push_sdk::prelude::*;

struct ServerChan;

impl Channel for ServerChan {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "serverchan",
            "ServerChan",
            env!("CARGO_PKG_VERSION"),
            "Pushes to WeChat (Turbo) or the ServerChan³ app with a SendKey",
        )
        .formats(&["text", "markdown"])
        .setting(
            Setting::new("key", "SendKey (SCT... or sctp...)")
                .env(&["PUSH_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new(
                "api_url",
                "API base URL instead of the SendKey's own, for a proxy or tests",
            )
            .env(&["SERVERCHAN_API_URL"]),
        )
        .allow_host("sctapi.ftqq.com")
        .allow_host("*.push.ft07.com")
        .allow_host("setting:api_url")
        .schemes(&["schan"])
    }

    /// `schan://SENDKEY`
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["schan"])?;
        if u.host.is_empty() {
            return Err("schan:// needs the SendKey: schan://SENDKEY".into());
        }
        Pairs::new().set("key", u.host).done()
    }

    /// A ServerChan³ SendKey (`sctp{uid}t…`) names its server by the uid,
    /// which the host hands over in clear; the rest of the key stays secret.
    fn shapes() -> Vec<Shape> {
        vec![Shape::new("key").form("sc3", r"sctp(?P<uid>[0-9]+)t.*", &["uid"])]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let key = settings.require("key")?;
        let url = match (settings.get("api_url"), settings.get("key.uid")) {
            (Some(_), Some(_)) => format!("{}/send/{key}.send", settings.base_url("api_url", "")?),
            (Some(_), None) => format!("{}/{key}.send", settings.base_url("api_url", "")?),
            (None, Some(uid)) => format!("https://{uid}.push.ft07.com/send/{key}.send"),
            (None, None) => format!("https://sctapi.ftqq.com/{key}.send"),
        };
        // The title holds 32 characters; `desp` is Markdown (64 KB).
        let title = msg.headline(32);
        let desp = msg.with_link(desp(msg));
        Request::post(url)
            .form(&[("title", title.as_str()), ("desp", desp.as_str())])
            .send()?
            // Turbo answers `code`, ServerChan³ also `errno`.
            .check(
                &Check::field("code")
                    .or_field("errno")
                    .eq(0)
                    .message("message")
                    .message("info"),
            )?;
        Ok(Receipt::none())
    }
}

export_channel!(ServerChan);

/// The body as the Markdown `desp` shows it.
fn desp(msg: &Message) -> String {
    if msg.format == Format::Text {
        let text = msg.body.replace("\r\n", "\n");
        mcp_push_sdk::markdown::escape_markdown(&text).replace('\n', "\n\n")
    } else {
        msg.body.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<ServerChan>();
    }

    #[test]
    fn sc3_keys_go_to_their_uid_server_and_stay_secret() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<ServerChan>()
            .setting("key", "sctp1234tABCDEF")
            .reply(Reply::json(200, json!({"code": 0})));
        h.send(&message("t", "b")).unwrap();
        let req = &h.requests()[0];
        assert!(
            req.url.starts_with("https://1234.push.ft07.com/send/"),
            "{}",
            req.url
        );
        assert!(
            !req.url.contains("ABCDEF"),
            "the key reached the channel: {}",
            req.url
        );
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://1234.push.ft07.com/send/sctp1234tABCDEF.send"
        );
        let h = Harness::new::<ServerChan>()
            .setting("key", "SCT99999TxyzT")
            .reply(Reply::json(200, json!({"code": 0})));
        h.send(&message("t", "b")).unwrap();
        assert_eq!(
            h.on_the_wire()[0].url,
            "https://sctapi.ftqq.com/SCT99999TxyzT.send"
        );
        assert_eq!(
            ServerChan::parse_url("schan://SCTabc").unwrap()[0].1,
            "SCTabc"
        );
    }

    /// Whether the form sent for `msg` (title `t`) carries `desp`.
    fn sends_desp(msg: &Message, desp: &str) {
        use mcp_push_sdk::testing::{Harness, Reply};
        let h = Harness::new::<ServerChan>()
            .setting("key", "SCT99999TxyzT")
            .reply(Reply::json(200, json!({"code": 0})));
        h.send(msg).unwrap();
        assert_eq!(
            h.requests()[0].text(),
            form_encode(&[("title", "t"), ("desp", desp)])
        );
    }

    #[test]
    fn plain_text_keeps_its_lines_and_characters_in_the_markdown_field() {
        use mcp_push_sdk::testing::message;
        let msg = message("t", "line one\nrun_build_7 wrote *.log\n# 3 left");
        sends_desp(
            &msg,
            "line one\n\nrun\\_build\\_7 wrote \\*.log\n\n\\# 3 left",
        );
        // As tests/channels_cn.rs had it end to end.
        sends_desp(
            &message("t", "step_1 ok\n*.log kept"),
            "step\\_1 ok\n\n\\*.log kept",
        );
        let mut md = message("t", "**bold**\nnext_line");
        md.format = Format::Markdown;
        sends_desp(&md, "**bold**\nnext_line");
    }

    /// A Turbo key posts to `/{key}.send` a form whose title is cut to 32
    /// characters; a wrong key is refused with ServerChan's reason (moved
    /// from tests/channels_cn.rs).
    #[test]
    fn turbo_form_and_a_refused_key() {
        use mcp_push_sdk::testing::{Harness, Reply, message};
        let h = Harness::new::<ServerChan>()
            .setting("key", "SCT123456TsecretSendKey")
            .reply(Reply::json(
                200,
                json!({"code": 0, "message": "", "data": {"pushid": "123"}}),
            ))
            .reply(Reply::json(
                200,
                json!({"code": 40001, "message": "bad pushkey", "data": null}),
            ));
        h.send(&message(
            "A rather long title that goes past 32 characters",
            "body",
        ))
        .unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(
            wire.url,
            "https://sctapi.ftqq.com/SCT123456TsecretSendKey.send"
        );
        assert!(!h.requests()[0].url.contains("SCT123456TsecretSendKey"));
        let form = |name: &str| {
            wire.text()
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(String::from))
                .unwrap()
        };
        assert_eq!(
            mcp_push_sdk::encode::url_decode(&form("title"), true)
                .chars()
                .count(),
            32
        );
        assert_eq!(form("desp"), "body");
        let err = h.send(&message("T", "B")).unwrap_err();
        assert_eq!(err, SendError::Rejected("code 40001: bad pushkey".into()));
    }
}
