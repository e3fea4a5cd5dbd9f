// An MCP client for scripts/client-compat.sh, on the official TypeScript SDK
// (@modelcontextprotocol/sdk): connects over stdio (StdioClientTransport) or
// streamable HTTP (StreamableHTTPClientTransport), initializes, lists the
// tools and, with --call, calls notify_send. The script copies it beside the
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
}
await client.close();
clearTimeout(timer);
if (failed) {
  console.error(failed);
  process.exit(1);
}
