"""Debian's chromium for the console's browser checks (the tests in tests/browser and ``outbound
bench console``), driven by Playwright for Python. Playwright's own browser download is not
reachable from these machines; Debian's package is (``apt-get install chromium``), so that is
what runs, launched by path."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
LOCK = "/tmp/outbound-chromium-install.lock"


def ensure_chromium() -> str | None:
    """Install Debian's chromium when it is missing (root and Debian's mirror needed: CI and these
    machines have both). None when it is there; else why it could not be installed."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    if shutil.which("apt-get") is None:
        return "chromium is not installed at /usr/bin/chromium and this system has no apt-get to install it"
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        return "chromium is not installed and installing it needs root (apt-get install -y chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(LOCK, "w") as lock:  # one installation at a time (test workers start together)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(CHROMIUM, os.X_OK):
            return None
        install = [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:  # the package lists may be missing or stale: refresh them once
            subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, capture_output=True, text=True, timeout=600)
            done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if not os.access(CHROMIUM, os.X_OK):
        return f"apt-get could not install chromium: {(done.stderr or done.stdout).strip()[-500:]}"
    return None


def launch(playwright: Any) -> Any:
    """A headless Debian chromium, through Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
