//! ServerChan (Server酱, notify.py's `PUSH_KEY`, Apprise's `schan://KEY`):
//! SendKeys of ServerChan³ (`sctp{uid}t...`) go to `{uid}.push.ft07.com`, the
//! others to sctapi.ftqq.com.

use mcp_push_sdk::prelude::*;
use mcp_push_sdk::secrets;

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

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let key = settings.require("key")?;
        let url = match (settings.get("api_url"), sc3_uid(key)) {
            (Some(_), Some(_)) => format!("{}/send/{key}.send", settings.base_url("api_url", "")?),
            (Some(_), None) => format!("{}/{key}.send", settings.base_url("api_url", "")?),
            (None, Some(uid)) => format!("https://{uid}.push.ft07.com/send/{key}.send"),
            (None, None) => format!("https://sctapi.ftqq.com/{key}.send"),
        };
        // The title holds 32 characters; `desp` is Markdown (64 KB).
        let title = msg.headline(32);
        let desp = msg.with_link(msg.body.clone());
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

/// The uid of a ServerChan³ SendKey (`sctp{uid}t...`), asked of the host since
/// the key is a secret; only the digits are revealed.
fn sc3_uid(key: &str) -> Option<String> {
    if !secrets::starts_with(key, "sctp") {
        return None;
    }
    let parts = secrets::split(key, "t", &[1]);
    let uid = parts.get(1)?.strip_prefix('p')?;
    (!uid.is_empty() && uid.chars().all(|c| c.is_ascii_digit())).then(|| uid.to_string())
}

export_channel!(ServerChan);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_uid_of_sc3_keys() {
        assert_eq!(sc3_uid("sctp1234tABCDEF").as_deref(), Some("1234"));
        assert_eq!(sc3_uid("SCT99999TxyzT"), None);
        assert_eq!(
            ServerChan::parse_url("schan://SCTabc").unwrap()[0].1,
            "SCTabc"
        );
    }
}
