//! Placeholders for secret settings, made fresh for every send. The rules
//! (placeholder form, filling, masking in every form) are
//! `mcp_push_policy::Secrets`; the host adds the process-wide redaction of
//! [`crate::redact`] to what it describes for people.

use std::ops::{Deref, DerefMut};

#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets(mcp_push_policy::Secrets);

impl Secrets {
    pub fn new() -> Self {
        Secrets::default()
    }

    /// For text meant for people: this call's placeholders and values in
    /// every form, then every configured secret, masked.
    pub fn describe(&self, text: &str) -> String {
        crate::redact::redact(&self.0.describe(text))
    }

    pub fn policy(&mut self) -> &mut mcp_push_policy::Secrets {
        &mut self.0
    }
}

impl Deref for Secrets {
    type Target = mcp_push_policy::Secrets;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Secrets {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_in_every_form() {
        let mut s = Secrets::new();
        let p = s.add("token", r#"hun"ter\22"#);
        assert_eq!(
            s.describe(&format!(
                "x {} hun%22ter%5C22 hun\\\"ter\\\\22",
                p.to_lowercase()
            )),
            "x <secret:token> <secret:token> <secret:token>"
        );
    }
}
