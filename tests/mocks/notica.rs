//! A mock of a Notica server, built from its source (`server.js` of
//! github.com/tannercollin/Notica) and notica.us's curl line: a POST to
//! `/?ID` (notica.us's form) or `/ID` (the server's own reading of the
//! path) whose urlencoded body's first key is `d:` and the message; an
//! empty 200 when a browser has the ID's page open (here: `aF7rC-Ou`),
//! else a 200 saying `No devices have that Notica ID open...`; `Bad POST
//! data...` for a body without `d:`. `Mock::service(mocks::notica::api())`
//! serves it; `messages(&mock)` gives what the browsers showed.

#![allow(dead_code)]

use crate::support::{Mock, Recorded, Reply};

pub const ID: &str = "aF7rC-Ou";

fn id_of(r: &Recorded) -> String {
    let path = r.path().trim_start_matches('/');
    let id = if path.is_empty() {
        r.uri.split_once('?').map(|(_, q)| q).unwrap_or("")
    } else {
        path
    };
    id.chars().take(19).collect()
}

/// The first key of an urlencoded body, as the server's parser reads it.
pub fn data(r: &Recorded) -> Option<String> {
    url::form_urlencoded::parse(&r.body)
        .next()
        .map(|(k, _)| k.into_owned())
}

/// The messages the open pages showed, in order.
pub fn messages(mock: &Mock) -> Vec<String> {
    mock.requests()
        .iter()
        .filter(|r| id_of(r) == ID)
        .filter_map(data)
        .filter_map(|d| d.strip_prefix("d:").map(String::from))
        .collect()
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        if r.method != "POST" {
            return Reply::text(200, "<html>Notica</html>");
        }
        let id = id_of(r);
        match data(r) {
            Some(d) if d.starts_with("d:") => {
                if id == ID {
                    Reply::text(200, "")
                } else {
                    Reply::text(
                        200,
                        &format!(
                            "No devices have that Notica ID open. Please open this URL: https://notica.us/{id}\n"
                        ),
                    )
                }
            }
            _ => Reply::text(200, "Bad POST data. Expecting prefix of \"d:\".\n"),
        }
    }
}
