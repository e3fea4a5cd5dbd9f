"""A drop-in for qinglong's notify.py: the same functions, delivered by mcp-push.

Scripts keep `from notify import send` (this file saved as notify.py), or
write `from mcp_push import send` after `pip install mcp-push`. The channels
are mcp-push's, turned on by the environment names notify.py reads
(DD_BOT_TOKEN, QYWX_KEY, TG_BOT_TOKEN, WEBHOOK_URL, ...) and by mcp-push's
config file. This file only hands the message over, one of two ways:

- to the `mcp-push` executable (MCP_PUSH_BIN, else PATH, else beside this
  Python's scripts, where `pip install mcp-push` puts it):
  `mcp-push send --json [--channel NAME] -- TITLE -`, the message on standard
  input, so its size and line breaks never meet an argument limit;
- when MCP_PUSH_URL is set, to a running `mcp-push serve`: POST
  $MCP_PUSH_URL/v1/notify, with `Authorization: Bearer $MCP_PUSH_TOKEN` when
  that is set. The server sends with its own channels: kwargs cannot change
  them, and a line says so.

Nothing here raises into the calling script: each outcome, a failure too, is
a printed line, as notify.py prints them. Standard library only.

dropin/python/notify.py and dropin/python/mcp_push/__init__.py are the same
file (tests/dropin.rs compares them): one file to copy over a notify.py, and
the package the wheel installs.
"""

import json
import os
import shutil
import subprocess
import sysconfig
import urllib.error
import urllib.request

