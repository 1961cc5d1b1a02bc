"""ConsoleFunction: the web console (GET /console, GET /console/{proxy+}), its static files in
``static/`` beside this handler (so ``sam build`` ships them with it, and ``outbound serve``
serves them through this very function). No API key: the files hold no data.
Serving and the Content-Security-Policy: outbound.http.console."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from outbound.http.console import serve

STATIC = Path(__file__).resolve().parent / "static"


def lambda_handler(event: dict, context: Any) -> dict:
    return serve(event, STATIC)
