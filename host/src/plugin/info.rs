//! What a plugin says about itself, checked before the host trusts it.

use super::allow::HostPattern;
use mcp_push_policy::{Shape, Shapes};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingSpec {
    pub key: String,
    pub env: Vec<String>,
    pub help: String,
    pub required: bool,
    pub secret: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub settings: Vec<SettingSpec>,
    pub allowed_hosts: Vec<HostPattern>,
    pub schemes: Vec<String>,
    pub can_edit: bool,
    /// Formats the channel renders beyond plain text (`text`, `markdown`,
    /// `html`); empty when it did not say.
    pub formats: Vec<String>,
    /// What the host may look at in its secret settings' values, and hand
    /// over in clear (see `mcp_push_policy::shape`).
    pub shapes: Vec<Shape>,
}

impl PluginInfo {
    pub fn setting(&self, key: &str) -> Option<&SettingSpec> {
        self.settings.iter().find(|s| s.key == key)
    }
}

/// Checks that the plugin's self-description is usable; the first problem wins.
pub(crate) fn validate(
    id: &str,
    settings: &[SettingSpec],
    allowed_hosts: &[String],
    schemes: &[String],
    shapes: &Shapes,
) -> Result<Vec<HostPattern>, String> {
    let id_ok = (1..=32).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !id_ok {
        return Err(format!(
            "id {id:?} must be 1 to 32 lowercase letters, digits or `-`, starting with a letter"
        ));
    }
    for (i, s) in settings.iter().enumerate() {
        let key_ok = !s.key.is_empty()
            && s.key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(format!(
                "setting key {:?} must be lowercase letters, digits or `_`",
                s.key
            ));
        }
        if settings[..i].iter().any(|o| o.key == s.key) {
            return Err(format!("setting {:?} is declared twice", s.key));
        }
        if let Some(bad) = s
            .env
            .iter()
            .find(|e| e.is_empty() || !e.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(format!(
                "setting {:?} has an invalid env name {bad:?}",
                s.key
            ));
        }
    }
    if let Some(bad) = schemes.iter().find(|s| {
        s.is_empty()
            || !s.starts_with(|c: char| c.is_ascii_lowercase())
            || !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
    }) {
        return Err(format!("invalid URL scheme {bad:?}"));
    }
    let mut patterns = Vec::with_capacity(allowed_hosts.len());
    for h in allowed_hosts {
        let p: HostPattern = h.parse()?;
        if let HostPattern::Setting(key) = &p {
            check_setting_host(h, key, settings, shapes)?;
        }
        patterns.push(p);
    }
    Ok(patterns)
}

/// A `setting:` host must come from a value that is not secret: a setting
/// the plugin does not mark secret, or a part of a secret's form that its
/// shape declares public (`setting:webhook_url.origin`). Otherwise which
/// hosts a channel may reach would tell the plugin about a secret, and a
/// secret would be shown as a host name wherever allowed hosts are listed.
fn check_setting_host(
    pattern: &str,
    key: &str,
    settings: &[SettingSpec],
    shapes: &Shapes,
) -> Result<(), String> {
    let (base, part) = match key.split_once('.') {
        Some((base, part)) => (base, Some(part)),
        None => (key, None),
    };
    let Some(spec) = settings.iter().find(|s| s.key == base) else {
        return Err(format!(
            "allowed host {pattern:?} names a setting it does not declare"
        ));
    };
    match part {
        None if spec.secret => Err(format!(
            "allowed host {pattern:?} names secret setting {base:?}: a host must not come from a \
             secret; declare a shape for it with a public part (e.g. `setting:{base}.origin`)"
        )),
        None => Ok(()),
        Some(part) if spec.secret && shapes.is_public_part(base, part) => Ok(()),
        Some(part) => Err(format!(
            "allowed host {pattern:?} names {part:?}, which is not a public part of a declared \
             shape of secret setting {base:?}"
        )),
    }
}

/// A setting whose key or environment name looks like a credential is secret,
/// whatever the plugin says: a plugin must not get a token in clear (to post
/// or log) by calling it public.
pub(crate) fn secret_by_name(settings: &mut [SettingSpec]) {
    const WORDS: [&str; 5] = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"];
    let credential = |name: &str| {
        let name = name.to_ascii_uppercase();
        WORDS.iter().any(|w| name.contains(w))
    };
    for s in settings.iter_mut().filter(|s| !s.secret) {
        if credential(&s.key) || s.env.iter().any(|e| credential(e)) {
            s.secret = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(key: &str, env: &[&str]) -> SettingSpec {
        SettingSpec {
            key: key.into(),
            env: env.iter().map(|e| e.to_string()).collect(),
            help: String::new(),
            required: false,
            secret: false,
            default: None,
        }
    }

    #[test]
    fn credential_names_are_secret_whatever_the_plugin_says() {
        let mut s = vec![
            spec("aws", &["AWS_SECRET_ACCESS_KEY"]),
            spec("gh", &["GITHUB_TOKEN"]),
            spec("api_key", &[]),
            spec("pw", &["X_PASSWD"]),
            spec("chat_id", &["TG_USER_ID"]),
        ];
        secret_by_name(&mut s);
        let secret: Vec<bool> = s.iter().map(|s| s.secret).collect();
        assert_eq!(secret, [true, true, true, true, false]);
    }
}
