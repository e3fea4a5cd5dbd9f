//! `mcp-push channels --markdown`: the README's channel tables, made from the
//! plugins' own `info()` so that they cannot drift from what they do, one
//! table per kind of service.

use crate::plugin::{PluginInfo, Registry};

/// How many services Apprise supports, for the count line: 153 in its
/// v1.13 documentation (apprise's wiki, "Supported Notifications").
const APPRISE_SERVICES: (usize, &str) = (153, "1.13");

/// The kinds the tables are grouped by, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    TeamChat,
    China,
    Push,
    Incident,
    Sms,
    Email,
    Social,
    Generic,
    Other,
}

impl Kind {
    fn heading(self) -> &'static str {
        match self {
            Kind::TeamChat => "Team chat",
            Kind::China => "Chinese work chat, QQ and WeChat pushers",
            Kind::Push => "Push to phones and devices",
            Kind::Incident => "Incident and on-call",
            Kind::Sms => "SMS and voice",
            Kind::Email => "E-mail",
            Kind::Social => "Social",
            Kind::Generic => "Generic, forwarding and local",
            Kind::Other => "Other (third-party plugins)",
        }
    }

    /// The kind of a bundled channel, by its id; a plugin this build does
    /// not bundle is `Other`.
    fn of(id: &str) -> Kind {
        match id {
            "discord" | "discord-bot" | "google-chat" | "matrix" | "mattermost" | "rocketchat"
            | "slack" | "synology-chat" | "teams" | "telegram" | "webex" | "zulip" | "flock"
            | "guilded" | "nextcloud-talk" | "revolt" | "ryver" | "kook" => Kind::TeamChat,
            "aibotk" | "chronocat" | "dingtalk" | "feishu" | "gocqhttp" | "igot" | "lark"
            | "openilink" | "pushdeer" | "pushme" | "pushplus" | "qmsg" | "serverchan"
            | "wecom-app" | "wecom-bot" | "weplus" | "wxpusher" | "wxpusher-spt"
            | "dingtalk-notice" | "feishu-app" | "wechat-oa" => Kind::China,
            "bark" | "gotify" | "home-assistant" | "lametric" | "notica" | "ntfy" | "prowl"
            | "pushbullet" | "pushover" | "pushsafer" | "join" | "onesignal" | "pushy"
            | "simplepush" | "pushjet" | "fcm" => Kind::Push,
            "opsgenie" | "pagerduty" | "signl4" | "splunk-oncall" | "grafana-oncall" => {
                Kind::Incident
            }
            "bulksms" | "clicksend" | "messagebird" | "plivo" | "sinch" | "tencent-sms"
            | "twilio" | "vonage" | "aliyun-sms" | "sns" => Kind::Sms,
            "email" | "mailgun" | "office365" | "postmark" | "resend" | "sendgrid" | "ses" => {
                Kind::Email
            }
            "bluesky" | "mastodon" | "misskey" => Kind::Social,
            "apprise-api" | "console" | "desktop" | "mqtt" | "webhook" => Kind::Generic,
            _ => Kind::Other,
        }
    }
}

pub fn markdown(registry: &Registry) -> String {
    let mut rows: Vec<(Kind, String)> = registry
        .iter()
        .map(|p| (Kind::of(&p.info().id), row(p.info())))
        .collect();
    // Stable: within a kind, the registry's order (by name).
    rows.sort_by_key(|(kind, _)| *kind);
    let (apprise, version) = APPRISE_SERVICES;
    let mut out = format!(
        "{} channels here; Apprise {version} lists {apprise} services.\n",
        rows.len()
    );
    let mut current = None;
    for (kind, row) in rows {
        if current != Some(kind) {
            current = Some(kind);
            out.push_str(&format!(
                "\n### {}\n\n\
                 | channel | id | environment (`*` required) | one-line URL | formats | edits |\n\
                 | --- | --- | --- | --- | --- | --- |\n",
                kind.heading()
            ));
        }
        out.push_str(&row);
    }
    out.trim_end().to_string()
}

fn row(i: &PluginInfo) -> String {
    format!(
        "| {} | `{}` | {} | {} | {} | {} |\n",
        i.name,
        i.id,
        env_names(i),
        if i.schemes.is_empty() {
            "—".to_string()
        } else {
            i.schemes
                .iter()
                .map(|s| format!("`{s}://`"))
                .collect::<Vec<_>>()
                .join(" ")
        },
        if i.formats.is_empty() {
            "text".to_string()
        } else {
            i.formats.join(", ")
        },
        if i.can_edit { "yes" } else { "—" },
    )
}

fn env_names(info: &PluginInfo) -> String {
    let names: Vec<String> = info
        .settings
        .iter()
        .flat_map(|s| {
            s.env
                .iter()
                .map(move |e| format!("`{e}`{}", if s.required { "*" } else { "" }))
        })
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(" ")
    }
}
