//! Where a plugin file's one-line URL may point it.
//!
//! A plugin that declares `setting:api_url` may reach whatever host the
//! user's `api_url` names: that is what approving it meant. But `parse_url`
//! runs in the plugin, so when it turns `myplugin://token@team` into
//! `api_url = https://elsewhere`, the host it picked is not one the user
//! wrote, and the user's token would be filled into requests to it. So a
//! host that a plugin file's `parse_url` gives a `setting:` pattern must be
//! one the plugin may reach anyway (a fixed allowed host, or that setting's
//! approved default), or one written in the URL itself. Bundled plugins'
//! parsers are ours and are not checked.

use crate::plugin::{AllowList, HostPattern, Plugin, SettingValue};
use mcp_push_policy::allow::origin_of;
use std::collections::BTreeSet;

/// Refuses `parsed` (what `plugin`'s `parse_url` made of `url`) when it
/// points a `setting:` host somewhere the user did not write.
pub(super) fn check(plugin: &Plugin, url: &str, parsed: &[(String, String)]) -> Result<(), String> {
    let info = plugin.info();
    let values: Vec<SettingValue> = parsed
        .iter()
        .filter_map(|(k, v)| {
            info.setting(k).map(|s| SettingValue {
                key: s.key.clone(),
                value: v.clone(),
                secret: s.secret,
            })
        })
        .collect();
    let fixed: Vec<HostPattern> = info
        .allowed_hosts
        .iter()
        .filter(|p| !matches!(p, HostPattern::Setting(_)))
        .cloned()
        .collect();
    let fixed = AllowList::resolve(&fixed, |_| None);
    let defaults = plugin.default_hosts();
    let written = Written::of(url);
    for (key, value) in plugin.setting_hosts(&values) {
        let Some((host, port)) = origin_of(&value) else {
            continue;
        };
        let reach = |list: &AllowList| match port {
            Some(p) => list.allows(&host, p),
            None => list.allows(&host, 443),
        };
        if reach(&fixed)
            || defaults.iter().any(|(_, list)| reach(list))
            || written.names(&host, port)
        {
            continue;
        }
        let base = key.split_once('.').map_or(key.as_str(), |(b, _)| b);
        return Err(format!(
            "plugin file `{}` read this URL as sending to {}, which the URL does not name; \
             a plugin's URL may only point it at hosts you wrote: if that host is right, set \
             `{base} = \"…\"` in the channel's table",
            info.id,
            match port {
                Some(p) if p != 80 && p != 443 => format!("{host}:{p}"),
                _ => host.clone(),
            }
        ));
    }
    Ok(())
}

/// The URL the user wrote, decoded, and the host names, addresses and
/// numbers in it.
struct Written {
    text: String,
    words: BTreeSet<String>,
}

impl Written {
    fn of(url: &str) -> Written {
        let text = percent_encoding::percent_decode_str(url)
            .decode_utf8_lossy()
            .to_lowercase();
        let words = words(&text);
        Written { text, words }
    }

    /// Whether `host` (as `origin_of` writes it) is written here, whole,
    /// and `port` with it unless it is HTTP's or HTTPS's: a number
    /// elsewhere in the URL (`/room/22`) does not open that port.
    fn names(&self, host: &str, port: Option<u16>) -> bool {
        self.words.contains(host)
            && port.is_none_or(|p| {
                p == 80
                    || p == 443
                    || self.text.contains(&format!("{host}:{p}"))
                    || self.text.contains(&format!("[{host}]:{p}"))
            })
    }
}

/// The host names, addresses and numbers in `text` (decoded, lower-case):
/// split at every ASCII character a host name cannot hold (so `a.b` is not
/// found inside `xa.bc`), bracketed IPv6 addresses whole, and Unicode names
/// also in their ASCII form.
fn words(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for word in
        text.split(|c: char| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
    {
        let word = word.trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        if !word.is_ascii()
            && let Ok(url::Host::Domain(ascii)) = url::Host::parse(word)
        {
            out.insert(ascii);
        }
        out.insert(word.to_string());
    }
    let mut rest = text;
    while let Some((_, after)) = rest.split_once('[') {
        let Some((inside, after)) = after.split_once(']') else {
            break;
        };
        out.insert(inside.to_string());
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Written;

    #[test]
    fn a_host_is_written_whole_with_its_port() {
        let w = Written::of(
            "json://user:p%40ss@Hook.Example.com:8443/a.b/22?to=%5B%3A%3A1%5D:9000&x=xa.bc",
        );
        assert!(w.names("hook.example.com", Some(8443)));
        assert!(w.names("hook.example.com", Some(443)));
        assert!(w.names("hook.example.com", None));
        assert!(w.names("::1", Some(9000)));
        assert!(w.names("xa.bc", Some(80)));
        // Not whole, or not this host's port.
        assert!(!w.names("example.com", Some(443)));
        assert!(!w.names("a.bc", Some(443)));
        assert!(!w.names("hook.example.com", Some(22)));
        assert!(!w.names("hook.example.com", Some(25)));
        assert!(!w.names("evil.example", Some(443)));
        let w = Written::of("x://bücher.example/");
        assert!(w.names("xn--bcher-kva.example", Some(443)));
    }
}
