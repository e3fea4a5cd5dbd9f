//! The questions on PostgreSQL. An answer is one conditional `UPDATE`: the
//! first one that finds the question open decides it, whichever hub it
//! reached.

use super::{Fail, PgStore};
use crate::store::asks::{
    answer_json, decode_reply_key, new_reply_key, parse_answer, parse_question, question_json,
};
use crate::store::{Answer, Answering, Ask, AskId, AskState, Asks, NewAsk, StoreError, UnixMillis};
use postgres::Row;

const COLUMNS: &str = "id, question, state, answer, deadline, created_at, closed_at";

fn from_row(r: &Row) -> Result<Ask, Fail> {
    let question: String = r.try_get(1)?;
    let state: String = r.try_get(2)?;
    Ok(Ask {
        id: AskId(r.try_get(0)?),
        question: parse_question(&question)?,
        state: AskState::parse(&state)
            .ok_or_else(|| StoreError::BadData(format!("unknown ask state {state:?}")))?,
        answer: parse_answer(r.try_get(3)?)?,
        deadline: UnixMillis(r.try_get(4)?),
        created_at: UnixMillis(r.try_get(5)?),
        closed_at: r.try_get::<_, Option<i64>>(6)?.map(UnixMillis),
    })
}

impl Asks for PgStore {
    fn create_ask(&self, new: NewAsk) -> Result<Ask, StoreError> {
        let question = question_json(&new.question);
        self.with(|c| {
            from_row(&c.query_one(
                &format!(
                    "INSERT INTO asks (question, state, deadline, created_at)
                     VALUES ($1, 'open', $2, $3) RETURNING {COLUMNS}"
                ),
                &[&question, &new.deadline.0, &new.at.0],
            )?)
        })
    }

    fn ask(&self, id: AskId) -> Result<Option<Ask>, StoreError> {
        self.with(|c| {
            c.query_opt(
                &format!("SELECT {COLUMNS} FROM asks WHERE id = $1"),
                &[&id.0],
            )?
            .as_ref()
            .map(from_row)
            .transpose()
        })
    }

    fn answer_ask(&self, id: AskId, answer: Answer) -> Result<Option<Answering>, StoreError> {
        let text = answer_json(&answer);
        self.with(|c| {
            let accepted = c.query_opt(
                &format!(
                    "UPDATE asks SET state = 'answered', answer = $2, closed_at = $3
                     WHERE id = $1 AND state = 'open' AND deadline > $3
                     RETURNING {COLUMNS}"
                ),
                &[&id.0, &text, &answer.at.0],
            )?;
            if let Some(row) = accepted {
                return Ok(Some(Answering::Accepted(from_row(&row)?)));
            }
            c.query_opt(
                &format!("SELECT {COLUMNS} FROM asks WHERE id = $1"),
                &[&id.0],
            )?
            .as_ref()
            .map(|r| from_row(r).map(Answering::Late))
            .transpose()
        })
    }

    fn close_ask(
        &self,
        id: AskId,
        state: AskState,
        at: UnixMillis,
    ) -> Result<Option<Ask>, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE asks SET state = $2, closed_at = $3 WHERE id = $1 AND state = 'open'",
                &[&id.0, &state.as_str(), &at.0],
            )?;
            c.query_opt(
                &format!("SELECT {COLUMNS} FROM asks WHERE id = $1"),
                &[&id.0],
            )?
            .as_ref()
            .map(from_row)
            .transpose()
        })
    }

    fn open_asks(&self, limit: usize) -> Result<Vec<Ask>, StoreError> {
        self.with(|c| {
            c.query(
                &format!("SELECT {COLUMNS} FROM asks WHERE state = 'open' ORDER BY id LIMIT $1"),
                &[&(limit as i64)],
            )?
            .iter()
            .map(from_row)
            .collect()
        })
    }

    fn reply_key(&self) -> Result<Vec<u8>, StoreError> {
        let fresh = new_reply_key();
        let text: String = self.with(|c| {
            c.execute(
                "INSERT INTO hub_keys (name, value) VALUES ('reply', $1)
                 ON CONFLICT (name) DO NOTHING",
                &[&fresh],
            )?;
            Ok(
                c.query_one("SELECT value FROM hub_keys WHERE name = 'reply'", &[])?
                    .try_get(0)?,
            )
        })?;
        decode_reply_key(&text)
    }
}
