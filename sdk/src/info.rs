//! Builders for the records a channel describes itself with.

use crate::{ChannelInfo, Setting};

impl ChannelInfo {
    pub fn new(id: &str, name: &str, version: &str, description: &str) -> Self {
        ChannelInfo {
            id: id.into(),
            name: name.into(),
            version: version.into(),
            description: description.into(),
            settings: Vec::new(),
            allowed_hosts: Vec::new(),
            schemes: Vec::new(),
            can_edit: false,
        }
    }

    pub fn setting(mut self, setting: Setting) -> Self {
        self.settings.push(setting);
        self
    }

    /// A host this channel may reach: `api.example.com`, `*.example.com`, or
    /// `setting:KEY` for the host of a URL the user configures.
    pub fn allow_host(mut self, host: &str) -> Self {
        self.allowed_hosts.push(host.into());
        self
    }

    /// One-line URL schemes that [`crate::Channel::parse_url`] understands.
    pub fn schemes(mut self, schemes: &[&str]) -> Self {
        self.schemes = schemes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The formats this channel renders (`text`, `markdown`, `html`); others
    /// reach it as plain text. Recorded at the end of the description as
    /// `[formats: ...]`, where `mcp-push channels` reads it (channel-info has
    /// no field for it in 0.1).
    pub fn formats(mut self, formats: &[&str]) -> Self {
        self.description = format!("{} [formats: {}]", self.description, formats.join(", "));
        self
    }

    pub fn can_edit(mut self) -> Self {
        self.can_edit = true;
        self
    }
}

impl Setting {
    pub fn new(key: &str, help: &str) -> Self {
        Setting {
            key: key.into(),
            env: Vec::new(),
            help: help.into(),
            required: false,
            secret: false,
            default: None,
        }
    }

    /// The usual `api_url` setting of a service with an official host: its base
    /// URL, `default` unless the user points it at a proxy or a test server
    /// (allow it with `setting:api_url` beside the official host).
    pub fn api_url(env: &str, default: &str) -> Self {
        Setting::new("api_url", "API base URL, for a proxy or tests")
            .env(&[env])
            .default_value(default)
    }

    /// Environment names read for this setting, first found wins.
    pub fn env(mut self, names: &[&str]) -> Self {
        self.env = names.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    pub fn default_value(mut self, value: &str) -> Self {
        self.default = Some(value.into());
        self
    }
}
