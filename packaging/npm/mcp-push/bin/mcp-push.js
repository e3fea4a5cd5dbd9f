#!/usr/bin/env node
// `npx mcp-push ...`: runs the mcp-push executable from this platform's
// package, with this process's stdio and arguments, and ends as it ended
// (exit code or signal). The esbuild/biome pattern: this package holds only
// the launcher; each platform package holds one executable and declares its
// os/cpu/libc, so npm installs, of the optional dependencies, only the one
// that runs here.
"use strict";

const { spawn } = require("child_process");
const { constants } = require("os");

// Platform packages, by `${process.platform}-${process.arch}`: the same list
// as optionalDependencies in package.json.
const PACKAGES = {
  "linux-x64": "@mcp-push/linux-x64",
};

// Signals a client stops its server with; the child gets them too, so that
// `serve` finishes its in-flight deliveries as it does when run directly.
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

function fail(message) {
  process.stderr.write(`mcp-push: ${message}\n`);
  process.exit(1);
}

function executable() {
  const platform = `${process.platform}-${process.arch}`;
  const pkg = PACKAGES[platform];
  if (!pkg) {
    fail(
      `no executable is published for ${platform} (only for ${Object.keys(PACKAGES).join(", ")}); ` +
        "build it from source as the README says",
    );
  }
  try {
    return require.resolve(`${pkg}/bin/mcp-push`);
  } catch (e) {
    fail(
      `${pkg}, which holds the executable for ${platform}, is not installed. ` +
        "npm leaves it out when optional dependencies are omitted (--omit=optional) " +
        "and on systems whose C library is not glibc (Alpine's musl)",
    );
  }
}

const child = spawn(executable(), process.argv.slice(2), { stdio: "inherit" });
const forward = (signal) => child.kill(signal);
for (const signal of FORWARDED) {
  process.on(signal, forward);
}
child.on("error", (e) => fail(`cannot run ${child.spawnfile}: ${e.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what it would have seen.
    for (const s of FORWARDED) {
      process.removeListener(s, forward);
    }
    process.kill(process.pid, signal);
    // Still here: a signal Node ignores (SIGPIPE); the shell's convention.
    process.exit(128 + (constants.signals[signal] || 0));
  }
  process.exit(code);
});
