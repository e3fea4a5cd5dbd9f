//! Notica, browser notifications from a terminal (`NOTICA_URL` or
//! `NOTICA_ID`, Apprise's `notica://` and `noticas://`).
//!
//! Sources: Notica's home page and README (notica.us,
//! github.com/tannercollin/Notica: `curl --data "d:$*" "https://notica.us/?ID"`,
//! the page `https://notica.us/?ID` open on the devices that get the
//! notifications; a self-hosted server is the same code); its server
//! (`server.js`: a POST whose urlencoded body's first key starts with
//! `d:`, the rest of that key the message; the id from the path, at most
//! 19 characters; success an empty 200; `No devices have that Notica ID
//! open...` or `Bad POST data. Expecting prefix of "d:".` otherwise, also
//! with 200); Apprise's `notica.py` (`notica://ID` for notica.us;
//! `notica[s]://[USER[:PASSWORD]@]HOST[:PORT][/PATH]/ID` for a server of
//! one's own, with Basic auth; the title folded into the body). Not in
//! qinglong's notify.py: `NOTICA_URL` and `NOTICA_ID` are the names users'
//! shell functions already read for the curl line above.
//!
//! Where the sources differ: the curl line and Apprise send `d:MESSAGE`
//! unencoded, which the server's urlencoded parser cuts at `&` and `=` and
//! whose `+` it reads as spaces; here the key is percent-encoded, so the
//! server reads back the message as written. Apprise sends a self-hosted
//! server `?token=ID`; the server's code reads the id from the path, so
//! `/ID` is sent (and `NOTICA_URL` is used as given).

use mcp_push_sdk::prelude::*;

struct Notica;

const OFFICIAL: &str = "https://notica.us";

impl Channel for Notica {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "notica",
            "Notica",
            env!("CARGO_PKG_VERSION"),
            "Shows a notification in the browsers that have a Notica page open",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "url",
                "The Notica URL the curl line posts to (https://notica.us/?ID, or your server's)",
            )
            .env(&["NOTICA_URL"])
            .secret(),
        )
        .setting(
            Setting::new("id", "The Notica ID alone, for https://notica.us/?ID")
                .env(&["NOTICA_ID"])
                .secret(),
        )
        .setting(Setting::new("user", "User for a server behind Basic auth").env(&["NOTICA_USER"]))
        .setting(
            Setting::new("password", "Password for a server behind Basic auth")
                .env(&["NOTICA_PASSWORD"])
                .secret(),
        )
        .allow_host("notica.us")
        .allow_host("setting:url.origin")
        .schemes(&["notica", "noticas"])
    }

    /// `notica://ID` (notica.us) or
    /// `notica[s]://[USER[:PASSWORD]@]HOST[:PORT][/PATH]/ID` (a server of
    /// one's own, http unless `noticas://`).
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let mut u = OneLine::parse(url, &["notica", "noticas"])?;
        let Some(id) = u.path.pop() else {
            let id = u.host.trim_start_matches('?');
            if id.is_empty() {
                return Err("notica:// needs the Notica ID: notica://ID".into());
            }
            return Pairs::new().set("id", id).done();
        };
        Pairs::new()
            .set(
                "url",
                format!("{}/{}", u.base_url(u.scheme == "noticas"), url_encode(&id)),
            )
            .maybe("user", u.user.clone())
            .maybe("password", u.password.clone())
            .done()
    }

    /// The URL is a secret (it holds the ID); its origin is not.
    fn shapes() -> Vec<Shape> {
        vec![Shape::url_with_public_origin("url")]
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let url = match (settings.get("url"), settings.get("id")) {
            (Some(url), _) => url.to_string(),
            (None, Some(id)) => format!("{OFFICIAL}/?{id}"),
            (None, None) => {
                return Err(SendError::Config(
                    "set `url` (NOTICA_URL) or `id` (NOTICA_ID)".into(),
                ));
            }
        };
        // The message is the first key of an urlencoded body, after `d:`.
        let body = url_encode(&format!("d:{}", msg.text_with_link()));
        let mut request = Request::post(url).body("application/x-www-form-urlencoded", body);
        if let Some(user) = settings.get("user") {
            request = request.basic_auth(user, settings.get_or("password", ""));
        }
        let reply = request.send()?;
        if !reply.is_success() {
            return Err(reply.status_error());
        }
        // Success is an empty 200; the server says why not in the body of a
        // 200 as well (nobody has the page open, the body lacks `d:`), up to
        // "Please open this URL", which repeats the page's URL, the ID.
        match reply.text().trim() {
            "" => Ok(Receipt::none()),
            said => Err(SendError::Rejected(
                said.split(" Please open")
                    .next()
                    .unwrap_or(said)
                    .to_string(),
            )),
        }
    }
}

