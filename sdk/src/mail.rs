//! E-mail through the host's SMTP client (the WIT `mail` import). The server
//! must be one of the channel's allowed hosts, like an HTTP request.

use crate::SendError;
use crate::bindings::mcp_push::channel::mail::Error;
pub use crate::bindings::mcp_push::channel::mail::{Email, Mailbox, Security, Server};

/// Submit `email` to `server`. A denied host or a message that cannot be
/// built is a `config` error, a permanent SMTP refusal `rejected`, anything
/// else `unavailable`.
pub fn send(server: &Server, email: &Email) -> Result<(), SendError> {
    crate::host::send_mail(server, email).map_err(|e| match e {
        Error::Denied(why) => SendError::Config(format!("mail denied: {why}")),
        Error::Invalid(why) => SendError::Config(why),
        Error::Rejected(why) => SendError::Rejected(why),
        Error::Unavailable(why) => SendError::Unavailable(why),
        Error::Timeout => SendError::Unavailable("the SMTP server timed out".into()),
    })
}

/// The address in a mailbox written `Name <addr>`, or the text itself.
pub fn address_of(mailbox: &str) -> &str {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(a), Some(b)) if a < b => mailbox[a + 1..b].trim(),
        _ => mailbox.trim(),
    }
}

/// An e-mail's subject: the message's title, else the start of its first
/// line as the reader sees it (an HTML body's tags left out), at most
/// `max_chars` characters.
pub fn subject(msg: &crate::Message, max_chars: usize) -> String {
    if !msg.title.trim().is_empty() || !msg.is_html() {
        return msg.headline(max_chars);
    }
    let mut seen = String::with_capacity(msg.body.len());
    let mut in_tag = false;
    for c in msg.body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => seen.push(c),
            _ => {}
        }
    }
    let mut plain = msg.clone();
    plain.body = seen;
    plain.headline(max_chars)
}

/// An e-mail's recipients from the settings `to`, `cc` and `bcc` (each
/// `,` or `;`-separated): `to` is `default_to` when empty; an address is
/// kept once, case aside (its first place wins: a `cc` already in `to` is
/// dropped, a `bcc` already in either too), as SendGrid's API demands and
/// every service would otherwise deliver twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients<'s> {
    pub to: Vec<&'s str>,
    pub cc: Vec<&'s str>,
    pub bcc: Vec<&'s str>,
}

impl<'s> Recipients<'s> {
    pub fn of(settings: &'s crate::Settings, default_to: &'s str) -> Recipients<'s> {
        let mut seen: Vec<String> = Vec::new();
        let mut to = once(settings.list("to", &[',', ';']), &mut seen);
        if to.is_empty() {
            to = once(vec![default_to], &mut seen);
        }
        let cc = once(settings.list("cc", &[',', ';']), &mut seen);
        let bcc = once(settings.list("bcc", &[',', ';']), &mut seen);
        Recipients { to, cc, bcc }
    }
}

/// `list` without the addresses in `seen` or twice in it (case aside).
fn once<'s>(mut list: Vec<&'s str>, seen: &mut Vec<String>) -> Vec<&'s str> {
    list.retain(|a| {
        let lower = address_of(a).to_ascii_lowercase();
        let new = !seen.contains(&lower);
        if new {
            seen.push(lower);
        }
        new
    });
    list
}

/// The sender (`from`) and the recipients (`to`, `,` or `;`-separated; the
/// sender's address when none is given) of an e-mail API channel, at most
/// `max` recipients, each an address.
pub fn sender_and_recipients(
    settings: &crate::Settings,
    max: usize,
) -> Result<(String, Vec<String>), SendError> {
    let from = settings.require("from")?.trim().to_string();
    let mut to: Vec<String> = settings
        .list("to", &[',', ';'])
        .into_iter()
        .map(String::from)
        .collect();
    if to.is_empty() {
        to.push(address_of(&from).to_string());
    }
    if to.len() > max {
        return Err(SendError::Config(format!(
            "at most {max} recipients in `to`, not {}",
            to.len()
        )));
    }
    if let Some(bad) = to.iter().find(|a| !address_of(a).contains('@')) {
        return Err(SendError::Config(format!(
            "{bad:?} is not an e-mail address"
        )));
    }
    Ok((from, to))
}

impl Mailbox {
    /// `name <address>`, or a bare address.
    pub fn new(name: Option<&str>, address: &str) -> Self {
        Mailbox {
            name: name.filter(|n| !n.trim().is_empty()).map(String::from),
            address: address.trim().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_keep_each_address_once_in_its_first_place() {
        let settings = crate::Settings::from(vec![
            (
                "to".to_string(),
                "ada@example.org; Bob <BOB@example.org>, ada@EXAMPLE.org".to_string(),
            ),
            (
                "cc".to_string(),
                "bob@example.org,lead@example.org".to_string(),
            ),
            (
                "bcc".to_string(),
                "LEAD@example.org;audit@example.org".to_string(),
            ),
        ]);
        let r = Recipients::of(&settings, "from@example.org");
        assert_eq!(r.to, ["ada@example.org", "Bob <BOB@example.org>"]);
        assert_eq!(r.cc, ["lead@example.org"]);
        assert_eq!(r.bcc, ["audit@example.org"]);
        let settings =
            crate::Settings::from(vec![("cc".to_string(), "me@example.org".to_string())]);
        let r = Recipients::of(&settings, "ME@example.org");
        assert_eq!((r.to, r.cc), (vec!["ME@example.org"], vec![]));
    }

    fn settings(pairs: &[(&str, &str)]) -> crate::Settings {
        crate::Settings::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_subject_is_the_title_else_the_first_line_a_reader_sees() {
        let mut msg = crate::testing::message("Backup", "<b>done</b>");
        assert_eq!(subject(&msg, 200), "Backup");
        msg.title = String::new();
        assert_eq!(subject(&msg, 200), "<b>done</b>");
        msg.format = crate::Format::Html;
        assert_eq!(subject(&msg, 200), "done");
        msg.body = "<p>3 <i>failures</i></p>\n<p>see CI</p>".into();
        assert_eq!(subject(&msg, 200), "3 failures");
    }

    #[test]
    fn recipients_default_to_the_sender_and_are_checked() {
        assert_eq!(address_of("CI <ci@example.com>"), "ci@example.com");
        assert_eq!(address_of(" ci@example.com "), "ci@example.com");
        let (from, to) =
            sender_and_recipients(&settings(&[("from", "CI <ci@example.com>")]), 50).unwrap();
        assert_eq!(
            (from.as_str(), to),
            ("CI <ci@example.com>", vec!["ci@example.com".to_string()])
        );
        let (_, to) = sender_and_recipients(
            &settings(&[
                ("from", "ci@example.com"),
                ("to", "a@example.com; b@example.com"),
            ]),
            50,
        )
        .unwrap();
        assert_eq!(to, vec!["a@example.com", "b@example.com"]);
        let three = settings(&[("from", "c@example.com"), ("to", "a@x.org,b@x.org,c@x.org")]);
        assert!(
            matches!(sender_and_recipients(&three, 2), Err(SendError::Config(m)) if m.contains("at most 2"))
        );
        let bad = settings(&[("from", "c@example.com"), ("to", "ops")]);
        assert!(matches!(
            sender_and_recipients(&bad, 50),
            Err(SendError::Config(_))
        ));
        assert!(sender_and_recipients(&settings(&[]), 50).is_err());
    }
}
