//! Which hosts a channel may reach.

use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// One entry of a plugin's `allowed-hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `api.telegram.org`
    Exact(String),
    /// `*.example.com`: any subdomain (not example.com itself).
    Subdomains(String),
    /// `setting:KEY`: the host of the URL in that setting.
    Setting(String),
}

impl FromStr for HostPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(key) = s.strip_prefix("setting:") {
            return Ok(HostPattern::Setting(key.to_string()));
        }
        if s == "*" || s.is_empty() {
            return Err(format!(
                "allowed host {s:?} is refused: name the hosts, or `setting:KEY` for a user's URL"
            ));
        }
        let (wild, host) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let valid = host.contains(|c: char| c.is_ascii_alphanumeric())
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || c == '-'
                    || c == '.'
                    || c == ':'
                    || c == '['
                    || c == ']'
            });
        if !valid || (wild && !host.contains('.')) {
            return Err(format!("allowed host {s:?} is not a host name"));
        }
        let host = host.to_ascii_lowercase();
        Ok(if wild {
            HostPattern::Subdomains(host)
        } else {
            HostPattern::Exact(host)
        })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h) => f.write_str(h),
            HostPattern::Subdomains(h) => write!(f, "*.{h}"),
            HostPattern::Setting(k) => write!(f, "setting:{k}"),
        }
    }
}

impl Serialize for HostPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A channel instance's allowed hosts, with `setting:KEY` resolved against its
/// settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    exact: Vec<String>,
    subdomains: Vec<String>,
}

impl AllowList {
    pub fn resolve<'a>(
        patterns: &[HostPattern],
        setting: impl Fn(&str) -> Option<&'a str>,
    ) -> Self {
        let mut list = AllowList::default();
        for p in patterns {
            match p {
                HostPattern::Exact(h) => list.exact.push(h.clone()),
                HostPattern::Subdomains(h) => list.subdomains.push(h.clone()),
                HostPattern::Setting(key) => {
                    if let Some(host) = setting(key).and_then(host_of) {
                        list.exact.push(host);
                    }
                }
            }
        }
        list
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = normalize(host);
        self.exact.contains(&host)
            || self.subdomains.iter().any(|d| {
                host.len() > d.len() + 1
                    && host.ends_with(d.as_str())
                    && host[..host.len() - d.len()].ends_with('.')
            })
    }

    /// The hosts, for messages and listings.
    pub fn describe(&self) -> Vec<String> {
        self.exact
            .iter()
            .cloned()
            .chain(self.subdomains.iter().map(|d| format!("*.{d}")))
            .collect()
    }
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The host of a URL setting: `https://host:8080/x` or a bare `host`/`host/x`.
pub(crate) fn host_of(value: &str) -> Option<String> {
    let value = value.trim();
    if value.contains("://") {
        let url = url::Url::parse(value).ok()?;
        return url.host_str().map(normalize);
    }
    let authority = value.split(['/', '?', '#']).next()?;
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    (!host.is_empty()).then(|| normalize(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_matching() {
        assert!("*".parse::<HostPattern>().is_err());
        assert!("*.com".parse::<HostPattern>().is_err());
        let patterns: Vec<HostPattern> = ["api.example.com", "*.push.example.org", "setting:url"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let list = AllowList::resolve(&patterns, |k| {
            (k == "url").then_some("http://127.0.0.1:9/x")
        });
        assert!(list.allows("API.example.com."));
        assert!(list.allows("3.push.example.org"));
        assert!(!list.allows("push.example.org"));
        assert!(!list.allows("evilpush.example.org"));
        assert!(list.allows("127.0.0.1"));
        assert!(!list.allows("localhost"));
        assert_eq!(
            host_of("example.com:8080/path").as_deref(),
            Some("example.com")
        );
    }
}
