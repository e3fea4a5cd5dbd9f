//! The runs: where each long run stands, kept up to date by its events (the
//! rule itself is `run.rs`; this is the role that reads it back).

use super::{RunState, StoreError};
use crate::notification::RunId;
use std::fmt;

text_enum!(
    /// Where a run stands. `succeeded` and `failed` are final.
    RunStatus { Running = "running", Succeeded = "succeeded", Failed = "failed" }
);

/// A run as stored.
pub type Run = RunState;

/// The runs. Their state is written by the append that logs each run event
/// (see [`EventLog`](super::EventLog)); this role only reads it.
pub trait Runs {
    fn run(&self, run_id: &RunId) -> Result<Option<Run>, StoreError>;

    /// Newest first.
    fn list_runs(
        &self,
        status: Option<RunStatus>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Run>, StoreError>;
}
