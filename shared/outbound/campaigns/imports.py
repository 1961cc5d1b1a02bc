"""CSV imports of contacts: ``POST /campaigns/{id}/imports`` answers a presigned S3 upload URL; the
upload's S3 notification (through an SQS queue) runs CampaignImportFunction, which adds the rows
in chunks with the same checks as ``POST /campaigns/{id}/contacts`` and keeps its progress and
row errors on the import (``GET /campaigns/{id}/imports/{import_id}``).

Every import ends ``completed`` or ``failed``, never ``processing`` for good:
- a file that cannot be imported fails before any row is added, with what to fix: more than
  MAX_IMPORT_BYTES, not UTF-8, not CSV, no header or no ``phone_number`` column, too many or too
  long column names, more than MAX_IMPORT_ROWS rows (the whole file is checked first);
- a row too long (contacts.MAX_ROW_CHARS) or a field past its column's limit is a row
  error, with its row number, like an invalid number; the other rows are imported;
- a run interrupted by a crash or a passing error (throttling, a timeout) is resumed by the
  message's retry, the import staying ``processing`` meanwhile: chunks already counted are
  skipped, and the rows the interrupted chunk had added come back as "duplicates" of a contact
  this import added from that very row, so they count as added, not as errors;
- the queue's last delivery of the message (its receive count reaching the queue's
  maxReceiveCount, given to the function as IMPORTS_MAX_RECEIVE_COUNT) that fails or runs out of
  time marks the import ``failed``, with what was done and how to add the rest.
"""
from __future__ import annotations

import csv
import io
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from outbound import aws, deadline, store
from outbound.campaigns.contacts import (
    ALREADY_A_CONTACT,
    CLOSED,
    UnreadableFile,
    add_rows,
    check_columns,
    rows_from_csv,
)
from outbound.campaigns.lifecycle import iso, load
from outbound.config import campaign_settings
from outbound.errors import Conflict, NotFound
from outbound.store import campaigns as db

logger = Logger(child=True)

UTC = timezone.utc
UPLOAD_EXPIRES_S = 900
CHUNK_ROWS = 500
MAX_KEPT_ERRORS = 100
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
LAST_CHUNK_MARGIN_S = 30.0  # the last delivery stops (and fails the import) this long before its timeout
IMPORT_FIELDS = ("import_id", "status", "rows_processed", "added", "error_count", "errors", "created_at",
                 "updated_at", "completed_at", "failure")


def object_key(organization_id: str, campaign_id: str, import_id: str) -> str:
    return f"imports/{organization_id}/{campaign_id}/{import_id}.csv"


def create_import(organization_id: str, campaign_id: str) -> dict[str, Any]:
    item = load(organization_id, campaign_id)
    if item["status"] in CLOSED:
        raise Conflict(f"Campaign {campaign_id} is {item['status']}: no contacts can be added")
    import_id = "imp_" + secrets.token_hex(10)
    now = datetime.now(UTC)
    record = {"import_id": import_id, "campaign_id": campaign_id, "organization_id": organization_id,
              "status": "waiting_upload", "rows_processed": 0, "added": 0, "error_count": 0, "errors": [],
              "created_at": iso(now), "updated_at": iso(now)}
    db.put_import(campaign_id, record)
    url = _s3().generate_presigned_url(
        "put_object", ExpiresIn=UPLOAD_EXPIRES_S,
        Params={"Bucket": campaign_settings().imports_bucket, "ContentType": "text/csv",
                "Key": object_key(organization_id, campaign_id, import_id)})
    return {**import_view(record), "upload_url": url, "upload_method": "PUT",
            "upload_headers": {"Content-Type": "text/csv"},
            "upload_expires_at": iso(now + timedelta(seconds=UPLOAD_EXPIRES_S))}


def _s3() -> Any:
    return aws.client("s3")


def get_import(organization_id: str, campaign_id: str, import_id: str) -> dict[str, Any]:
    load(organization_id, campaign_id)
    record = db.get_import(campaign_id, import_id) if import_id.startswith("imp_") else None
    if record is None:
        raise NotFound(f"Import {import_id} not found")
    return import_view(record)


