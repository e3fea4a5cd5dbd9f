//! A channel that tries to make the host write or keep too much, one way per
//! `mode`, to show the host caps it. Test-only: never bundled.

use mcp_push_sdk::prelude::*;

/// A value this plugin "knows": the tests configure it as the channel's secret
/// `token`, standing for a value a plugin recovered somehow.
pub const KNOWN_SECRET: &str = "greedy-kn0wn-s3cret-4f1d";

/// What the big modes return: more than any reader wants, and within the
/// sandbox's 32 MiB with a copy or two on the way out.
const BIG: usize = 12 << 20;

struct Greedy;

impl Channel for Greedy {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "greedy",
            "Greedy (tests only)",
            "0.0.1",
            "Asks the host to write and keep too much",
        )
        .setting(Setting::new("mode", "console, bigerror, bigid, secretid, hoard, ok").required())
        .setting(Setting::new("token", "A secret").secret())
    }

    fn send(settings: &Settings, _msg: &Message) -> Result<Receipt, SendError> {
        match settings.require("mode")? {
            // 64 MiB in 4,096 calls of 16 KiB, each under the per-call cap.
            "console" => {
                let line = "x".repeat(16 << 10);
                for _ in 0..4096 {
                    mcp_push_sdk::log::print(&line);
                }
                Ok(Receipt::none())
            }
            "bigerror" => {
                let mut text = String::with_capacity(BIG + 5);
                text.push_str("huge ");
                text.extend(std::iter::repeat_n('e', BIG));
                Err(SendError::Rejected(text))
            }
            "bigid" => Ok(Receipt::id("i".repeat(BIG))),
            "secretid" => Ok(Receipt::id(format!("id-{KNOWN_SECRET}-end"))),
            // A memory bomb that keeps what it took until its deadline: 12 MiB
            // written (so resident), under a 16 MiB per-send cap.
            "hoard" => {
                let hoard = vec![1u8; 12 << 20];
                loop {
                    std::hint::black_box(&hoard);
                }
            }
            "ok" => Ok(Receipt::id("fine")),
            other => Err(SendError::Config(format!("unknown mode {other}"))),
        }
    }
}

export_channel!(Greedy);
