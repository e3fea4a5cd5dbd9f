//! Placeholders for secret values, made fresh for every send.
//!
//! The component sees `MCPPUSHSECRET_<random>_` (letters, digits and `_`, so
//! it survives URL and JSON encoding); the host swaps the value in only where
//! it lets a request go (an allowed host) and for a MAC keyed by it.

use crate::MIN_SECRET_LEN;
use crate::masks::{contains_ignore_case, forms, replace_ignore_case};
use rand::Rng;
use rand::distr::Alphanumeric;

pub const PREFIX: &str = "MCPPUSHSECRET_";

#[derive(Debug, Clone)]
struct Secret {
    key: String,
    placeholder: String,
    value: String,
}

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    list: Vec<Secret>,
}

impl Secrets {
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Register a secret and get the placeholder the component will see.
    pub fn add(&mut self, key: &str, value: &str) -> String {
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
        let placeholder = format!("{PREFIX}{random}_");
        self.list.push(Secret {
            key: key.to_string(),
            placeholder: placeholder.clone(),
            value: value.to_string(),
        });
        placeholder
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The key of the first secret whose placeholder appears in `text`.
    pub fn key_in(&self, text: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|s| text.contains(&s.placeholder))
            .map(|s| s.key.as_str())
    }

    /// The key of the secret when `text` is exactly its placeholder.
    pub fn whole(&self, text: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|s| s.placeholder == text)
            .map(|s| s.key.as_str())
    }

    /// The placeholders that appear in `bytes` (each once).
    pub fn placeholders_in(&self, bytes: &[u8]) -> Vec<&str> {
        if !contains(bytes, PREFIX.as_bytes()) {
            return Vec::new();
        }
        self.list
            .iter()
            .filter(|s| contains(bytes, s.placeholder.as_bytes()))
            .map(|s| s.placeholder.as_str())
            .collect()
    }

    /// Whether `text` holds anything shaped like a placeholder (a known one
    /// or not, in any case): text that does must not be compared or hashed
    /// for a component.
    pub fn looks_secret(text: &[u8]) -> bool {
        text.windows(PREFIX.len())
            .any(|w| w.eq_ignore_ascii_case(PREFIX.as_bytes()))
    }

    /// Placeholders replaced by values.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        if out.contains(PREFIX) {
            for s in &self.list {
                if out.contains(&s.placeholder) {
                    out = out.replace(&s.placeholder, &s.value);
                }
            }
        }
        out
    }

    /// A URL with placeholders replaced, where a secret that is itself a URL
    /// with a query (a Discord webhook with `?thread_id=`) keeps that query
    /// valid: the component builds `{webhook}?wait=true` or
    /// `{webhook}/messages/1` from the placeholder without knowing whether
    /// the value has a query, so the value's query is moved to the end and
    /// joined with `&` to any the component added.
    pub fn fill_url(&self, url: &str) -> String {
        let mut moved = Vec::new();
        let mut out = url.to_string();
        if out.contains(PREFIX) {
            for s in &self.list {
                if !out.contains(&s.placeholder) {
                    continue;
                }
                match s.value.split_once('?') {
                    Some((base, query)) if !query.contains('#') && s.value.contains("://") => {
                        out = out.replace(&s.placeholder, base);
                        moved.push(query.to_string());
                    }
                    _ => out = out.replace(&s.placeholder, &s.value),
                }
            }
        }
        for query in moved.into_iter().filter(|q| !q.is_empty()) {
            let (head, fragment) = match out.split_once('#') {
                Some((h, f)) => (h.to_string(), format!("#{f}")),
                None => (out.clone(), String::new()),
            };
            let joiner = if head.contains('?') { '&' } else { '?' };
            out = format!("{head}{joiner}{query}{fragment}");
        }
        out
    }

    pub fn fill_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        if self.list.is_empty() || !contains(bytes, PREFIX.as_bytes()) {
            return bytes.to_vec();
        }
        let mut out = bytes.to_vec();
        for s in &self.list {
            out = replace(&out, s.placeholder.as_bytes(), s.value.as_bytes());
        }
        out
    }

    /// Values replaced by placeholders: what the component may see of a reply
    /// from an allowed host that echoes a secret. Values shorter than the
    /// masking minimum are left alone: hiding a one-letter "secret" would
    /// mangle every reply.
    pub fn hide(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.list {
            if s.value.len() >= MIN_SECRET_LEN && out.contains(&s.value) {
                out = out.replace(&s.value, &s.placeholder);
            }
        }
        out
    }

    pub fn hide_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for s in &self.list {
            if s.value.len() >= MIN_SECRET_LEN && contains(&out, s.value.as_bytes()) {
                out = replace(&out, s.value.as_bytes(), s.placeholder.as_bytes());
            }
        }
        out
    }

    /// For text meant for people (errors, logs, receipts): placeholders and
    /// values, in every form the host may have turned them into (case,
    /// escaping, URL-encoding, fragments), become `<secret:KEY>`.
    pub fn describe(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Placeholders first: they are longer than most values and a value
        // could occur inside one by chance.
        for s in &self.list {
            if contains_ignore_case(&out, &s.placeholder) {
                out = replace_ignore_case(&out, &s.placeholder, &label(&s.key));
            }
        }
        let mut all: Vec<(String, &str)> = self
            .list
            .iter()
            .flat_map(|s| {
                forms(&s.value)
                    .into_iter()
                    .map(move |f| (f, s.key.as_str()))
            })
            .collect();
        all.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        for (form, key) in all {
            if contains_ignore_case(&out, &form) {
                out = replace_ignore_case(&out, &form, &label(key));
            }
        }
        out
    }

    /// Every registered value, for masking outside a call.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|s| s.value.as_str())
    }
}

