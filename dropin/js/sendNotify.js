// A drop-in for qinglong's sendNotify.js (sample/notify.js): the same
// `sendNotify(text, desp, params, author)`, delivered by mcp-push.
//
// Scripts keep `const notify = require('./sendNotify')`. The channels are
// mcp-push's, turned on by the environment names notify.js reads
// (DD_BOT_TOKEN, QYWX_KEY, TG_BOT_TOKEN, WEBHOOK_URL, ...) and by mcp-push's
// config file. This file only hands the message over, one of two ways:
//
// - to the `mcp-push` executable (MCP_PUSH_BIN, else the one the `mcp-push`
//   npm package installed, else PATH): `mcp-push send --json -- TITLE -`,
//   the message on standard input, so its size and line breaks never meet an
//   argument limit;
// - when MCP_PUSH_URL is set, to a running `mcp-push serve`: POST
//   $MCP_PUSH_URL/v1/notify, with `Authorization: Bearer $MCP_PUSH_TOKEN`
//   when that is set.
//
// The promise always resolves: each outcome, a failure too, is a printed
// line, as notify.js prints them. Node's standard library only.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

// The name notify.js prints for each mcp-push channel it knows (an
// environment channel is named after its plugin); others print their own.
const LABELS = {
  aibotk: '智能微秘书',
  bark: 'Bark APP',
  chronocat: 'Chronocat',
  dingtalk: '钉钉',
  email: 'SMTP',
  feishu: '飞书',
  gocqhttp: 'Go-cqhttp',
  gotify: 'Gotify',
  igot: 'IGot',
  ntfy: 'Ntfy',
  pushdeer: 'PushDeer',
  pushme: 'PushMe',
  pushplus: 'pushplus',
  qmsg: 'Qmsg',
  serverchan: 'Server 酱',
  'synology-chat': 'Chat',
  telegram: 'Telegram',
  webhook: '自定义通知',
  'wecom-app': '企业微信应用消息',
  'wecom-bot': '企业微信',
  weplus: '微加机器人',
  wxpusher: 'wxpusher',
};

// A send waits up to 30 s for retries (`mcp-push send`'s --wait) and a first
// start after installing may compile every channel (9 s idle, more on a busy
// machine); past this the script goes on and mcp-push's outbox keeps the rest.
const TIMEOUT_MS = 120000;

const NOT_INSTALLED =
  'mcp-push is not installed: there is no `mcp-push` on PATH and MCP_PUSH_BIN is not set. ' +
  'Install it (`npm install -g mcp-push`, `pip install mcp-push`, or ' +
  '`cargo install --locked --path host` in its source), or set MCP_PUSH_BIN to the ' +
  'executable, or MCP_PUSH_URL to a running `mcp-push serve`. Nothing was sent.';

/**
 * Sends to every configured channel.
 * @param text the title
 * @param desp the message
 * @param params `{ url }` becomes the message's link (Bark, ntfy, ... open it)
 * @param author appended to the message, as older notify.js did
 * @returns {Promise<void>} resolves once mcp-push has answered; never rejects
 */
async function sendNotify(text, desp, params = {}, author = '') {
  try {
    const title = clean(text).replace(/\0/g, '');
    const content = clean(desp) + clean(author);
    const link = params && typeof params.url === 'string' ? params.url : '';
    const server = (process.env.MCP_PUSH_URL || '').trim();
    if (server) {
      await toServer(server, title, content, link);
    } else {
      await toExecutable(title, content, link);
    }
  } catch (e) {
    // The calling script goes on, whatever went wrong here.
    say(`mcp-push 发送通知消息失败😞 ${e && e.message ? e.message : e}`);
  }
}

function toExecutable(title, content, link) {
  return new Promise((resolve) => {
    const exe = executable();
    if (!exe) {
      say(`mcp-push 发送通知消息失败😞 ${NOT_INSTALLED}`);
      resolve();
      return;
    }
    const args = ['send', '--json'];
    if (link) args.push('--link', link);
    args.push('--', title, '-');
    let child;
    try {
      child = spawn(exe, args, { env: process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      say(`mcp-push 发送通知消息失败😞 cannot run ${exe}: ${e.message}`);
      resolve();
      return;
    }
    const out = [];
    const err = [];
    let done = false;
    const finish = (line) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (line) say(line);
      resolve();
    };
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      finish(
        `mcp-push 发送通知消息失败😞 mcp-push did not finish within ${TIMEOUT_MS / 1000} s and was ` +
          "stopped; what it had not delivered stays in its outbox (`mcp-push deliveries --pending`).",
      );
    }, TIMEOUT_MS);
    child.on('error', (e) => {
      finish(
        `mcp-push 发送通知消息失败😞 cannot run ${exe} (${e.code || e.message}): set MCP_PUSH_BIN ` +
          'to the mcp-push executable, or install it (`npm install -g mcp-push`).',
      );
    });
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('close', (code) => {
      if (done) return;
      let notes = Buffer.concat(err).toString('utf8').trim().split('\n').filter(Boolean);
      let report = null;
      try {
        report = JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch (e) {
        report = null;
      }
      if (report && typeof report === 'object') {
        printReport(title, report);
      } else {
        // A usage or configuration error (exit 2): mcp-push said why on stderr.
        say(`mcp-push 发送通知消息失败😞 ${notes[0] || `mcp-push exited with code ${code}`}`);
        notes = notes.slice(1);
      }
      for (const line of notes) say(`mcp-push: ${line}`);
      finish();
    });
    // mcp-push may end before reading it all (a usage error): not a crash here.
    child.stdin.on('error', () => {});
    child.stdin.end(content);
  });
}

