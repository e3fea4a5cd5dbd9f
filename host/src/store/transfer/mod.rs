//! Moving a store from SQLite to PostgreSQL (`mcp-push migrate`, issue 19),
//! history and all: every table of [`tables::TABLES`], ids kept (event ids
//! are the `since=` cursors clients hold, delivery ids are in URLs), the
//! identity sequences moved past them. It stops at the copy: the command
//! line says what to run next.
//!
//! All or nothing: the target is written in one transaction, which is
//! committed only once it holds exactly as many rows of each table as the
//! source snapshot; any failure before that leaves it as it was. A target
//! that already holds anything is refused: two histories are never merged.

pub(in crate::store) mod tables;

use super::postgres::PgOptions;
use super::sqlite::SqliteSnapshot;
use super::{PgStore, StoreError, UnixMillis};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tables::TABLES;

/// Rows per statement. A thousand events of a few KiB each make a statement
/// of a few MiB; 10,000 events and their deliveries take about 20 statements.
const PAGE_ROWS: usize = 1_000;

/// Why a copy did not happen, by what the user does next.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// Fix `--from`: a missing file is never taken for an empty store.
    #[error("no store at {}: there is no such file (check --from)", path.display())]
    SourceMissing { path: PathBuf },
    /// Stop the hub that still uses the source, then run it again.
    #[error(
        "process {pid} is still sending from {} (it holds deliveries until {}): stop \
         `mcp-push serve` and `mcp-push mcp` on that file first, so that nothing they do \
         after the copy is lost; nothing was written",
        path.display(),
        until.to_rfc3339()
    )]
    SourceBusy {
        path: PathBuf,
        pid: u32,
        until: UnixMillis,
    },
    /// Pick another target.
    #[error(
        "{target} already holds {held}: migrate copies into an empty store only, so that \
         two histories are never merged; nothing was written. Pass --to with a new \
         database (createdb NAME)"
    )]
    TargetNotEmpty { target: String, held: String },
    /// Should not happen: the copy was rolled back, report it.
    #[error(
        "the copy does not match the source ({detail}): it was rolled back, nothing was \
         written to {target}"
    )]
    Mismatch { target: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rows copied, per table.
#[derive(Debug, Clone, PartialEq)]
pub struct Copied {
    /// `(table, rows)`, in the order they were copied.
    pub tables: Vec<(&'static str, u64)>,
    /// The target's URL, password masked.
    pub target: String,
    pub took: Duration,
}

/// Copy the SQLite store at `from` into the PostgreSQL database at `to`,
/// migrating its schema first (as `serve` does on start). `now` tells a
/// lease that still runs from one that ran out.
pub fn sqlite_to_postgres(from: &Path, to: &str, now: UnixMillis) -> Result<Copied, TransferError> {
    let started = Instant::now();
    if !from.is_file() {
        return Err(TransferError::SourceMissing {
            path: from.to_path_buf(),
        });
    }
    let mut source = SqliteSnapshot::open(from)?;
    if let Some(lease) = source.live_lease(now)? {
        return Err(TransferError::SourceBusy {
            path: from.to_path_buf(),
            pid: lease.pid,
            until: lease.until,
        });
    }
    let expected = TABLES
        .iter()
        .map(|t| source.count(t))
        .collect::<Result<Vec<_>, _>>()?;
    let target = PgStore::open(to, PgOptions::default())?;
    let shown = target.target().to_string();
    target.import(|into| {
        let held = into.counts()?;
        if held.iter().any(|n| *n > 0) {
            return Err(TransferError::TargetNotEmpty {
                target: shown.clone(),
                held: describe(&held),
            });
        }
        for table in TABLES {
            source.pages(table, PAGE_ROWS, |page| -> Result<(), TransferError> {
                into.insert(table, page)?;
                Ok(())
            })?;
            if let Some(highest) = source.highest_id(table)? {
                into.continue_after(table, highest)?;
            }
        }
        let copied = into.counts()?;
        if copied != expected {
            return Err(TransferError::Mismatch {
                target: shown.clone(),
                detail: format!(
                    "source {}, target {}",
                    describe(&expected),
                    describe(&copied)
                ),
            });
        }
        Ok(())
    })?;
    Ok(Copied {
        tables: TABLES.iter().map(|t| t.name).zip(expected).collect(),
        target: shown,
        took: started.elapsed(),
    })
}

/// "3 events, 0 deliveries, 1 runs, 0 watchers".
fn describe(counts: &[u64]) -> String {
    let parts: Vec<String> = TABLES
        .iter()
        .zip(counts)
        .map(|(t, n)| {
            let noun = match (*n, t.name) {
                (1, "deliveries") => "delivery",
                (1, name) => name.trim_end_matches('s'),
                (_, name) => name,
            };
            format!("{n} {noun}")
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests;
