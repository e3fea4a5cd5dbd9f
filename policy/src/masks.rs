//! The forms a secret takes after the host's own transformations, so that
//! masking finds it whatever happened to it on the way: escaped into JSON or a
//! Rust debug string, percent-encoded, or cut into the fragments that are
//! secrets on their own (a header block's values, a URL's password, query
//! values and long path segments).

use crate::MIN_SECRET_LEN;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// Every string to mask for `value`, longest first (so a secret that contains
/// another is masked whole). Matching is ASCII case-insensitive (see
/// [`replace_ignore_case`]), so lowercased forms need no entry of their own.
pub fn forms(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |s: String| {
        if s.len() >= MIN_SECRET_LEN && !out.contains(&s) {
            out.push(s);
        }
    };
    let whole = encodings(value);
    for fragment in fragments(value) {
        for form in encodings(&fragment) {
            push(form);
        }
    }
    for form in whole {
        push(form);
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `value` as written, and as JSON, Rust's `{:?}`, URL paths and forms
/// escape it.
fn encodings(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).unwrap_or_default();
    let debug = format!("{value:?}");
    vec![
        value.to_string(),
        json[1..json.len().saturating_sub(1).max(1)].to_string(),
        debug[1..debug.len().saturating_sub(1).max(1)].to_string(),
        utf8_percent_encode(value, NON_ALPHANUMERIC).to_string(),
        form_urlencoded::byte_serialize(value.as_bytes()).collect(),
    ]
}

/// Parts of a value that are secrets on their own: `Name: value` lines (a
/// block of user headers), and a URL's password, query values and path
/// segments long enough to be tokens.
fn fragments(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    if value.contains('\n') || value.contains(':') {
        for line in value.lines() {
            if let Some((_, v)) = line.split_once(':') {
                let v = v.trim();
                if v.len() >= MIN_SECRET_LEN && v != value {
                    out.push(v.to_string());
                }
            }
        }
    }
    if let Ok(url) = url::Url::parse(value.trim())
        && url.has_host()
    {
        if let Some(pw) = url.password() {
            out.push(decode(pw));
        }
        for (_, v) in url.query_pairs() {
            out.push(v.into_owned());
        }
        for segment in url.path_segments().into_iter().flatten() {
            if segment.len() >= 8 {
                out.push(decode(segment));
            }
        }
    }
    out.retain(|f| f.len() >= MIN_SECRET_LEN);
    out
}

/// The credentials in a URL setting that is not itself secret (a webhook URL
/// with `user:password@` or `?token=`): its password and the values of query
/// parameters named like credentials, to mask wherever the process writes.
pub fn url_credentials(value: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(value.trim()) else {
        return Vec::new();
    };
    let mut out: Vec<String> = url.password().map(decode).into_iter().collect();
    out.extend(
        url.query_pairs()
            .filter(|(k, _)| looks_like_credential(k))
            .map(|(_, v)| v.into_owned()),
    );
    out.retain(|v| v.len() >= MIN_SECRET_LEN);
    out
}

/// A URL shown to people or agents: password and every query value as `***`
/// (a query value's meaning is the service's, so none is assumed harmless).
pub fn mask_url_credentials(value: &str) -> String {
    let Ok(mut url) = url::Url::parse(value.trim()) else {
        return value.to_string();
    };
    if !url.has_host() {
        return value.to_string();
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "***".to_string()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Names of settings, parameters and headers that hold credentials.
pub fn looks_like_credential(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "passw",
        "passwd",
        "key",
        "auth",
        "sig",
        "credential",
        "session",
        "ticket",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// `hay` with every ASCII-case-insensitive occurrence of `needle` replaced.
/// Non-ASCII bytes must match exactly, so a match always starts and ends on a
/// character boundary.
pub fn replace_ignore_case(hay: &str, needle: &str, with: &str) -> String {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return hay.to_string();
    }
    let mut out = String::with_capacity(hay.len());
    let (mut i, mut copied) = (0, 0);
    while i + n.len() <= h.len() {
        if h[i..i + n.len()].eq_ignore_ascii_case(n) && hay.is_char_boundary(i) {
            out.push_str(&hay[copied..i]);
            out.push_str(with);
            i += n.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&hay[copied..]);
    out
}

/// Whether `hay` holds `needle`, ASCII case aside.
pub fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    !n.is_empty() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_escaping_encoding_and_fragments() {
        let f = forms(r#"pa"ss\wörd/1"#);
        assert!(f.contains(&r#"pa\"ss\\wörd/1"#.to_string()), "{f:?}");
        assert!(
            f.iter().any(|s| s.starts_with("pa%22ss%5Cw%C3%B6rd")),
            "{f:?}"
        );
        let h = forms("Authorization: Bearer abc123\nX-Key: k3y-value");
        assert!(h.contains(&"Bearer abc123".to_string()));
        assert!(h.contains(&"k3y-value".to_string()));
        let u = forms("https://user:pw%21x@host.example/hooks/T0001/longtoken12345?token=q9q9q9");
        for part in ["pw!x", "q9q9q9", "longtoken12345"] {
            assert!(u.contains(&part.to_string()), "{part} in {u:?}");
        }
        // Too short to mask.
        assert!(forms("abc").is_empty());
    }

    #[test]
    fn credentials_in_url_settings() {
        let url = "http://bob:pw-Sekr3t@host.example/hook?token=qt-998877&format=json";
        assert_eq!(url_credentials(url), vec!["pw-Sekr3t", "qt-998877"]);
        assert_eq!(
            mask_url_credentials(url),
            "http://bob:***@host.example/hook?token=***&format=***"
        );
        assert_eq!(mask_url_credentials("not a url"), "not a url");
    }

    #[test]
    fn case_insensitive_replacement() {
        assert_eq!(
            replace_ignore_case("x HuNtEr2 y hunter2", "hunter2", "*"),
            "x * y *"
        );
        assert_eq!(replace_ignore_case("é hunter2é", "HUNTER2", "*"), "é *é");
        assert!(contains_ignore_case("MCPPUSH", "mcppush"));
    }
}
