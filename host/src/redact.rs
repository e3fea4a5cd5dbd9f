//! The last line of defence for secrets: every log line the process writes goes
//! through [`redact`], which knows every configured secret value.

use std::io::Write;
use std::sync::{OnceLock, RwLock};

pub use mcp_push_policy::MIN_SECRET_LEN;

const MASK: &str = "***";

static SECRETS: OnceLock<RwLock<Vec<String>>> = OnceLock::new();

fn secrets() -> &'static RwLock<Vec<String>> {
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Remember secret values so that [`redact`] masks them from now on, in
/// every form the process may write them in (escaped, URL-encoded, a header
/// block's values, a URL's password and query values: see
/// `mcp_push_policy::masks`).
pub fn register<I: IntoIterator<Item = String>>(values: I) {
    let mut list = secrets().write().unwrap_or_else(|e| e.into_inner());
    for v in values {
        for form in mcp_push_policy::masks::forms(&v) {
            if !list.contains(&form) {
                list.push(form);
            }
        }
    }
    // Longest first, so a secret that contains another is masked whole.
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret, in any ASCII case, replaced by `***`.
pub fn redact(text: &str) -> String {
    use mcp_push_policy::masks::{contains_ignore_case, replace_ignore_case};
    let list = secrets().read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for s in list.iter() {
        if contains_ignore_case(&out, s) {
            out = replace_ignore_case(&out, s, MASK);
        }
    }
    out
}

/// A name (a setting's key, a JSON object's key) with secrets masked, but
/// not the short ones inside a word: a password "pass" once turned the key
/// `password` into `***word`. A name that is a word keeps a secret shorter
/// than [`NAME_MIN_SECRET_LEN`] unless the secret is the whole name.
pub fn redact_name(name: &str) -> String {
    let is_word = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !is_word {
        return redact(name);
    }
    use mcp_push_policy::masks::{contains_ignore_case, replace_ignore_case};
    let list = secrets().read().unwrap_or_else(|e| e.into_inner());
    let mut out = name.to_string();
    for s in list.iter() {
        let whole = s.eq_ignore_ascii_case(&out);
        if (whole || s.len() >= NAME_MIN_SECRET_LEN) && contains_ignore_case(&out, s) {
            out = replace_ignore_case(&out, s, MASK);
        }
    }
    out
}

/// Secrets at least this long are masked inside a name too: tokens are, and
/// words a name is made of ("pass", "token") are shorter.
pub const NAME_MIN_SECRET_LEN: usize = 8;

/// A `tracing` writer to stderr that redacts each write.
#[derive(Clone, Copy, Default)]
pub struct RedactingStderr;

impl Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingStderr;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingStderr
    }
}

/// [`redact`] every string in a JSON value (keys included), so that escaping
/// cannot hide a secret from the search.
pub fn redact_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (redact_name(&k), redact_json(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Query names whose values are masked when a URL is shown.
const SECRET_QUERY: &[&str] = &[
    "key",
    "token",
    "secret",
    "password",
    "pass",
    "auth",
    "sig",
    "signature",
    "apikey",
    "api_key",
    "access_token",
    "code",
];

/// The URL with its password and secret-looking query values as `***`.
pub fn mask_url(text: &str) -> String {
    let Ok(mut u) = url::Url::parse(text) else {
        return text.to_string();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_QUERY.iter().any(|s| {
                    let k = k.to_ascii_lowercase();
                    k == *s || k.ends_with(&format!("_{s}")) || k.ends_with(&format!("-{s}"))
                });
                let v = if secret { "***".into() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}
