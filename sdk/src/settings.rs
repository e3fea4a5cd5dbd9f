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

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
