//! What a channel may declare about itself: the syntax of its id, setting
//! keys, environment names and URL schemes; which settings are secret
//! whatever it says; and which settings may name a host it reaches.
//!
//! The host refuses a plugin that breaks one of these (the first problem
//! wins); the SDK's `check_info` reports every one, with the same words, next
//! to authoring rules the host cannot see broken.

use crate::Shapes;

/// A plugin id: what users write in `[channels.NAME] plugin = "…"`.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    match ok {
        true => Ok(()),
        false => Err(format!(
            "id {id:?} must be 1 to 32 lowercase letters, digits or `-`, starting with a letter"
        )),
    }
}

/// A setting key: a config file's key and half of a `setting:` host.
pub fn check_setting_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(format!(
            "setting key {key:?} must be lowercase letters, digits or `_`"
        )),
    }
}

/// An environment name a setting reads (notify.py's are all `A-Z0-9_`).
pub fn check_env_name(key: &str, env: &str) -> Result<(), String> {
    let ok = !env.is_empty() && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match ok {
        true => Ok(()),
        false => Err(format!("setting {key:?} has an invalid env name {env:?}")),
    }
}

/// A one-line URL scheme (RFC 3986's syntax, lowercase).
pub fn check_scheme(scheme: &str) -> Result<(), String> {
    let ok = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c));
    match ok {
        true => Ok(()),
        false => Err(format!("invalid URL scheme {scheme:?}")),
    }
}

/// A setting whose key or environment name says it holds a credential is
/// secret whatever the plugin says: a plugin must not get a token in clear
/// (to post or log) by calling it public.
pub fn secret_by_name(key: &str, env: &[String]) -> bool {
    const WORDS: [&str; 5] = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"];
    let credential = |name: &str| {
        let name = name.to_ascii_uppercase();
        WORDS.iter().any(|w| name.contains(w))
    };
    credential(key) || env.iter().any(|e| credential(e))
}

/// An allowed host `pattern` written `setting:KEY` must come from a value
/// that is not secret: a setting the plugin does not mark secret, or a part
/// of a secret's form that its shape declares public
/// (`setting:webhook_url.origin`). Otherwise which hosts a channel may reach
/// would tell the plugin about a secret, and a secret would be shown as a
/// host name wherever allowed hosts are listed. `secret` says whether a
/// setting is declared and secret (`None`: not declared).
pub fn check_setting_host(
    pattern: &str,
    key: &str,
    secret: impl Fn(&str) -> Option<bool>,
    shapes: &Shapes,
) -> Result<(), String> {
    let (base, part) = match key.split_once('.') {
        Some((base, part)) => (base, Some(part)),
        None => (key, None),
    };
    let Some(is_secret) = secret(base) else {
        return Err(format!(
            "allowed host {pattern:?} names a setting that is not declared"
        ));
    };
    match part {
        None if is_secret => Err(format!(
            "allowed host {pattern:?} names secret setting {base:?}: a host must not come from a \
             secret; declare a shape for it with a public part (e.g. `setting:{base}.origin`)"
        )),
        None => Ok(()),
        Some(part) if is_secret && shapes.is_public_part(base, part) => Ok(()),
        Some(part) => Err(format!(
            "allowed host {pattern:?} names {part:?}, which is not a public part of a declared \
             shape of secret setting {base:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_schemes() {
        assert!(check_id("wecom-app").is_ok());
        for bad in ["", "Wecom", "1x", "a_b", &"a".repeat(33)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_setting_key("bot_token").is_ok());
        for bad in ["", "Bot", "a-b", "a.b"] {
            assert!(check_setting_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_env_name("k", "TG_BOT_TOKEN").is_ok());
        for bad in ["", "A-B", "A B"] {
            assert!(check_env_name("k", bad).is_err(), "{bad:?}");
        }
        for good in ["tgram", "mailto", "a+b.c-d"] {
            assert!(check_scheme(good).is_ok(), "{good:?}");
        }
        for bad in ["", "Bad", "1x", "a_b"] {
            assert!(check_scheme(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_are_secret_by_name() {
        assert!(secret_by_name("bot_token", &[]));
        assert!(secret_by_name("chat", &["QYWX_KEY".into()]));
        assert!(secret_by_name("smtp_passwd", &[]));
        assert!(!secret_by_name("chat_id", &["TG_USER_ID".into()]));
    }

    #[test]
    fn a_host_never_comes_from_a_secret() {
        let url = crate::Form {
            name: "url".into(),
            pattern: r"(?P<origin>[a-z]+://[^/?#]+)(?P<rest>[/?#].*)?".into(),
            public: vec!["origin".into()],
        };
        let hook = crate::Shape {
            key: "hook".into(),
            separator: None,
            forms: vec![url],
        };
        let shapes = Shapes::new(vec![hook], |k| k == "hook").unwrap();
        let secret = |k: &str| match k {
            "hook" => Some(true),
            "api_url" => Some(false),
            _ => None,
        };
        let check = |key: &str| check_setting_host(&format!("setting:{key}"), key, secret, &shapes);
        assert!(check("api_url").is_ok());
        assert!(check("hook.origin").is_ok());
        assert!(
            check("hook")
                .unwrap_err()
                .contains("names secret setting \"hook\"")
        );
        assert!(
            check("hook.path")
                .unwrap_err()
                .contains("not a public part")
        );
        assert!(
            check("api_url.origin")
                .unwrap_err()
                .contains("not a public part")
        );
        assert!(check("nope").unwrap_err().contains("not declared"));
    }
}
