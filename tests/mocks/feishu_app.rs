//! A mock of Feishu's app API, built from its open platform reference:
//! `POST /open-apis/auth/v3/tenant_access_token/internal` with `{app_id,
//! app_secret}` answers `{code: 0, msg: "ok", tenant_access_token, expire:
//! 7200}` (10014 `app secret invalid` for another secret);
//! `POST /open-apis/im/v1/messages?receive_id_type=` with `Authorization:
//! Bearer` the token and `{receive_id, msg_type, content (a JSON string),
//! uuid}` answers `{code: 0, msg: "success", data: {message_id}}`; HTTP 400
//! with 99991663 for a token it did not give, 230001 for content that is
//! not JSON or a receive_id of another kind than `receive_id_type` says,
//! 230002 for a chat other than `CHAT`; a uuid seen before answers the
//! message it created without sending again; 230020 too fast (here:
//! content containing "storm"). The wordings are from memory.
//! `Mock::service(mocks::feishu_app::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Mutex;

pub const APP_ID: &str = "cli_slkdjalasdkjasd";
pub const SECRET: &str = "dskLLdkasdjlasdKK";
pub const TOKEN: &str = "t-g1044ghJRUIJJ5ELPRYUC";
pub const CHAT: &str = "oc_5ad11d72b830411d72b836c20";

fn err(status: u16, code: i64, text: &str) -> Reply {
    Reply::json(status, json!({"code": code, "msg": text}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let seen = Mutex::new(HashSet::<String>::new());
    move |r: &Recorded| {
        let b: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        match (r.method.as_str(), r.path()) {
            ("POST", "/open-apis/auth/v3/tenant_access_token/internal") => {
                if b["app_id"] != APP_ID || b["app_secret"] != SECRET {
                    return err(400, 10014, "app secret invalid");
                }
                Reply::json(
                    200,
                    json!({"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 7200}),
                )
            }
            ("POST", "/open-apis/im/v1/messages") => {
                if r.header("authorization") != Some(format!("Bearer {TOKEN}").as_str()) {
                    return err(
                        400,
                        99991663,
                        "Invalid access token for authorization. Please make a request with token attached.",
                    );
                }
                let content = b["content"].as_str().unwrap_or_default();
                let kind_ok = match r.query("receive_id_type").as_deref() {
                    Some("chat_id") => b["receive_id"]
                        .as_str()
                        .is_some_and(|i| i.starts_with("oc_")),
                    Some("open_id") => b["receive_id"]
                        .as_str()
                        .is_some_and(|i| i.starts_with("ou_")),
                    Some("union_id" | "user_id" | "email") => true,
                    _ => false,
                };
                if serde_json::from_str::<Value>(content).is_err() || !kind_ok {
                    return err(
                        400,
                        230001,
                        "Your request contains an invalid request parameter.",
                    );
                }
                if b["receive_id"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("oc_"))
                    && b["receive_id"] != CHAT
                {
                    return err(400, 230002, "The bot can not be outside the group.");
                }
                if content.contains("storm") {
                    return err(400, 230020, "This operation triggers the frequency limit.");
                }
                let uuid = b["uuid"].as_str().unwrap_or_default().to_string();
                let again = !uuid.is_empty() && !seen.lock().unwrap().insert(uuid);
                Reply::json(
                    200,
                    json!({"code": 0, "msg": "success", "data": {
                        "message_id": "om_dc13264520392913993dd051dba21dcf",
                        "msg_type": b["msg_type"], "deduplicated": again}}),
                )
            }
            _ => Reply::not_found(),
        }
    }
}
