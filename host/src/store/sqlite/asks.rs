//! The questions on SQLite. An answer is one conditional `UPDATE`: the
//! first one that finds the question open decides it.

use super::SqliteStore;
use crate::store::asks::{
    answer_json, decode_reply_key, new_reply_key, parse_answer, parse_question, question_json,
};
use crate::store::{Answer, Answering, Ask, AskId, AskState, Asks, NewAsk, StoreError, UnixMillis};
use rusqlite::{Connection, OptionalExtension, params};

const COLUMNS: &str = "id, question, state, answer, deadline, created_at, closed_at";

/// A row, with its JSON still to parse.
struct Row {
    id: i64,
    question: String,
    state: String,
    answer: Option<String>,
    deadline: i64,
    created_at: i64,
    closed_at: Option<i64>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        question: r.get(1)?,
        state: r.get(2)?,
        answer: r.get(3)?,
        deadline: r.get(4)?,
        created_at: r.get(5)?,
        closed_at: r.get(6)?,
    })
}

impl Row {
    fn ask(self) -> Result<Ask, StoreError> {
        Ok(Ask {
            id: AskId(self.id),
            question: parse_question(&self.question)?,
            state: AskState::parse(&self.state).ok_or_else(|| {
                StoreError::BadData(format!("unknown ask state {:?}", self.state))
            })?,
            answer: parse_answer(self.answer)?,
            deadline: UnixMillis(self.deadline),
            created_at: UnixMillis(self.created_at),
            closed_at: self.closed_at.map(UnixMillis),
        })
    }
}

fn load(conn: &Connection, id: AskId) -> rusqlite::Result<Option<Row>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM asks WHERE id = ?1"))?
        .query_row([id.0], from_row)
        .optional()
}

impl Asks for SqliteStore {
    fn create_ask(&self, new: NewAsk) -> Result<Ask, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        conn.prepare_cached(
            "INSERT INTO asks (question, state, deadline, created_at) VALUES (?1, 'open', ?2, ?3)",
        )
        .and_then(|mut s| {
            s.execute(params![
                question_json(&new.question),
                new.deadline.0,
                new.at.0
            ])
        })
        .map_err(|e| self.err(e))?;
        let id = AskId(conn.last_insert_rowid());
        load(&conn, id)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| StoreError::BadData("a question just written cannot be read".into()))?
            .ask()
    }

    fn ask(&self, id: AskId) -> Result<Option<Ask>, StoreError> {
        let row = load(&self.reader(), id).map_err(|e| self.err(e))?;
        row.map(Row::ask).transpose()
    }

    fn answer_ask(&self, id: AskId, answer: Answer) -> Result<Option<Answering>, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        let changed = conn
            .prepare_cached(
                "UPDATE asks SET state = 'answered', answer = ?2, closed_at = ?3
                 WHERE id = ?1 AND state = 'open' AND deadline > ?3",
            )
            .and_then(|mut s| s.execute(params![id.0, answer_json(&answer), answer.at.0]))
            .map_err(|e| self.err(e))?;
        let Some(row) = load(&conn, id).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        let ask = row.ask()?;
        Ok(Some(if changed == 1 {
            Answering::Accepted(ask)
        } else {
            Answering::Late(ask)
        }))
    }

    fn close_ask(
        &self,
        id: AskId,
        state: AskState,
        at: UnixMillis,
    ) -> Result<Option<Ask>, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        conn.prepare_cached(
            "UPDATE asks SET state = ?2, closed_at = ?3 WHERE id = ?1 AND state = 'open'",
        )
        .and_then(|mut s| s.execute(params![id.0, state.as_str(), at.0]))
        .map_err(|e| self.err(e))?;
        let row = load(&conn, id).map_err(|e| self.err(e))?;
        row.map(Row::ask).transpose()
    }

    fn open_asks(&self, limit: usize) -> Result<Vec<Ask>, StoreError> {
        let rows: Vec<Row> = self
            .reader()
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM asks WHERE state = 'open' ORDER BY id LIMIT ?1"
            ))
            .and_then(|mut s| s.query_map([limit as i64], from_row)?.collect())
            .map_err(|e| self.err(e))?;
        rows.into_iter().map(Row::ask).collect()
    }

    fn reply_key(&self) -> Result<Vec<u8>, StoreError> {
        self.still_ours()?;
        let conn = self.fast();
        conn.prepare_cached(
            "INSERT INTO hub_keys (name, value) VALUES ('reply', ?1) ON CONFLICT (name) DO NOTHING",
        )
        .and_then(|mut s| s.execute([new_reply_key()]))
        .map_err(|e| self.err(e))?;
        let text: String = conn
            .query_row("SELECT value FROM hub_keys WHERE name = 'reply'", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        decode_reply_key(&text)
    }
}
