//! Where the store is: `--db`, else `MCP_PUSH_DB`, else the platform data
//! dir's file. A `postgres://` (or `postgresql://`) URL names a PostgreSQL
//! server, for several hubs sharing one store; anything else is a SQLite file.

use super::sqlite::{default_db_path, resolve_db_path};
use super::{is_postgres_url, shown_url};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    Sqlite(PathBuf),
    /// The URL as given, password included: never print it (see [`Location::shown`]).
    Postgres(String),
}

impl Location {
    /// `None` when there is no flag, no variable, and no home or data dir.
    pub fn resolve(flag: Option<PathBuf>) -> Option<Location> {
        resolve_db_path(flag).map(|p| match p.to_str() {
            Some(s) if is_postgres_url(s) => Location::Postgres(s.to_string()),
            _ => Location::Sqlite(p),
        })
    }

    /// As it may be shown: the file's path, or the URL with its password masked.
    pub fn shown(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => shown_url(url),
        }
    }

    /// Where files kept beside the store go (hook sessions): the file's
    /// directory, or, for a server, the platform data dir.
    pub fn local_dir(&self) -> Option<PathBuf> {
        match self {
            Location::Sqlite(p) => Some(p.parent().map(PathBuf::from).unwrap_or_default()),
            Location::Postgres(_) => default_db_path()?.parent().map(PathBuf::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_postgres_and_a_path_is_sqlite() {
        let pg = Location::resolve(Some("postgresql://u:pw@h/db".into())).unwrap();
        assert_eq!(pg, Location::Postgres("postgresql://u:pw@h/db".into()));
        assert_eq!(pg.shown(), "postgresql://u:***@h/db");
        assert!(
            pg.local_dir()
                .is_some_and(|d| !d.starts_with("postgresql:"))
        );
        let file = Location::resolve(Some("/tmp/x/hub.db".into())).unwrap();
        assert_eq!(file, Location::Sqlite("/tmp/x/hub.db".into()));
        assert_eq!(file.local_dir(), Some(PathBuf::from("/tmp/x")));
    }
}
