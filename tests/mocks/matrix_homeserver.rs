//! A Matrix homeserver that people answer through, built from the
//! client-server API's documentation (spec.matrix.org): `PUT
//! /rooms/{roomId}/send/{eventType}/{txnId}` (the txnId dedupes),
//! `GET /account/whoami`, `GET /rooms/{roomId}/event/{eventId}` (404
//! `M_NOT_FOUND`), and `GET /sync` with `since`, `timeout` and an inline
//! `filter` (a JSON object, told from a filter id by its leading `{`): the
//! joined rooms the filter's `room.rooms` names, their timeline's events of
//! the filter's `types`, at most `limit` of them (the latest, `limited` when
//! there were more), and a `next_batch` token to pass as `since`. Without
//! `since` it answers the latest events, as an initial sync does. Events in
//! a sync carry no `room_id` (`ClientEventWithoutRoomID`). One room's
//! timeline is one list here; the test plays other users' events into it.
//! `Homeserver::mock()` serves it.

#![allow(dead_code)]

use crate::support::services::MATRIX_TOKEN;
use crate::support::{Mock, Recorded, Reply};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

pub const BOT: &str = "@bot:example.org";

#[derive(Default)]
struct State {
    /// Every event, in order, with its room id.
    events: Vec<Value>,
    /// txnId → event id, per the spec's idempotency.
    txns: Vec<(String, String)>,
    /// The `since` of each sync, in order (`None`: an initial sync).
    syncs: Vec<Option<String>>,
}

#[derive(Clone, Default)]
pub struct Homeserver {
    state: Arc<Mutex<State>>,
}

const API: &str = "/_matrix/client/v3";

impl Homeserver {
    pub fn mock(&self) -> Mock {
        let hs = self.clone();
        Mock::service(move |r| hs.answer(r))
    }

    /// The contents of the events the bot sent, in order.
    pub fn sent(&self) -> Vec<Value> {
        let s = self.state.lock().unwrap();
        s.events
            .iter()
            .filter(|e| e["sender"] == BOT)
            .cloned()
            .collect()
    }

