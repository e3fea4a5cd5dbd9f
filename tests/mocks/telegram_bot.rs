//! A Telegram Bot API that people answer through, built from the Bot API's
//! documentation ("Getting updates", `getUpdates`, `Update`, `CallbackQuery`,
//! `sendMessage`, `answerCallbackQuery`): it keeps the messages the bot sent
//! and a queue of updates the test plays (a button pressed under a message,
//! by someone, in some chat), and answers `getUpdates` as Telegram does: the
//! updates from `offset` on (at most `limit`), forgetting those below it,
//! which are confirmed. `Bot::mock()` serves it.

#![allow(dead_code)]

use crate::support::services::TG_TOKEN;
use crate::support::{Mock, Recorded, Reply};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// What `sendMessage` made, in order (`Message` objects).
    sent: Vec<Value>,
    /// The `reply_markup` each `sendMessage` asked for, in the same order.
    markups: Vec<Value>,
    /// Updates not confirmed yet.
    updates: Vec<Value>,
    next_update: i64,
}

#[derive(Clone, Default)]
pub struct Bot {
    state: Arc<Mutex<State>>,
}

impl Bot {
    pub fn mock(&self) -> Mock {
        let bot = self.clone();
        Mock::service(move |r| bot.answer(r))
    }

    /// The messages the bot sent, as Telegram returned them.
    pub fn sent(&self) -> Vec<Value> {
        self.state.lock().unwrap().sent.clone()
    }

    /// The `reply_markup` each message was sent with (`null`: none).
    pub fn markups(&self) -> Vec<Value> {
        self.state.lock().unwrap().markups.clone()
    }

    /// Updates played but not confirmed by a `getUpdates` offset past them.
    pub fn pending(&self) -> usize {
        self.state.lock().unwrap().updates.len()
    }

    /// `user` presses the button with `data` under the bot's message
    /// `message_id`, as it shows in chat `chat`.
    pub fn press(&self, message_id: i64, chat: i64, user: Value, data: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let mut message = s
            .sent
            .iter()
            .find(|m| m["message_id"] == message_id)
            .cloned()
            .unwrap_or_else(|| panic!("the bot sent no message {message_id}"));
        message["chat"] = json!({"id": chat, "type": "private", "first_name": user["first_name"]});
        s.next_update += 1;
        let id = format!("cbq-{}", s.next_update);
        let update = json!({
            "update_id": 900_000 + s.next_update,
            "callback_query": {
                "id": id, "from": user, "message": message,
                "chat_instance": format!("ci{chat}"), "data": data,
            },
        });
        s.updates.push(update);
        id
    }

    /// `user` types `text` in chat `chat`, in reply to the bot's message
    /// `message_id`.
    pub fn reply_to(&self, message_id: i64, chat: i64, user: Value, text: &str) {
        let mut s = self.state.lock().unwrap();
        let asked = s
            .sent
            .iter()
            .find(|m| m["message_id"] == message_id)
            .cloned()
            .unwrap_or_else(|| panic!("the bot sent no message {message_id}"));
        s.next_update += 1;
        let update = json!({
            "update_id": 900_000 + s.next_update,
            "message": {
                "message_id": 5_000 + s.next_update, "from": user, "date": 1_700_000_100,
                "chat": {"id": chat, "type": "private"}, "text": text,
                "reply_to_message": asked,
            },
        });
        s.updates.push(update);
    }

    fn answer(&self, r: &Recorded) -> Reply {
        let Some(method) = r.path().strip_prefix(&format!("/bot{TG_TOKEN}/")) else {
            return Reply::json(
                401,
                json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
            );
        };
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(json!({}));
        let mut s = self.state.lock().unwrap();
        match method {
            "sendMessage" => {
                let Some(text) = body["text"].as_str().filter(|t| !t.is_empty()) else {
                    return bad("message text is empty");
                };
                if let Some(rows) = body["reply_markup"]["inline_keyboard"].as_array() {
                    for b in rows.iter().flat_map(|r| r.as_array().unwrap().iter()) {
                        let data = b["callback_data"].as_str().unwrap_or_default();
                        if data.is_empty() || data.len() > 64 {
                            return bad("BUTTON_DATA_INVALID");
                        }
                    }
                }
                let mut message = json!({
                    "message_id": 100 + s.sent.len() as i64,
                    "from": {"id": 1, "is_bot": true, "first_name": "mcp-push"},
                    "chat": {"id": 42, "type": "private"},
                    "date": 1_700_000_000, "text": text,
                });
                // A message shows only an inline keyboard (Message.reply_markup);
                // force_reply acts on the app and is not part of the message.
                if body["reply_markup"].get("inline_keyboard").is_some() {
                    message["reply_markup"] = body["reply_markup"].clone();
                }
                s.sent.push(message.clone());
                s.markups.push(body["reply_markup"].clone());
                Reply::ok(json!({"ok": true, "result": message}))
            }
            "getUpdates" => {
                if let Some(offset) = body["offset"].as_i64() {
                    s.updates
                        .retain(|u| u["update_id"].as_i64().unwrap() >= offset);
                }
                let limit = body["limit"].as_u64().unwrap_or(100) as usize;
                let allowed: Vec<&str> = body["allowed_updates"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let result: Vec<Value> = s
                    .updates
                    .iter()
                    .filter(|u| {
                        allowed.is_empty() || allowed.iter().any(|kind| u.get(*kind).is_some())
                    })
                    .take(limit)
                    .cloned()
                    .collect();
                Reply::ok(json!({"ok": true, "result": result}))
            }
            "answerCallbackQuery" => match body["callback_query_id"].as_str() {
                Some(_) => Reply::ok(json!({"ok": true, "result": true})),
                None => bad("query is too old and response timeout expired or query ID is invalid"),
            },
            _ => Reply::json(
                404,
                json!({"ok": false, "error_code": 404, "description": "Not Found"}),
            ),
        }
    }
}

fn bad(why: &str) -> Reply {
    Reply::json(
        400,
        json!({"ok": false, "error_code": 400, "description": format!("Bad Request: {why}")}),
    )
}
