"""The phone-quality decision: ContactStatus events in, an agent's verdict changes out."""

from __future__ import annotations

from acd.asterisk.ami.contact_status import ContactState, ContactStatus
from acd.daemon.phone_quality import (
    Contact,
    PhoneChange,
    PhoneTarget,
    PhoneVerdict,
    PhoneWatch,
    assess,
    phone_targets,
)
from acd.settings.loader import load_settings
from tests.settings.conftest import SHIPPED_CONFIG

URI = "sip:1004@198.51.100.7:49152;transport=tls"


def status(
    state: ContactState, rtt_us: int | None = None, *, uri: str = URI, endpoint: str = "1004"
) -> ContactStatus:
    return ContactStatus(endpoint=endpoint, aor=endpoint, uri=uri, state=state, rtt_us=rtt_us)


def watch(limit_ms: int | None = 400) -> PhoneWatch:
    return PhoneWatch({"1004": PhoneTarget("1004", limit_ms)})


def test_reachable_then_slow_then_fast_again() -> None:
    phones = watch()
    first = phones.observe(status(ContactState.REACHABLE, 35_000))
    assert first == PhoneChange(
        agent_id="1004",
        endpoint="1004",
        verdict=PhoneVerdict.REACHABLE,
        previous=PhoneVerdict.UNKNOWN,
        rtt_ms=35.0,
        rtt_limit_ms=400,
    )
    assert not first.pauses
    assert first.pause_reason is None
    # a registration refresh reports the same status with a worse RTT
    slow = phones.observe(status(ContactState.REACHABLE, 612_500))
    assert slow is not None
    assert (slow.verdict, slow.previous, slow.rtt_ms) == (
        PhoneVerdict.RTT_OVER_LIMIT,
        PhoneVerdict.REACHABLE,
        612.5,
    )
    assert slow.pauses
    assert slow.pause_reason == "phone-slow"
    assert phones.observe(status(ContactState.REACHABLE, 700_000)) is None  # still too slow
    back = phones.observe(status(ContactState.REACHABLE, 400_000))  # at the limit is fine
    assert back is not None
    assert back.verdict is PhoneVerdict.REACHABLE
    assert phones.verdict("1004") is PhoneVerdict.REACHABLE


def test_unreachable_pauses_and_recovery_resumes() -> None:
    phones = watch()
    phones.observe(status(ContactState.REACHABLE, 20_000))
    lost = phones.observe(status(ContactState.UNREACHABLE, 0))
    assert lost is not None
    assert (lost.verdict, lost.pause_reason, lost.rtt_ms) == (
        PhoneVerdict.UNREACHABLE,
        "phone-unreachable",
        None,
    )
    found = phones.observe(status(ContactState.REACHABLE, 25_000))
    assert found is not None
    assert (found.verdict, found.previous) == (PhoneVerdict.REACHABLE, PhoneVerdict.UNREACHABLE)


def test_no_limit_means_never_too_slow() -> None:
    phones = watch(limit_ms=None)
    change = phones.observe(status(ContactState.REACHABLE, 5_000_000))
    assert change is not None
    assert change.verdict is PhoneVerdict.REACHABLE


def test_qualify_pending_or_off_proves_nothing() -> None:
    phones = watch()
    assert phones.observe(status(ContactState.UNKNOWN, 0)) is None
    assert phones.observe(status(ContactState.NON_QUALIFIED, 0)) is None
    assert phones.verdict("1004") is PhoneVerdict.UNKNOWN


def test_nat_re_registration_does_not_flap_to_unreachable() -> None:
    # remove_existing: the old contact is removed, the new one is qualified right after
    phones = watch()
    phones.observe(status(ContactState.REACHABLE, 30_000))
    gone = phones.observe(status(ContactState.REMOVED, 0))
    assert gone is not None
    assert gone.verdict is PhoneVerdict.UNKNOWN  # not a pause: device state covers unregistered
    assert not gone.pauses
    new_uri = "sip:1004@198.51.100.7:50001;transport=tls"
    again = phones.observe(status(ContactState.REACHABLE, 31_000, uri=new_uri))
    assert again is not None
    assert again.verdict is PhoneVerdict.REACHABLE


def test_best_reachable_contact_counts() -> None:
    contacts = {
        "a": Contact(ContactState.UNREACHABLE, 0),
        "b": Contact(ContactState.REACHABLE, 900_000),
        "c": Contact(ContactState.REACHABLE, 120_000),
    }
    assert assess(contacts, 400) is PhoneVerdict.REACHABLE
    assert assess({"b": contacts["b"]}, 400) is PhoneVerdict.RTT_OVER_LIMIT
    assert assess({"a": contacts["a"]}, 400) is PhoneVerdict.UNREACHABLE
    assert assess({}, 400) is PhoneVerdict.UNKNOWN
    # reachable without an RTT figure: reachable
    assert assess({"d": Contact(ContactState.REACHABLE, None)}, 400) is PhoneVerdict.REACHABLE


def test_other_endpoints_are_ignored() -> None:
    phones = watch()
    assert phones.observe(status(ContactState.UNREACHABLE, 0, endpoint="trunk-1")) is None
    assert phones.verdict("1004") is PhoneVerdict.UNKNOWN


def test_targets_from_the_shipped_config() -> None:
    targets = phone_targets(load_settings(SHIPPED_CONFIG, env={}, require_secrets=False))
    assert targets["1004"] == PhoneTarget("1004", 500)  # remote, per-agent override
    assert targets["1001"] == PhoneTarget("1001", None)  # office: no RTT limit
    assert set(targets) == {"1001", "1002", "1003", "1004", "1005", "1006"}


def test_forget_returns_the_pausing_verdicts_and_starts_over() -> None:
    phones = watch()
    assert phones.observe(status(ContactState.UNREACHABLE, 0)) is not None
    (change,) = phones.forget()
    assert (change.agent_id, change.verdict, change.previous) == (
        "1004",
        PhoneVerdict.UNKNOWN,
        PhoneVerdict.UNREACHABLE,
    )
    assert change.pause_reason is None
    assert not change.pauses
    assert phones.verdict("1004") is PhoneVerdict.UNKNOWN
    assert phones.forget() == []  # nothing pausing any more
    back = phones.observe(status(ContactState.REACHABLE, 20_000))
    assert back is not None
    assert back.previous is PhoneVerdict.UNKNOWN
