//! `mcp-push migrate --from sqlite:PATH --to postgres://…`: move a SQLite
//! store to PostgreSQL, history and all (issue 19), and say what to run
//! next. The copy itself is `store::sqlite_to_postgres`; this file reads the
//! two places, refuses the directions it does not copy, and prints.

use super::output::outln;
use super::{Cli, fail};
use crate::store::{Copied, UnixMillis, is_postgres_url, shown_url, sqlite_to_postgres};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The SQLite store to copy: sqlite:PATH, or its path (it is only read)
    #[arg(long, value_name = "sqlite:PATH")]
    from: String,
    /// The PostgreSQL database to copy it into, which must hold no events yet:
    /// postgres://USER:PASS@HOST/DB (or postgresql://)
    #[arg(long, value_name = "URL")]
    to: String,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

/// One side of a copy, as given.
#[derive(Debug, PartialEq)]
enum Place {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Place {
    /// `sqlite:PATH`, `sqlite://PATH`, a `postgres://` URL, or a path.
    fn parse(arg: &str) -> Place {
        if is_postgres_url(arg) {
            return Place::Postgres(arg.to_string());
        }
        let path = arg
            .strip_prefix("sqlite://")
            .or_else(|| arg.strip_prefix("sqlite:"))
            .unwrap_or(arg);
        Place::Sqlite(PathBuf::from(path))
    }

    /// As it may be shown: never a password, even in a URL of another scheme.
    fn shown(&self) -> String {
        match self {
            Place::Sqlite(p) => {
                let text = p.display().to_string();
                match url::Url::parse(&text) {
                    Ok(_) => crate::redact::mask_url(&text),
                    Err(_) if text.contains("://") => "a URL that cannot be read".into(),
                    Err(_) => text,
                }
            }
            Place::Postgres(url) => shown_url(url),
        }
    }
}

/// The one direction copied, or what to do instead.
fn direction(from: &str, to: &str) -> Result<(PathBuf, String), String> {
    const ONLY: &str = "migrate copies a SQLite store into PostgreSQL only \
                        (--from sqlite:PATH --to postgres://USER:PASS@HOST/DB)";
    match (Place::parse(from), Place::parse(to)) {
        (Place::Sqlite(path), Place::Postgres(url)) => Ok((path, url)),
        (from @ Place::Postgres(_), _) => Err(format!(
            "--from {} is a PostgreSQL server: {ONLY}; a PostgreSQL store is copied with \
             pg_dump",
            from.shown()
        )),
        (_, to @ Place::Sqlite(_)) => Err(format!(
            "--to {} is not a postgres:// URL: {ONLY}; to copy a SQLite store to another \
             file, stop `serve` and `mcp` and copy the file",
            to.shown()
        )),
    }
}

pub async fn run(cli: &Cli, args: &MigrateArgs) -> ExitCode {
    if cli.db.is_some() {
        return fail("migrate takes --from and --to, not --db");
    }
    let (from, to) = match direction(&args.from, &args.to) {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    let now = UnixMillis::now();
    let source = from.clone();
    let copied =
        match tokio::task::spawn_blocking(move || sqlite_to_postgres(&source, &to, now)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return fail(&format!("nothing was copied: {e}")),
            Err(e) => return fail(&format!("nothing was copied: the copy stopped ({e})")),
        };
    let next = format!("mcp-push serve --db '{}'", copied.target);
    if args.json {
        let tables: serde_json::Map<String, serde_json::Value> = copied
            .tables
            .iter()
            .map(|(t, n)| (t.to_string(), (*n).into()))
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "from": from.display().to_string(),
                "to": copied.target,
                "copied": tables,
                "verified": true,
                "took_ms": copied.took.as_millis() as u64,
                "next": next,
            })
        );
        return ExitCode::SUCCESS;
    }
    print_summary(&from, &copied, &next);
    ExitCode::SUCCESS
}

fn print_summary(from: &std::path::Path, copied: &Copied, next: &str) {
    outln!(
        "copied {} to {} in {:.1} s:",
        from.display(),
        copied.target,
        copied.took.as_secs_f64()
    );
    for (table, rows) in &copied.tables {
        outln!("  {table:<11} {rows:>9}");
    }
    outln!("verified: the target holds as many rows of each table as the source");
    outln!(
        "{} is left as it was; stop every `serve` and `mcp` that uses it, then run",
        from.display()
    );
    outln!("  {next}");
    outln!("(the URL with your password in place of ***; MCP_PUSH_DB takes it too)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sqlite_into_postgres_is_copied() {
        let ok = |from: &str, to: &str| direction(from, to).unwrap();
        let pg = "postgres://u:pw@h/db";
        assert_eq!(ok("sqlite:/a/hub.db", pg), ("/a/hub.db".into(), pg.into()));
        assert_eq!(ok("sqlite:///a/hub.db", pg).0, PathBuf::from("/a/hub.db"));
        assert_eq!(ok("hub.db", "postgresql://h/db").0, PathBuf::from("hub.db"));
        let refused = [
            (pg, "sqlite:/a/hub.db", "is a PostgreSQL server"),
            (pg, "postgres://u:pw@h/other", "is a PostgreSQL server"),
            ("/a/hub.db", "/b/hub.db", "is not a postgres:// URL"),
            ("/a/hub.db", "mysql://u:pw@h/db", "is not a postgres:// URL"),
            (
                "/a/hub.db",
                "mysql://u:pw@h:x/db",
                "is not a postgres:// URL",
            ),
        ];
        for (from, to, why) in refused {
            let e = direction(from, to).unwrap_err();
            assert!(e.contains(why), "{from} -> {to}: {e}");
            assert!(e.contains("into PostgreSQL only"), "{e}");
            assert!(!e.contains(":pw@"), "the password shown: {e}");
        }
    }
}
