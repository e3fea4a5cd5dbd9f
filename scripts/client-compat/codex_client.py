"""Drives `codex app-server` (JSON lines on stdio) for scripts/client-compat.sh:
the MCP servers configured in $CODEX_HOME/config.toml are started by Codex
itself, listed (`mcpServerStatus/list`: each server's tools) and, with --call,
sent a `notify_send` through `mcpServer/tool/call` in an ephemeral thread.
None of this needs an OpenAI account; only a turn of the model would.

Usage: codex_client.py [--call] SERVER...
Prints one line per server, `SERVER ok DETAIL` or `SERVER failed DETAIL`, and
exits non-zero if any failed.
"""

import json
import os
import subprocess
import sys
import threading

call = sys.argv[1:2] == ["--call"]
servers = sys.argv[2:] if call else sys.argv[1:]
codex = subprocess.Popen(
    ["codex", "app-server"],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
    text=True,
)
# The script's own timeout ends a hung Codex; this ends a quiet one sooner.
timer = threading.Timer(60, codex.kill)
timer.daemon = True
timer.start()
next_id = 0


def request(method, params):
    global next_id
    next_id += 1
    codex.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id, "method": method, "params": params}) + "\n")
    codex.stdin.flush()
    for line in codex.stdout:
        message = json.loads(line)
        if message.get("id") == next_id and "method" not in message:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message["result"]
    raise RuntimeError(f"{method}: codex app-server ended")


failed = False
try:
    request("initialize", {"clientInfo": {"name": "client-compat", "version": "1"}})
    codex.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "initialized"}) + "\n")
    listed = {s["name"]: s for s in request("mcpServerStatus/list", {"detail": "toolsAndAuthOnly"})["data"]}
    thread = request("thread/start", {"ephemeral": True, "cwd": os.getcwd()})["thread"]["id"] if call else None
    for name in servers:
        tools = sorted((listed.get(name) or {}).get("tools") or {})
        if "notify_send" not in tools:
            failed = True
            print(f"{name} failed: not connected, or no notify_send tool: {listed.get(name)}")
            continue
        detail = f"tools {', '.join(tools)}"
        if call:
            result = request(
                "mcpServer/tool/call",
                {
                    "server": name,
                    "threadId": thread,
                    "tool": "notify_send",
                    "arguments": {"title": "client-compat", "content": "a tool call from the client check"},
                },
            )
            status = (result.get("structuredContent") or {}).get("status")
            if result.get("isError") or status != "success":
                failed = True
                print(f"{name} failed: notify_send: {json.dumps(result)}")
                continue
            detail += f"; notify_send: {status}"
        print(f"{name} ok {detail}")
except (RuntimeError, OSError, ValueError) as e:
    failed = True
    print(f"codex app-server failed: {e}")
finally:
    codex.stdin.close()
    try:
        codex.wait(10)
    except subprocess.TimeoutExpired:
        codex.kill()
sys.exit(1 if failed else 0)
