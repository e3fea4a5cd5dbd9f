//! Fetching what a watcher watches, without becoming a way into the
//! network the hub sits in. An agent picks the URL, so by default a watcher
//! may not reach loopback, private, link-local or cloud-metadata addresses.
//! The rule is checked on the addresses a name resolves to (so a public
//! name pointing inside is refused too) and again on every redirect hop;
//! `[watchers] allow_hosts` and `allow_private` open it on purpose. Bodies
//! are capped and each check has one deadline for all its requests.
//!
//! Proxies from the environment are ignored: a proxy would resolve the
//! name itself, out of this check's sight.

use super::model::WatchSettings;
use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Redirects followed at most, per request.
const MAX_REDIRECTS: usize = 5;

/// Why a fetch gave nothing. Every kind is a failed check, retried with
/// backoff; `Refused` and `TooLarge` will not change until the settings or
/// the watcher do, and say which to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error(
        "refused {host}: it is a {why} address, which watchers may not fetch; add it to \
         [watchers] allow_hosts (or set allow_private = true) to allow it"
    )]
    Refused { host: String, why: &'static str },
    #[error("{0}")]
    BadUrl(String),
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
    #[error("the answer is larger than {limit} bytes ([watchers] max_body)")]
    TooLarge { limit: usize },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot fetch {url}: {detail}")]
    Transport { url: String, detail: String },
}

/// What one fetch got.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// After redirects.
    pub url: url::Url,
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// What a check needs of the network: one fetch, under one deadline. A
/// trait so the checks can be run on canned answers.
pub trait Fetch: Send + Sync {
    fn fetch<'a>(
        &'a self,
        url: &'a url::Url,
        deadline: tokio::time::Instant,
    ) -> futures::future::BoxFuture<'a, Result<Fetched, FetchError>>;
}

/// Which addresses a watcher may reach.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub allow_hosts: Vec<String>,
    pub allow_private: bool,
}

impl Reach {
    fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allow_private
            || self
                .allow_hosts
                .iter()
                .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(host))
    }

    /// `Err(why)` when `ip` is closed to a fetch of `host`.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), &'static str> {
        match forbidden(ip) {
            Some(why) if !self.allows_host(host) => Err(why),
            _ => Ok(()),
        }
    }

    /// A URL before it is requested (the first one and each redirect): its
    /// scheme, and its address when it is written as one. Names are checked
    /// once resolved.
    pub fn check_url(&self, url: &url::Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadUrl(format!(
                "{url}: only http and https are fetched"
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(FetchError::BadUrl(format!("{url}: no host"))),
        };
        let host = url.host_str().unwrap_or_default();
        self.check(host, ip).map_err(|why| FetchError::Refused {
            host: host.to_string(),
            why,
        })
    }
}

/// What kind of address `ip` is, when watchers may not fetch it.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            // An IPv4 address written as IPv6 is judged as itself.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let seg = v6.segments();
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4
            // address they carry: judged as it.
            let carried = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return forbidden_v4(carried(seg[6], seg[7]));
            }
            if seg[0] == 0x2002 {
                return forbidden_v4(carried(seg[1], seg[2]));
            }
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if seg[0] & 0xfe00 == 0xfc00 || seg[..3] == [0x64, 0xff9b, 1] {
                // Unique local, and the local-use NAT64 prefix 64:ff9b:1::/48.
                Some("private")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some("metadata")
            } else {
                None
            }
        }
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let o = v4.octets();
    if v4.is_loopback() {
        Some("loopback")
    } else if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
        // AWS, GCP and Azure answer at the first, Alibaba Cloud at the second.
        Some("metadata")
    } else if v4.is_link_local() {
        Some("link-local")
    } else if v4.is_private() || (o[0] == 100 && (64..128).contains(&o[1])) {
        // 100.64/10 is carrier-grade NAT: inside someone's network too.
        Some("private")
    } else if v4.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
        Some("reserved")
    } else {
        None
    }
}

/// The system resolver, keeping only the addresses [`Reach`] allows.
struct Guarded(Arc<Reach>);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match reach.check(&host, a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused = Some(why);
                        false
                    }
                })
                .collect();
            match (kept.is_empty(), refused) {
                (true, Some(why)) => Err(Box::new(FetchError::Refused { host, why }) as _),
                _ => Ok(Box::new(kept.into_iter()) as Addrs),
            }
        })
    }
}

