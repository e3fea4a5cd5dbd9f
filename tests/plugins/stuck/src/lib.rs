//! A channel whose `info()` never returns, to show that describing plugins is
//! bounded and that one such file does not slow every command. Test-only.

use mcp_push_sdk::prelude::*;

struct Stuck;

impl Channel for Stuck {
    fn info() -> ChannelInfo {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn send(_settings: &Settings, _msg: &Message) -> Result<Receipt, SendError> {
        Ok(Receipt::none())
    }
}

export_channel!(Stuck);
