//! A mock of WeChat's Official Account API, built from its docs:
//! `GET /cgi-bin/token?grant_type=client_credential&appid&secret` answers
//! `{access_token, expires_in: 7200}` (no errcode), or `{errcode: 40013,
//! errmsg: "invalid appid"}` / 40125 `invalid appsecret`;
//! `POST /cgi-bin/message/template/send?access_token=` with `{touser,
//! template_id, url, data: {NAME: {value}}}` answers `{errcode: 0, errmsg:
//! "ok", msgid}`; 40001 for a token it did not give, 40037 for another
//! template, 40003 for an openid other than `FOLLOWERS`, 45009 the daily
//! quota (here: a value containing "storm").
//! `Mock::service(mocks::wechat_oa::api())` serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use serde_json::{Value, json};

pub const APP_ID: &str = "wx6f1a2b3c4d5e6f70";
pub const SECRET: &str = "8f1c2e9d7a6b5c4d3e2f1a0b9c8d7e6f";
pub const TEMPLATE: &str = "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY";
pub const FOLLOWERS: [&str; 2] = ["oZ1a2b3c4d5e6f7g8h9i0j", "oZ9y8x7w6v5u4t3s2r1q0p"];
pub const TOKEN: &str = "ACCESS_TOKEN_5a7c";

fn err(code: i64, text: &str) -> Reply {
    Reply::json(200, json!({"errcode": code, "errmsg": text}))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| match (r.method.as_str(), r.path()) {
        ("GET", "/cgi-bin/token") => {
            if r.query("grant_type").as_deref() != Some("client_credential") {
                return err(40002, "invalid grant_type");
            }
            if r.query("appid").as_deref() != Some(APP_ID) {
                return err(40013, "invalid appid");
            }
            if r.query("secret").as_deref() != Some(SECRET) {
                return err(40125, "invalid appsecret");
            }
            Reply::json(200, json!({"access_token": TOKEN, "expires_in": 7200}))
        }
        ("POST", "/cgi-bin/message/template/send") => {
            if r.query("access_token").as_deref() != Some(TOKEN) {
                return err(
                    40001,
                    "invalid credential, access_token is invalid or not latest",
                );
            }
            let b: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            if b["template_id"] != TEMPLATE {
                return err(40037, "invalid template_id");
            }
            if !FOLLOWERS.iter().any(|f| b["touser"] == *f) {
                return err(40003, "invalid openid");
            }
            if b["data"].to_string().contains("storm") {
                return err(45009, "reach max api daily quota limit");
            }
            Reply::json(
                200,
                json!({"errcode": 0, "errmsg": "ok", "msgid": 200228332}),
            )
        }
        _ => Reply::not_found(),
    }
}
