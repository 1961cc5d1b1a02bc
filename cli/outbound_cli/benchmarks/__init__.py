"""``outbound bench ...``: scripts that print figures (never timed tests).

- ``cold-start``: a fresh process from import to the first placed call, per provider.
- ``load``: POST /calls/initiate at a concurrency against ``outbound serve``.
- ``webhook-delivery``: a status webhook to the customer's signed delivery (latency, round trips).
- ``console``: the web console's first views, interactive, in Debian's chromium.
"""