# Every bundled mcp-push channel: the name notify.py prints for it (others
# their own), and the environment names it reads. An environment channel is
# named after its plugin, so these ids are also what `--channel` takes.
# tests/dropin.rs checks these names against `mcp-push channels --json`, both
# ways.
_CHANNELS = {
    "aibotk": ("智能微秘书", ("AIBOTK_KEY", "AIBOTK_TYPE", "AIBOTK_NAME", "AIBOTK_API_URL")),
    "bark": (
        "bark",
        ("BARK_PUSH", "BARK_ARCHIVE", "BARK_GROUP", "BARK_SOUND", "BARK_ICON",
         "BARK_LEVEL", "BARK_URL"),
    ),
    "chronocat": ("CHRONOCAT", ("CHRONOCAT_URL", "CHRONOCAT_QQ", "CHRONOCAT_TOKEN")),
    "bluesky": ("Bluesky", ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD", "BLUESKY_SERVICE")),
    "console": ("console", ("CONSOLE",)),
    "desktop": ("Desktop", ("DESKTOP_NOTIFY", "DESKTOP_APP_NAME", "DESKTOP_URGENCY")),
    "dingtalk": ("钉钉机器人", ("DD_BOT_TOKEN", "DD_BOT_SECRET", "DD_BOT_API_URL")),
    "discord": ("Discord", ("DISCORD_WEBHOOK_URL", "DISCORD_USERNAME")),
    "discord-bot": (
        "Discord (bot)", ("DISCORD_BOT_TOKEN", "DISCORD_CHANNEL_ID", "DISCORD_API_URL"),
    ),
    "email": (
        "SMTP 邮件",
        ("SMTP_SERVER", "SMTP_SSL", "SMTP_EMAIL", "SMTP_PASSWORD", "SMTP_NAME",
         "SMTP_EMAIL_TO"),
    ),
    "feishu": ("飞书", ("FSKEY", "FSSECRET", "FS_API_URL")),
    "gocqhttp": ("go-cqhttp", ("GOBOT_URL", "GOBOT_QQ", "GOBOT_TOKEN")),
    "google-chat": ("Google Chat", ("GOOGLE_CHAT_WEBHOOK_URL", "GOOGLE_CHAT_THREAD")),
    "gotify": ("gotify", ("GOTIFY_URL", "GOTIFY_TOKEN", "GOTIFY_PRIORITY")),
    "igot": ("iGot", ("IGOT_PUSH_KEY", "IGOT_API_URL")),
    "lark": ("Lark", ("LARK_KEY", "LARK_SECRET", "LARK_API_URL")),
    "matrix": ("Matrix", ("MATRIX_HOMESERVER", "MATRIX_ACCESS_TOKEN", "MATRIX_ROOM_ID")),
    "mattermost": (
        "Mattermost",
        ("MATTERMOST_WEBHOOK_URL", "MATTERMOST_CHANNEL", "MATTERMOST_USERNAME",
         "MATTERMOST_ICON_URL"),
    ),
    "mqtt": (
        "MQTT",
        ("MQTT_BROKER", "MQTT_TOPIC", "MQTT_USER", "MQTT_PASSWORD", "MQTT_QOS",
         "MQTT_VERSION", "MQTT_CLIENT_ID", "MQTT_SESSION", "MQTT_RETAIN"),
    ),
    "ntfy": (
        "ntfy",
        ("NTFY_TOPIC", "NTFY_URL", "NTFY_PRIORITY", "NTFY_TOKEN", "NTFY_USERNAME",
         "NTFY_PASSWORD", "NTFY_ACTIONS"),
    ),
    "openilink": (
        "OpeniLink",
        ("OPENILINK_APP_TOKEN", "OPENILINK_HUB_URL", "OPENILINK_CONTEXT_TOKEN"),
    ),
    "postmark": (
        "Postmark",
        ("POSTMARK_SERVER_TOKEN", "POSTMARK_FROM", "POSTMARK_TO", "POSTMARK_CC", "POSTMARK_BCC",
         "POSTMARK_REPLY_TO", "POSTMARK_MESSAGE_STREAM", "POSTMARK_API_URL"),
    ),
    "prowl": (
        "Prowl",
        ("PROWL_API_KEY", "PROWL_PROVIDER_KEY", "PROWL_APPLICATION", "PROWL_PRIORITY",
         "PROWL_API_URL"),
    ),
    "pushbullet": (
        "Pushbullet",
        ("PUSHBULLET_ACCESS_TOKEN", "PUSHBULLET_TARGET", "PUSHBULLET_API_URL"),
    ),
    "pushdeer": ("PushDeer", ("DEER_KEY", "DEER_URL")),
    "pushme": ("PushMe", ("PUSHME_KEY", "PUSHME_URL")),
    "pushover": (
        "Pushover",
        ("PUSHOVER_TOKEN", "PUSHOVER_USER", "PUSHOVER_DEVICE", "PUSHOVER_API_URL"),
    ),
    "pushplus": (
        "PUSHPLUS",
        ("PUSH_PLUS_TOKEN", "PUSH_PLUS_USER", "PUSH_PLUS_TEMPLATE", "PUSH_PLUS_CHANNEL",
         "PUSH_PLUS_WEBHOOK", "PUSH_PLUS_CALLBACKURL", "PUSH_PLUS_TO", "PUSH_PLUS_API_URL"),
    ),
    "pushsafer": (
        "Pushsafer",
        ("PUSHSAFER_PRIVATE_KEY", "PUSHSAFER_DEVICE", "PUSHSAFER_SOUND", "PUSHSAFER_VIBRATION",
         "PUSHSAFER_ICON", "PUSHSAFER_PRIORITY", "PUSHSAFER_API_URL"),
    ),
    "qmsg": ("qmsg", ("QMSG_KEY", "QMSG_TYPE", "QMSG_API_URL")),
    "resend": (
        "Resend",
        ("RESEND_API_KEY", "RESEND_FROM", "RESEND_TO", "RESEND_CC", "RESEND_BCC",
         "RESEND_REPLY_TO", "RESEND_API_URL"),
    ),
    "rocketchat": (
        "Rocket.Chat",
        ("ROCKETCHAT_WEBHOOK_URL", "ROCKETCHAT_CHANNEL", "ROCKETCHAT_ALIAS", "ROCKETCHAT_AVATAR"),
    ),
    "serverchan": ("serverJ", ("PUSH_KEY", "SERVERCHAN_API_URL")),
    "signl4": ("SIGNL4", ("SIGNL4_TEAM_SECRET", "SIGNL4_API_URL")),
    "slack": (
        "Slack", ("SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "SLACK_CHANNEL", "SLACK_API_URL"),
    ),
    "splunk-oncall": (
        "Splunk On-Call",
        ("SPLUNK_ONCALL_API_KEY", "SPLUNK_ONCALL_ROUTING_KEY", "SPLUNK_ONCALL_ENTITY_ID",
         "SPLUNK_ONCALL_ACTION", "SPLUNK_ONCALL_API_URL"),
    ),
    "synology-chat": ("Chat", ("CHAT_URL", "CHAT_TOKEN")),
    "teams": ("Teams", ("TEAMS_WEBHOOK_URL",)),
    "telegram": (
        "tg",
        ("TG_BOT_TOKEN", "TG_USER_ID", "TG_API_HOST", "TG_PROXY_HOST", "TG_PROXY_PORT",
         "TG_PROXY_AUTH"),
    ),
    "webhook": (
        "自定义通知",
        ("WEBHOOK_URL", "WEBHOOK_METHOD", "WEBHOOK_CONTENT_TYPE", "WEBHOOK_HEADERS",
         "WEBHOOK_BODY"),
    ),
    "wecom-app": ("企业微信", ("QYWX_AM", "QYWX_ORIGIN")),
    "wecom-bot": ("企业微信机器人", ("QYWX_KEY", "QYWX_ORIGIN")),
    "weplus": (
        "微加机器人",
        ("WE_PLUS_BOT_TOKEN", "WE_PLUS_BOT_RECEIVER", "WE_PLUS_BOT_VERSION",
         "WE_PLUS_BOT_API_URL"),
    ),
    "wxpusher": (
        "wxpusher",
        ("WXPUSHER_APP_TOKEN", "WXPUSHER_TOPIC_IDS", "WXPUSHER_UIDS", "WXPUSHER_API_URL"),
    ),
    "wxpusher-spt": ("wxpusher SPT", ("WXPUSHER_SPT_LIST", "WXPUSHER_API_URL")),
    "home-assistant": (
        "Home Assistant",
        ("HASS_SERVER", "HASS_TOKEN", "HASS_NOTIFICATION_ID"),
    ),
    "opsgenie": (
        "Opsgenie",
        ("OPSGENIE_API_KEY", "OPSGENIE_TARGETS", "OPSGENIE_PRIORITY", "OPSGENIE_TAGS",
         "OPSGENIE_ENTITY", "OPSGENIE_ALIAS", "OPSGENIE_REGION", "OPSGENIE_API_URL"),
    ),
    "pagerduty": (
        "PagerDuty",
        ("PAGERDUTY_ROUTING_KEY", "PAGERDUTY_SOURCE", "PAGERDUTY_COMPONENT", "PAGERDUTY_GROUP",
         "PAGERDUTY_CLASS", "PAGERDUTY_SEVERITY", "PAGERDUTY_REGION", "PAGERDUTY_API_URL"),
    ),
    "zulip": (
        "Zulip",
        ("ZULIP_SITE", "ZULIP_EMAIL", "ZULIP_API_KEY", "ZULIP_TO", "ZULIP_TOPIC"),
    ),
    "webex": ("Webex", ("WEBEX_WEBHOOK_URL",)),
    "apprise-api": (
        "Apprise API",
        ("APPRISE_API_URL", "APPRISE_API_KEY", "APPRISE_API_TAGS", "APPRISE_API_USER",
         "APPRISE_API_PASSWORD"),
    ),
    "mastodon": (
        "Mastodon",
        ("MASTODON_URL", "MASTODON_ACCESS_TOKEN", "MASTODON_VISIBILITY", "MASTODON_TO",
         "MASTODON_SPOILER_TEXT", "MASTODON_LANGUAGE", "MASTODON_MAX_CHARS"),
    ),
    "misskey": (
        "Misskey",
        ("MK_URL", "MK_TOKEN", "MK_VISIBILITY", "MK_CW", "MK_MAX_CHARS"),
    ),
    "sendgrid": (
        "SendGrid",
        ("SENDGRID_API_KEY", "SENDGRID_FROM", "SENDGRID_FROM_NAME", "SENDGRID_TO", "SENDGRID_CC",
         "SENDGRID_BCC", "SENDGRID_API_URL"),
    ),
    "office365": (
        "Office 365",
        ("O365_TENANT", "O365_CLIENT_ID", "O365_CLIENT_SECRET", "O365_FROM", "O365_TO", "O365_CC",
         "O365_BCC", "O365_LOGIN_URL", "O365_GRAPH_URL"),
    ),
    "mailgun": (
        "Mailgun",
        ("MAILGUN_API_KEY", "MAILGUN_DOMAIN", "MAILGUN_FROM", "MAILGUN_TO", "MAILGUN_CC",
         "MAILGUN_BCC", "MAILGUN_REGION", "MAILGUN_API_URL"),
    ),
    "lametric": (
        "LaMetric",
        ("LAMETRIC_API_KEY", "LAMETRIC_APP_TOKEN", "LAMETRIC_DEVICE", "LAMETRIC_APP_ID",
         "LAMETRIC_APP_VERSION", "LAMETRIC_PRIORITY", "LAMETRIC_ICON", "LAMETRIC_ICON_TYPE",
         "LAMETRIC_SOUND", "LAMETRIC_CYCLES", "LAMETRIC_API_URL"),
    ),
    "notica": ("Notica", ("NOTICA_URL", "NOTICA_ID", "NOTICA_USER", "NOTICA_PASSWORD")),
    "nextcloud-talk": (
        "Nextcloud Talk",
        ("NEXTCLOUD_TALK_URL", "NEXTCLOUD_TALK_USER", "NEXTCLOUD_TALK_PASSWORD",
         "NEXTCLOUD_TALK_ROOMS", "NEXTCLOUD_TALK_SILENT"),
    ),
    "revolt": (
        "Revolt",
        ("REVOLT_BOT_TOKEN", "REVOLT_CHANNELS", "REVOLT_ICON_URL", "REVOLT_EMBED_URL",
         "REVOLT_API_URL"),
    ),
    "guilded": ("Guilded", ("GUILDED_WEBHOOK_URL", "GUILDED_USERNAME", "GUILDED_AVATAR_URL")),
    "flock": (
        "Flock",
        ("FLOCK_TOKEN", "FLOCK_TO", "FLOCK_NAME", "FLOCK_ICON_URL", "FLOCK_API_URL"),
    ),
    "ryver": ("Ryver", ("RYVER_WEBHOOK_URL", "RYVER_MODE", "RYVER_NAME", "RYVER_AVATAR_URL")),
    "simplepush": ("SimplePush", ("SIMPLEPUSH_KEY", "SIMPLEPUSH_EVENT", "SIMPLEPUSH_API_URL")),
    "join": (
        "Join",
        ("JOIN_API_KEY", "JOIN_DEVICES", "JOIN_PRIORITY", "JOIN_ICON_URL", "JOIN_API_URL"),
    ),
    "pushy": (
        "Pushy",
        ("PUSHY_API_KEY", "PUSHY_TO", "PUSHY_SOUND", "PUSHY_BADGE", "PUSHY_API_URL"),
    ),
    "onesignal": (
        "OneSignal",
        ("ONESIGNAL_APP_ID", "ONESIGNAL_API_KEY", "ONESIGNAL_REST_API_KEY",
         "ONESIGNAL_SUBSCRIPTION_IDS", "ONESIGNAL_EXTERNAL_IDS", "ONESIGNAL_SEGMENTS",
         "ONESIGNAL_API_URL"),
    ),
    "kook": ("KOOK", ("KOOK_BOT_TOKEN", "KOOK_CHANNEL_ID", "KOOK_USER_ID", "KOOK_API_URL")),
    "pushjet": (
        "Pushjet",
        ("PUSHJET_URL", "PUSHJET_SECRET", "PUSHJET_LEVEL", "PUSHJET_USERNAME", "PUSHJET_PASSWORD"),
    ),
    "dingtalk-notice": (
        "DingTalk work notice",
        ("DINGTALK_APP_KEY", "DINGTALK_APP_SECRET", "DINGTALK_AGENT_ID", "DINGTALK_USERID_LIST",
         "DINGTALK_DEPT_ID_LIST", "DINGTALK_TO_ALL_USER", "DINGTALK_API_URL"),
    ),
    "feishu-app": (
        "Feishu / Lark app",
        ("FEISHU_APP_ID", "FEISHU_APP_SECRET", "FEISHU_RECEIVE_ID", "FEISHU_RECEIVE_ID_TYPE",
         "FEISHU_API_URL"),
    ),
    "wechat-oa": (
        "WeChat Official Account",
        ("WECHAT_OA_APP_ID", "WECHAT_OA_APP_SECRET", "WECHAT_OA_TEMPLATE_ID", "WECHAT_OA_TO",
         "WECHAT_OA_TEMPLATE_DATA", "WECHAT_OA_API_URL"),
    ),
    # SMS and voice
    "twilio": (
        "Twilio",
        ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_TO", "TWILIO_API_KEY",
         "TWILIO_API_URL"),
    ),
    "vonage": (
        "Vonage",
        ("VONAGE_API_KEY", "NEXMO_API_KEY", "VONAGE_API_SECRET", "NEXMO_API_SECRET", "VONAGE_FROM",
         "VONAGE_TO", "VONAGE_TTL", "VONAGE_API_URL"),
    ),
    "plivo": (
        "Plivo",
        ("PLIVO_AUTH_ID", "PLIVO_AUTH_TOKEN", "PLIVO_FROM", "PLIVO_TO", "PLIVO_API_URL"),
    ),
    "sinch": (
        "Sinch",
        ("SINCH_SERVICE_PLAN_ID", "SINCH_API_TOKEN", "SINCH_FROM", "SINCH_TO", "SINCH_REGION",
         "SINCH_API_URL"),
    ),
    "clicksend": (
        "ClickSend",
        ("CLICKSEND_USERNAME", "CLICKSEND_API_KEY", "CLICKSEND_TO", "CLICKSEND_FROM",
         "CLICKSEND_API_URL"),
    ),
    "bulksms": (
        "BulkSMS",
        ("BULKSMS_USERNAME", "BULKSMS_TOKEN_ID", "BULKSMS_PASSWORD", "BULKSMS_TOKEN_SECRET",
         "BULKSMS_TO", "BULKSMS_FROM", "BULKSMS_ROUTE", "BULKSMS_MAX_PARTS", "BULKSMS_API_URL"),
    ),
    "messagebird": (
        "MessageBird",
        ("MESSAGEBIRD_ACCESS_KEY", "MESSAGEBIRD_FROM", "MESSAGEBIRD_TO", "MESSAGEBIRD_API_URL"),
    ),
    "tencent-sms": (
        "Tencent Cloud SMS",
        ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENT_SMS_APP_ID",
         "TENCENT_SMS_TEMPLATE_ID", "TENCENT_SMS_BRAND", "TENCENT_SMS_TO",
         "TENCENT_SMS_TEMPLATE_PARAMS", "TENCENT_SMS_PARAM_MAX", "TENCENTCLOUD_REGION",
         "TENCENT_SMS_API_URL"),
    ),
    "aliyun-sms": (
        "Aliyun SMS",
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIYUN_SMS_BRAND",
         "ALIYUN_SMS_TEMPLATE_CODE", "ALIYUN_SMS_TO", "ALIYUN_SMS_TEMPLATE_PARAM",
         "ALIYUN_SMS_PARAM_MAX", "ALIYUN_SMS_API_URL"),
    ),
    "ses": (
        "Amazon SES",
        ("SES_ACCESS_KEY_ID", "SES_SECRET_ACCESS_KEY", "SES_REGION", "SES_FROM", "SES_TO",
         "SES_CC", "SES_BCC", "SES_REPLY_TO", "SES_API_URL"),
    ),
    "sns": (
        "Amazon SNS",
        ("SNS_ACCESS_KEY_ID", "SNS_SECRET_ACCESS_KEY", "SNS_REGION", "SNS_TO", "SNS_API_URL"),
    ),
    "grafana-oncall": ("Grafana OnCall", ("GRAFANA_ONCALL_URL", "GRAFANA_ONCALL_IMAGE_URL")),
    "fcm": (
        "Firebase Cloud Messaging",
        ("FCM_KEY", "FCM_TARGETS", "FCM_PROJECT", "FCM_PRIORITY", "FCM_DATA", "FCM_IMAGE_URL",
         "FCM_COLOR", "FCM_API_URL", "FCM_OAUTH_URL"),
    ),
}

