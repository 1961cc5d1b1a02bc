"""Provider credentials per organization, from Secrets Manager.

Secret name: ``<CREDENTIALS_SECRET_PREFIX><organization_id>/<provider>`` holding a JSON object
(twilio: account_sid, auth_token; telnyx: api_key, public_key; vonage: application_id,
private_key, signature_secret; sip: bridge, password). The function's IAM policy is limited
to ``<prefix>*``. Reads are cached for 5 minutes by Powertools parameters, so a warm function
costs no Secrets Manager call per request.
"""
from __future__ import annotations

from typing import Any

from .config import settings

CACHE_SECONDS = 300


class CredentialsMissing(Exception):
    pass


def secret_name(organization_id: str, provider: str) -> str:
    return f"{settings().credentials_secret_prefix}{organization_id}/{provider}"


def credentials_for(organization_id: str, provider: str) -> dict[str, Any]:
    # Imported here: parameters loads on the first call that needs credentials, after the
    # request was validated, so bad requests never pay for it.
    from aws_lambda_powertools.utilities import parameters

    name = secret_name(organization_id, provider)
    try:
        value = parameters.get_secret(name, transform="json", max_age=CACHE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        raise CredentialsMissing(f"No {provider} credentials are configured for your organization") from exc
    if not isinstance(value, dict):
        raise CredentialsMissing(f"The {provider} credentials secret is not a JSON object")
    return value
