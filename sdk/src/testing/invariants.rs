//! What a channel's `info()` must say for the host to load it and for users
//! to configure it without surprises, checked natively in the channel's own
//! tests: [`check_info`] lists every problem, not the first one.
//!
//! The rules the host enforces come from `mcp-push-policy` where it has
//! them (host patterns, shapes, what counts as a credential's name); the
//! rest are authoring rules the host cannot see broken (a default URL whose
//! host is not allowed fails only at the first send).

use crate::{Channel, ChannelInfo};
use mcp_push_policy::masks::looks_like_credential;
use mcp_push_policy::{AllowList, HostPattern, Shapes, declare};

/// Every problem with `C::info()` (and its shapes and schemes), one line each;
/// empty when there is none.
pub fn check_info<C: Channel>() -> Vec<String> {
    let info = C::info();
    let mut problems = Vec::new();
    settings(&info, &mut problems);
    let shapes = match Shapes::new(
        C::shapes().into_iter().map(super::policy_shape).collect(),
        |k| info.settings.iter().any(|s| s.key == k && s.secret),
    ) {
        Ok(shapes) => shapes,
        Err(why) => {
            problems.push(why);
            Shapes::default()
        }
    };
    hosts(&info, &shapes, &mut problems);
    schemes::<C>(&info, &mut problems);
    problems
}

/// Panics, listing them, when [`check_info`] finds problems.
pub fn assert_info<C: Channel>() {
    let problems = check_info::<C>();
    assert!(
        problems.is_empty(),
        "info() of {:?} has {} problem(s):\n  {}",
        C::info().id,
        problems.len(),
        problems.join("\n  ")
    );
}

/// `url` parses through `C::parse_url` into settings the channel declares,
/// under a scheme it declares; the problems found.
pub fn check_url<C: Channel>(url: &str) -> Vec<String> {
    let info = C::info();
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    let mut problems = Vec::new();
    if !info.schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        problems.push(format!(
            "scheme {scheme:?} of {url:?} is not declared in schemes"
        ));
    }
    match C::parse_url(url) {
        Err(why) => problems.push(format!("{url:?} does not parse: {why}")),
        Ok(pairs) => {
            for (key, _) in pairs {
                if !info.settings.iter().any(|s| s.key == key) {
                    problems.push(format!(
                        "{url:?} sets {key:?}, which is not a declared setting"
                    ));
                }
            }
        }
    }
    problems
}

fn settings(info: &ChannelInfo, problems: &mut Vec<String>) {
    problems.extend(declare::check_id(&info.id).err());
    for (i, s) in info.settings.iter().enumerate() {
        let key = &s.key;
        problems.extend(declare::check_setting_key(key).err());
        if info.settings[..i].iter().any(|o| &o.key == key) {
            problems.push(format!("setting {key:?} is declared twice"));
        }
        for env in &s.env {
            if let Err(why) = declare::check_env_name(key, env) {
                problems.push(why);
            } else if !env
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                problems.push(format!(
                    "setting {key:?}: env name {env:?} is not UPPER_SNAKE_CASE"
                ));
            }
            if let Some(other) = info.settings[..i].iter().find(|o| o.env.contains(env)) {
                problems.push(format!(
                    "env name {env:?} is read by setting {:?} and again by {key:?}",
                    other.key
                ));
            }
        }
        let credential = std::iter::once(key)
            .chain(&s.env)
            .find(|n| looks_like_credential(n));
        if let (Some(name), false) = (credential, s.secret) {
            problems.push(format!(
                "setting {key:?}: {name:?} names a credential, but the setting is not secret"
            ));
        }
        if s.help.trim().is_empty() {
            problems.push(format!("setting {key:?} has no help text"));
        }
        if s.required && s.default.is_some() {
            problems.push(format!(
                "setting {key:?} is required and has a default: the default never applies"
            ));
        }
    }
}

fn hosts(info: &ChannelInfo, shapes: &Shapes, problems: &mut Vec<String>) {
    let mut patterns = Vec::new();
    for h in &info.allowed_hosts {
        match h.parse::<HostPattern>() {
            Ok(p) => patterns.push(p),
            Err(why) => problems.push(why),
        }
    }
    let named: Vec<&str> = patterns
        .iter()
        .filter_map(|p| match p {
            HostPattern::Setting(key) => Some(key.as_str()),
            _ => None,
        })
        .collect();
    let secret = |key: &str| {
        info.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.secret)
    };
    for key in &named {
        if let Err(why) =
            declare::check_setting_host(&format!("setting:{key}"), key, secret, shapes)
        {
            problems.push(why);
        }
    }
    // A URL setting with a default: the default's host is one the channel
    // names (users see it in `mcp-push channels`), and a user's own URL in
    // its place is reachable too (`setting:KEY`).
    let fixed: Vec<HostPattern> = patterns
        .iter()
        .filter(|p| !matches!(p, HostPattern::Setting(_)))
        .cloned()
        .collect();
    let fixed = AllowList::resolve(&fixed, |_| None);
    for s in &info.settings {
        let Some(default) = s.default.as_deref() else {
            continue;
        };
        let Ok(url) = url::Url::parse(default) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let host = url.host_str().unwrap_or_default();
        if !fixed.allows(host, url.port_or_known_default().unwrap_or(0)) {
            problems.push(format!(
                "setting {:?}: the default {default:?} is not on an allowed host (add {host:?})",
                s.key
            ));
        }
        let own = named
            .iter()
            .any(|k| *k == s.key || k.split_once('.').is_some_and(|(b, _)| b == s.key));
        if !own {
            problems.push(format!(
                "setting {:?} is a URL with a default, but a user's URL there would be denied \
                 (add \"setting:{}\")",
                s.key, s.key
            ));
        }
    }
}