fn label(key: &str) -> String {
    format!("<secret:{key}>")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_round_trip() {
        let mut s = Secrets::new();
        let p = s.add("token", "hunter22");
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_eq!(p.len(), PREFIX.len() + 21);
        assert_eq!(s.fill(&format!("a{p}b")), "ahunter22b");
        assert_eq!(
            s.fill_bytes(format!("{p}{p}").as_bytes()),
            b"hunter22hunter22"
        );
        assert_eq!(
            s.describe(&format!("x {p} hunter22")),
            "x <secret:token> <secret:token>"
        );
        assert_eq!(s.whole(&p), Some("token"));
        assert_eq!(s.whole(&format!("{p}x")), None);
        // A reply is not mangled by a secret too short to hide.
        s.add("user", "u");
        assert_eq!(s.hide(r#"{"status":0}"#), r#"{"status":0}"#);
        assert_eq!(s.hide_bytes(b"status"), b"status");
    }

    #[test]
    fn a_secret_url_keeps_its_query_valid() {
        let mut s = Secrets::new();
        let hook = s.add("hook", "https://discord.com/api/webhooks/1/tok?thread_id=9");
        assert_eq!(
            s.fill_url(&format!("{hook}?wait=true")),
            "https://discord.com/api/webhooks/1/tok?wait=true&thread_id=9"
        );
        assert_eq!(
            s.fill_url(&format!("{hook}/messages/55")),
            "https://discord.com/api/webhooks/1/tok/messages/55?thread_id=9"
        );
        let plain = s.add("plain", "https://x.example/a");
        assert_eq!(
            s.fill_url(&format!("{plain}?b=1")),
            "https://x.example/a?b=1"
        );
    }

    #[test]
    fn describe_finds_every_form() {
        let mut s = Secrets::new();
        let p = s.add("pw", r#"Sec"ret\Val"#);
        let shown = s.describe(&format!(
            "{} | {} | {} | {} | {}",
            p.to_lowercase(),
            r#"sec\"ret\\val"#,
            "SEC%22RET%5CVAL",
            "Sec%22ret%5CVal",
            r#"Sec"ret\Val"#,
        ));
        assert_eq!(shown, ["<secret:pw>"; 5].join(" | "));
    }
}
