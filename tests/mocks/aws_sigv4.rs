//! What an AWS front end checks before an operation runs, as AWS's "Create
//! a signed AWS API request" and its common errors describe it: the
//! `Authorization: AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/
//! aws4_request, SignedHeaders=…, Signature=…` header, recomputed from the
//! request as received (its method, path, query, the signed headers' values
//! and a SHA-256 of the body) with the secret key. Shared by the SES and SNS
//! mocks.

#![allow(dead_code)]

use crate::support::Recorded;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Why the front end refused a request: AWS's code and words.
pub enum Refusal {
    /// An access key ID AWS does not know (`InvalidClientTokenId`, 403).
    UnknownKey,
    /// `SignatureDoesNotMatch` (403).
    BadSignature,
    /// `IncompleteSignature` / `MissingAuthenticationToken` (400/403).
    Missing,
}

fn hmac(key: &[u8], msg: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks `r`'s signature for `service`; the region it was signed for.
pub fn verify(r: &Recorded, service: &str) -> Result<String, Refusal> {
    let auth = r.header("authorization").ok_or(Refusal::Missing)?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .ok_or(Refusal::Missing)?;
    let mut fields = rest.split(", ");
    let credential = fields.next().unwrap_or_default();
    let signed = fields
        .next()
        .and_then(|f| f.strip_prefix("SignedHeaders="))
        .ok_or(Refusal::Missing)?;
    let given = fields
        .next()
        .and_then(|f| f.strip_prefix("Signature="))
        .ok_or(Refusal::Missing)?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[3] != service || scope[4] != "aws4_request" {
        return Err(Refusal::Missing);
    }
    if scope[0] != ID {
        return Err(Refusal::UnknownKey);
    }
    let (date, region) = (scope[1], scope[2]);
    let amz_date = r.header("x-amz-date").ok_or(Refusal::Missing)?;
    if !amz_date.starts_with(date) {
        return Err(Refusal::BadSignature);
    }
    let headers: String = signed
        .split(';')
        .map(|h| format!("{h}:{}\n", r.header(h).unwrap_or_default().trim()))
        .collect();
    let path = r.path();
    let query = r.uri.split_once('?').map_or("", |(_, q)| q);
    let canonical = format!(
        "{}\n{path}\n{query}\n{headers}\n{signed}\n{}",
        r.method,
        hex::encode(Sha256::digest(&r.body))
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(
        &hmac(
            &hmac(&hmac(format!("AWS4{SECRET}").as_bytes(), date), region),
            service,
        ),
        "aws4_request",
    );
    if hex::encode(hmac(&key, &to_sign)) != given {
        return Err(Refusal::BadSignature);
    }
    Ok(region.to_string())
}
