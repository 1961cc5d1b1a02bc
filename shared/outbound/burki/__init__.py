"""Burki's own API, as its Python SDK (``pip install burki``) calls it, answered by this service:
``BurkiClient(api_key=KEY, base_url="<ApiUrl>/burki")`` works unchanged (routes: outbound.http.burki,
BurkiApiFunction).

A facade, not a second implementation: every answer comes from the same use cases as the native
API (a call placed through ``calls.initiate`` is placed by outbound.calls.initiate, with its at most
four DynamoDB round trips), reshaped into the models the SDK validates. What differs is the
vocabulary:

- ``ids``: the integers the SDK holds for calls, campaigns, contacts and organizations are their
  integer aliases (store.int_ids); assistants' ids are integers already; a phone number's id is its
  E.164 digits (``+15551234567`` is 15551234567).
- ``views``: a call, campaign, contact, progress and webhook log in the SDK's shapes (statuses in
  Burki's words; fields with no meaning here at the SDK's defaults).
- ``calls`` and ``campaigns``: the SDK's methods, each one use case; ``models``: their request bodies.

What it does not answer (transcripts, recordings, messages, metrics, analytics, assistants,
phone numbers, documents, tools, SMS) has no route: API Gateway answers 404 ``{"detail": "Not
found"}`` (the SDK's NotFoundError). The README's "Using Burki's SDK" lists the mapping.
"""
