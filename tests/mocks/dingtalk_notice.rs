//! A mock of DingTalk's work notice API, built from its server API
//! reference: `GET /gettoken?appkey&appsecret` answers `{errcode: 0,
//! access_token, expires_in: 7200}` (40089 for another key or secret);
//! `POST /topapi/message/corpconversation/asyncsend_v2?access_token=` with
//! JSON `{agent_id, userid_list, msg}` answers `{errcode: 0, task_id,
//! request_id}`; 40014 for a token it did not give, 88 for another
//! agent_id (the wording from memory), 40035 for a `msg` over 2,048 bytes,
//! 90018 too fast (here: content containing "storm").
//! `Mock::service(mocks::dingtalk_notice::api())` serves it; `TOKEN` is
//! the token it gives.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};

pub const KEY: &str = "dingeqqpkv3xxxxxx";
pub const SECRET: &str = "GT-lsu-taDAxxxsTsxxxx";
pub const AGENT: i64 = 1234567;
pub const TOKEN: &str = "dt-6a8f2e";

fn err(code: i64, text: &str) -> Reply {
    Reply::json(200, json!({"errcode": code, "errmsg": text}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| match (r.method.as_str(), r.path()) {
        ("GET", "/gettoken") => {
            if r.query("appkey").as_deref() != Some(KEY)
                || r.query("appsecret").as_deref() != Some(SECRET)
            {
                return err(40089, "不合法的corpid或corpsecret");
            }
            Reply::json(
                200,
                json!({"errcode": 0, "access_token": TOKEN, "errmsg": "ok", "expires_in": 7200}),
            )
        }
        ("POST", "/topapi/message/corpconversation/asyncsend_v2") => {
            if r.query("access_token").as_deref() != Some(TOKEN) {
                return err(40014, "不合法的access_token");
            }
            let b: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            if b["agent_id"] != AGENT {
                return err(88, "不合法的agent_id");
            }
            if b["msg"].to_string().len() > 2048 {
                return err(40035, "msg 最长不超过2048个字节");
            }
            if b["msg"].to_string().contains("storm") {
                return err(90018, "调用频率超过限制");
            }
            Reply::json(
                200,
                json!({"errcode": 0, "task_id": 256271667526u64, "request_id": "4jzllmte0wau"}),
            )
        }
        _ => Reply::not_found(),
    }
}