fn schemes<C: Channel>(info: &ChannelInfo, problems: &mut Vec<String>) {
    for scheme in &info.schemes {
        if let Err(why) = declare::check_scheme(scheme) {
            problems.push(why);
            continue;
        }
        // An empty URL of the scheme: parse_url may refuse it for what is
        // missing, but not for its scheme.
        if let Err(why) = C::parse_url(&format!("{scheme}://")) {
            let unknown = why.contains("no one-line URL form")
                || why.contains(&format!("scheme {scheme}:// is not one of"));
            if unknown {
                problems.push(format!(
                    "URL scheme {scheme:?} is declared, but parse_url does not take it: {why}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    struct Sloppy;

    impl Channel for Sloppy {
        fn info() -> ChannelInfo {
            ChannelInfo::new("sloppy", "Sloppy", "0.0.1", "test")
                .setting(Setting::new("api_token", "t").env(&["SLOPPY_TOKEN"]))
                .setting(Setting::new("api_token", "again"))
                .setting(Setting::new("chat", "").env(&["SLOPPY_TOKEN", "lower"]))
                .setting(Setting::api_url(
                    "SLOPPY_API_URL",
                    "https://api.sloppy.example",
                ))
                .setting(
                    Setting::new("hook", "h")
                        .required()
                        .secret()
                        .default_value("x"),
                )
                .allow_host("setting:hook")
                .allow_host("setting:nope")
                .allow_host("*")
                .schemes(&["sloppy", "Bad"])
        }

        fn send(_: &Settings, _: &Message) -> Result<Receipt, SendError> {
            Ok(Receipt::none())
        }
    }

    struct Tidy;

    impl Channel for Tidy {
        fn info() -> ChannelInfo {
            ChannelInfo::new("tidy", "Tidy", "0.0.1", "test")
                .setting(
                    Setting::new("token", "t")
                        .env(&["TIDY_TOKEN"])
                        .required()
                        .secret(),
                )
                .setting(Setting::new("hook", "h").secret())
                .setting(Setting::api_url("TIDY_API_URL", "https://api.tidy.example"))
                .allow_host("api.tidy.example")
                .allow_host("setting:api_url")
                .allow_host("setting:hook.origin")
                .schemes(&["tidy"])
        }

        fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
            let u = OneLine::parse(url, &["tidy"])?;
            Pairs::new().set("token", u.host).set("bogus", "1").done()
        }

        fn shapes() -> Vec<Shape> {
            vec![Shape::url_with_public_origin("hook")]
        }

        fn send(_: &Settings, _: &Message) -> Result<Receipt, SendError> {
            Ok(Receipt::none())
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let problems = check_info::<Sloppy>();
        let has = |part: &str| {
            assert!(
                problems.iter().any(|p| p.contains(part)),
                "no problem mentions {part:?}: {problems:#?}"
            )
        };
        has("\"api_token\" is declared twice");
        has("\"api_token\": \"api_token\" names a credential");
        has("\"SLOPPY_TOKEN\" is read by setting \"api_token\" and again by \"chat\"");
        has("\"lower\" is not UPPER_SNAKE_CASE");
        has("\"chat\" has no help text");
        has("\"hook\" is required and has a default");
        has("names secret setting \"hook\"");
        has("\"setting:nope\" names a setting that is not declared");
        has("allowed host \"*\" is refused");
        has("the default \"https://api.sloppy.example\" is not on an allowed host");
        has("add \"setting:api_url\"");
        has("invalid URL scheme \"Bad\"");
        has("scheme \"sloppy\" is declared, but parse_url does not take it");
    }

    #[test]
    fn a_tidy_channel_passes_and_its_urls_are_checked() {
        assert_eq!(check_info::<Tidy>(), Vec::<String>::new());
        assert_info::<Tidy>();
        assert_eq!(
            check_url::<Tidy>("tidy://T0K"),
            vec!["\"tidy://T0K\" sets \"bogus\", which is not a declared setting"]
        );
        assert_eq!(check_url::<Tidy>("other://x").len(), 2);
    }
}
