// An MCP client for scripts/client-compat.sh, on the official TypeScript SDK
// (@modelcontextprotocol/sdk): connects over stdio (StdioClientTransport) or
// streamable HTTP (StreamableHTTPClientTransport), initializes, lists the
// tools and, with --call, calls notify_send, then manages a watcher as an
// agent would (watch_create, watch_run, hub_status, watch_delete), checking
// each answer. The script copies it beside the
// node_modules it installed the SDK into, where its imports resolve.
//
// Usage: node ts_client.mjs [--call] [--env KEY=VALUE]... (URL | -- COMMAND ARG...)
//
// --env is what the client is told to give a stdio server; without it the
// SDK's default applies (getDefaultEnvironment: HOME, PATH and a few more).
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const args = process.argv.slice(2);
let call = false;
let env;
while (args.length && args[0] !== "--" && args[0].startsWith("--")) {
  const flag = args.shift();
  if (flag === "--call") call = true;
  else if (flag === "--env") {
    const [key, ...value] = args.shift().split("=");
    env = { ...env, [key]: value.join("=") };
  } else throw new Error(`unknown flag ${flag}`);
}
const transport =
  args[0] === "--"
    ? new StdioClientTransport({ command: args[1], args: args.slice(2), env, stderr: "inherit" })
    : new StreamableHTTPClientTransport(new URL(args[0]));

const version = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url)),
).version;
const client = new Client({ name: "client-compat", version: "1" });
const timer = setTimeout(() => {
  console.error("timed out after 60 s");
  process.exit(1);
}, 60_000);
await client.connect(transport);
const tools = (await client.listTools()).tools.map((t) => t.name);
console.log(`@modelcontextprotocol/sdk ${version}: tools ${tools.join(", ")}`);
let failed = !tools.includes("notify_send") && "no notify_send tool";
if (call && !failed) {
  const result = await client.callTool({
    name: "notify_send",
    arguments: { title: "client-compat", content: "a tool call from the client check" },
  });
  console.log(`notify_send: ${JSON.stringify(result.structuredContent)}`);
  if (result.isError || result.structuredContent?.status !== "success") {
    failed = "notify_send did not deliver";
  }
  if (!failed) failed = await watchRound();
  if (!failed) failed = await askRound();
}

// A reminder created, tried without sending, the hub asked how it is, and
// the reminder deleted. The reason it failed, or false.
async function watchRound() {
  const name = `compat-ts-${process.pid}`;
  const steps = [
    ["watch_create", { name, kind: "schedule", schedule: "daily 08:00", title: "client-compat reminder" },
      (c) => c.name === name],
    ["watch_run", { watcher: name },
      (c) => c.sent === false && c.notifications?.map((n) => n.title).join() === "client-compat reminder"],
    ["hub_status", {}, (c) => (c.watchers?.total ?? 0) >= 1],
    ["watch_delete", { watcher: name }, (c) => c.name === name],
  ];
  for (const [tool, args, good] of steps) {
    const r = await client.callTool({ name: tool, arguments: args });
    if (r.isError || !good(r.structuredContent ?? {})) {
      return `${tool} answered ${JSON.stringify(r.structuredContent)}`;
    }
  }
  console.log("watch tools: created, tried, status, deleted");
  return false;
}
// A question nobody answers: ask_user waits (sending progress, which this
// client hears and resets its timeout on) and times out to its default;
// ask_status agrees; a second question asked without waiting is cancelled.
async function askRound() {
  let progress = 0;
  const r = await client.callTool(
    { name: "ask_user", arguments: { question: "client-compat?", choices: ["yes", "no"], default: "no", timeout_secs: 2 } },
    undefined,
    { onprogress: () => { progress += 1; }, resetTimeoutOnProgress: true },
  );
  const c = r.structuredContent ?? {};
  if (r.isError || c.status !== "timed_out" || c.answer !== "no") return `ask_user answered ${JSON.stringify(c)}`;
  if (progress < 1) return "ask_user sent no progress notification while it waited";
  const s = await client.callTool({ name: "ask_status", arguments: { ask_id: c.ask_id } });
  if (s.structuredContent?.status !== "timed_out") return `ask_status answered ${JSON.stringify(s.structuredContent)}`;
  const open = await client.callTool({ name: "ask_user", arguments: { question: "later?", wait: false } });
  if (open.structuredContent?.status !== "open") return `ask_user (wait: false) answered ${JSON.stringify(open.structuredContent)}`;
  const x = await client.callTool({ name: "ask_cancel", arguments: { ask_id: open.structuredContent.ask_id } });
  if (x.structuredContent?.status !== "cancelled") return `ask_cancel answered ${JSON.stringify(x.structuredContent)}`;
  console.log(`ask tools: timed out to the default (${progress} progress), status, asked without waiting, cancelled`);
  return false;
}
await client.close();
clearTimeout(timer);
if (failed) {
  console.error(failed);
  process.exit(1);
}
