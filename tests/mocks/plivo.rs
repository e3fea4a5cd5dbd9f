//! A mock of Plivo's Message API, built from its docs (Send a message, API
//! responses, the SMS FAQ): POST `/v1/Account/{auth_id}/Message/` with
//! Basic auth `AUTH_ID:AUTH_TOKEN` and JSON `{src, dst, text}`, `dst`
//! holding one or more numbers joined with `<`; 202 `{api_id, message:
//! "message(s) queued", message_uuid: [one per recipient]}`; errors
//! `{api_id, error}`: 401 for wrong credentials, 404 for another account's
//! path, 400 for a missing parameter, a text over 1,600 GSM-7 characters or
//! over 737 UCS-2 ones ("text parameter length exceeds 737 unicode
//! characters", the API's own words; the GSM-7 wording written from memory),
//! 429 (here: a text containing "storm"). `Mock::service(mocks::plivo::api())`
//! serves it.

#![allow(dead_code)]

use crate::support::{Recorded, Reply};
use base64::Engine as _;
use serde_json::json;

pub const ID: &str = "MAXXXXXXXXXXXXXXXXXX";
pub const TOKEN: &str = "NzQ3YTc0ZDYwMjk4YjFjYzVmZjU0ZWEwZmQ1NWY3";

fn error(status: u16, text: &str) -> Reply {
    Reply::json(
        status,
        json!({"api_id": "97ceeb52-58b6-11e1-86da-77300b68f8bb", "error": text}),
    )
}

/// GSM-7's two tables, as Plivo decides between GSM-7 and UCS-2.
fn is_gsm7(text: &str) -> bool {
    const GSM7: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                        ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\u{c}^{}\\[~]|€";
    text.chars().all(|c| GSM7.contains(c))
}

pub fn api() -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    |r: &Recorded| {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{TOKEN}"))
        );
        if r.header("authorization") != Some(basic.as_str()) {
            return error(401, "authentication_failed");
        }
        if r.method != "POST" || r.path() != format!("/v1/Account/{ID}/Message/") {
            return error(404, "not found");
        }
        let Ok(b) = serde_json::from_slice::<serde_json::Value>(&r.body) else {
            return error(400, "invalid json data");
        };
        let (Some(_src), Some(dst), Some(text)) =
            (b["src"].as_str(), b["dst"].as_str(), b["text"].as_str())
        else {
            return error(400, "src, dst and text are required");
        };
        if is_gsm7(text) && text.chars().count() > 1600 {
            return error(400, "text parameter length exceeds 1600 characters");
        }
        if !is_gsm7(text) && text.encode_utf16().count() > 737 {
            return error(400, "text parameter length exceeds 737 unicode characters");
        }
        if text.contains("storm") {
            return error(429, "rate_limit_exceeded");
        }
        let uuids: Vec<String> = dst
            .split('<')
            .enumerate()
            .map(|(i, _)| format!("db3ce55a-7f1d-11e1-8ea7-{i:012x}"))
            .collect();
        Reply::json(
            202,
            json!({"api_id": "db342550-7f1d-11e1-8ea7-1231380bc196",
                   "message": "message(s) queued", "message_uuid": uuids}),
        )
    }
}