# notify.py's per-channel functions and the channel each sends to. Its
# `console` prints here (below), as notify.py's does.
_FUNCTIONS = {
    "aibotk": "aibotk",
    "bark": "bark",
    "chat": "synology-chat",
    "chronocat": "chronocat",
    "custom_notify": "webhook",
    "dingding_bot": "dingtalk",
    "feishu_bot": "feishu",
    "go_cqhttp": "gocqhttp",
    "gotify": "gotify",
    "iGot": "igot",
    "ntfy": "ntfy",
    "pushdeer": "pushdeer",
    "pushme": "pushme",
    "pushplus_bot": "pushplus",
    "qmsg_bot": "qmsg",
    "serverJ": "serverchan",
    "smtp": "email",
    "telegram_bot": "telegram",
    "wecom_app": "wecom-app",
    "wecom_bot": "wecom-bot",
    "weplus_bot": "weplus",
    "wxpusher_bot": "wxpusher",
}

_ENV_NAMES = frozenset(name for _, names in _CHANNELS.values() for name in names)

# A send waits up to 30 s for retries (`mcp-push send`'s --wait) and a first
# start after installing may compile every channel (9 s idle, more on a busy
# machine); past this the script goes on and mcp-push's outbox keeps the rest.
_TIMEOUT_SECS = 120

