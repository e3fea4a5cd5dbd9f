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
    let parts = plugin.public_parts(&values);
    let value = |key: &str| {
        values
            .iter()
            .find(|s| s.key == key && !s.secret)
            .map(|s| s.value.as_str())
            .or_else(|| {
                parts
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            })
    };
    let fixed: Vec<HostPattern> = info
        .allowed_hosts
        .iter()
        .filter(|p| !matches!(p, HostPattern::Setting(_)))
        .cloned()
        .collect();
    let fixed = AllowList::resolve(&fixed, |_| None);
    let defaults = plugin.default_hosts();
    let written = words(url);
    for pattern in &info.allowed_hosts {
        let HostPattern::Setting(key) = pattern else {
            continue;
        };
        let Some((host, port)) = value(key).and_then(origin_of) else {
            continue;
        };
        let reach = |list: &AllowList| match port {
            Some(p) => list.allows(&host, p),
            None => list.allows(&host, 443),
        };
        let in_url = written.contains(&host)
            && port.is_none_or(|p| is_default_port(p) || written.contains(&p.to_string()));
        if reach(&fixed) || defaults.iter().any(|(_, list)| reach(list)) || in_url {
            continue;
        }
        let base = key.split_once('.').map_or(key.as_str(), |(b, _)| b);
        return Err(format!(
            "plugin file `{}` read this URL as sending to {}, which the URL does not name; \
             a plugin's URL may only point it at hosts you wrote: if that host is right, set \
             `{base} = \"…\"` in the channel's table",
            info.id,
            match port {
                Some(p) if !is_default_port(p) => format!("{host}:{p}"),
                _ => host.clone(),
            }
        ));
    }
    Ok(())
}

fn is_default_port(port: u16) -> bool {
    [80, 443, 25, 465, 587].contains(&port)
}

/// The host names, addresses and numbers written in `url`, lower-cased, as
/// `origin_of` writes them: the URL percent-decoded, split at every ASCII
/// character a host name cannot hold (so `a.b` is not found inside `xa.bc`),
/// bracketed IPv6 addresses whole, and Unicode names also in their ASCII form.
fn words(url: &str) -> BTreeSet<String> {
    let decoded = percent_encoding::percent_decode_str(url)
        .decode_utf8_lossy()
        .to_lowercase();
    let mut out = BTreeSet::new();
    for word in decoded
        .split(|c: char| c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
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
    let mut rest = decoded.as_str();
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
    use super::words;

    #[test]
    fn words_are_whole_host_names_ports_and_addresses() {
        let w = words("json://user:p%40ss@Hook.Example.com:8443/a.b?to=%5B%3A%3A1%5D&x=xa.bc");
        for expected in ["hook.example.com", "8443", "::1", "xa.bc", "user"] {
            assert!(w.contains(expected), "{expected} in {w:?}");
        }
        assert!(!w.contains("a.bc"), "{w:?}");
        assert!(!w.contains("example.com"), "{w:?}");
        let w = words("x://bücher.example/");
        assert!(w.contains("xn--bcher-kva.example"), "{w:?}");
    }
}