    /// How many events there are: a sync `since` at least this has read them.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().events.len()
    }

    /// The `since` of every sync so far.
    pub fn syncs(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().syncs.clone()
    }

    /// `sender` posts `content` to `room`; returns the event id.
    pub fn post(&self, room: &str, sender: &str, content: Value) -> String {
        let mut s = self.state.lock().unwrap();
        let id = format!("$ev{}", s.events.len() + 1);
        let ts = 1_700_000_000_000u64 + s.events.len() as u64 * 1000;
        s.events.push(json!({
            "type": "m.room.message", "event_id": id, "room_id": room,
            "sender": sender, "origin_server_ts": ts, "content": content,
        }));
        id
    }

    /// `sender` replies `text` to event `to` as a client does ("Rich
    /// replies": the relation, and the quote of the original as the
    /// fallback before the text).
    pub fn reply_to(&self, room: &str, to: &str, sender: &str, text: &str) -> String {
        let original = {
            let s = self.state.lock().unwrap();
            s.events
                .iter()
                .find(|e| e["event_id"] == to)
                .cloned()
                .unwrap_or_else(|| panic!("no event {to}"))
        };
        let quoted: Vec<String> = original["content"]["body"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .enumerate()
            .map(|(i, l)| match i {
                0 => format!("> <{}> {l}", original["sender"].as_str().unwrap()),
                _ => format!("> {l}"),
            })
            .collect();
        let content = json!({
            "msgtype": "m.text",
            "body": format!("{}\n\n{text}", quoted.join("\n")),
            "m.relates_to": {"m.in_reply_to": {"event_id": to}},
        });
        self.post(room, sender, content)
    }

    fn answer(&self, r: &Recorded) -> Reply {
        if r.header("authorization") != Some(&format!("Bearer {MATRIX_TOKEN}")) {
            return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
        }
        let Some(path) = r.path().strip_prefix(API) else {
            return error(404, "M_UNRECOGNIZED", "Unrecognized request");
        };
        let parts: Vec<String> = path.split('/').skip(1).map(decoded).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["account", "whoami"]) => {
                Reply::ok(json!({"user_id": BOT, "device_id": "MCPPUSH", "is_guest": false}))
            }
            ("PUT", ["rooms", room, "send", kind, txn]) => {
                let content: Value = serde_json::from_slice(&r.body).unwrap_or(json!(null));
                if !content.is_object() || *kind != "m.room.message" {
                    return error(400, "M_BAD_JSON", "Content must be a JSON object.");
                }
                if let Some((_, id)) = self.state.lock().unwrap().txns.iter().find(|t| t.0 == *txn)
                {
                    return Reply::ok(json!({"event_id": id}));
                }
                let id = self.post(room, BOT, content);
                self.state
                    .lock()
                    .unwrap()
                    .txns
                    .push((txn.to_string(), id.clone()));
                Reply::ok(json!({"event_id": id}))
            }
            ("GET", ["rooms", room, "event", id]) => {
                let s = self.state.lock().unwrap();
                match s
                    .events
                    .iter()
                    .find(|e| e["event_id"] == *id && e["room_id"] == *room)
                {
                    Some(e) => Reply::ok(e.clone()),
                    None => error(404, "M_NOT_FOUND", "Event not found."),
                }
            }
            ("GET", ["sync"]) => self.sync(r),
            _ => error(404, "M_UNRECOGNIZED", "Unrecognized request"),
        }
    }

    fn sync(&self, r: &Recorded) -> Reply {
        let filter = r.query("filter").unwrap_or_default();
        if !filter.starts_with('{') {
            // A filter id: this homeserver has none stored.
            return error(400, "M_INVALID_PARAM", "No such filter.");
        }
        let Ok(filter) = serde_json::from_str::<Value>(&filter) else {
            return error(400, "M_NOT_JSON", "Filter is not JSON.");
        };
        let since = r.query("since");
        let mut s = self.state.lock().unwrap();
        s.syncs.push(since.clone());
        let from = match since
            .as_deref()
            .map(|t| t.strip_prefix('s').map(str::parse))
        {
            None => 0,
            Some(Some(Ok(n))) => n,
            Some(_) => return error(400, "M_INVALID_PARAM", "Invalid since token."),
        };
        let rooms = filter["room"]["rooms"].as_array();
        let types = filter["room"]["timeline"]["types"].as_array();
        let limit = filter["room"]["timeline"]["limit"].as_u64().unwrap_or(10) as usize;
        let mut join = json!({});
        let mut by_room: Vec<(String, Vec<Value>)> = Vec::new();
        for e in s.events.iter().skip(from) {
            let room = e["room_id"].as_str().unwrap().to_string();
            if rooms.is_some_and(|rs| !rs.iter().any(|x| *x == room))
                || types.is_some_and(|ts| !ts.iter().any(|t| *t == e["type"]))
            {
                continue;
            }
            let mut event = e.clone();
            event.as_object_mut().unwrap().remove("room_id");
            match by_room.iter_mut().find(|(r, _)| *r == room) {
                Some((_, list)) => list.push(event),
                None => by_room.push((room, vec![event])),
            }
        }
        for (room, events) in by_room {
            let limited = events.len() > limit;
            let latest = events[events.len().saturating_sub(limit)..].to_vec();
            join[room] = json!({
                "timeline": {"events": latest, "limited": limited, "prev_batch": format!("p{from}")},
                "state": {"events": []},
            });
        }
        Reply::ok(json!({
            "next_batch": format!("s{}", s.events.len()),
            "rooms": {"join": join},
        }))
    }
}

fn error(status: u16, errcode: &str, why: &str) -> Reply {
    Reply::json(status, json!({"errcode": errcode, "error": why}))
}

/// A path segment, percent-decoded.
fn decoded(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| segment.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
