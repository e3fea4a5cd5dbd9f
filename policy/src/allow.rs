//! Which hosts a channel may reach.
//!
//! A declared name allows that host on its scheme's default ports (80 and 443
//! for HTTP, 25, 465 and 587 for SMTP) unless it names a port; `*.domain`
//! allows its subdomains (DNS names only, never an IP address); `setting:KEY`
//! allows the origin of the URL in that setting: its host and port, never
//! the host's other ports (a user's `http://127.0.0.1:8080` must not open
//! every local service to the plugin).

use serde::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One entry of a plugin's `allowed-hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `api.telegram.org`, `relay.example:8443`
    Exact(String, Option<u16>),
    /// `*.example.com`: any subdomain (not example.com itself).
    Subdomains(String),
    /// `setting:KEY` (or `setting:KEY.PART`, a declared public part of a
    /// secret setting): the origin of the URL in that setting.
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
        let (wild, rest) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (host, port) = split_port(rest);
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("allowed host {s:?} has an invalid port"))?,
            ),
            None => None,
        };
        let valid = host.contains(|c: char| c.is_ascii_alphanumeric())
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
        if !valid {
            return Err(format!("allowed host {s:?} is not a host name"));
        }
        let host = normalize(host);
        if wild {
            // `*.0.0.1` would match the address 127.0.0.1: wildcards are for
            // DNS names, whose last label is never all digits.
            let last = host.rsplit('.').next().unwrap_or("");
            if !host.contains('.') || last.chars().all(|c| c.is_ascii_digit()) || host.contains(':')
            {
                return Err(format!(
                    "allowed host {s:?}: a wildcard needs a DNS domain of two labels or more, not an address"
                ));
            }
            if port.is_some() {
                return Err(format!("allowed host {s:?}: a wildcard takes no port"));
            }
            return Ok(HostPattern::Subdomains(host));
        }
        Ok(HostPattern::Exact(host, port))
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h, None) => f.write_str(h),
            HostPattern::Exact(h, Some(p)) => write!(f, "{}:{p}", bracket(h)),
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

/// Read back from what [`Serialize`] wrote (a host's described plugins are
/// kept on disk between starts), checked again on the way in.
impl<'de> serde::Deserialize<'de> for HostPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The ports a host named without one is reached on.
const DEFAULT_PORTS: [u16; 5] = [80, 443, 25, 465, 587];

/// A channel instance's allowed hosts, with `setting:KEY` resolved against its
/// settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    /// Host and the one port allowed, or `None`: the default ports.
    exact: Vec<(String, Option<u16>)>,
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
                HostPattern::Exact(h, port) => list.exact.push((h.clone(), *port)),
                HostPattern::Subdomains(h) => list.subdomains.push(h.clone()),
                HostPattern::Setting(key) => {
                    if let Some(origin) = setting(key).and_then(origin_of) {
                        list.exact.push(origin);
                    }
                }
            }
        }
        list
    }

    /// Whether `host` on `port` may be reached.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = normalize(host);
        let port_ok = |allowed: Option<u16>| match allowed {
            Some(p) => p == port,
            None => DEFAULT_PORTS.contains(&port),
        };
        self.exact.iter().any(|(h, p)| *h == host && port_ok(*p))
            || (host.parse::<IpAddr>().is_err()
                && DEFAULT_PORTS.contains(&port)
                && self.subdomains.iter().any(|d| {
                    host.len() > d.len() + 1
                        && host.ends_with(d.as_str())
                        && host[..host.len() - d.len()].ends_with('.')
                }))
    }

    /// The hosts, for messages and listings.
    pub fn describe(&self) -> Vec<String> {
        self.exact
            .iter()
            .map(|(h, p)| match p {
                Some(p) => format!("{}:{p}", bracket(h)),
                None => h.clone(),
            })
            .chain(self.subdomains.iter().map(|d| format!("*.{d}")))
            .collect()
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// `host:port` → (`host`, `port`); an IPv6 address in brackets keeps its colons.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(v6) = authority.strip_prefix('[') {
        return match v6.split_once(']') {
            Some((h, rest)) => (h, rest.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (authority, None),
    }
}

/// The origin of a URL setting: `https://host:8080/x` gives (`host`,
/// `Some(8080)`), `https://host/x` (`host`, `Some(443)`); a bare `host:port`
/// its port, a bare `host` the default ports.
pub fn origin_of(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    if value.contains("://") {
        let url = url::Url::parse(value).ok()?;
        // MQTT's schemes are not among the url crate's special ones; their
        // ports are IANA's `mqtt` and `secure-mqtt`.
        let port = url.port_or_known_default().or(match url.scheme() {
            "mqtt" => Some(1883),
            "mqtts" => Some(8883),
            _ => None,
        });
        return Some((normalize(url.host_str()?), port));
    }
    let authority = value.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_port(authority);
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    (!host.is_empty()).then(|| (normalize(host), port))
}

/// The host of a URL setting, for messages.
pub fn host_of(value: &str) -> Option<String> {
    origin_of(value).map(|(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(patterns: &[&str], url: &str) -> AllowList {
        let patterns: Vec<HostPattern> = patterns.iter().map(|s| s.parse().unwrap()).collect();
        AllowList::resolve(&patterns, |k| (k == "url").then_some(url))
    }

    #[test]
    fn patterns_and_matching() {
        assert!("*".parse::<HostPattern>().is_err());
        assert!("*.com".parse::<HostPattern>().is_err());
        assert!("*.0.0.1".parse::<HostPattern>().is_err());
        assert!("*.1".parse::<HostPattern>().is_err());
        let list = list(
            &[
                "api.example.com",
                "*.push.example.org",
                "setting:url",
                "relay.example:8443",
            ],
            "http://127.0.0.1:9/x",
        );
        assert!(list.allows("API.example.com.", 443));
        assert!(list.allows("api.example.com", 80));
        assert!(!list.allows("api.example.com", 8080));
        assert!(list.allows("3.push.example.org", 443));
        assert!(!list.allows("push.example.org", 443));
        assert!(!list.allows("evilpush.example.org", 443));
        assert!(list.allows("127.0.0.1", 9));
        assert!(
            !list.allows("127.0.0.1", 22),
            "another port of the setting's host"
        );
        assert!(!list.allows("localhost", 9));
        assert!(list.allows("relay.example", 8443));
        assert!(!list.allows("relay.example", 443));
    }

    #[test]
    fn origins_of_settings() {
        assert_eq!(
            origin_of("example.com:8080/path"),
            Some(("example.com".into(), Some(8080)))
        );
        assert_eq!(
            origin_of("https://h.example/x"),
            Some(("h.example".into(), Some(443)))
        );
        assert_eq!(origin_of("smtp.qq.com"), Some(("smtp.qq.com".into(), None)));
        assert_eq!(origin_of("[::1]:25"), Some(("::1".into(), Some(25))));
        // A broker without a port is on its scheme's: not the web's.
        assert_eq!(
            origin_of("mqtt://b.lan"),
            Some(("b.lan".into(), Some(1883)))
        );
        assert_eq!(
            origin_of("mqtts://b.lan"),
            Some(("b.lan".into(), Some(8883)))
        );
        assert_eq!(
            origin_of("mqtt://b.lan:1884"),
            Some(("b.lan".into(), Some(1884)))
        );
        let l = list(&["setting:url"], "smtp.qq.com");
        assert!(l.allows("smtp.qq.com", 465) && !l.allows("smtp.qq.com", 2525));
    }
}
