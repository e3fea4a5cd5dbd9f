//! The host side of the `secrets` import (questions about a secret's value
//! answered without handing the value to the component) and of `console`.

use super::sandbox::{HostIo, cap_text};
use super::wit_v0_1::{console, secrets};
use std::io::Write as _;

/// What one call may print on the console.
const MAX_CONSOLE_BYTES: usize = 64 << 10;

impl console::Host for HostIo {
    async fn print(&mut self, text: String) {
        let mut text = self.secrets.describe(&text);
        cap_text(&mut text, MAX_CONSOLE_BYTES);
        // One write, so that concurrent channels do not interleave mid-line.
        let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
    }
}

/// More parts than any packed setting has; the rest stays in the last part.
const MAX_PARTS: usize = 32;

impl secrets::Host for HostIo {
    async fn starts_with(&mut self, text: String, prefix: String) -> bool {
        self.secrets.fill(&text).starts_with(&prefix)
    }

    async fn split(&mut self, text: String, separator: String, reveal: Vec<u32>) -> Vec<String> {
        let value = self.secrets.fill(&text);
        if separator.is_empty() {
            return vec![text];
        }
        // Parts are secrets of the same setting, for the labels in messages.
        let key = format!("{}[part]", self.secrets.key_in(&text).unwrap_or("secret"));
        value
            .splitn(MAX_PARTS, separator.as_str())
            .enumerate()
            .map(|(i, part)| {
                if reveal.contains(&(i as u32)) || part.is_empty() {
                    part.to_string()
                } else {
                    self.secrets.add(&key, part)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runtime::Limits;
    use crate::plugin::secrets::Secrets;
    use std::time::Instant;

    fn io(secrets: Secrets) -> HostIo {
        let _ = rustls::crypto::ring::default_provider().install_default();
        HostIo {
            channel: "test".into(),
            allow: Default::default(),
            secrets,
            client: reqwest::Client::new(),
            limits: Limits::default(),
            deadline: Instant::now(),
            fetches: 0,
            log_lines: 0,
        }
    }

    #[test]
    fn parts_become_placeholders_of_their_own() {
        let mut secrets = Secrets::new();
        let am = secrets.add("am", "wwcorp,s3cr3t-part,@all,1000002");
        let mut io = io(secrets);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let parts = rt.block_on(secrets::Host::split(
            &mut io,
            am.clone(),
            ",".into(),
            vec![2, 3],
        ));
        assert_eq!(parts.len(), 4);
        assert!(parts[0].starts_with("MCPPUSHSECRET_") && parts[1].starts_with("MCPPUSHSECRET_"));
        assert_eq!(&parts[2..], &["@all", "1000002"]);
        assert_eq!(io.secrets.fill(&parts[1]), "s3cr3t-part");
        assert_eq!(io.secrets.describe(&parts[1]), "<secret:am[part]>");
        assert!(rt.block_on(secrets::Host::starts_with(
            &mut io,
            am.clone(),
            "wwcorp,".into()
        )));
        assert!(!rt.block_on(secrets::Host::starts_with(&mut io, am, "http".into())));
    }
}
