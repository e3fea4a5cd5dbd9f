//! `send`'s one-line URLs (`mcp-push send -t T -b B json://host/path`, as
//! apprise takes them): channels made for this one command, in place of the
//! configured ones; and the plugins a one-shot command will call, started
//! compiling early.

use crate::app::App;
use crate::config::{Channel, url_channel};
use crate::notification::ChannelId;

/// The channels the URLs name, or `None` for none given (the configured
/// channels then). Each is named after its scheme (`json-url`, `json-url-2`).
pub async fn channels(app: &App, urls: &[String]) -> Result<Option<Vec<Channel>>, String> {
    if urls.is_empty() {
        return Ok(None);
    }
    let loaded = app.loaded();
    let mut out: Vec<Channel> = Vec::with_capacity(urls.len());
    for (i, url) in urls.iter().enumerate() {
        let name = name(url, &out);
        let channel = url_channel(&loaded.registry, &name, url)
            .await
            .map_err(|e| format!("URL {} of {}: {e}", i + 1, urls.len()))?;
        out.push(channel);
    }
    Ok(Some(out))
}

/// Start compiling the plugins the send will call (the URLs' channels, else
/// the configured ones, those `--channel` names if any) while the store
/// opens and the notification is written: a first send after install
/// compiles its plugin, and the store's fsyncs need no CPU.
pub fn warm_up(app: &App, targets: Option<&[Channel]>, only: &[String]) {
    let loaded = app.loaded();
    let channels = targets.unwrap_or(&loaded.config.channels);
    // An unknown name warms nothing: the send says what is wrong.
    for channel in crate::hub::select(channels, only).unwrap_or_default() {
        channel.plugin.warm_up();
    }
}

fn name(url: &str, taken: &[Channel]) -> String {
    let scheme = url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .filter(|s| ChannelId::new(&format!("{s}-url")).is_ok())
        .unwrap_or_else(|| "target".into());
    let base = format!("{scheme}-url");
    let free = |n: &str| !taken.iter().any(|c| c.id.as_str() == n);
    (1..)
        .map(|i| {
            if i == 1 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|n| free(n))
        .unwrap_or(base)
}
