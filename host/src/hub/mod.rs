//! A notification in, routed to channel instances, delivered, results out.

mod route;

pub use route::Route;

use crate::config::Channel;
use crate::notification::{ChannelId, Notification};
use crate::plugin::{DeliveryError, Receipt};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("no channel is configured")]
    NoChannels,
    #[error("unknown channel `{name}` (channels: {})", known.join(", "))]
    UnknownChannel { name: String, known: Vec<String> },
}

/// How one channel fared.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub channel: ChannelId,
    pub plugin: String,
    #[serde(flatten, serialize_with = "result_fields")]
    pub result: Result<Receipt, DeliveryError>,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
}

fn result_fields<S: serde::Serializer>(
    r: &Result<Receipt, DeliveryError>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(None)?;
    match r {
        Ok(receipt) => {
            m.serialize_entry("ok", &true)?;
            m.serialize_entry("remote_id", &receipt.remote_id)?;
        }
        Err(e) => {
            m.serialize_entry("ok", &false)?;
            m.serialize_entry("error", &e.to_string())?;
        }
    }
    m.end()
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Report {
    /// Not sent, on purpose (a skipped title).
    Skipped { reason: String },
    /// Sent to these channels, each with its own outcome.
    Sent { outcomes: Vec<Outcome> },
}

/// One word for how a send went, across its channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    /// Every channel delivered.
    Success,
    /// Some delivered, some failed.
    Partial,
    /// No channel delivered.
    Failed,
    /// Not sent, on purpose.
    Skipped,
}

impl Overall {
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Success => "success",
            Overall::Partial => "partial",
            Overall::Failed => "failed",
            Overall::Skipped => "skipped",
        }
    }
}

impl Report {
    pub fn overall(&self) -> Overall {
        match self {
            Report::Skipped { .. } => Overall::Skipped,
            Report::Sent { outcomes } => {
                let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
                if ok == outcomes.len() {
                    Overall::Success
                } else if ok == 0 {
                    Overall::Failed
                } else {
                    Overall::Partial
                }
            }
        }
    }
}

pub struct Hub {
    /// Swapped whole by [`Hub::set_channels`] (a plugin hot-loaded); a send
    /// keeps the list it started with.
    channels: RwLock<Arc<Vec<Channel>>>,
    route: Route,
}

impl Hub {
    pub fn new(channels: Vec<Channel>, route: Route) -> Self {
        Hub {
            channels: RwLock::new(Arc::new(channels)),
            route,
        }
    }

    pub fn channels(&self) -> Arc<Vec<Channel>> {
        self.channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Deliver to these channels from now on (sends under way finish with
    /// the ones they started with).
    pub fn set_channels(&self, channels: Vec<Channel>) {
        *self.channels.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(channels);
    }

    /// Deliver to every channel (or the named ones), all at once; one
    /// channel's failure never stops another's delivery.
    pub async fn send(&self, msg: &Notification, only: &[String]) -> Result<Report, HubError> {
        let channels = self.channels();
        if channels.is_empty() {
            return Err(HubError::NoChannels);
        }
        let targets = self.route.select(&channels, only)?;
        if let Some(reason) = self.route.skip_reason(msg) {
            return Ok(Report::Skipped { reason });
        }
        let mut tasks = JoinSet::new();
        for (i, ch) in targets.iter().enumerate() {
            let (ch, msg) = ((*ch).clone(), msg.clone());
            tasks.spawn(async move {
                let started = Instant::now();
                let result = ch
                    .plugin
                    .send(ch.id.as_str(), &ch.settings, &msg, None)
                    .await;
                (i, result, started.elapsed())
            });
        }
        let mut results: Vec<Option<(Result<Receipt, DeliveryError>, Duration)>> =
            vec![None; targets.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, result, elapsed)) => results[i] = Some((result, elapsed)),
                Err(e) => tracing::error!("a delivery task failed: {e}"),
            }
        }
        let outcomes = targets
            .iter()
            .zip(results)
            .map(|(ch, r)| {
                let (result, elapsed) = r.unwrap_or((
                    Err(DeliveryError::Crashed(
                        "the delivery task ended unexpectedly".into(),
                    )),
                    Duration::ZERO,
                ));
                Outcome {
                    channel: ch.id.clone(),
                    plugin: ch.plugin.info().id.clone(),
                    result,
                    elapsed,
                }
            })
            .collect();
        Ok(Report::Sent { outcomes })
    }
}
