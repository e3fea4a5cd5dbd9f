//! One-line URLs (Apprise's `SCHEME://user:password@host:port/path?k=v`),
//! taken apart for a channel's `parse-url`.

use crate::encode::url_decode;

/// A one-line URL in parts, every part percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneLine {
    /// Lowercased.
    pub scheme: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// As written (Apprise puts tokens here, so case is kept).
    pub host: String,
    pub port: Option<u16>,
    /// Path segments, empty ones dropped.
    pub path: Vec<String>,
    /// Query pairs in order (`+` is a space).
    pub query: Vec<(String, String)>,
}

impl OneLine {
    /// Take `url` apart; `schemes` are the ones this channel accepts.
    pub fn parse(url: &str, schemes: &[&str]) -> Result<OneLine, String> {
        let (scheme, rest) = url
            .trim()
            .split_once("://")
            .ok_or_else(|| format!("not a one-line URL (SCHEME://...): {url:?}"))?;
        let scheme = scheme.to_ascii_lowercase();
        if !schemes.contains(&scheme.as_str()) {
            return Err(format!(
                "scheme {scheme}:// is not one of {}",
                schemes
                    .iter()
                    .map(|s| format!("{s}://"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = before_query.split_once('/').unwrap_or((before_query, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("invalid port {p:?} in {scheme}:// URL"))?;
                (h, Some(port))
            }
            _ => (hostport, None),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((a, b)) => (Some(url_decode(a, false)), Some(url_decode(b, false))),
                None => (Some(url_decode(u, false)), None),
            },
        };
        Ok(OneLine {
            scheme,
            user: user.filter(|s| !s.is_empty()),
            password: password.filter(|s| !s.is_empty()),
            host: url_decode(host, false),
            port,
            path: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| url_decode(s, false))
                .collect(),
            query: query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (
                        url_decode(k, true).to_ascii_lowercase(),
                        url_decode(v, true),
                    )
                })
                .collect(),
        })
    }

    /// A query parameter (names are matched lowercased).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `host[:port]` as written.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// `http(s)://host[:port]/path...` for self-hosted services, https when
    /// `secure`, the path joined back.
    pub fn base_url(&self, secure: bool) -> String {
        let mut url = format!(
            "{}://{}",
            if secure { "https" } else { "http" },
            self.authority()
        );
        for seg in &self.path {
            url.push('/');
            url.push_str(seg);
        }
        url
    }
}

impl OneLine {
    /// Apprise's one-line form of e-mail APIs (Resend, Postmark, …):
    /// `SCHEME://APIKEY:FROM_USER@FROM_DOMAIN[/TO…]` with `?to=`, `?cc=`,
    /// `?bcc=`, `?reply=`, `?name=` (the sender's name), `?from=` (the sender;
    /// the host is then a recipient) and `?apikey=`. The settings are
    /// `api_key`, `from` (`Name <addr>` with a name), and `to`, `cc`, `bcc`,
    /// `reply_to` as `,`-separated lists, each only when given.
    pub fn mail_api(&self) -> Result<Vec<(String, String)>, String> {
        let form = format!("{}://APIKEY:FROM_USER@FROM_DOMAIN", self.scheme);
        let api_key = self
            .param("apikey")
            .map(str::to_string)
            .or_else(|| self.user.clone())
            .ok_or_else(|| format!("{}:// needs the API key: {form}", self.scheme))?;
        let mut to: Vec<String> = Vec::new();
        let from = match self.param("from") {
            Some(from) => {
                if !self.host.is_empty() {
                    to.push(self.host.clone());
                }
                from.to_string()
            }
            None => match self.password.clone().or_else(|| self.user.clone()) {
                Some(user) if !self.host.is_empty() => format!("{user}@{}", self.host),
                _ => return Err(format!("{}:// needs the sender: {form}", self.scheme)),
            },
        };
        let from = match self.param("name") {
            Some(name) => format!("{name} <{from}>"),
            None => from,
        };
        to.extend(self.path.iter().cloned());
        let list = |v: &str| -> Vec<String> {
            v.split([',', ';', ' '])
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect()
        };
        if let Some(more) = self.param("to") {
            to.extend(list(more));
        }
        let joined = |key: &str| self.param(key).map(|v| list(v).join(","));
        Pairs::new()
            .set("api_key", api_key)
            .set("from", from)
            .maybe("to", (!to.is_empty()).then(|| to.join(",")))
            .maybe("cc", joined("cc"))
            .maybe("bcc", joined("bcc"))
            .maybe("reply_to", joined("reply"))
            .done()
    }
}

/// What `parse_url` says when a check shared with `send` refuses the
/// settings it read: a configuration error's own words.
pub fn refusal(e: crate::SendError) -> String {
    match e {
        crate::SendError::Config(why) => why,
        other => format!("{other:?}"),
    }
}

/// Settings as `parse-url` returns them, built up fluently.
#[derive(Debug, Clone, Default)]
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    pub fn new() -> Self {
        Pairs::default()
    }

    pub fn set(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.push((key.into(), value.into()));
        self
    }

    /// Set `key` only when there is a value.
    pub fn maybe(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    pub fn done(self) -> Result<Vec<(String, String)>, String> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_a_url_apart() {
        let u = OneLine::parse(
            "Gotifys://me:p%40ss@push.example.com:8443/sub/AbC?priority=8&Format=markdown",
            &["gotify", "gotifys"],
        )
        .unwrap();
        assert_eq!(u.scheme, "gotifys");
        assert_eq!(u.user.as_deref(), Some("me"));
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(u.host, "push.example.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, vec!["sub", "AbC"]);
        assert_eq!(u.param("priority"), Some("8"));
        assert_eq!(u.param("format"), Some("markdown"));
        assert_eq!(u.base_url(true), "https://push.example.com:8443/sub/AbC");
        assert!(OneLine::parse("tgram://a/b", &["gotify"]).is_err());
        assert!(OneLine::parse("nothing", &["gotify"]).is_err());
        let t = OneLine::parse("tgram://123:ABC/-100", &["tgram"]).unwrap();
        assert_eq!(t.host, "123:ABC");
        assert_eq!(t.port, None);
    }

    #[test]
    fn reads_apprises_mail_api_form() {
        let pairs = |url: &str| OneLine::parse(url, &["resend"]).unwrap().mail_api();
        assert_eq!(
            pairs("resend://re_k:noreply@example.com/ops@example.com?to=a@example.com;b@example.com&cc=c@example.com&bcc=d@example.com&reply=e@example.com&name=CI%20Bot")
                .unwrap(),
            vec![
                ("api_key".to_string(), "re_k".to_string()),
                ("from".into(), "CI Bot <noreply@example.com>".into()),
                ("to".into(), "ops@example.com,a@example.com,b@example.com".into()),
                ("cc".into(), "c@example.com".into()),
                ("bcc".into(), "d@example.com".into()),
                ("reply_to".into(), "e@example.com".into()),
            ]
        );
        assert_eq!(
            pairs("resend://re_k@ops%40example.com?from=noreply@example.com").unwrap(),
            vec![
                ("api_key".to_string(), "re_k".to_string()),
                ("from".into(), "noreply@example.com".into()),
                ("to".into(), "ops@example.com".into()),
            ]
        );
        assert!(pairs("resend://example.com").is_err());
        assert!(pairs("resend://re_k@").is_err());
    }
}
