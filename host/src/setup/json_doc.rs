//! Editing a user's JSON settings file without disturbing it: keys keep
//! their order and every value we do not touch keeps its exact text, so a
//! settings file kept in git shows only our lines in its diff.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::value::RawValue;

/// One value of the file: as written, opened for editing, or ours.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Node {
    /// Untouched: written back byte for byte.
    Raw(Box<RawValue>),
    Obj(Doc),
    List(Vec<Node>),
    /// Added by us (written with the file's indentation).
    New(serde_json::Value),
}

impl Node {
    /// The value, for looking inside it.
    pub fn value(&self) -> serde_json::Value {
        match self {
            Node::Raw(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            other => serde_json::to_value(other).unwrap_or_default(),
        }
    }
}

/// A JSON object whose members stay as written until replaced.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Doc(IndexMap<String, Node>);

impl Doc {
    /// An empty or whitespace-only file is an empty object.
    pub fn parse(text: &str) -> Result<Doc, String> {
        if text.trim().is_empty() {
            return Ok(Doc::default());
        }
        Self::parse_raw(text).map_err(|e| format!("not a JSON object ({e})"))
    }

    fn parse_raw(text: &str) -> Result<Doc, serde_json::Error> {
        let members: IndexMap<String, Box<RawValue>> = serde_json::from_str(text)?;
        Ok(Doc(members
            .into_iter()
            .map(|(k, v)| (k, Node::Raw(v)))
            .collect()))
    }

    /// A copy of the member, opened as an object to edit; missing is empty.
    pub fn object(&self, key: &str) -> Result<Doc, String> {
        match self.0.get(key) {
            None => Ok(Doc::default()),
            Some(Node::Raw(raw)) => {
                Self::parse_raw(raw.get()).map_err(|_| format!("\"{key}\" is not an object"))
            }
            Some(Node::Obj(doc)) => Ok(doc.clone()),
            Some(_) => Err(format!("\"{key}\" is not an object")),
        }
    }

    /// The member, opened as a list whose items stay as written; missing is empty.
    pub fn list(&self, key: &str) -> Result<Vec<Node>, String> {
        match self.0.get(key) {
            None => Ok(Vec::new()),
            Some(Node::Raw(raw)) => serde_json::from_str::<Vec<Box<RawValue>>>(raw.get())
                .map(|items| items.into_iter().map(Node::Raw).collect())
                .map_err(|_| format!("\"{key}\" is not a list")),
            Some(_) => Err(format!("\"{key}\" is not a list")),
        }
    }

    pub fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.0.get(key).map(Node::value)
    }

    /// Set a member (appended when new, replaced in place otherwise).
    pub fn set(&mut self, key: &str, node: Node) {
        self.0.insert(key.to_string(), node);
    }

    pub fn remove(&mut self, key: &str) {
        self.0.shift_remove(key);
    }

    pub fn keys(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Two-space indentation, as Claude Code and Gemini CLI write theirs.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.0).expect("JSON values serialize");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untouched_members_keep_their_order_and_text() {
        let text =
            "{\n  \"zeta\": {\n    \"b\": 1,\n    \"a\": [1,2]\n  },\n  \"alpha\": true\n}\n";
        let mut doc = Doc::parse(text).unwrap();
        assert_eq!(doc.to_text(), text);
        let mut zeta = doc.object("zeta").unwrap();
        let mut a = zeta.list("a").unwrap();
        a.push(Node::New(serde_json::json!({"k": "v"})));
        zeta.set("a", Node::List(a));
        doc.set("zeta", Node::Obj(zeta));
        assert_eq!(
            doc.to_text(),
            "{\n  \"zeta\": {\n    \"b\": 1,\n    \"a\": [\n      1,\n      2,\n      {\n        \"k\": \"v\"\n      }\n    ]\n  },\n  \"alpha\": true\n}\n"
        );
        assert!(Doc::parse("[1]").unwrap_err().contains("not a JSON object"));
        assert!(Doc::parse("  \n").unwrap().is_empty());
        assert!(doc.object("alpha").unwrap_err().contains("not an object"));
    }
}