_NOT_INSTALLED = (
    "mcp-push is not installed: there is no `mcp-push` on PATH and MCP_PUSH_BIN is not set. "
    "Install it (`pip install mcp-push`, `npm install -g mcp-push`, or "
    "`cargo install --locked --path host` in its source), or set MCP_PUSH_BIN to the "
    "executable, or MCP_PUSH_URL to a running `mcp-push serve`. Nothing was sent."
)

# As notify.py: the channel settings found in the environment when this module
# is imported. Change it, or pass kwargs, to send with other settings.
push_config = {name: os.environ[name] for name in sorted(_ENV_NAMES) if os.environ.get(name)}


def send(title, content, ignore_default_config=False, **kwargs):
    """Sends to every configured channel (notify.py's `send`).

    kwargs are settings by their environment names (`TG_USER_ID="42"`); they
    win over the environment. With ignore_default_config=True and kwargs, the
    channel names of the environment are left out and only the kwargs are
    used (mcp-push's own MCP_PUSH_* and everything else are kept, and so are
    the channels of its config file).
    """
    if not content:
        _say(f"{title} 推送内容为空！")
        return
    _push(title, content, kwargs, ignore_default_config, None)


def console(title, content, **kwargs):
    """Prints the message, as notify.py's `console` does."""
    _say(f"{title}\n\n{content}")