def import_view(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in IMPORT_FIELDS}


# --- processing (CampaignImportFunction) ----------------------------------------------------------------

class OutOfTime(Exception):
    """The last delivery of the message is about to reach the function's timeout."""


def process_uploaded(bucket: str, key: str, last_delivery: bool = False) -> dict[str, Any]:
    """One uploaded CSV, whole: the file checked, then rows in chunks, progress after each.
    ``last_delivery``: no retry follows this run (see the module's note)."""
    key = unquote_plus(key)  # S3 notifications carry the key URL-encoded
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != "imports" or not parts[3].endswith(".csv"):
        logger.warning("Not an import upload; ignored", extra={"key": key[:200]})
        return {"ignored": True}
    organization_id, campaign_id, import_id = parts[1], parts[2], parts[3][:-4]
    record = db.get_import(campaign_id, import_id)
    if record is None or record.get("organization_id") != organization_id:
        logger.warning("Upload for an unknown import; ignored", extra={"import_id": import_id})
        return {"ignored": True}
    if not db.update_import(campaign_id, import_id, {"status": "processing", "updated_at": _now()},
                            expect_status=("waiting_upload", "processing")):
        return {"ignored": True, "status": record.get("status")}  # done already (a repeated notification)
    try:
        item = load(organization_id, campaign_id)
        text = _read_upload(bucket, key)
        _check_file(text)
        totals = _process_rows(item, import_id, io.StringIO(text, newline=""), int(record.get("rows_processed") or 0),
                               last_delivery)
    except (UnreadableFile, Conflict, NotFound) as exc:  # retrying cannot fix the file (or a closed campaign)
        _fail(campaign_id, import_id, str(exc))
        return {"failed": str(exc)}
    except Exception:
        if last_delivery:  # no retry follows: the user learns it now, the DLQ's alarm tells the operator
            logger.exception("Import failed on its last delivery", extra={"import_id": import_id})
            try:
                _fail(campaign_id, import_id, _unfinished(campaign_id, import_id))
            except Exception:
                logger.exception("Could not mark the import failed", extra={"import_id": import_id})
        else:
            # The message comes back and the retry resumes from the progress kept: the import
            # stays "processing" (a "failed" one would refuse the retry).
            logger.exception("Import interrupted; the message's retry resumes it", extra={"import_id": import_id})
        raise
    db.update_import(campaign_id, import_id, {"status": "completed", "completed_at": _now(), "updated_at": _now()})
    if item["status"] == "running" and totals["added"]:
        from outbound.campaigns import queues

        queues.send_tick(campaign_id, "contacts")
    return totals


def _read_upload(bucket: str, key: str) -> str:
    """The uploaded file's text; UnreadableFile when it is gone, too large or not UTF-8."""
    from botocore.exceptions import ClientError

    try:
        body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise UnreadableFile("The uploaded file is gone (uploads are kept 7 days): create a new import and "
                                 "upload the file again") from None
        raise
    chunks, size = [], 0
    for chunk in body.iter_chunks(1024 * 1024):  # never more than the limit in memory, whatever was uploaded
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            body.close()
            raise UnreadableFile(f"The file is larger than an import takes (at most 20 MiB, {MAX_IMPORT_BYTES:,} "
                                 "bytes): split it into smaller files, one import each")
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].splitlines(keepends=True)
        line = len(before) + (1 if not before or before[-1].endswith((b"\n", b"\r")) else 0)
        raise UnreadableFile(f"Line {line} is not UTF-8 text: save the file as CSV (UTF-8) and upload it again in a "
                             "new import") from None


