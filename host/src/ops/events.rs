//! Read the event log.

use super::OpError;
use crate::hub::blocking;
use crate::store::{EventQuery, Store, StoredEvent};
use std::sync::Arc;

/// Oldest first, as `query` selects.
pub async fn list(store: &Arc<dyn Store>, query: EventQuery) -> Result<Vec<StoredEvent>, OpError> {
    let store = store.clone();
    Ok(blocking(move || store.events(&query)).await?)
}
