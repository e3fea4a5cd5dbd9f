//! Prowl (`PROWL_API_KEY`, Apprise's `prowl://APIKEY[/PROVIDERKEY]`).
//!
//! Sources: Prowl's API page (prowlapp.com/api.php, "add": POST
//! `https://api.prowlapp.com/publicapi/add`, a form with `apikey` (several
//! keys separated by commas), `providerkey` (optional), `priority` (-2 to 2,
//! default 0), `url` [512], `application` [256], `event` [1024] and
//! `description` [10000], the brackets being maximum lengths in bytes; either
//! `event` or `description` must be given; an IP address may make 1,000
//! calls an hour, counted from its first). The copy of the page at hand ends
//! before its "success output" section, so the reply is as client libraries
//! quote it from that page (prowlpy's docstring, test fixtures of several
//! clients): XML, `<prowl><success code="200" remaining="…"
//! resetdate="…"/></prowl>` or `<prowl><error code="…">reason</error></prowl>`,
//! the codes 400 (the parameters did not validate), 401 (the API key is not
//! valid), 405 (not SSL, in older versions of the page), 406 (the IP address
//! has exceeded the API limit), 409 (not approved, only for `retrieve`) and
//! 500 (Prowl's own failure). Apprise's `prowl.py`: `prowl://APIKEY` with an
//! optional `/PROVIDERKEY`, each 40 letters and digits, `?priority=` by name
//! or number. Not in qinglong's notify.py: `PROWL_*` are mcp-push's own names.
//!
//! Where they differ: Apprise cuts the title at 1,024 and the body at 10,000
//! characters; Prowl's page counts bytes, so this channel cuts at those
//! numbers of bytes. Apprise sends `application` "Apprise"; here it is
//! "mcp-push" unless `PROWL_APPLICATION` says otherwise. Apprise takes an
//! unknown priority for normal; here it is a configuration error. Apprise
//! reads only the HTTP status; this channel reads the XML reply, which names
//! the reason.

use mcp_push_sdk::prelude::*;

struct Prowl;

const OFFICIAL: &str = "https://api.prowlapp.com";

/// Prowl's maximum lengths, in bytes.
const EVENT: Limit = Limit::Bytes(1024);
const DESCRIPTION: Limit = Limit::Bytes(10000);
const APPLICATION: Limit = Limit::Bytes(256);
const URL: Limit = Limit::Bytes(512);

/// Apprise's priority names (matched by their first letter, as Apprise
/// does) and Prowl's numbers.
const PRIORITIES: [(&str, &str); 5] =
    [("l", "-2"), ("m", "-1"), ("n", "0"), ("h", "1"), ("e", "2")];