export_channel!(Notica);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message, pairs};

    const ID: &str = "aF7rC-Ou";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Notica>();
    }

    #[test]
    fn parses_apprise_notica_urls() {
        assert_eq!(
            Notica::parse_url(&format!("notica://{ID}")).unwrap(),
            pairs(&[("id", ID)])
        );
        assert_eq!(
            Notica::parse_url(&format!("noticas://me:pw@push.example.com:8443/n/{ID}")).unwrap(),
            pairs(&[
                ("url", "https://push.example.com:8443/n/aF7rC-Ou"),
                ("user", "me"),
                ("password", "pw"),
            ])
        );
        assert_eq!(
            Notica::parse_url(&format!("notica://localhost:3000/{ID}")).unwrap(),
            pairs(&[("url", "http://localhost:3000/aF7rC-Ou")])
        );
        assert!(Notica::parse_url("notica://").is_err());
    }

    /// The key of the urlencoded body, decoded as the server's parser does.
    fn key_of(body: &str) -> String {
        mcp_push_sdk::encode::url_decode(body.split(['&', '=']).next().unwrap(), true)
    }

    /// The documented request: `d:` and the message as the body's first
    /// key, to `https://notica.us/?ID` (the ID only on the wire); an
    /// empty 200 is success.
    #[test]
    fn posts_the_message_as_the_server_reads_it() {
        let h = Harness::new::<Notica>()
            .setting("id", ID)
            .reply(Reply::text(200, ""));
        let mut msg = message("Build 7", "a=1 & b+c 100%");
        msg.link = Some("https://ci.example.com/7?x=1".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert!(!req.url.contains(ID));
        assert_eq!(h.on_the_wire()[0].url, format!("https://notica.us/?{ID}"));
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            key_of(&req.text()),
            "d:Build 7\n\na=1 & b+c 100%\n\nhttps://ci.example.com/7?x=1"
        );
    }

    #[test]
    fn a_server_of_ones_own_with_basic_auth() {
        let h = Harness::new::<Notica>()
            .setting("url", &format!("https://push.example.com/{ID}"))
            .setting("user", "me")
            .setting("password", "pw")
            .reply(Reply::text(200, ""));
        h.send(&message("", "done")).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.url, format!("https://push.example.com/{ID}"));
        assert_eq!(
            wire.header("authorization"),
            Some(format!("Basic {}", mcp_push_sdk::encode::base64(b"me:pw")).as_str())
        );
        assert_eq!(key_of(&h.requests()[0].text()), "d:done");
        let none = Harness::new::<Notica>();
        assert!(matches!(
            none.send(&message("T", "B")),
            Err(SendError::Config(_))
        ));
    }

    fn outcome(reply: Reply) -> SendError {
        Harness::new::<Notica>()
            .setting("id", ID)
            .reply(reply)
            .send(&message("T", "B"))
            .unwrap_err()
    }

    #[test]
    fn each_refusal_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(Reply::text(
                200,
                &format!(
                    "No devices have that Notica ID open. Please open this URL: https://notica.us/{ID}\n"
                )
            )),
            SendError::Rejected("No devices have that Notica ID open.".into())
        );
        assert_eq!(
            outcome(Reply::text(
                200,
                "Bad POST data. Expecting prefix of \"d:\".\n"
            )),
            SendError::Rejected("Bad POST data. Expecting prefix of \"d:\".".into())
        );
        assert!(matches!(
            outcome(Reply::text(502, "Bad Gateway")),
            SendError::Unavailable(m) if m == "HTTP 502: Bad Gateway"
        ));
        assert_eq!(
            outcome(Reply::text(429, "").header("retry-after", "3")),
            SendError::RateLimited(Some(3))
        );
    }
}
