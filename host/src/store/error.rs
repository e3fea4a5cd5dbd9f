use std::path::PathBuf;

/// Why the store could not do what was asked. Never a silent loss: an open
/// that cannot trust the file stops here instead of recreating it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{} is not an mcp-push database (file is not a database): move it away or pass --db",
        path.display()
    )]
    NotADatabase { path: PathBuf },
    #[error(
        "{} is damaged ({detail}): keep a copy of it, then restore it from a backup, or move it \
         away (or pass --db NEW_FILE) to start a new store",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    /// `at` names the store: its file, or its URL with the password masked.
    #[error(
        "{at} was written by a newer mcp-push (schema {found}, this one knows up to {supported}): upgrade mcp-push or pass another --db"
    )]
    TooNew {
        at: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "{} is locked by another process (still busy after {waited_ms} ms): wait for it or stop the other mcp-push",
        path.display()
    )]
    Locked { path: PathBuf, waited_ms: u128 },
    #[error(
        "{} is not an mcp-push database (it holds {}): it was left unchanged; pass --db with a new file name",
        path.display(),
        describe_tables(tables)
    )]
    Foreign { path: PathBuf, tables: Vec<String> },
    #[error(
        "{} was deleted or replaced while mcp-push was running: nothing more is written, since writes to the old file would be lost; restart mcp-push to use the file now at that path",
        path.display()
    )]
    Replaced { path: PathBuf },
    #[error("cannot open {}: {detail}", path.display())]
    Open { path: PathBuf, detail: String },
    #[error("no delivery {0}")]
    NoSuchDelivery(super::DeliveryId),
    #[error("delivery {0} is being sent right now; look again in a moment")]
    InFlight(super::DeliveryId),
    #[error("delivery {id} is {state}: only failed and pending deliveries can be retried")]
    NotRetryable {
        id: super::DeliveryId,
        state: super::DeliveryState,
    },
    #[error("delivery {id} is already {state}; only a pending delivery can change (to {wanted})")]
    NotPending {
        id: super::DeliveryId,
        state: super::DeliveryState,
        wanted: super::DeliveryState,
    },
    #[error("a delivery is marked {0} only by sending it; use skipped or coalesced")]
    NotACloseState(super::DeliveryState),
    #[error("a watcher named {0:?} exists: pick another name, or update that one")]
    WatcherNameTaken(String),
    #[error(
        "there are {max} watchers already, the most allowed ([watchers] max): delete one first"
    )]
    TooManyWatchers { max: usize },
    #[error("stored data is not what this mcp-push expects ({0}): the database may be damaged")]
    BadData(String),
    #[error("database error on {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the store's writer thread stopped; restart mcp-push")]
    WriterGone,
    /// PostgreSQL cannot be reached, refused the login, or dropped the
    /// connection: every statement would fail alike until it is back.
    /// `target` is the URL with its password masked; `detail` never holds it.
    #[error("cannot use PostgreSQL at {target}: {detail}")]
    PostgresDown { target: String, detail: String },
    /// One statement failed on a working connection.
    #[error("database error on PostgreSQL at {target}: {detail}")]
    Postgres { target: String, detail: String },
}

impl StoreError {
    /// About the database as a whole, not one event: every write would fail the same way.
    pub fn is_database_wide(&self) -> bool {
        matches!(
            self,
            StoreError::NotADatabase { .. }
                | StoreError::Corrupt { .. }
                | StoreError::TooNew { .. }
                | StoreError::Locked { .. }
                | StoreError::Open { .. }
                | StoreError::Foreign { .. }
                | StoreError::Replaced { .. }
                | StoreError::WriterGone
                | StoreError::PostgresDown { .. }
        )
    }

    /// The same error again, for each caller of a failed batch
    /// (`rusqlite::Error` cannot be cloned, so not every variant can).
    pub(crate) fn database_wide_copy(&self) -> StoreError {
        match self {
            StoreError::NotADatabase { path } => StoreError::NotADatabase { path: path.clone() },
            StoreError::Corrupt { path, detail } => StoreError::Corrupt {
                path: path.clone(),
                detail: detail.clone(),
            },
            StoreError::TooNew {
                at,
                found,
                supported,
            } => StoreError::TooNew {
                at: at.clone(),
                found: *found,
                supported: *supported,
            },
            StoreError::Locked { path, waited_ms } => StoreError::Locked {
                path: path.clone(),
                waited_ms: *waited_ms,
            },
            StoreError::Open { path, detail } => StoreError::Open {
                path: path.clone(),
                detail: detail.clone(),
            },
            StoreError::Foreign { path, tables } => StoreError::Foreign {
                path: path.clone(),
                tables: tables.clone(),
            },
            StoreError::Replaced { path } => StoreError::Replaced { path: path.clone() },
            StoreError::Sqlite { path, source } => StoreError::Open {
                path: path.clone(),
                detail: source.to_string(),
            },
            StoreError::PostgresDown { target, detail } => StoreError::PostgresDown {
                target: target.clone(),
                detail: detail.clone(),
            },
            StoreError::Postgres { target, detail } => StoreError::Postgres {
                target: target.clone(),
                detail: detail.clone(),
            },
            StoreError::BadData(d) => StoreError::BadData(d.clone()),
            StoreError::NoSuchDelivery(id) => StoreError::NoSuchDelivery(*id),
            _ => StoreError::WriterGone,
        }
    }
}

/// "tables a, b and 3 more", or "no tables" for a file that only has other
/// objects (views, triggers, or another application's id).
fn describe_tables(tables: &[String]) -> String {
    const SHOWN: usize = 5;
    match tables.len() {
        0 => "another application's data".into(),
        n if n <= SHOWN => format!("tables {}", tables.join(", ")),
        n => format!(
            "tables {} and {} more",
            tables[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}
