use crate::SendError;

/// The settings a channel instance was configured with (secrets as placeholders).
/// Empty values count as absent.
#[derive(Debug, Clone, Default)]
pub struct Settings(Vec<(String, String)>);

impl From<Vec<(String, String)>> for Settings {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Settings(pairs)
    }
}

impl Settings {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// The value, or a `config` error naming the setting.
    pub fn require(&self, key: &str) -> Result<&str, SendError> {
        self.get(key)
            .ok_or_else(|| SendError::Config(format!("setting `{key}` is missing")))
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`; absent is `None`.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, SendError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(SendError::Config(format!(
                "setting `{key}` must be true or false, not {v:?}"
            ))),
        }
    }

    /// Parse a value (a number, say); absent is `None`.
    pub fn parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, SendError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                SendError::Config(format!("setting `{key}` has an invalid value {v:?}"))
            }),
        }
    }

    /// A base URL (a self-hosted server, or an override of the service's
    /// official one): the setting, else `default`; it must be http(s) (a bare
    /// `host[:port]` means https), and a trailing `/` is dropped.
    pub fn base_url(&self, key: &str, default: &str) -> Result<String, SendError> {
        let given = self.get(key).unwrap_or(default).trim();
        let url = if given.contains("://") || given.is_empty() {
            given.to_string()
        } else {
            format!("https://{given}")
        };
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.starts_with('/') => {
                Ok(url.trim_end_matches('/').to_string())
            }
            _ => Err(SendError::Config(format!(
                "setting `{key}` must be an http:// or https:// URL, not {given:?}"
            ))),
        }
    }

    /// A list written in one value, split at any of `separators`, each item
    /// trimmed, empty ones dropped.
    pub fn list(&self, key: &str, separators: &[char]) -> Vec<&str> {
        self.get(key)
            .map(|v| {
                v.split(separators)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One of `choices` (compared case-insensitively), else a `config` error
    /// that lists them; absent is `default`.
    pub fn choice<'a>(
        &self,
        key: &str,
        choices: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str, SendError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(v.trim()))
            .copied()
            .ok_or_else(|| {
                SendError::Config(format!(
                    "setting `{key}` must be one of {}, not {v:?}",
                    choices.join(", ")
                ))
            })
    }

    /// Copy each of `keys` that has a value into the JSON object `into`,
    /// under the same name: a service's optional fields (Mattermost's
    /// `channel`, PagerDuty's `component`) sent only when set.
    pub fn copy_into(&self, into: &mut serde_json::Value, keys: &[&str]) {
        let same: Vec<(&str, &str)> = keys.iter().map(|k| (*k, *k)).collect();
        for (field, value) in self.fields(&same) {
            into[field] = serde_json::Value::from(value);
        }
    }

    /// The optional settings among `keys` that are set, each under the name
    /// the service gives it: `(setting, field)` pairs in, `(field, value)`
    /// out, in the order given. For copying optional settings into a form or
    /// a JSON body without a loop in every channel.
    pub fn fields<'k>(&self, keys: &[(&str, &'k str)]) -> Vec<(&'k str, &str)> {
        keys.iter()
            .filter_map(|(key, field)| self.get(key).map(|v| (*field, v)))
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn base_urls_lists_and_choices() {
        let s = settings(&[
            ("api", "http://127.0.0.1:9/x/"),
            ("bad", "ftp://x"),
            ("ids", " a;b ;;c "),
            ("kind", "Group"),
        ]);
        assert_eq!(
            s.base_url("api", "https://d").unwrap(),
            "http://127.0.0.1:9/x"
        );
        assert_eq!(s.base_url("none", "https://d/").unwrap(), "https://d");
        assert_eq!(
            s.base_url("none", "tg.example:8443").unwrap(),
            "https://tg.example:8443"
        );
        let e = s.base_url("bad", "https://d").unwrap_err();
        assert!(matches!(e, SendError::Config(m) if m.contains("`bad`")));
        assert_eq!(s.list("ids", &[';']), vec!["a", "b", "c"]);
        assert!(s.list("none", &[';']).is_empty());
        assert_eq!(
            s.choice("kind", &["send", "group"], "send").unwrap(),
            "group"
        );
        assert_eq!(
            s.choice("none", &["send", "group"], "send").unwrap(),
            "send"
        );
        assert!(s.choice("ids", &["send", "group"], "send").is_err());
    }

    #[test]
    fn copies_the_set_ones_into_json() {
        let s = settings(&[("channel", "ops"), ("username", " "), ("other", "x")]);
        let mut body = serde_json::json!({"text": "hi"});
        s.copy_into(&mut body, &["channel", "username", "icon_url"]);
        assert_eq!(body, serde_json::json!({"text": "hi", "channel": "ops"}));
    }

    #[test]
    fn fields_renames_the_settings_that_are_set() {
        let s = settings(&[("sound", "8"), ("icon", " "), ("device", "gs23")]);
        assert_eq!(
            s.fields(&[
                ("device", "d"),
                ("sound", "s"),
                ("icon", "i"),
                ("none", "n")
            ]),
            vec![("d", "gs23"), ("s", "8")]
        );
        assert!(s.fields(&[]).is_empty());
    }
}
