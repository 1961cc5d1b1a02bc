"""Outbound calls: the domain package shipped in the Lambda layer.

Modules: ``models`` (request/response boundaries), ``phone`` (E.164), ``templates``
(``{{variable}}`` rendering), ``store`` (every DynamoDB key and query), ``providers``
(one adapter per telephony provider), ``usecases`` (the business steps).
"""
