#!/usr/bin/env python3
"""Writes the PyPI wheel that installs `mcp-push` as a script; stops at the file.

The layout is what maturin's `bindings = "bin"` writes (PEP 427, RECORD per
PEP 376): `mcp_push-V.data/scripts/mcp-push` and `mcp_push-V.dist-info/`
{METADATA, WHEEL, RECORD}. Assembled here with zipfile rather than by maturin
because the executable shipped is not cargo's output: it is the copy
`mcp-push plugin precompile --out FILE` writes, with every bundled channel
compiled and appended, so the first start after `pip install` compiles
nothing (3.4 s idle, 14 s on a busy machine otherwise). maturin would package
the binary it builds itself.

The Python package given with --package (dropin/python/mcp_push, the
notify.py drop-in) is installed beside it, so `import mcp_push` works too.

Usage: wheel.py --exe FILE --version V --platform TAG --readme README.md --out-dir DIR
       [--package DIR]
(TAG as in a wheel name, dots joining compressed tags). Prints the wheel's path.
"""

import argparse
import base64
import hashlib
import os
import time
import zipfile

SUMMARY = (
    "A notification hub for AI agents and scripts; "
    "every channel is a sandboxed WebAssembly component"
)
LICENSE = "MIT OR Apache-2.0"
# What the tools that read PEP 600 platform tags (pip >= 20.3, uv, pipx) run
# on; the mcp_push package needs no newer (subprocess.run's capture, f-strings).
REQUIRES_PYTHON = ">=3.7"
ZIP_EPOCH = 315532800


def metadata(version: str, readme: str) -> str:
    # Metadata 2.1: the oldest version with a Markdown description, which
    # every pip and twine in use reads.
    head = [
        "Metadata-Version: 2.1",
        "Name: mcp-push",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        f"License: {LICENSE}",
        f"Requires-Python: {REQUIRES_PYTHON}",
        "Classifier: Environment :: Console",
        "Classifier: Operating System :: POSIX :: Linux",
        "Classifier: Programming Language :: Rust",
        "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM",
    ]
    return "\n".join(head) + "\n\n" + readme


def wheel_file(platform: str) -> str:
    lines = [
        "Wheel-Version: 1.0",
        "Generator: mcp-push packaging/wheel.py",
        "Root-Is-Purelib: false",
    ]
    # A compressed tag set is written out one tag a line.
    lines += [f"Tag: py3-none-{p}" for p in platform.split(".")]
    return "\n".join(lines) + "\n"


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def entry(name: str, mode: int) -> zipfile.ZipInfo:
    # A fixed date, so that the same inputs write the same wheel:
    # SOURCE_DATE_EPOCH when the release pipeline sets one, else the zip
    # format's earliest (1980-01-01).
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", ZIP_EPOCH)), ZIP_EPOCH)
    info = zipfile.ZipInfo(name, date_time=time.gmtime(epoch)[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # pip marks an installed file executable from these bits.
    info.external_attr = (0o100000 | mode) << 16
    return info


def package_files(package_dir: str) -> list:
    """Every .py file of the package, under its own name (no caches)."""
    name = os.path.basename(os.path.normpath(package_dir))
    found = []
    for base, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(base, f)
                rel = os.path.relpath(path, package_dir).replace(os.sep, "/")
                with open(path, "rb") as fh:
                    found.append((f"{name}/{rel}", fh.read(), 0o644))
    return found


def write(
    exe: str, version: str, platform: str, readme_path: str, out_dir: str, package: str = None
) -> str:
    dist = f"mcp_push-{version}"
    with open(exe, "rb") as f:
        binary = f.read()
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    files = [
        (f"{dist}.data/scripts/mcp-push", binary, 0o755),
        (f"{dist}.dist-info/METADATA", metadata(version, readme).encode(), 0o644),
        (f"{dist}.dist-info/WHEEL", wheel_file(platform).encode(), 0o644),
    ]
    if package:
        files += package_files(package)
    record_name = f"{dist}.dist-info/RECORD"
    record = "".join(f"{n},{record_hash(d)},{len(d)}\n" for n, d, _ in files)
    record += f"{record_name},,\n"
    files.append((record_name, record.encode(), 0o644))

    path = os.path.join(out_dir, f"{dist}-py3-none-{platform}.whl")
    partial = path + ".partial"
    with zipfile.ZipFile(partial, "w") as whl:
        for name, data, mode in files:
            whl.writestr(entry(name, mode), data)
    os.replace(partial, path)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exe", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--platform", required=True)
    p.add_argument("--readme", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--package")
    a = p.parse_args()
    print(write(a.exe, a.version, a.platform, a.readme, a.out_dir, a.package))


if __name__ == "__main__":
    main()
