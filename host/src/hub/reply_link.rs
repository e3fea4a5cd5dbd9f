//! Reply links: the address a person taps to answer a question. One per
//! question and channel, so an answer says whose recipient gave it; its
//! token is an HMAC of both under the store's reply key, so it cannot be
//! guessed, needs no table of its own, and every hub on the store accepts
//! the links any of them sent.
//!
//! The link is added to a channel's copy of the question when it is sent,
//! never to the event log: the log, the stream and the dashboard show the
//! question, not a token that answers it.

use crate::model::AskId;
use crate::notification::{ChannelId, Format, Notification, QuestionRef};
use crate::plugin::ChatQuestion;
use hmac::{Hmac, Mac};
use std::sync::{OnceLock, RwLock};

const CONTEXT: &str = "mcp-push reply v1";

/// Where reply links point, and the key their tokens are made with.
#[derive(Default)]
pub struct ReplyLinks {
    /// `http(s)://host:port` of a `serve` sharing this store; `None`: the
    /// question goes without a link (answered over the API or the CLI).
    base: RwLock<Option<String>>,
    key: OnceLock<Vec<u8>>,
}

impl ReplyLinks {
    pub fn set_base(&self, base: Option<String>) {
        let base = base.map(|b| b.trim_end_matches('/').to_string());
        *self.base.write().unwrap_or_else(|p| p.into_inner()) = base;
    }

    /// Only when none is set (`serve` offers its own address).
    pub fn offer_base(&self, base: String) {
        let mut slot = self.base.write().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(base);
        }
    }

    pub fn base(&self) -> Option<String> {
        self.base.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn key(&self) -> Option<&[u8]> {
        self.key.get().map(Vec::as_slice)
    }

    pub fn set_key(&self, key: Vec<u8>) -> &[u8] {
        self.key.get_or_init(|| key)
    }
}

fn mac(key: &[u8], ask: AskId, channel: &ChannelId) -> Hmac<sha2::Sha256> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{CONTEXT}\0{ask}\0{channel}").as_bytes());
    mac
}

/// The token that lets `channel`'s recipient answer question `ask`.
pub fn token(key: &[u8], ask: AskId, channel: &ChannelId) -> String {
    use base64::Engine;
    let tag = mac(key, ask, channel).finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag)
}

/// Whether `token` is the one [`token`] makes (compared in constant time).
pub fn verify(key: &[u8], ask: AskId, channel: &ChannelId, token: &str) -> bool {
    use base64::Engine;
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()) else {
        return false;
    };
    mac(key, ask, channel).verify_slice(&tag).is_ok()
}

/// The page that answers `ask` for `channel`'s recipient.
pub fn url(base: &str, key: &[u8], ask: AskId, channel: &ChannelId) -> String {
    format!(
        "{base}/v1/asks/{ask}/answer?channel={channel}&token={}",
        token(key, ask, channel)
    )
}

/// `channel`'s copy of a question: the notification with how to answer and
/// its reply link (when there is a base to point to). The link goes in the
/// body, which every channel sends (a webhook's default body has no link
/// field, and chat apps make a bare URL tappable), not in `link`, which
/// several channels would show a second time.
pub fn render(n: &Notification, link: Option<String>) -> Notification {
    let Some(q) = &n.question else {
        return n.clone();
    };
    let mut out = n.clone();
    let html = out.format == Format::Html;
    let mut how = match q.choices.is_empty() {
        false => format!("Answer {}", q.choices.join(" / ")),
        true => "Answer".to_string(),
    };
    // The choices are the asker's text, not markup.
    if html {
        how = crate::html::escape(&how);
    }
    match &link {
        Some(link) if html => {
            how = format!("<a href=\"{}\">{how}</a>", crate::html::escape(link));
        }
        Some(link) if out.format == Format::Markdown => how = format!("[{how}]({link})"),
        Some(link) => how = format!("{how}: {link}"),
        None if q.choices.is_empty() => return out,
        None => {}
    }
    let sep = if html { "<br><br>" } else { "\n\n" };
    out.body = format!("{}{sep}{how}", out.body);
    out
}

/// `channel`'s copy of a question as a channel that can be answered in the
/// chat gets it: the copy's text (how to answer and the link included, for
/// whoever cannot press a button), the choices it offers as buttons.
pub fn chat_question(copy: &Notification, q: &QuestionRef, link: Option<String>) -> ChatQuestion {
    ChatQuestion {
        ask_id: q.ask_id.to_string(),
        title: copy.title.clone(),
        text: copy.body.clone(),
        choices: q.choices.clone(),
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> ChannelId {
        ChannelId::new(s).unwrap()
    }

    #[test]
    fn a_token_answers_one_question_for_one_channel_under_one_key() {
        let (key, other) = ([7u8; 32], [8u8; 32]);
        let t = token(&key, AskId(3), &ch("tg"));
        assert!(verify(&key, AskId(3), &ch("tg"), &t));
        assert!(!verify(&key, AskId(4), &ch("tg"), &t));
        assert!(!verify(&key, AskId(3), &ch("ntfy"), &t));
        assert!(!verify(&other, AskId(3), &ch("tg"), &t));
        assert!(!verify(&key, AskId(3), &ch("tg"), ""));
        assert!(!verify(&key, AskId(3), &ch("tg"), "%%%"));
        let mut cut = t.clone();
        cut.pop();
        assert!(!verify(&key, AskId(3), &ch("tg"), &cut));
        assert_eq!(t.len(), 43, "256 bits, base64url without padding");
    }

    #[test]
    fn the_link_is_added_when_sent_and_the_choices_said() {
        let mut n = Notification::new("Question", "Deploy?");
        n.question = Some(QuestionRef {
            ask_id: AskId(1),
            choices: vec!["yes".into(), "no".into()],
        });
        let r = render(
            &n,
            Some("http://h/v1/asks/1/answer?channel=a&token=t".into()),
        );
        assert_eq!(
            r.body,
            "Deploy?\n\nAnswer yes / no: http://h/v1/asks/1/answer?channel=a&token=t"
        );
        assert_eq!(r.link, None);
        assert_eq!(render(&n, None).body, "Deploy?\n\nAnswer yes / no");
        let plain = Notification::new("t", "b");
        assert_eq!(render(&plain, Some("x".into())), plain);
    }

    #[test]
    fn in_html_the_choices_and_the_link_are_text() {
        let mut n = Notification::new("Question", "<b>Deploy?</b>");
        n.format = Format::Html;
        n.question = Some(QuestionRef {
            ask_id: AskId(1),
            choices: vec!["<script>x</script>".into(), "no".into()],
        });
        let r = render(&n, Some("http://h/a?channel=a&token=\"t".into()));
        assert_eq!(
            r.body,
            "<b>Deploy?</b><br><br><a href=\"http://h/a?channel=a&amp;token=&quot;t\">Answer \
             &lt;script&gt;x&lt;/script&gt; / no</a>"
        );
        assert_eq!(
            render(&n, None).body,
            "<b>Deploy?</b><br><br>Answer &lt;script&gt;x&lt;/script&gt; / no"
        );
    }
}
