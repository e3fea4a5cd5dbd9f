//! Statements prepared once per connection. A query given as text is
//! prepared and run in two round trips to the server; the append alone runs
//! a handful of statements per event, all on the group commit's one thread,
//! so each saved trip is a share of its throughput. [`Db`] has the calls
//! the roles use (`query`, `execute`, …) with the same signatures as the
//! driver's, and prepares a text the first time this connection sees it.

use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement};
use std::collections::HashMap;

/// One connection's prepared statements, by their text.
pub(super) type Statements = HashMap<String, Statement>;

/// A connection, or a transaction on it, with its statements.
pub(super) struct Db<'a, C> {
    pub(super) conn: &'a mut C,
    pub(super) statements: &'a mut Statements,
}

/// A transaction of [`PgStore::tx`](super::PgStore).
pub(super) type Tx<'a, 'b> = Db<'a, postgres::Transaction<'b>>;

type Params<'p> = [&'p (dyn ToSql + Sync)];

impl<C: GenericClient> Db<'_, C> {
    fn prepared(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.conn.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub(super) fn query(
        &mut self,
        sql: &str,
        params: &Params,
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        self.conn.query(&s, params)
    }

    pub(super) fn query_one(&mut self, sql: &str, params: &Params) -> Result<Row, postgres::Error> {
        let s = self.prepared(sql)?;
        self.conn.query_one(&s, params)
    }

    pub(super) fn query_opt(
        &mut self,
        sql: &str,
        params: &Params,
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.prepared(sql)?;
        self.conn.query_opt(&s, params)
    }

    pub(super) fn execute(&mut self, sql: &str, params: &Params) -> Result<u64, postgres::Error> {
        let s = self.prepared(sql)?;
        self.conn.execute(&s, params)
    }

    /// Statements with no parameters, as one text, not prepared (DDL, locks).
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.conn.batch_execute(sql)
    }
}
