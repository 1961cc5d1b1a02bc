"""Writes the API's OpenAPI document (served at GET /openapi.json) to docs/openapi.json, so every
change of the contract shows in review as a diff of that file.

    python scripts/openapi.py            # rewrite docs/openapi.json (make openapi)
    python scripts/openapi.py --check    # exit 1 if docs/openapi.json is stale (the tests do this)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "openapi.json"
sys.path[:0] = [str(ROOT / "shared")]

from outbound.http.openapi import openapi_document  # noqa: E402


def rendered() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if not COMMITTED.exists() or COMMITTED.read_text() != rendered():
            print(f"{COMMITTED} is stale: run `make openapi` and commit it", file=sys.stderr)
            return 1
        return 0
    COMMITTED.write_text(rendered())
    print(f"wrote {COMMITTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
