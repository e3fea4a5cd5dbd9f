//! A channel's HTTP proxy: the host's business, since the sandbox never opens
//! a socket. Users whose network blocks a service (Telegram, often) route that
//! channel's requests through a proxy: `proxy = "http://[user:pass@]host:port"`
//! in any channel's table, or notify.py's `TG_PROXY_HOST`, `TG_PROXY_PORT` and
//! `TG_PROXY_AUTH` (`user:pass`), which the Telegram channel declares as
//! `proxy_host`, `proxy_port` and `proxy_auth`. The allow list still applies to
//! the target; the proxy itself is the user's choice, not the plugin's.

use super::types::SettingValue;

/// The reserved setting keys; `proxy` may be set for any channel.
pub const PROXY: &str = "proxy";
const HOST: &str = "proxy_host";
const PORT: &str = "proxy_port";
const AUTH: &str = "proxy_auth";

/// The proxy URL a channel instance's settings ask for, or why it is wrong.
pub fn of(settings: &[SettingValue]) -> Result<Option<String>, String> {
    let get = |key: &str| {
        settings
            .iter()
            .find(|s| s.key == key && !s.value.trim().is_empty())
            .map(|s| s.value.trim())
    };
    let url = match (get(PROXY), get(HOST)) {
        (Some(url), _) => url.to_string(),
        (None, Some(host)) => {
            let port = get(PORT).ok_or("proxy_host is set without proxy_port (TG_PROXY_PORT)")?;
            let auth = get(AUTH).map(|a| format!("{a}@")).unwrap_or_default();
            format!("http://{auth}{host}:{port}")
        }
        (None, None) => return Ok(None),
    };
    let parsed = url::Url::parse(&url).map_err(|e| format!("proxy: not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("proxy: write it as http://[user:password@]host:port".into());
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(pairs: &[(&str, &str)]) -> Vec<SettingValue> {
        pairs
            .iter()
            .map(|(k, v)| SettingValue {
                key: k.to_string(),
                value: v.to_string(),
                secret: false,
            })
            .collect()
    }

    #[test]
    fn from_one_url_or_notify_py_s_three_names() {
        assert_eq!(of(&s(&[])), Ok(None));
        assert_eq!(
            of(&s(&[("proxy", "http://p.example:3128")])),
            Ok(Some("http://p.example:3128".into()))
        );
        assert_eq!(
            of(&s(&[
                ("proxy_host", "127.0.0.1"),
                ("proxy_port", "7890"),
                ("proxy_auth", "u:p")
            ])),
            Ok(Some("http://u:p@127.0.0.1:7890".into()))
        );
        assert!(
            of(&s(&[("proxy_host", "h")]))
                .unwrap_err()
                .contains("proxy_port")
        );
        assert!(of(&s(&[("proxy", "socks5://h:1")])).is_err());
    }
}
