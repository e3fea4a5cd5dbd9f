//! Placeholders for secret settings, made fresh for every send.
//!
//! The component sees `MCPPUSHSECRET_<random>_`; the host swaps the value in
//! only where it lets a request go (an allowed host) and inside `crypto`.

use rand::Rng;
use rand::distr::Alphanumeric;

const PREFIX: &str = "MCPPUSHSECRET_";

#[derive(Debug, Clone)]
struct Secret {
    key: String,
    placeholder: String,
    value: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
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

    /// The key of the first secret whose placeholder appears in `text`.
    pub fn key_in(&self, text: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|s| text.contains(&s.placeholder))
            .map(|s| s.key.as_str())
    }

    /// Placeholders replaced by values.
    pub fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        if out.contains(PREFIX) {
            for s in &self.list {
                out = out.replace(&s.placeholder, &s.value);
            }
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
    /// that echoes a secret. Values shorter than the redaction minimum are left
    /// alone: hiding a one-letter "secret" would mangle every reply.
    pub fn hide(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.list {
            if s.value.len() >= crate::redact::MIN_SECRET_LEN && out.contains(&s.value) {
                out = out.replace(&s.value, &s.placeholder);
            }
        }
        out
    }

    pub fn hide_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        for s in &self.list {
            if s.value.len() >= crate::redact::MIN_SECRET_LEN && contains(&out, s.value.as_bytes())
            {
                out = replace(&out, s.value.as_bytes(), s.placeholder.as_bytes());
            }
        }
        out
    }

    /// For messages meant for people: values and placeholders become
    /// `<secret:KEY>`.
    pub fn describe(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.list {
            let label = format!("<secret:{}>", s.key);
            out = out.replace(&s.placeholder, &label);
            if s.value.len() >= crate::redact::MIN_SECRET_LEN {
                out = out.replace(&s.value, &label);
            }
        }
        crate::redact::redact(&out)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
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
        assert_eq!(s.fill(&format!("a{p}b")), "ahunter22b");
        assert_eq!(
            s.fill_bytes(format!("{p}{p}").as_bytes()),
            b"hunter22hunter22"
        );
        assert_eq!(
            s.describe(&format!("x {p} hunter22")),
            "x <secret:token> <secret:token>"
        );
        // A reply is not mangled by a secret too short to hide.
        s.add("user", "u");
        assert_eq!(s.hide(r#"{"status":0}"#), r#"{"status":0}"#);
        assert_eq!(s.hide_bytes(b"status"), b"status");
    }
}
