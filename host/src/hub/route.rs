//! Which channels get a notification, and which notifications are not sent.

use super::HubError;
use crate::config::Channel;
use crate::notification::Notification;

#[derive(Debug, Clone, Default)]
pub struct Route {
    /// Exact titles that are never sent (notify.py's SKIP_PUSH_TITLE).
    pub skip_titles: Vec<String>,
}

impl Route {
    pub fn skip_reason(&self, msg: &Notification) -> Option<String> {
        self.skip_titles
            .contains(&msg.title)
            .then(|| format!("the title {:?} is listed in SKIP_PUSH_TITLE", msg.title))
    }

    /// All channels, or the named ones (each name must exist).
    pub fn select<'a>(
        &self,
        channels: &'a [Channel],
        only: &[String],
    ) -> Result<Vec<&'a Channel>, HubError> {
        if only.is_empty() {
            return Ok(channels.iter().collect());
        }
        only.iter()
            .map(|name| {
                channels
                    .iter()
                    .find(|c| c.id.as_str() == name)
                    .ok_or_else(|| HubError::UnknownChannel {
                        name: name.clone(),
                        known: channels.iter().map(|c| c.id.to_string()).collect(),
                    })
            })
            .collect()
    }
}
