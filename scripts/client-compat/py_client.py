"""An MCP client for scripts/client-compat.sh, on the official Python SDK
(`mcp`) or on fastmcp's Client: connects over stdio or streamable HTTP,
initializes, lists the tools and, with --call, calls notify_send, then
manages a watcher as an agent would (watch_create, watch_run, hub_status,
watch_delete).

Usage: py_client.py mcp|fastmcp [--call] [--env KEY=VALUE]... (URL | -- COMMAND ARG...)

--env is what the client is told to give a stdio server; without it each
library's own default applies (the check of which variables reach a server).
Prints the tool names and the call's status; exits non-zero when the
connection, the listing or the call fails, or the call did not deliver.
"""

import asyncio
import importlib.metadata
import json
import os
import sys
from contextlib import AsyncExitStack


def parse(argv):
    sdk, call, env, rest = argv[0], False, None, argv[1:]
    while rest and rest[0] != "--" and rest[0].startswith("--"):
        flag = rest.pop(0)
        if flag == "--call":
            call = True
        elif flag == "--env":
            key, _, value = rest.pop(0).partition("=")
            env = {**(env or {}), key: value}
        else:
            sys.exit(f"unknown flag {flag}")
    if rest and rest[0] == "--":
        return sdk, call, env, None, rest[1:]
    return sdk, call, env, rest[0], None


async def with_mcp(call, env, url, command):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client import streamable_http
    from mcp.client.stdio import stdio_client

    async with AsyncExitStack() as stack:
        if url:
            # 1.x names it streamablehttp_client and yields a third item.
            connect = getattr(streamable_http, "streamable_http_client", None) or getattr(
                streamable_http, "streamablehttp_client"
            )
            streams = await stack.enter_async_context(connect(url))
        else:
            params = StdioServerParameters(command=command[0], args=command[1:], env=env)
            streams = await stack.enter_async_context(stdio_client(params))
        session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
        await session.initialize()
        tools = [t.name for t in (await session.list_tools()).tools]
        result = None

        async def tool(name, args):
            r = await session.call_tool(name, args)
            # 2.x names the fields in snake case, 1.x as on the wire.
            return (
                getattr(r, "is_error", None) or getattr(r, "isError", None),
                getattr(r, "structured_content", None) or getattr(r, "structuredContent", None),
            )

        if call:
            result = await tool("notify_send", NOTIFY)
            await watch_round(tool)
            await ask_round(tool)
        return tools, result


async def with_fastmcp(call, env, url, command):
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    target = url or StdioTransport(command=command[0], args=command[1:], env=env)
    async with Client(target) as client:
        tools = [t.name for t in await client.list_tools()]
        result = None

        async def tool(name, args):
            r = await client.call_tool(name, args, raise_on_error=False)
            return (r.is_error, r.structured_content)

        if call:
            result = await tool("notify_send", NOTIFY)
            await watch_round(tool)
            await ask_round(tool)
        return tools, result


NOTIFY = {"title": "client-compat", "content": "a tool call from the client check"}


async def watch_round(tool):
    """A reminder created, tried without sending, the hub asked how it is,
    and the reminder deleted: each answer checked."""
    name = f"compat-{os.getpid()}"
    reminder = {"name": name, "kind": "schedule", "schedule": "daily 08:00",
                "title": "client-compat reminder"}
    steps = [
        ("watch_create", reminder, lambda c: c.get("name") == name),
        ("watch_run", {"watcher": name},
         lambda c: c.get("sent") is False
         and [n.get("title") for n in c.get("notifications", [])] == ["client-compat reminder"]),
        ("hub_status", {}, lambda c: c.get("watchers", {}).get("total", 0) >= 1),
        ("watch_delete", {"watcher": name}, lambda c: c.get("name") == name),
    ]
    for name_, args, good in steps:
        is_error, content = await tool(name_, args)
        if is_error or not good(content or {}):
            sys.exit(f"{name_} answered {json.dumps(content)}")
    print("watch tools: created, tried, status, deleted")


async def ask_round(tool):
    """A question nobody answers times out to its default; ask_status agrees;
    one asked without waiting is cancelled."""
    q = {"question": "client-compat?", "choices": ["yes", "no"], "default": "no", "timeout_secs": 1}
    is_error, c = await tool("ask_user", q)
    c = c or {}
    if is_error or c.get("status") != "timed_out" or c.get("answer") != "no":
        sys.exit(f"ask_user answered {json.dumps(c)}")
    _, s = await tool("ask_status", {"ask_id": c["ask_id"]})
    if (s or {}).get("status") != "timed_out":
        sys.exit(f"ask_status answered {json.dumps(s)}")
    _, o = await tool("ask_user", {"question": "later?", "wait": False})
    _, x = await tool("ask_cancel", {"ask_id": (o or {}).get("ask_id", 0)})
    if (x or {}).get("status") != "cancelled":
        sys.exit(f"ask_cancel answered {json.dumps(x)}")
    print("ask tools: timed out to the default, status, asked without waiting, cancelled")


def main():
    sdk, call, env, url, command = parse(sys.argv[1:])
    run = {"mcp": with_mcp, "fastmcp": with_fastmcp}[sdk]
    tools, result = asyncio.run(asyncio.wait_for(run(call, env, url, command), 60))
    print(f"{sdk} {importlib.metadata.version(sdk)}: tools {', '.join(tools)}")
    if "notify_send" not in tools:
        sys.exit("no notify_send tool")
    if call:
        is_error, content = result
        print(f"notify_send: {json.dumps(content)}")
        if is_error or (content or {}).get("status") != "success":
            sys.exit("notify_send did not deliver")


main()
