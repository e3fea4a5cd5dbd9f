//! Why an operation did nothing, typed by what the caller does next: fix an
//! argument, configure a channel, look for something else, or try again once
//! the store is back.

use crate::hub::HubError;
use crate::notification::{InputError, RunId};
use crate::store::{DeliveryId, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// A bad argument: `field` is its dotted path, empty for the whole input.
    /// Shown as [`InputError`] shows it.
    #[error("{}", InputError::new(field.clone(), message.clone()))]
    Invalid { field: String, message: String },
    /// `channels` names a channel that is not configured.
    #[error("unknown channel `{name}` (channels: {})", known.join(", "))]
    UnknownChannel { name: String, known: Vec<String> },
    /// Nothing to send to: the user has to configure a channel first.
    #[error("no channel is configured")]
    NoChannels,
    /// No run has this id.
    #[error("no run {:?}", .0.0)]
    NoSuchRun(RunId),
    /// No watcher has this id or name.
    #[error("no watcher {0:?}")]
    NoSuchWatcher(String),
    /// No question has this id.
    #[error("no question {0}")]
    NoSuchAsk(crate::model::AskId),
    /// No delivery has this id.
    #[error("no delivery {0}")]
    NoSuchDelivery(DeliveryId),
    /// The delivery cannot be retried as it stands: it was sent, skipped or
    /// coalesced (`in_flight: false`), or is being sent right now (`true`).
    #[error("{message}")]
    NotRetryable { in_flight: bool, message: String },
    /// Being worked on right now (a watcher's check): ask again in a moment.
    #[error("{0}")]
    Busy(String),
    /// The event store failed; nothing was written or read.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl OpError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        OpError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<InputError> for OpError {
    fn from(e: InputError) -> Self {
        OpError::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

impl OpError {
    /// A store error, typed where it says something about the request.
    pub fn from_store(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchDelivery(id) => OpError::NoSuchDelivery(id),
            StoreError::InFlight(_) => OpError::NotRetryable {
                in_flight: true,
                message: e.to_string(),
            },
            StoreError::NotRetryable { .. } => OpError::NotRetryable {
                in_flight: false,
                message: e.to_string(),
            },
            other => OpError::Store(other),
        }
    }
}

impl From<HubError> for OpError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::NoChannels => OpError::NoChannels,
            HubError::UnknownChannel { name, known } => OpError::UnknownChannel { name, known },
            HubError::Store(e) => OpError::Store(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_as_the_errors_they_stand_for() {
        for input in [
            InputError::new("data.progress", "must be from 0 to 1"),
            InputError::new("", "expected an object"),
        ] {
            assert_eq!(OpError::from(input.clone()).to_string(), input.to_string());
        }
        let hub = HubError::UnknownChannel {
            name: "x".into(),
            known: vec!["a".into(), "b".into()],
        };
        let shown = hub.to_string();
        assert_eq!(OpError::from(hub).to_string(), shown);
        let store = HubError::Store(StoreError::WriterGone);
        let shown = store.to_string();
        assert_eq!(OpError::from(store).to_string(), shown);
    }

    #[test]
    fn store_errors_about_the_request_are_typed() {
        let id = DeliveryId(3);
        assert!(matches!(
            OpError::from_store(StoreError::NoSuchDelivery(id)),
            OpError::NoSuchDelivery(DeliveryId(3))
        ));
        let busy = StoreError::InFlight(id);
        let shown = busy.to_string();
        match OpError::from_store(busy) {
            OpError::NotRetryable { in_flight, message } => {
                assert!(in_flight);
                assert_eq!(message, shown);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            OpError::from_store(StoreError::WriterGone),
            OpError::Store(StoreError::WriterGone)
        ));
    }
}