def _channel_function(name, channel):
    def push(title, content, **kwargs):
        _push(title, content, kwargs, False, channel)

    push.__name__ = push.__qualname__ = name
    push.__doc__ = (
        f"Sends to mcp-push's `{channel}` channel only (notify.py's `{name}`); "
        "kwargs override the environment, as for `send`."
    )
    return push


for _name, _channel in _FUNCTIONS.items():
    globals()[_name] = _channel_function(_name, _channel)

__all__ = ["send", "console", "push_config"] + sorted(_FUNCTIONS)


def _push(title, content, kwargs, ignore_default_config, only):
    label = _label(only)
    try:
        title, content = _text(title).replace("\0", ""), _text(content)
        server = os.environ.get("MCP_PUSH_URL", "").strip()
        if server:
            _to_server(server, title, content, kwargs, ignore_default_config, only)
        else:
            env = _environment(kwargs, ignore_default_config)
            _to_executable(title, content, env, only)
    except Exception as e:  # the calling script goes on, whatever went wrong here
        _say(f"{label} 推送失败！{type(e).__name__}: {e}")


def _environment(kwargs, ignore_default_config):
    """The executable's environment: this one, with the channel names taken
    from push_config and kwargs (or from kwargs alone)."""
    config = dict(push_config)
    if kwargs:
        if ignore_default_config:
            config = dict(kwargs)
        else:
            config.update(kwargs)
    env = {k: v for k, v in os.environ.items() if k not in _ENV_NAMES}
    for key, value in config.items():
        if value is not None:
            env[str(key)] = _setting(value)
    return env


