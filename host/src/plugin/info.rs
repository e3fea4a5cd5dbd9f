//! What a plugin says about itself, checked before the host trusts it.

use super::allow::HostPattern;
use mcp_push_policy::{Shape, Shapes, declare};
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
    /// Whether its recipients can answer questions in the chat: the
    /// component exports `replies` (see `wit/replies.wit`). Absent from
    /// descriptions kept by builds before it: they cannot.
    #[serde(default)]
    pub can_reply: bool,
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

/// Checks that the plugin's self-description is usable (the rules are
/// `mcp_push_policy::declare`'s, which the SDK's `check_info` applies too);
/// the first problem wins.
pub(crate) fn validate(
    id: &str,
    settings: &[SettingSpec],
    allowed_hosts: &[String],
    schemes: &[String],
    shapes: &Shapes,
) -> Result<Vec<HostPattern>, String> {
    declare::check_id(id)?;
    for (i, s) in settings.iter().enumerate() {
        declare::check_setting_key(&s.key)?;
        if settings[..i].iter().any(|o| o.key == s.key) {
            return Err(format!("setting {:?} is declared twice", s.key));
        }
        for env in &s.env {
            declare::check_env_name(&s.key, env)?;
        }
    }
    for scheme in schemes {
        declare::check_scheme(scheme)?;
    }
    let secret = |key: &str| settings.iter().find(|s| s.key == key).map(|s| s.secret);
    let mut patterns = Vec::with_capacity(allowed_hosts.len());
    for h in allowed_hosts {
        let p: HostPattern = h.parse()?;
        if let HostPattern::Setting(key) = &p {
            declare::check_setting_host(h, key, secret, shapes)?;
        }
        patterns.push(p);
    }
    Ok(patterns)
}

/// Mark secret every setting whose name says it holds a credential.
pub(crate) fn secret_by_name(settings: &mut [SettingSpec]) {
    for s in settings.iter_mut().filter(|s| !s.secret) {
        s.secret = declare::secret_by_name(&s.key, &s.env);
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
