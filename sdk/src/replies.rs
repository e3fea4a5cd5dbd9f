//! Questions a person answers in the chat itself: what a channel implements
//! ([`Replies`]) and exports with `export_channel!(Type, replies)` when its
//! service can hand answers back (buttons, replies). A channel that does not
//! is asked with its ordinary `send`, and its recipients answer through the
//! reply link in the text.

pub mod bindings {
    //! The bindings of the optional `replies` export. A world of their own,
    //! so that `export_channel!(Type)` keeps exporting `channel` and
    //! `shapes` only (a component exporting `replies` tells the host it can
    //! be asked); the two worlds' component sections are merged into one
    //! component when it is built. Every type they share with the main
    //! bindings is the main bindings' own.
    wit_bindgen::generate!({
        path: "wit",
        inline: "package mcp-push:sdk-replies;
                 world replies-export { export mcp-push:channel/replies@0.1.0; }",
        world: "mcp-push:sdk-replies/replies-export",
        pub_export_macro: true,
        default_bindings_module: "mcp_push_sdk::replies::bindings",
        export_macro_name: "export",
        additional_derives: [PartialEq],
        with: {
            "mcp-push:channel/types@0.1.0": crate::bindings::mcp_push::channel::types,
        },
    });
}

pub use bindings::exports::mcp_push::channel::replies::{Asked, Polled, Question, Reply};

use crate::{Channel, SendError, Settings};

/// A channel whose recipients can answer in the chat (see `wit/replies.wit`).
pub trait Replies: Channel {
    /// Send the question with the service's way to answer it (buttons).
    fn ask(settings: &Settings, q: &Question) -> Result<Asked, SendError>;

    /// The answers given since `cursor`, and where the next poll starts.
    fn poll_replies(settings: &Settings, cursor: Option<&str>) -> Result<Polled, SendError>;
}

impl Asked {
    /// Sent, with the service's id of the message when there is one.
    pub fn maybe(remote_id: Option<String>) -> Self {
        Asked { remote_id }
    }
}

impl Polled {
    /// Nothing new; the next poll starts where this one did.
    pub fn nothing() -> Self {
        Polled {
            replies: Vec::new(),
            cursor: None,
            ignored: Vec::new(),
        }
    }
}

/// What a person wrote in a reply, without the quote of the message it
/// answers that chat clients put first: the leading lines that start with
/// `>` and the blank line after them (Matrix's reply fallback, client-server
/// API "Rich replies": `> <@alice:example.org> original text`, then an empty
/// line, then the reply; e-mail's quoted lines alike). Trimmed.
pub fn without_quote(body: &str) -> &str {
    let mut rest = body.trim_start_matches(['\r', '\n']);
    while rest.starts_with('>') {
        rest = rest.split_once('\n').map_or("", |(_, after)| after);
    }
    rest.trim()
}

/// How to answer in the chat, for the end of a question's text: `Or reply
/// {place} with your answer.` for a free-text question, or `Or reply {place}
/// with a choice or its number:` and the numbered choices, each through
/// `escape` (the service's markup). Starts with a blank line.
pub fn how_to_answer(choices: &[String], place: &str, escape: impl Fn(&str) -> String) -> String {
    if choices.is_empty() {
        return format!("\n\nOr reply {place} with your answer.");
    }
    let mut text = format!("\n\nOr reply {place} with a choice or its number:");
    for (i, choice) in choices.iter().enumerate() {
        text.push_str(&format!("\n{}. {}", i + 1, escape(choice)));
    }
    text
}

/// A replying channel's functions in a native build (what
/// `export_channel!(Type, replies)` gives tests instead of exports).
#[doc(hidden)]
pub struct NativeReplies {
    pub ask: fn(&Settings, &Question) -> Result<Asked, SendError>,
    pub poll_replies: fn(&Settings, Option<&str>) -> Result<Polled, SendError>,
}

#[cfg(test)]
mod tests {
    use super::{how_to_answer, without_quote};

    #[test]
    fn how_to_answer_numbers_the_choices_through_the_services_markup() {
        let choices = ["ship it".to_string(), "<wait>".to_string()];
        assert_eq!(
            how_to_answer(&choices, "in the thread", |c| c.replace('<', "&lt;")),
            "\n\nOr reply in the thread with a choice or its number:\n1. ship it\n2. &lt;wait>"
        );
        assert_eq!(
            how_to_answer(&[], "to this message", str::to_string),
            "\n\nOr reply to this message with your answer."
        );
    }

    #[test]
    fn a_reply_loses_the_quote_of_what_it_answers() {
        let fallback = "> <@bot:example.org> Question\n> \n> Deploy?\n\n 2 ";
        assert_eq!(without_quote(fallback), "2");
        assert_eq!(without_quote("> only a quote"), "");
        assert_eq!(
            without_quote("no quote\n> later lines stay"),
            "no quote\n> later lines stay"
        );
        assert_eq!(without_quote("  yes\n"), "yes");
    }
}
