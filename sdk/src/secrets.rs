//! What the host may look at in a secret setting's value for the channel,
//! declared once in [`crate::Channel::shapes`]; the channel never sees the
//! value, only what its shapes hand over.
//!
//! ```
//! use mcp_push_sdk::secrets::Shape;
//! // notify.py's QYWX_AM = corpid,corpsecret,touser,agentid[,media_id]: the
//! // channel gets `am.touser` and `am.agentid` in clear, the rest as
//! // placeholders.
//! let am = Shape::new("am").form(
//!     "am",
//!     r"(?P<corpid>[^,]*),(?P<corpsecret>[^,]*),(?P<touser>[^,]*),(?P<agentid>[^,]*)(?:,(?P<media>.*))?",
//!     &["touser", "agentid", "media"],
//! );
//! // A list: each item gets a placeholder of its own, joined by the separator.
//! let spts = Shape::new("spt_list").list(",");
//! # let _ = (am, spts);
//! ```

pub use crate::bindings::exports::mcp_push::channel::shapes::{Form, Shape};

impl Shape {
    /// A shape for secret setting `key`, declaring nothing yet.
    pub fn new(key: &str) -> Shape {
        Shape {
            key: key.into(),
            separator: None,
            forms: Vec::new(),
        }
    }

    /// The value is a list: the host splits it at `separator` and gives each
    /// item its own placeholder.
    pub fn list(mut self, separator: &str) -> Shape {
        self.separator = Some(separator.into());
        self
    }

    /// A form the value may take: `pattern` (a regular expression) matches
    /// the whole value. The first form that matches sets `KEY.form` = `name`
    /// and `KEY.GROUP` for each named group: in clear for the groups in
    /// `public`, as placeholders for the others.
    pub fn form(mut self, name: &str, pattern: &str, public: &[&str]) -> Shape {
        self.forms.push(Form {
            name: name.into(),
            pattern: pattern.into(),
            public: public.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// The common case of a secret URL whose origin is not secret (a webhook
    /// URL with a token in its path): `KEY.origin` in clear (allow it with
    /// `setting:KEY.origin`), `KEY.rest` a placeholder.
    pub fn url_with_public_origin(key: &str) -> Shape {
        Shape::new(key).form(
            "url",
            r"(?P<origin>[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+)(?P<rest>[/?#].*)?",
            &["origin"],
        )
    }
}

/// Superseded by [`Shape`]: the host answers only for a prefix one of the
/// setting's declared forms starts with, and `false` otherwise.
#[deprecated(note = "declare the setting's forms with `Channel::shapes` and read `KEY.form`")]
pub fn starts_with(text: &str, prefix: &str) -> bool {
    crate::host::secret_starts_with(text, prefix)
}

/// Superseded by [`Shape::list`]: the host splits only at the setting's
/// declared separator, every part a placeholder.
#[deprecated(note = "declare the setting as a list with `Shape::list`")]
pub fn split(text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
    crate::host::secret_split(text, separator, reveal)
}