/// The watchers' HTTP client: one per hub, shared by every check.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    reach: Arc<Reach>,
    max_body: usize,
}

impl Fetcher {
    pub fn new(settings: &WatchSettings) -> Result<Fetcher, String> {
        let reach = Arc::new(Reach {
            allow_hosts: settings.allow_hosts.clone(),
            allow_private: settings.allow_private,
        });
        let hops = reach.clone();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(FetchError::BadUrl(format!(
                    "more than {MAX_REDIRECTS} redirects"
                )));
            }
            match hops.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        });
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::plugin::tls_client_config())
            .dns_resolver(Guarded(reach.clone()))
            .no_proxy()
            .redirect(redirect)
            .user_agent(concat!(
                "mcp-push/",
                env!("CARGO_PKG_VERSION"),
                " (watcher)"
            ))
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| format!("cannot make the watchers' HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            reach,
            max_body: settings.max_body,
        })
    }

    async fn get(&self, url: &url::Url) -> Result<Fetched, FetchError> {
        self.reach.check_url(url)?;
        let mut resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| from_reqwest(url, e))?;
        let status = resp.status();
        let final_url = resp.url().clone();
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                url: super::model::mask_url(final_url.as_str()),
            });
        }
        let limit = self.max_body;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(FetchError::TooLarge { limit });
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| from_reqwest(url, e))? {
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            url: final_url,
            content_type,
            body: body.into(),
        })
    }
}

impl Fetch for Fetcher {
    fn fetch<'a>(
        &'a self,
        url: &'a url::Url,
        deadline: tokio::time::Instant,
    ) -> futures::future::BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout_at(deadline, self.get(url)).await {
                Ok(r) => r,
                Err(_) => Err(FetchError::Timeout(left)),
            }
        })
    }
}

/// Our own refusal when it is somewhere in the error's causes (from the
/// resolver or the redirect policy), else the transport error as it is.
fn from_reqwest(url: &url::Url, e: reqwest::Error) -> FetchError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(ours) = c.downcast_ref::<FetchError>() {
            return ours.clone();
        }
        cause = c.source();
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    FetchError::Transport {
        url: super::model::mask_url(url.as_str()),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused_unless_allowed() {
        let closed = Reach::default();
        for (ip, why) in [
            ("127.0.0.1", Some("loopback")),
            ("::1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("private")),
            ("fd12::1", Some("private")),
            ("169.254.169.254", Some("metadata")),
            ("169.254.1.1", Some("link-local")),
            ("fe80::1", Some("link-local")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("64:ff9b::7f00:1", Some("loopback")),
            ("64:ff9b::a9fe:a9fe", Some("metadata")),
            ("64:ff9b::c0a8:101", Some("private")),
            ("64:ff9b::5db8:d70e", None),
            ("64:ff9b:1::1", Some("private")),
            ("2002:a00:1::1", Some("private")),
            ("2002:7f00:1::1", Some("loopback")),
            ("0.0.0.0", Some("unspecified")),
            ("93.184.215.14", None),
            ("2606:4700::1111", None),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden(ip), why, "{ip}");
            assert_eq!(closed.check("example.org", ip).err(), why, "{ip}");
        }
        let one = Reach {
            allow_hosts: vec!["localhost".into(), "10.0.0.7".into()],
            allow_private: false,
        };
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(one.check("LOCALHOST", lo).is_ok());
        assert!(one.check("localhost.", lo).is_ok());
        assert!(one.check("intranet", lo).is_err());
        assert!(one.check("10.0.0.7", "10.0.0.7".parse().unwrap()).is_ok());
        let open = Reach {
            allow_hosts: vec![],
            allow_private: true,
        };
        assert!(open.check("anything", lo).is_ok());
    }

    #[test]
    fn urls_written_as_addresses_are_checked_before_any_request() {
        let closed = Reach::default();
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(matches!(
            closed.check_url(&url("http://169.254.169.254/latest/meta-data/")),
            Err(FetchError::Refused {
                why: "metadata",
                ..
            })
        ));
        assert!(matches!(
            closed.check_url(&url("http://[::1]:8080/")),
            Err(FetchError::Refused {
                why: "loopback",
                ..
            })
        ));
        assert!(matches!(
            closed.check_url(&url("file:///etc/passwd")),
            Err(FetchError::BadUrl(_))
        ));
        // Names wait for their addresses.
        assert!(closed.check_url(&url("http://localhost/")).is_ok());
    }
}
