//! notify.py's console output (`CONSOLE=true`): the message printed on the
//! terminal mcp-push runs in.
//!
//! Sources: qinglong's sample/notify.py `console` (title, blank line, body).
//! No service and no limits: the host prints the text with secrets masked.

use mcp_push_sdk::prelude::*;

struct Console;

impl Channel for Console {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "console",
            "Console",
            env!("CARGO_PKG_VERSION"),
            "Prints the message on standard error",
        )
        .setting(
            Setting::new("enabled", "true to print (false turns it off)")
                .env(&["CONSOLE"])
                .required(),
        )
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        if settings.flag("enabled")? == Some(true) {
            mcp_push_sdk::log::print(&msg.text_with_link());
        }
        Ok(Receipt::none())
    }
}

export_channel!(Console);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::testing::{Harness, message};

    #[test]
    fn info_holds_its_invariants() {
        mcp_push_sdk::testing::assert_info::<Console>();
    }

    #[test]
    fn prints_when_enabled_and_makes_no_request() {
        let h = Harness::new::<Console>().setting("enabled", "true");
        h.send(&message("Deploy", "v2 is live")).unwrap();
        assert_eq!(h.console().len(), 1);
        assert!(h.console()[0].contains("Deploy") && h.console()[0].contains("v2 is live"));
        assert!(h.requests().is_empty());
    }

    #[test]
    fn prints_nothing_when_disabled() {
        let h = Harness::new::<Console>().setting("enabled", "false");
        h.send(&message("t", "b")).unwrap();
        assert!(h.console().is_empty());
    }
}
