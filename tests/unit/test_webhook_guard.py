"""The SSRF rules for customer webhook URLs (pure: the resolver is swapped for a table)."""
from __future__ import annotations

import pytest

from outbound.outcome_events import guard as webhook_guard
from outbound.outcome_events.guard import UnsafeUrl, resolve_checked

NAMES = {"hooks.example.com": ["93.184.216.34"], "mixed.example.com": ["93.184.216.34", "10.0.0.1"],
         "v6.example.com": ["2606:4700::1111"], "meta.example.com": ["169.254.169.254"],
         "local.example.com": ["127.0.0.1"]}


@pytest.fixture(autouse=True)
def names(monkeypatch):
    monkeypatch.delenv("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", raising=False)
    webhook_guard.set_resolver(lambda host, port: list(NAMES.get(host, [])))
    yield
    webhook_guard.set_resolver(None)


def test_a_public_https_url_passes_with_every_address_it_resolves_to():
    checked = resolve_checked("https://hooks.example.com:8443/in?x=1")
    assert (checked.host, checked.port, checked.target, checked.addresses) == (
        "hooks.example.com", 8443, "/in?x=1", ("93.184.216.34",))
    assert resolve_checked("https://v6.example.com/").addresses == ("2606:4700::1111",)


@pytest.mark.parametrize("url,rule", [
    ("http://hooks.example.com/", "url must be an absolute https:// URL"),
    ("https://mixed.example.com/", "mixed.example.com resolves to 10.0.0.1, a private address"),  # any one refused
    ("https://meta.example.com/", "a cloud metadata address"),
    ("https://local.example.com/", "a loopback address"),
    ("https://127.0.0.2/", "127.0.0.2 is a loopback address"),
    ("https://[::1]/", "a loopback address"),
    ("https://[fe80::1]/", "a link-local address"),
    ("https://[fec0::1]/", "a site-local address"),  # deprecated fec0::/10, still routed inside sites
    ("https://169.254.1.1/", "a link-local address"),
    ("https://[::ffff:169.254.169.254]/", "a cloud metadata address"),
    ("https://[2002:0a00:0001::]/", "a private address"),  # 6to4 of 10.0.0.1
    ("https://224.0.0.1/", "a multicast address"),
    ("https://0.0.0.0/", "a reserved address"),
    ("https://192.168.0.1/", "a private address"),
    ("https://unknown.example.com/", "does not resolve"),
    ("https://a:b@hooks.example.com/", "user name or password"),
    ("https:///nohost", "url must be an absolute https:// URL"),
    ("https://hooks.example.com:99999/", "not a valid URL"),
])
def test_refused_urls_name_the_rule(url, rule):
    with pytest.raises(UnsafeUrl) as refused:
        resolve_checked(url)
    assert rule in str(refused.value)


def test_the_local_stack_may_reach_loopback_over_http_but_nothing_private(monkeypatch):
    monkeypatch.setenv("OUTBOUND_WEBHOOKS_ALLOW_LOOPBACK", "1")
    assert resolve_checked("http://127.0.0.1:3000/_local/webhook-receiver/x").addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeUrl, match="a private address"):
        resolve_checked("http://192.168.0.1/")
    with pytest.raises(UnsafeUrl, match=r"http:// only reaches loopback"):
        resolve_checked("http://hooks.example.com/")


class _Answer:
    status = 204

    def read(self, *args, **kwargs):
        return b""

    def release_conn(self):
        pass


@pytest.mark.parametrize("url,host_header", [
    ("https://[2001:db8::1]/hook", "[2001:db8::1]"),  # an IPv6 literal is bracketed, on the default port too
    ("https://[2001:db8::1]:8443/hook", "[2001:db8::1]:8443"),
    ("https://hooks.example.com/hook", "hooks.example.com"),
    ("https://hooks.example.com:8443/hook", "hooks.example.com:8443"),
])
def test_the_host_header_names_the_url_host(monkeypatch, url, host_header):
    from outbound.outcome_events import transport as webhook_http

    sent = {}

    class Pool:
        def urlopen(self, method, target, body=None, headers=None, **kwargs):
            sent.update(headers)
            return _Answer()

    monkeypatch.setattr(webhook_http, "_pool", lambda checked, address, timeout_s: Pool())
    checked = webhook_guard.CheckedUrl(url, "https", *webhook_guard.check_syntax(url)[1:], ("2001:db8::1",))
    assert webhook_http.post(checked, b"{}", {}, 1.0).succeeded
    assert sent["Host"] == host_header
