"""The README's "A new organization, from nothing to its first call", run as written.

Both blocks are read from README.md, so the README cannot drift from what runs: the first
terminal's `make run PORT=3000` starts the local stack (on a free port instead of 3000; the
`git clone` line is this checkout), and the second terminal's block runs in bash, `set -e`, with
that server's URL in place of http://127.0.0.1:3000."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import OUTBOUND, ROOT

pytestmark = pytest.mark.integration

SECTION = "## A new organization, from nothing to its first call"
MARKER = "<!-- walk-through: new-organization -->"
README_URL = "http://127.0.0.1:3000"


def walkthrough() -> tuple[str, str, str]:
    """(the first terminal's block, the second's, the text after the second)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, "the README lost its walk-through"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    first = re.search(r"```bash\n(.*?)```", section, re.S)
    assert first and MARKER in section
    second = re.search(r"```bash\n(.*?)```", section.split(MARKER, 1)[1], re.S)
    return first.group(1), second.group(1), section.split(MARKER, 1)[1][second.end():]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(block: str) -> tuple[subprocess.Popen, str]:
    """The first block's `make run PORT=3000`, on a free port (`outbound serve --port`, what make
    runs, when this interpreter is not the checkout's .venv)."""
    lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    commands = [line for line in lines if line]
    assert commands[0].startswith("git clone ") and commands[1] == "make run PORT=3000", commands
    port = free_port()
    argv = shlex.split(commands[1].replace("PORT=3000", f"PORT={port}"))
    venv = ROOT / ".venv" / "bin"
    if shutil.which("make") and (venv / "outbound").exists() and (venv / ".installed").exists():
        argv[1:1] = ["-s", "-o", str(venv / ".installed")]  # the tests run on the installed .venv: no reinstall
    else:
        argv = [*OUTBOUND, "serve", "--port", str(port)]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    output, deadline = [], time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("Listening on "):
                url = line.split()[-1]
                assert f"export OUTBOUND_SERVER={url}" in "".join(output)  # the banner names the variable
                assert url.endswith(f":{port}"), url  # make passed PORT on
                return process, url
        raise AssertionError("the README's `make run` did not start:\n" + "".join(output))
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)  # make and the server it started
        process.wait(15)
        raise


@pytest.fixture(scope="module")
def blocks():
    return walkthrough()


@pytest.fixture(scope="module")
def stack(blocks):
    process, url = start_stack(blocks[0])
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def test_the_readme_walkthrough_places_and_settles_a_new_organizations_first_call(blocks, stack):
    _, block, _ = blocks
    assert f"OUTBOUND_SERVER={README_URL}" in block
    script = "set -euo pipefail\n" + block.replace(README_URL, stack)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TABLE_NAME", "CREDENTIALS_SECRET_PREFIX", "OUTBOUND_SERVER", "AWS_ENDPOINT_URL")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert '"message": "Call initiated successfully"' in out, out
    assert "set account_sid, auth_token" in out  # `credentials show`: the fields ...
    assert "riverside-local-token" not in out + done.stderr  # ... never the secret itself
    assert "Traceback" not in done.stderr
    # The balance the README promises is the one the server answers.
    promised = re.search(r"/organization/balance[^\n]*\n# (\{.*\})", block)
    assert promised, "the README shows the expected balance after the call"
    assert json.loads(out.strip().splitlines()[-1]) == json.loads(promised.group(1)) == {
        "balance_cents": 1980, "reserved_cents": 0, "available_cents": 1980}


def test_a_busy_port_names_the_flag_and_the_make_variable(stack):
    port = stack.rsplit(":", 1)[1]
    done = subprocess.run([*OUTBOUND, "serve", "--port", port], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr and "make run PORT=" in done.stderr