function toServer(server, title, content, link) {
  return new Promise((resolve) => {
    // The server reads its own environment, not this script's.
    if (skipTitles().includes(title)) {
      console.info(`${title}在 SKIP_PUSH_TITLE 环境变量内，跳过推送`);
      resolve();
      return;
    }
    const fail = (why) => {
      say(`mcp-push 发送通知消息失败😞 ${why}`);
      resolve();
    };
    let url;
    try {
      url = new URL(server.replace(/\/+$/, '') + '/v1/notify');
    } catch (e) {
      fail(`MCP_PUSH_URL is not a URL (${server}): write e.g. http://127.0.0.1:8787`);
      return;
    }
    const body = JSON.stringify(link ? { title, content, link } : { title, content });
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    };
    const token = (process.env.MCP_PUSH_TOKEN || '').trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    const client = url.protocol === 'https:' ? https : http;
    // No keep-alive agent: an idle socket must not hold the script open.
    const req = client.request(url, { method: 'POST', headers, agent: false, timeout: TIMEOUT_MS });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) =>
      fail(
        `cannot reach mcp-push serve at ${server} (${e.message}): start it (\`mcp-push serve\`), ` +
          'or unset MCP_PUSH_URL to send through the local mcp-push.',
      ),
    );
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('error', (e) => fail(`reading the answer of ${server}: ${e.message}`));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let reply = null;
        try {
          reply = JSON.parse(raw);
        } catch (e) {
          reply = null;
        }
        if ((res.statusCode === 200 || res.statusCode === 202) && reply) {
          printReport(title, reply);
          resolve();
        } else {
          const message = reply && reply.error && reply.error.message;
          fail(`mcp-push serve at ${server} answered ${res.statusCode}: ${message || raw.trim()}`);
        }
      });
    });
    req.end(body);
  });
}

// One line per channel, from `send --json`'s or POST /v1/notify's result.
function printReport(title, report) {
  const channels = Array.isArray(report.channels) ? report.channels : [];
  if (report.status === 'skipped' && channels.length === 0) {
    console.info(`${title}在 SKIP_PUSH_TITLE 环境变量内，跳过推送`);
    return;
  }
  for (const o of channels) {
    const label = LABELS[o.channel] || o.channel;
    const why = o.error || '';
    if (o.state === 'sent') {
      say(`${label} 发送通知消息成功🎉`);
    } else if (o.state === 'failed') {
      say(`${label} 发送通知消息失败😞 ${why}`);
    } else if (o.state === 'skipped') {
      say(`${label} 未发送 ${why}`);
    } else {
      say(
        `${label} 发送通知消息未完成 ${why || o.state}. It waits in mcp-push's outbox and is ` +
          'sent when due (`mcp-push deliveries --pending`).',
      );
    }
  }
}

function executable() {
  const given = (process.env.MCP_PUSH_BIN || '').trim();
  if (given) return given;
  // Installed with the `mcp-push` npm package, beside this file.
  try {
    return require.resolve('@mcp-push/linux-x64/bin/mcp-push');
  } catch (e) {
    // not installed from npm: look on PATH
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'mcp-push');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch (e) {
      // not here
    }
  }
  return null;
}

// SKIP_PUSH_TITLE as mcp-push reads it: one title a line, trimmed.
function skipTitles() {
  return (process.env.SKIP_PUSH_TITLE || '')
    .split('\n')
    .map((t) => t.trim())
    .filter(Boolean);
}

function clean(value) {
  if (value === undefined || value === null) return '';
  // A lone surrogate cannot be written as UTF-8; it becomes U+FFFD.
  return String(value).replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}

function say(line) {
  console.log(line);
}

module.exports = { sendNotify };
