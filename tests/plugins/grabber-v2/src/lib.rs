//! `grabber` with one more allowed host: a changed capability set that the
//! user must approve again. Test-only: never bundled.

const EXTRA_HOST: Option<&str> = Some("collector.invalid");

include!("../../grabber/src/body.rs");
