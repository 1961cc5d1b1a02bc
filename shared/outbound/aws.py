"""AWS clients for the request path, made with botocore directly.

Why not boto3: ``import boto3`` also loads s3transfer and the resource layer, and every
``boto3.client`` outside the default session re-scans botocore's data folders; measured with
``outbound bench cold-start`` that is ~80 ms of import plus ~50 ms per extra client on a cold
start. One botocore session serves every client, so service data is loaded once.
AWS_ENDPOINT_URL (the local stack) is honoured by botocore itself.
"""
from __future__ import annotations

from functools import lru_cache

import botocore.session
from botocore.config import Config

from outbound.config import aws_region

# Adaptive retries back off under throttling; three attempts in all and short timeouts keep a
# failing request well inside API Gateway's 29 s (it then answers a clean 503 to retry).
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
# After the provider accepted a call, each write attempt must fit in the little time the request
# has left: one attempt per call, short timeouts; the caller loops until its deadline.
QUICK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=2)
QUICK_ATTEMPT_S = 3.0  # the longest one quick attempt can take (connect + read)


def region() -> str:
    return aws_region()


@lru_cache(maxsize=1)
def session() -> botocore.session.Session:
    return botocore.session.get_session()


@lru_cache(maxsize=None)
def client(service: str, quick: bool = False):
    config = QUICK_CONFIG if quick else CLIENT_CONFIG
    if service == "s3":  # presigned URLs must be Signature Version 4 in every current region
        config = config.merge(Config(signature_version="s3v4"))
    return session().create_client(service, region_name=region(), config=config)


def reset() -> None:
    """Forget clients (the local stack and tests point the endpoint elsewhere)."""
    client.cache_clear()
    session.cache_clear()
