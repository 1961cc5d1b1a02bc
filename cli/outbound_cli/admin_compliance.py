"""``outbound admin calling-rules show|set ORG_ID`` and ``outbound admin evidence CALL``.

``calling-rules set`` changes only the options given (the rest stays as stored) and validates the
result as ``PUT /organization/calling-rules`` does. ``evidence`` prints every evidence record of a
call (its dial, and refusals of a campaign attempt or scheduled fire under the same call id) and
recomputes each record's HMAC with the stack's evidence key: exit status 1 when a record does not
verify (altered after it was written, or not sealed).
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable

from .common import CliError, ascii_int, target_arguments, use_target
from .keys import require_organization


def _window(text: str) -> dict[str, str]:
    start, sep, end = text.partition("-")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r}: give the window as HH:MM-HH:MM (e.g. 09:00-20:00)")
    return {"start": start.strip(), "end": end.strip()}


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _cap_or_none(text: str) -> int | None:
    return None if text.lower() == "none" else ascii_int(text)


def cmd_rules_show(args: argparse.Namespace) -> int:
    from outbound.compliance import calling_rules
    from outbound.errors import ApiError

    use_target(args)
    require_organization(args.organization_id)
    try:
        print(json.dumps(calling_rules.get_rules(args.organization_id), indent=2))
    except ApiError as exc:
        raise CliError(exc.detail) from None
    return 0


def cmd_rules_set(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from outbound.compliance import calling_rules
    from outbound.compliance.models import CallingRulesIn
    from outbound.errors import ApiError
    from outbound.http.resolver import validation_sentence

    use_target(args)
    require_organization(args.organization_id)
    try:
        current = calling_rules.get_rules(args.organization_id)
        fields = {name: current[name] for name in CallingRulesIn.model_fields}
        given = {"enabled": args.enabled, "window": args.window, "days": args.days,
                 "blackout_dates": args.blackout_dates, "max_dials_24h": args.max_24h,
                 "require_consent": args.require_consent, "default_timezone": args.default_timezone}
        fields.update({name: value for name, value in given.items() if value is not None})
        if args.max_7d is not False:
            fields["max_dials_7d"] = args.max_7d
        body = CallingRulesIn.model_validate(fields)
        print(json.dumps(calling_rules.put_rules(args.organization_id, body), indent=2))
    except ValidationError as exc:
        raise CliError(validation_sentence(exc.errors())) from None
    except ApiError as exc:
        raise CliError(exc.detail) from None
    return 0


def cmd_evidence(args: argparse.Namespace) -> int:
    from outbound.compliance import evidence_api

    local = use_target(args)
    if local:
        from .common import local_server_info

        secret = (local_server_info(args.local_server).get("environment") or {}).get("EVIDENCE_KEY_SECRET")
        if secret:
            os.environ["EVIDENCE_KEY_SECRET"] = secret
    if args.evidence_key_secret:
        os.environ["EVIDENCE_KEY_SECRET"] = args.evidence_key_secret
    if not os.environ.get("EVIDENCE_KEY_SECRET"):
        raise CliError("say which evidence key: --evidence-key-secret ARN (the stack's EvidenceKeySecretArn output) "
                       "or $EVIDENCE_KEY_SECRET")
    call_id, checked = evidence_api.verify_call(args.call)
    if call_id is None or not checked:
        raise CliError(f"no evidence for {args.call}")
    if args.json:
        print(json.dumps([{"record": _plain(r), "intact": ok, "why": why} for r, ok, why in checked], indent=2))
    else:
        for record, ok, why in checked:
            print(_line(record, ok, why))
        altered = sum(1 for _, ok, _ in checked if not ok)
        count = f"{len(checked)} record{'s' if len(checked) != 1 else ''}"
        print(f"{call_id}: {count}, all intact" if not altered else f"{call_id}: {count}, {altered} ALTERED")
    return 0 if all(ok for _, ok, _ in checked) else 1


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("pk", "sk")}


def _line(record: dict[str, Any], ok: bool, why: str) -> str:
    verdict = record.get("verdict") or {}
    zones = ", ".join(f"{z['zone']} {str(z['local_time'])[11:16]}" for z in verdict.get("zones") or ()) or "-"
    reasons = "; ".join(r["detail"] for r in verdict.get("reasons") or ()) or "-"
    asked = ", ".join(f"{k}={v}" for k, v in (record.get("requested_by") or {}).items())
    state = "intact " if ok else "ALTERED"
    head = (f"  [{state}] {record.get('evidence_id')} {record.get('kind')} at {record.get('recorded_at')}\n"
            f"      asked by {asked}; caller ID {record.get('caller_id')} -> {record.get('recipient')}\n")
    if record.get("kind") == "opt_out":  # what the person said, and what was stopped
        said, done = record.get("opt_out") or {}, record.get("result") or {}
        return (head + f"      opted out ({said.get('method') or 'method not given'}) at {done.get('opted_out_at')}: "
                f"{said.get('said')!r}; {len(done.get('campaign_contacts_ended') or ())} campaign contacts ended, "
                f"{len(done.get('schedules_canceled') or ())} schedules canceled\n      {why}")
    return (head +
            f"      rules {'applied' if record.get('rules_applied') else 'off'} "
            f"(version {(verdict.get('rules') or {}).get('version')}); allowed {verdict.get('allowed')}; "
            f"zones {zones}; reasons {reasons}\n"
            f"      {why}")


def add_commands(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    rules = sub.add_parser("calling-rules", help="show or change an organization's calling rules")
    actions = rules.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the rules as stored (defaults for what was never set)")
    show.add_argument("organization_id", metavar="ORG_ID")
    show.set_defaults(run=cmd_rules_show)
    change = actions.add_parser("set", help="change the options given; the rest stays")
    change.add_argument("organization_id", metavar="ORG_ID")
    change.add_argument("--enable", dest="enabled", action="store_true", default=None,
                        help="apply them to direct, scheduled and EventBridge calls too")
    change.add_argument("--disable", dest="enabled", action="store_false", help="campaigns only")
    change.add_argument("--window", type=_window, metavar="HH:MM-HH:MM", help="recipient-local, inside 08:00-21:00")
    change.add_argument("--days", type=_list, metavar="mon,tue,...")
    change.add_argument("--blackout-dates", type=_list, metavar="YYYY-MM-DD,...", help="dates with no calls")
    change.add_argument("--max-24h", type=ascii_int, metavar="N")
    change.add_argument("--max-7d", type=_cap_or_none, default=False, metavar="N|none")
    change.add_argument("--require-consent", dest="require_consent", action="store_true", default=None)
    change.add_argument("--no-require-consent", dest="require_consent", action="store_false")
    change.add_argument("--default-timezone", metavar="ZONE")
    change.set_defaults(run=cmd_rules_set)

    proof = sub.add_parser("evidence", help="a call's evidence records, each HMAC checked (exit 1 if one was altered)")
    proof.add_argument("call", metavar="CALL", help="a call_id or call_sid (or a refused attempt's call id)")
    proof.add_argument("--evidence-key-secret", metavar="ARN", help="the stack's EvidenceKeySecretArn output")
    proof.add_argument("--json", action="store_true")
    proof.set_defaults(run=cmd_evidence)
    for parser in (show, change, proof):
        target_arguments(parser)
    return {}
