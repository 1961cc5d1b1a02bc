"""Provider credentials per organization, from Secrets Manager.

Secret name: ``<CREDENTIALS_SECRET_PREFIX><organization_id>/<provider>`` holding a JSON object
(twilio: account_sid, auth_token; telnyx: api_key, public_key; vonage: application_id,
private_key, signature_secret; sip: bridge, password, trunk_passwords). The function's IAM
policy is limited to ``<prefix>*``. Values are cached per warm function for
OUTBOUND_SECRETS_CACHE_SECONDS (default 300), so most requests make no Secrets Manager call.

Why not Powertools parameters (or a botocore Secrets Manager client): parameters imports boto3
and opens its own session (~130 ms on a cold start), and even a botocore client from the shared
session loads the service model and endpoint rules (~60 ms), measured with
``outbound bench cold-start``. GetSecretValue is one signed JSON POST: this module signs it with
botocore's own SigV4 signer and the session's credentials, and caches the value.

Only a secret that is not there (or not readable as one) is :class:`CredentialsMissing`, the
organization's problem (502 on initiate, 403 on a webhook). Secrets Manager failing (throttled,
5xx, unreachable) or refusing the function's role is not: it raises botocore's ClientError (or
AwsUnavailable), which the API answers as every AWS failure (outbound.http.router.failure_answer: 503
with Retry-After, or a configuration error) and the providers retry.
"""
from __future__ import annotations

import json
import time
from typing import Any

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from outbound.config import aws_endpoint_url

from . import aws
from .config import settings
from .errors import AwsUnavailable

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
# GetSecretValue is a read: safe to retry on throttling and server errors.
# Answers that say the secret is not there, or not usable as the organization's credentials.
MISSING_CODES = ("ResourceNotFoundException", "InvalidRequestException", "InvalidParameterException")
_pool = urllib3.PoolManager(retries=urllib3.Retry(total=3, backoff_factor=0.1, allowed_methods=None,
                                                  status_forcelist=(429, 500, 502, 503, 504),
                                                  raise_on_status=False),
                            timeout=urllib3.Timeout(connect=2, read=5))


class CredentialsMissing(Exception):
    pass


def secret_name(organization_id: str, provider: str) -> str:
    return f"{settings().credentials_secret_prefix}{organization_id}/{provider}"


def cache_seconds() -> float:
    return settings().credentials_cache_s


def credentials_for(organization_id: str, provider: str) -> dict[str, Any]:
    name = secret_name(organization_id, provider)
    cached = _cache.get(name)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    value = _parse(get_secret_string(name, provider), provider)
    _cache[name] = (time.monotonic() + cache_seconds(), value)
    return value


def _parse(secret_string: str, provider: str) -> dict[str, Any]:
    try:
        value = json.loads(secret_string)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise CredentialsMissing(f"The {provider} credentials secret is not a JSON object")
    return value


def secrets_manager_url() -> str:
    return (aws_endpoint_url("SECRETS_MANAGER")
            or f"https://secretsmanager.{aws.region()}.amazonaws.com").rstrip("/") + "/"


def get_secret_string(name: str, provider: str) -> str:
    """Secrets Manager's GetSecretValue (JSON 1.1 protocol), SigV4-signed: the secret's text."""
    return get_secret_value(name, provider).get("SecretString", "")


def get_secret_value(name: str, provider: str, version_id: str | None = None) -> dict[str, Any]:
    """GetSecretValue's whole answer (``SecretString``, ``VersionId`` ...), the current version or
    ``version_id``; ``provider`` names what the secret is for in the errors."""
    body = {"SecretId": name, **({"VersionId": version_id} if version_id else {})}
    request = AWSRequest(method="POST", url=secrets_manager_url(), data=json.dumps(body),
                         headers={"X-Amz-Target": "secretsmanager.GetSecretValue",
                                  "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(aws.session().get_credentials(), "secretsmanager", aws.region()).add_auth(request)
    try:
        response = _pool.request("POST", request.url, body=request.body, headers=dict(request.headers.items()))
    except urllib3.exceptions.HTTPError as exc:  # unreachable, timed out, beyond the retries
        raise AwsUnavailable(f"Secrets Manager did not answer ({type(exc).__name__})") from None
    try:
        data = json.loads(response.data or b"{}")
    except ValueError:
        data = None
    data = data if isinstance(data, dict) else {}
    if response.status == 200:
        return data
    error = str(data.get("__type") or f"HTTP{response.status}").rsplit("#", 1)[-1]
    if error == "ResourceNotFoundException":
        raise CredentialsMissing(f"No {provider} credentials are configured for your organization")
    if error in MISSING_CODES:
        raise CredentialsMissing(f"The {provider} credentials could not be read ({error})")
    from botocore.exceptions import ClientError

    message = str(data.get("message") or data.get("Message") or "")
    raise ClientError({"Error": {"Code": error, "Message": message},
                       "ResponseMetadata": {"HTTPStatusCode": response.status}}, "GetSecretValue")


def clear_cache() -> None:
    _cache.clear()


def close_connections() -> None:
    """Close the kept-alive connections to Secrets Manager (after a SnapStart restore)."""
    _pool.clear()
