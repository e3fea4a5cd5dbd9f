//! Why an operation did nothing, typed by what the caller does next: fix an
//! argument, configure a channel, look for something else, or try again once
//! the store is back.

use crate::hub::HubError;
use crate::notification::{InputError, RunId};
use crate::store::StoreError;

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
}