def _check_file(text: str) -> None:
    """The whole file, before any row is added: its header, that it is CSV, its row count."""
    # The file is bounded (MAX_IMPORT_BYTES), so is any field in it: the csv module's own field
    # limit (131,072 characters) would stop the file at a long field; a long row is a row error.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_IMPORT_BYTES))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        check_columns(next(reader, None))
        rows = 0
        for row in reader:
            rows += 1 if row else 0  # blank lines are skipped, as when importing
            if rows > MAX_IMPORT_ROWS:
                raise UnreadableFile(f"The file has more than {MAX_IMPORT_ROWS:,} rows; an import takes at most "
                                     f"{MAX_IMPORT_ROWS:,} rows: split it into smaller files, one import each")
    except csv.Error as exc:
        raise UnreadableFile(f"Line {reader.line_num} is not valid CSV ({exc}): fix it and upload the file again in "
                             "a new import") from None


def _process_rows(item: dict[str, Any], import_id: str, lines: Any, done_rows: int = 0,
                  last_delivery: bool = False) -> dict[str, int]:
    """``done_rows``: rows a previous run finished (a retried message skips them)."""
    organization = store.get_item(store.organization_key(item["organization_id"])) or {}
    chunk: list[tuple[int, Any]] = []
    totals = {"rows": 0, "added": 0, "errors": 0}
    for number, contact, problem in rows_from_csv(lines):
        if number - 1 <= done_rows:
            continue
        chunk.append((number, contact or problem))
        if len(chunk) == CHUNK_ROWS:
            if last_delivery and deadline.remaining() < LAST_CHUNK_MARGIN_S:
                raise OutOfTime()
            _write_chunk(item, organization, import_id, chunk, totals)
            chunk = []
    if chunk:
        _write_chunk(item, organization, import_id, chunk, totals)
    return totals


def _write_chunk(item: dict[str, Any], organization: dict[str, Any], import_id: str, chunk: list[tuple[int, Any]],
                 totals: dict[str, int]) -> None:
    errors = [{"row": n, "error": value} for n, value in chunk if isinstance(value, str)]
    rows = [(n, value) for n, value in chunk if not isinstance(value, str)]
    result = add_rows(item, organization, [c for _, c in rows], import_id, rows_of_file=[n for n, _ in rows])
    numbers = [n for n, _ in rows]
    added = result["added"]
    for error in result["errors"]:
        contact = rows[error["index"]][1]
        if error["error"].endswith(ALREADY_A_CONTACT) and _added_by(item["campaign_id"], contact.phone_number,
                                                                    import_id, numbers[error["index"]]):
            added += 1  # this very row, written before an interruption
            continue
        errors.append({"row": numbers[error["index"]], "phone_number": error["phone_number"], "error": error["error"]})
    totals["rows"] += len(chunk)
    totals["added"] += added
    totals["errors"] += len(errors)
    record = db.get_import(item["campaign_id"], import_id) or {}
    kept = (record.get("errors") or []) + sorted(errors, key=lambda e: e["row"])
    db.update_import(item["campaign_id"], import_id, {"errors": kept[:MAX_KEPT_ERRORS], "updated_at": _now()},
                     add={"rows_processed": len(chunk), "added": added, "error_count": len(errors)})


def _fail(campaign_id: str, import_id: str, reason: str) -> None:
    """Failed, for the user to see (never an import that completed meanwhile)."""
    db.update_import(campaign_id, import_id, {"status": "failed", "failure": reason[:500], "updated_at": _now()},
                     expect_status=("waiting_upload", "processing"))


def _unfinished(campaign_id: str, import_id: str) -> str:
    record = db.get_import(campaign_id, import_id) or {}
    attempts = campaign_settings().imports_max_receive_count or "every"
    return (f"The import could not finish in {attempts} attempts (a service error or the time limit each time): "
            f"{int(record.get('rows_processed') or 0):,} rows were processed, {int(record.get('added') or 0):,} "
            "added. To add the rest, upload the file again in a new import (rows already added come back as "
            "duplicates).")


def _added_by(campaign_id: str, phone_number: str, import_id: str, row: int) -> bool:
    from outbound.campaigns.policy import contact_id_for

    contact = db.get_contact(campaign_id, contact_id_for(campaign_id, phone_number)) or {}
    return contact.get("import_id") == import_id and contact.get("import_row") == row


def _now() -> str:
    return iso(datetime.now(UTC))
