"""Outbound calls: the domain package shipped in the Lambda layer (every function imports it).

Where to find the code behind a route, a function or a setting: each function's folder is
``functions/<its logical id in snake case>/app.py`` (``CallsApiFunction`` -> ``functions/calls_api``),
a thin handler that calls one use case from the packages below. Every setting is read in
``config``; every DynamoDB key and query is in ``store``.

Features (use cases, each with its models):

- ``calls``: the call path. ``initiate`` (POST /calls/initiate, step by step), ``idempotent_initiate``
  (its Idempotency-Key), ``models`` (request validation by hand and the call record's view),
  ``get_call`` and ``list_calls`` (GET /calls...), ``timeline`` (a call's status changes, as they
  happened), ``lifecycle`` (one status model for every provider, settlement arithmetic),
  ``reserve_sweeper`` (ReserveSweeperFunction), ``terminate`` (POST /calls/{call_ref}/terminate: the
  provider's own hang-up).
- ``schedules``: scheduled, recurring and event-driven calls. ``manage`` (the Schedules API),
  ``fire`` (ScheduledCallFunction: one fire), ``times`` (ISO instants, IANA zones, cron).
- ``campaigns``: the campaign engine. ``models`` (API bodies), ``lifecycle`` (create, start, pause,
  resume, cancel), ``contacts``, ``imports`` (CSV through S3), ``dispatch`` (one tick:
  CampaignDispatcherFunction), ``dial`` (one attempt: CampaignDialerFunction), ``outcomes``
  (CampaignOutcomesFunction), ``events`` (campaign.* outcome events), ``policy`` (pure rules:
  windows, retries), ``settings`` (a campaign item, typed), ``queues`` (its SQS queues),
  ``hangups`` (cancel?end_calls=true: its calls in flight hung up), ``deletion`` (a draft or ended
  campaign deleted), ``stats`` (a campaign's live figures, read from its calls),
  ``timers`` (waking a campaign at a second), ``messages`` (what the dispatcher receives, and a
  failed tick tried again within seconds), ``repair`` (the heartbeat's repairs, unknown outcomes
  resolved from the provider's records), ``preview`` and ``forecast`` (POST /campaigns/{id}/preview: the
  dry run, each contact judged by the calling rules as the dialer judges it; its reads in
  ``store.campaign_preview``).
- ``provider_callbacks``: INCOMING status callbacks from the providers (POST /webhooks/{provider},
  ProviderCallbacksFunction): one module per provider's signature scheme and event format, and
  ``apply`` (verify, then move the call forward and settle it once).
- ``outcome_events``: OUTGOING events to the organization's systems. ``catalog`` (which changes
  become which events), ``publish`` (EventBridge and one delivery per webhook endpoint:
  CallEventsFunction), ``deliver`` (WebhookDeliveryFunction), ``endpoints`` (the webhook-endpoint
  API's use cases), ``secrets`` (signing secrets), ``guard`` (SSRF rules), ``transport`` (the POST).
- ``compliance``: who may be called, and the proof. ``destinations`` (toll-fraud safety), ``suppressions``
  (the do-not-call list), ``rules`` (THE pure calling-rules function: windows in every zone the
  recipient may be in, the legal floor, caps, consent), ``organization_rules`` (an organization's
  rules as stored, read on the call path), ``calling_rules`` and ``models`` (their API),
  ``consent`` (its hand validation), ``dial_check`` (the rules applied to one dial, and the
  reserve that counts it with its evidence), ``evidence`` and ``evidence_api`` (sealed records,
  reading and verifying them), ``opt_out`` (POST /calls/{call_ref}/opt-out: every dial to the number
  stopped at once), ``opt_out_events`` (its ``contact.opted_out``, from the stream) and ``pre_dial``
  (the organization's own endpoint asked before each campaign or scheduled dial: its registration,
  the signed request, fail closed).
- ``money``: the balance as the API shows it (``ledger``: also a call's entries), ``spend`` (per day),
  ``reconcile`` (prove it from the ledger)
  and ``provider_reconcile`` (charges checked against the providers' own call records:
  ProviderReconcileFunction and ``outbound admin reconcile-provider``).
- ``burki``: Burki's API under /burki for Burki's own SDK (BurkiApiFunction): ``ids`` (the integers
  the SDK holds), ``views`` (our records in its shapes), ``calls`` and ``campaigns`` (its methods,
  each on one of the use cases above), ``models`` (its request bodies).

Adapters:

- ``http``: every HTTP adapter. ``router`` (the call path's lean route dict: measured cold start),
  ``resolver`` (Powertools' resolver for the APIs off that path), ``campaigns``, ``burki``,
  ``compliance`` (the calling rules and the pre-dial check, included in the campaigns' resolver) and ``webhook_endpoints``
  (their routes), ``openapi`` (the document GET /openapi.json serves; committed as
  docs/openapi.json), ``console`` (the web console's static files and their
  Content-Security-Policy: ConsoleFunction; the files are in functions/console/static).
- ``providers``: one adapter per telephony provider (Twilio, Telnyx, Vonage, BYO SIP) behind
  ``place_call`` and ``hang_up``; ``provider_records``: reading each provider's own records of a call.
- ``snapstart``: the adapter to Lambda's SnapStart runtime hooks (imported by CallsApiFunction's
  handler): what a restored environment must drop or redo, from the clients and caches below.
- ``store``: every DynamoDB key (``store.keys``), query and write, by entity; the ledger entries
  inside the money transactions; ``int_ids`` (integer aliases), ``call_search`` (calls by filters).

Building blocks: ``config`` (settings from the environment), ``errors`` (the ``{"detail": ...}``
contract), ``phone`` (E.164), ``templates`` (``{{variable}}`` rendering), ``credentials`` (provider
secrets), ``aws`` (botocore clients), ``metrics`` (EMF), ``deadline`` (time left in the
invocation), ``pages`` (next_token), ``csv_export`` (every CSV the service writes: RFC 4180,
formulas neutralised), ``dynamodb_json``.

Dependencies run one way: functions -> http -> features -> store/providers -> building blocks.
Beside this package: ``cli/outbound_cli`` (the ``outbound`` command: operators' admin tools for
deployed stacks, the local stack's commands, benchmarks, ``env-vars`` and ``teardown``) and
``local/outbound_local`` (the emulated stack alone: moto, the provider emulators, the local API Gateway and event sources).
"""
