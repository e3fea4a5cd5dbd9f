//! A mock of KOOK's bot HTTP API, built from its developer docs (the
//! reference, 频道消息, 私信聊天消息, 速率限制): `POST /api/v3/message/create`
//! and `/api/v3/direct-message/create` with `Authorization: Bot TOKEN` and
//! JSON `{type, target_id, content}`; every reply `{code, message, data}`,
//! `code` 0 with `data.msg_id` on success; HTTP 401 for another token, 429
//! with the `X-Rate-Limit-*` headers when too fast (here: content
//! containing "storm"). The docs give no error wordings or codes for an
//! unknown channel or a too-long content: those here (40000) are made up
//! in the docs' reply shape.
//! `Mock::service(mocks::kook::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};

pub const TOKEN: &str = "1/MTAyMjQ=/BHsTZ4232tLatgV5AFyjoqZGA";
pub const CHANNEL: &str = "6543211234567890";
pub const USER: &str = "1780328444";

fn reply(status: u16, code: i64, message: &str, data: Value) -> Reply {
    Reply::json(
        status,
        json!({"code": code, "message": message, "data": data}),
    )
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let known = match (r.method.as_str(), r.path()) {
            ("POST", "/api/v3/message/create") => CHANNEL,
            ("POST", "/api/v3/direct-message/create") => USER,
            _ => return reply(404, 404, "Not Found", json!([])),
        };
        if r.header("authorization") != Some(format!("Bot {TOKEN}").as_str()) {
            return reply(401, 401, "你的用户凭证不正确", json!({}));
        }
        let b: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let content = b["content"].as_str().unwrap_or_default();
        if content.contains("storm") {
            return reply(429, 429, "请求过于频繁", json!([]))
                .header("X-Rate-Limit-Limit", "5")
                .header("X-Rate-Limit-Remaining", "0")
                .header("X-Rate-Limit-Reset", "14")
                .header("X-Rate-Limit-Bucket", "message/create");
        }
        if b["target_id"] != known {
            return reply(200, 40000, "目标不存在", json!([]));
        }
        if !matches!(b["type"].as_i64(), Some(1 | 9)) || content.chars().count() > 8000 {
            return reply(200, 40000, "参数错误", json!([]));
        }
        reply(
            200,
            0,
            "操作成功",
            json!({"msg_id": "50974c-364c983fa6cb", "msg_timestamp": 1607072537177u64, "nonce": ""}),
        )
    }
}