impl Channel for Prowl {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "prowl",
            "Prowl",
            env!("CARGO_PKG_VERSION"),
            "Pushes to Prowl's iOS app with an API key",
        )
        .formats(&["text"])
        .setting(
            Setting::new("api_key", "API key (40 hex digits); several separated by commas")
                .env(&["PROWL_API_KEY"])
                .required()
                .secret(),
        )
        .setting(
            Setting::new("provider_key", "Provider key, only if Prowl whitelisted you")
                .env(&["PROWL_PROVIDER_KEY"])
                .secret(),
        )
        .setting(
            Setting::new("application", "Application name shown with the notification")
                .env(&["PROWL_APPLICATION"])
                .default_value("mcp-push"),
        )
        .setting(
            Setting::new(
                "priority",
                "A fixed priority, -2 to 2 or low/moderate/normal/high/emergency; else the message's",
            )
            .env(&["PROWL_PRIORITY"]),
        )
        .setting(Setting::api_url("PROWL_API_URL", OFFICIAL))
        .allow_host("api.prowlapp.com")
        .allow_host("setting:api_url")
        .schemes(&["prowl"])
    }

    /// `prowl://APIKEY[/PROVIDERKEY][?priority=high]`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, &["prowl"])?;
        let key_like = |k: &str| k.len() == 40 && k.chars().all(|c| c.is_ascii_alphanumeric());
        if !key_like(&u.host) {
            return Err("prowl:// needs the 40-character API key: prowl://APIKEY".into());
        }
        if u.path.len() > 1 || u.path.first().is_some_and(|p| !key_like(p)) {
            return Err("prowl://APIKEY/PROVIDERKEY takes one 40-character provider key".into());
        }
        let priority = u.param("priority").map(str::to_string);
        if let Some(p) = &priority {
            priority_number(p)?;
        }
        Pairs::new()
            .set("api_key", u.host.clone())
            .maybe("provider_key", u.path.first().cloned())
            .maybe("priority", priority)
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let priority = match settings.get("priority") {
            Some(p) => priority_number(p).map_err(SendError::Config)?,
            // Urgent is Emergency, which may break through the user's quiet
            // hours; low is Moderate, leaving Very Low to a fixed setting.
            None => msg.priority.on(["-1", "0", "1", "2"]),
        };
        let application = settings.get_or("application", "mcp-push");
        let mut form = vec![
            ("apikey", settings.require("api_key")?.to_string()),
            (
                "application",
                truncate(application, APPLICATION, CUT_MARKER),
            ),
            ("priority", priority.to_string()),
        ];
        form.extend(
            settings
                .fields(&[("provider_key", "providerkey")])
                .into_iter()
                .map(|(k, v)| (k, v.to_string())),
        );
        // A link that fits `url` goes there; a longer one ends the text.
        let link = msg.link.as_deref().filter(|l| !l.is_empty());
        let description = match link {
            Some(l) if URL.fits(l) => {
                form.push(("url", l.to_string()));
                msg.body.clone()
            }
            _ => msg.body_with_link(),
        };
        if !msg.title.trim().is_empty() {
            form.push(("event", truncate(msg.title.trim(), EVENT, CUT_MARKER)));
        }
        if !description.trim().is_empty() || msg.title.trim().is_empty() {
            form.push((
                "description",
                truncate(&description, DESCRIPTION, CUT_MARKER),
            ));
        }
        let reply = Request::post(format!(
            "{}/publicapi/add",
            settings.base_url("api_url", OFFICIAL)?
        ))
        .form(&form)
        .send()?;
        judge(&reply)?;
        Ok(Receipt::none())
    }
}

/// A priority setting as Prowl's number: `-2`..`2`, or a name Apprise takes
/// (`low`, `moderate`, `normal`, `high`, `emergency`, by its first letter).
fn priority_number(value: &str) -> Result<&'static str, String> {
    let v = value.trim().to_ascii_lowercase();
    PRIORITIES
        .iter()
        .find(|(name, number)| v == *number || (!v.is_empty() && v.starts_with(name)))
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            format!(
                "priority must be -2 to 2 or low, moderate, normal, high, emergency, not {value:?}"
            )
        })
}

/// Prowl says "done" with `<success code="200" …/>`; a refusal is
/// `<error code="N">reason</error>`, N as in its table: 406 (the hourly API
/// limit) waits, 500 is Prowl's own trouble, the rest are refusals.
fn judge(reply: &Response) -> Result<(), SendError> {
    let body = reply.text();
    if reply.status == 200 && attribute(&body, "success", "code").as_deref() == Some("200") {
        return Ok(());
    }
    let Some(code) = attribute(&body, "error", "code").and_then(|c| c.parse::<u16>().ok()) else {
        if reply.is_success() {
            return Err(SendError::Unavailable(format!(
                "unexpected reply: {}",
                reply.snippet()
            )));
        }
        return Err(reply.status_error());
    };
    let why = format!(
        "error {code}: {}",
        element_text(&body, "error").unwrap_or_default()
    );
    Err(match code {
        406 => SendError::RateLimited(None),
        500..=599 => SendError::Unavailable(why),
        _ if reply.status == 429 => SendError::RateLimited(reply.retry_after()),
        _ => SendError::Rejected(why),
    })
}

/// The start tag `<name …>` in `xml`, without its brackets.
fn start_tag<'x>(xml: &'x str, name: &str) -> Option<&'x str> {
    let open = format!("<{name}");
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open) {
        let at = from + i + open.len();
        let rest = &xml[at..];
        // `<errors` is not `<error`.
        if rest.starts_with(|c: char| c.is_whitespace() || c == '/' || c == '>') {
            return rest.find('>').map(|end| &rest[..end]);
        }
        from = at;
    }
    None
}

