"""End a live call (POST /calls/{call_ref}/terminate): ask its provider to hang up, with the
provider's own hang-up (providers: ``hang_up``). Nothing is written here: the call ends, is
charged and releases its reserve when the provider's final status webhook arrives, as every call
does (an answered call ``completed`` with its talk time, one still ringing ``canceled``).

Idempotent: asking again before that webhook arrives asks the provider again, which finds nothing
left to hang up (no error). Once the record is final, 409: the call has already ended.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from outbound import store
from outbound.calls.lifecycle import is_final
from outbound.credentials import CredentialsMissing, credentials_for
from outbound.errors import Conflict, NotFound, ProviderFailed, ProviderTimedOut
from outbound.providers import ProviderError, ProviderTimeout, get_adapter

logger = Logger(child=True)

REQUESTED = "Hang-up requested: the call ends with its provider's final status webhook"


def terminate_call(organization_id: str, call_ref: str) -> dict[str, Any]:
    call = store.find_call(organization_id, call_ref)
    if call is None:
        raise NotFound(f"Call {call_ref} not found")
    return hang_up(call)


def hang_up(call: dict[str, Any]) -> dict[str, Any]:
    """Ask the call's provider to hang it up; the answer says what was asked, the call as it is."""
    call_id, status = call["call_id"], call.get("status", "")
    if is_final(status):
        raise Conflict(f"Call {call_id} has already ended ({status})")
    if not call.get("call_sid"):
        # Being placed, or the provider did not answer in time: its id of the call is not known yet.
        raise Conflict(f"Call {call_id} has no provider call id yet ({status}): it cannot be hung up "
                       "until its provider has answered; try again in a moment")
    provider = call["provider"]
    try:
        get_adapter(provider).hang_up(call["call_sid"], credentials_for(call["organization_id"], provider))
    except CredentialsMissing as exc:
        raise ProviderFailed(f"Telephony provider error: {exc}") from None
    except ProviderTimeout:
        raise ProviderTimedOut("Telephony provider did not answer the hang-up in time; ask again",
                               call_id=call_id) from None
    except ProviderError as exc:
        raise ProviderFailed(f"Telephony provider error: {exc.message}") from None
    logger.info("Hang-up requested", extra={"call_id": call_id, "provider": provider, "status": status})
    return {"message": REQUESTED, "call_id": call_id, "call_sid": call["call_sid"], "provider": provider,
            "status": status}
