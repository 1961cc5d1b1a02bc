"""Loopback emulators of the telephony providers.

One HTTP server hosts the REST providers (routed by path prefix: Twilio ``/2010-04-01``,
Telnyx ``/v2``, Vonage ``/v1``) and a TCP server speaks FreeSWITCH's event socket. Every
request they receive lands in a shared :class:`RequestLog` (served at
``/_local/provider-requests``).

Magic destinations, honoured by every emulator (so failures can be exercised from any client):
``+15005550001`` refused ("invalid number"), ``+15005550002`` no answer within the adapter's
timeout, ``+15005550003`` the connection drops after the request was read (our addition, to
prove adapters never re-send a create-call request), ``+15005550004`` a 5xx. Each also answers to
its twin ``+1555000000x`` (no known zone): +1 500 maps to every NANP zone, so the calling rules
let a campaign dial it only 22:00-07:00 UTC, while a twin is judged in its contact's own zone.
"""