/// The value of attribute `attr` of element `name`, entities decoded.
fn attribute(xml: &str, name: &str, attr: &str) -> Option<String> {
    let tag = start_tag(xml, name)?;
    for quote in ['"', '\''] {
        let key = format!("{attr}={quote}");
        let mut from = 0;
        while let Some(i) = tag[from..].find(&key) {
            let at = from + i;
            let before = tag[..at].chars().next_back();
            if before.is_none_or(char::is_whitespace) {
                let value = &tag[at + key.len()..];
                return value.find(quote).map(|end| unescape(&value[..end]));
            }
            from = at + key.len();
        }
    }
    None
}

/// The text inside element `name`, entities decoded and trimmed.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let tag = start_tag(xml, name)?;
    if tag.ends_with('/') {
        return Some(String::new());
    }
    // `tag` is a slice of `xml`: its end, past the `>`, starts the text.
    let start = tag.as_ptr() as usize - xml.as_ptr() as usize + tag.len() + 1;
    let end = xml[start..].find(&format!("</{name}"))? + start;
    Some(unescape(xml[start..end].trim()))
}

/// XML's five named entities and numeric character references.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').and_then(|end| {
            let entity = &tail[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .map(|h| u32::from_str_radix(h, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

export_channel!(Prowl);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, Reply, message};

    const KEY: &str = "cf09b20df08453f3d5ec113be3b4999820341dd2";
    const PROVIDER: &str = "68b329da9893e34099c7d8ad5cb9c94010200121";

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Prowl>();
    }

    #[test]
    fn parses_apprise_prowl_urls() {
        assert_eq!(
            Prowl::parse_url(&format!("prowl://{KEY}")).unwrap(),
            vec![("api_key".into(), KEY.into())]
        );
        assert_eq!(
            Prowl::parse_url(&format!("prowl://{KEY}/{PROVIDER}?priority=emergency")).unwrap(),
            vec![
                ("api_key".into(), KEY.into()),
                ("provider_key".into(), PROVIDER.into()),
                ("priority".into(), "emergency".into()),
            ]
        );
        assert!(Prowl::parse_url("prowl://short").is_err());
        assert!(Prowl::parse_url(&format!("prowl://{KEY}/short")).is_err());
        assert!(Prowl::parse_url(&format!("prowl://{KEY}?priority=urgent")).is_err());
    }

    #[test]
    fn priorities_by_name_or_number() {
        for (given, want) in [
            ("low", "-2"),
            ("Moderate", "-1"),
            ("n", "0"),
            ("high", "1"),
            ("emergency", "2"),
            ("-2", "-2"),
            ("2", "2"),
        ] {
            assert_eq!(priority_number(given).unwrap(), want, "{given}");
        }
        assert!(priority_number("3").is_err());
        assert!(priority_number("").is_err());
    }

    fn harness() -> Harness {
        Harness::new::<Prowl>().setting("api_key", KEY)
    }

    fn success() -> Reply {
        Reply::text(
            200,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prowl>\n<success code=\"200\" remaining=\"999\" resetdate=\"1764780000\" />\n</prowl>\n",
        )
    }

    fn error(status: u16, reason: &str) -> Reply {
        Reply::text(
            status,
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prowl>\n<error code=\"{status}\">{reason}</error>\n</prowl>\n"
            ),
        )
    }

    /// The documented request: a form POSTed to `/publicapi/add`, the key
    /// only on the wire, the message's priority on Prowl's scale.
    #[test]
    fn posts_the_documented_form() {
        let h = harness().setting("provider_key", PROVIDER).reply(success());
        let mut msg = message("Backup", "done in 3 min");
        msg.priority = Priority::Urgent;
        msg.link = Some("https://ci.example.com/7".into());
        h.send(&msg).unwrap();
        let req = &h.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.url, "https://api.prowlapp.com/publicapi/add");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(!req.text().contains(KEY) && !req.text().contains(PROVIDER));
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("apikey").as_deref(), Some(KEY));
        assert_eq!(wire.form("providerkey").as_deref(), Some(PROVIDER));
        assert_eq!(wire.form("application").as_deref(), Some("mcp-push"));
        assert_eq!(wire.form("event").as_deref(), Some("Backup"));
        assert_eq!(wire.form("description").as_deref(), Some("done in 3 min"));
        assert_eq!(
            wire.form("url").as_deref(),
            Some("https://ci.example.com/7")
        );
        assert_eq!(wire.form("priority").as_deref(), Some("2"));
    }

    #[test]
    fn a_fixed_priority_wins_and_an_empty_title_is_left_out() {
        let h = harness()
            .setting("priority", "moderate")
            .setting("application", "nightly")
            .reply(success());
        let mut msg = message("", "disk full");
        msg.priority = Priority::High;
        h.send(&msg).unwrap();
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.form("priority").as_deref(), Some("-1"));
        assert_eq!(wire.form("application").as_deref(), Some("nightly"));
        assert_eq!(wire.form("event"), None);
        assert_eq!(wire.form("description").as_deref(), Some("disk full"));
        let bad = harness().setting("priority", "urgent").reply(success());
        assert!(matches!(
            bad.send(&message("T", "B")),
            Err(SendError::Config(m)) if m.contains("priority")
        ));
    }

    /// Prowl's limits are bytes: event 1,024, description 10,000; a link
    /// over `url`'s 512 bytes ends the description instead.
    #[test]
    fn long_fields_are_cut_to_prowls_byte_limits() {
        let h = harness().reply(success());
        let mut msg = message(&"é".repeat(600), &"b".repeat(12000));
        msg.link = Some(format!("https://example.com/{}", "x".repeat(600)));
        h.send(&msg).unwrap();
        let wire = &h.on_the_wire()[0];
        let event = wire.form("event").unwrap();
        assert!(event.len() <= 1024 && event.len() > 1000, "{}", event.len());
        assert!(event.ends_with(CUT_MARKER));
        let description = wire.form("description").unwrap();
        assert!(description.len() <= 10000 && description.len() > 9900);
        assert_eq!(wire.form("url"), None);
        let h = harness().reply(success());
        let mut msg = message("T", "short");
        msg.link = Some(format!("https://example.com/{}", "x".repeat(600)));
        h.send(&msg).unwrap();
        let description = h.on_the_wire()[0].form("description").unwrap();
        assert!(description.starts_with("short\n\nhttps://example.com/xxx"));
    }

    fn outcome(reply: Reply) -> SendError {
        harness().reply(reply).send(&message("T", "B")).unwrap_err()
    }

    #[test]
    fn each_documented_error_maps_to_what_to_do_next() {
        assert_eq!(
            outcome(error(
                400,
                "Bad request, the parameters you provided did not validate: description too long"
            )),
            SendError::Rejected(
                "error 400: Bad request, the parameters you provided did not validate: description too long"
                    .into()
            )
        );
        assert_eq!(
            outcome(error(401, "Invalid API key")),
            SendError::Rejected("error 401: Invalid API key".into())
        );
        assert_eq!(
            outcome(error(405, "Method not allowed, you attempted to use a non-SSL connection to Prowl.")),
            SendError::Rejected(
                "error 405: Method not allowed, you attempted to use a non-SSL connection to Prowl."
                    .into()
            )
        );
        assert_eq!(
            outcome(error(
                406,
                "Not acceptable, your IP address has exceeded the API limit"
            )),
            SendError::RateLimited(None)
        );
        assert_eq!(
            outcome(error(
                409,
                "Not approved, the user has yet to approve your retrieve request."
            )),
            SendError::Rejected(
                "error 409: Not approved, the user has yet to approve your retrieve request."
                    .into()
            )
        );
        assert!(matches!(
            outcome(error(500, "Internal server error")),
            SendError::Unavailable(m) if m == "error 500: Internal server error"
        ));
        // Not Prowl's XML: a proxy's page, judged by its status.
        assert!(matches!(
            outcome(Reply::text(502, "<html>Bad Gateway</html>")),
            SendError::Unavailable(m) if m.contains("HTTP 502")
        ));
        assert!(matches!(
            outcome(Reply::text(200, "<html>captive portal</html>")),
            SendError::Unavailable(m) if m.contains("unexpected reply")
        ));
        assert_eq!(
            outcome(Reply::text(429, "slow down").header("retry-after", "30")),
            SendError::RateLimited(Some(30))
        );
    }

    #[test]
    fn reads_prowls_xml() {
        let xml =
            "<prowl><errors/><error code='401'>Key &amp; &#x41;&#66; &lt;bad&gt;</error></prowl>";
        assert_eq!(attribute(xml, "error", "code").as_deref(), Some("401"));
        assert_eq!(
            element_text(xml, "error").as_deref(),
            Some("Key & AB <bad>")
        );
        assert_eq!(attribute(xml, "error", "de"), None);
        assert_eq!(attribute(xml, "success", "code"), None);
        assert_eq!(unescape("a &bogus; b & c"), "a &bogus; b & c");
    }
}