def _to_executable(title, content, env, only):
    label = _label(only)
    exe = _executable()
    if exe is None:
        _say(f"{label} 推送失败！{_NOT_INSTALLED}")
        return
    argv = [exe, "send", "--json"]
    if only:
        argv += ["--channel", only]
    argv += ["--", title, "-"]
    try:
        done = subprocess.run(
            argv,
            input=content.encode("utf-8", "replace"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            timeout=_TIMEOUT_SECS,
        )
    except subprocess.TimeoutExpired:
        _say(
            f"{label} 推送未完成：mcp-push did not finish within {_TIMEOUT_SECS} s and was "
            "stopped; what it had not delivered stays in its outbox "
            "(`mcp-push deliveries --pending`)."
        )
        return
    except OSError as e:
        _say(
            f"{label} 推送失败！cannot run {exe} ({e.strerror or e}): set MCP_PUSH_BIN to the "
            "mcp-push executable, or install it (`pip install mcp-push`)."
        )
        return
    notes = done.stderr.decode("utf-8", "replace").strip().splitlines()
    try:
        report = json.loads(done.stdout.decode("utf-8", "replace"))
    except ValueError:
        report = None
    if not isinstance(report, dict):
        # A usage or configuration error (exit 2): mcp-push said why on stderr.
        first = notes[0] if notes else f"mcp-push exited with code {done.returncode}"
        _say(f"{label} 推送失败！mcp-push: {first}")
        notes = notes[1:]
    else:
        _print_report(title, report)
    for line in notes:
        _say(f"mcp-push: {line}")


def _to_server(server, title, content, kwargs, ignore_default_config, only):
    label = _label(only)
    if kwargs and ignore_default_config:
        _say(
            f"{label} 未推送：ignore_default_config=True asks for the channels in kwargs only, "
            f"but MCP_PUSH_URL sends through the mcp-push server at {server}, which sends "
            "with its own channels. Unset MCP_PUSH_URL to send with these settings."
        )
        return
    if kwargs:
        _say(
            f"注意：{', '.join(sorted(kwargs))} not applied: the mcp-push server at {server} "
            "sends with its own channels (unset MCP_PUSH_URL to send with these settings)."
        )
    # The server reads its own environment, not this script's.
    if title in _skip_titles():
        _say(f"{title} 在SKIP_PUSH_TITLE环境变量内，跳过推送！")
        return
    body = {"title": title, "content": content}
    if only:
        body["channels"] = [only]
    request = urllib.request.Request(
        server.rstrip("/") + "/v1/notify",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    token = os.environ.get("MCP_PUSH_TOKEN", "").strip()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    # MCP_PUSH_URL names the server itself: no HTTP_PROXY in between.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=_TIMEOUT_SECS) as reply:
            report = json.loads(reply.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as e:
        _say(f"{label} 推送失败！mcp-push serve at {server} answered {e.code}: {_api_error(e)}")
        return
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        _say(
            f"{label} 推送失败！cannot reach mcp-push serve at {server} ({reason}): start it "
            "(`mcp-push serve`), or unset MCP_PUSH_URL to send through the local mcp-push."
        )
        return
    _print_report(title, report)


def _print_report(title, report):
    """One line per channel, from `send --json`'s or POST /v1/notify's result."""
    if report.get("status") == "skipped" and not report.get("channels"):
        _say(f"{title} 在SKIP_PUSH_TITLE环境变量内，跳过推送！")
        return
    for outcome in report.get("channels") or []:
        label = _label(outcome.get("channel"))
        state = outcome.get("state")
        why = outcome.get("error") or ""
        if state == "sent":
            _say(f"{label} 推送成功！")
        elif state == "failed":
            _say(f"{label} 推送失败！{why}")
        elif state == "skipped":
            _say(f"{label} 未推送：{why}")
        else:
            _say(
                f"{label} 推送未完成：{why or state}. It waits in mcp-push's outbox and is "
                "sent when due (`mcp-push deliveries --pending`)."
            )


def _executable():
    given = os.environ.get("MCP_PUSH_BIN", "").strip()
    if given:
        return given
    found = shutil.which("mcp-push")
    if found:
        return found
    # `pip install mcp-push` puts it among this Python's scripts, which need not
    # be on PATH (a virtualenv not activated, `pip install --user`).
    for scheme in (None, f"{os.name}_user"):
        try:
            scripts = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = os.path.join(scripts or "", "mcp-push")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _skip_titles():
    """SKIP_PUSH_TITLE as mcp-push reads it: one title a line, trimmed."""
    lines = os.environ.get("SKIP_PUSH_TITLE", "").split("\n")
    return {line.strip() for line in lines if line.strip()}


def _api_error(error):
    raw = error.read().decode("utf-8", "replace")
    try:
        return json.loads(raw)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return raw.strip() or error.reason


def _label(channel):
    if channel is None:
        return "mcp-push"
    return _CHANNELS.get(channel, (channel,))[0]


def _text(value):
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # A lone surrogate cannot be written as UTF-8; it becomes U+FFFD.
    return text.encode("utf-8", "replace").decode("utf-8")


def _setting(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def _say(line):
    print(line, flush=True)


def main():
    send("title", "content")


if __name__ == "__main__":
    main()
