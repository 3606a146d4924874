"""AMI event filters as main/manager.c applies them (``acd.asterisk.ami.event_filters``), the
shipped manager.conf's lines, and the simulated Asterisk honouring them per user."""

from __future__ import annotations

import pytest

from acd.asterisk.ami.event_filters import parse_filter, should_send, user_filters
from acd.asterisk.ami.message import Message, encode
from acd.settings.ami_privileges import EVENT_CLASSES, EVENT_FILTERS
from acd.settings.loader import load_settings
from acd.settings.pbx_conf_render import render_manager_conf
from acd.sim.plan import CallerBehaviour, SimPlan
from acd.sim.runtime import Simulator
from tests.http.api_harness import CONFIG
from tests.sim.runtime_support import AmiProbe, is_event


def event(name: str, **headers: str) -> tuple[Message, str]:
    message = Message.build((("Event", name), ("Privilege", "call,all")), **headers)
    return message, encode(message).decode()


def sends(filters: list[tuple[str, str]], name: str, **headers: str) -> bool:
    parsed = [parse_filter(c, p) for c, p in filters]
    return should_send(parsed, *event(name, **headers))


def test_no_filters_pass_everything_and_includes_pass_only_their_events() -> None:
    assert sends([], "Newchannel", Channel="PJSIP/1-1")
    only_dialend = [("eventfilter(name(DialEnd))", "")]
    assert sends(only_dialend, "DialEnd", DialStatus="BUSY")
    assert not sends(only_dialend, "Newchannel")
    assert not sends(only_dialend, "dialend")  # names compare by a case-sensitive hash


def test_a_header_filter_matches_that_headers_value_by_its_method() -> None:
    answer = [
        ("eventfilter(action(include),name(DialEnd),header(DialStatus),method(exact))", "ANSWER")
    ]
    assert sends(answer, "DialEnd", DialStatus="ANSWER")
    assert not sends(answer, "DialEnd", DialStatus="NOANSWER")
    assert not sends(answer, "DialEnd")  # no such header
    local = [("eventfilter(header(Channel),method(starts_with))", "Local/")]
    assert sends(local, "Hangup", Channel="Local/1@x-1;1")
    assert not sends(local, "Hangup", Channel="PJSIP/1-1")


def test_legacy_regexes_search_the_whole_text_and_a_bang_excludes() -> None:
    legacy = [("eventfilter", "Event: (Hangup|DialEnd)"), ("eventfilter", "!Channel: Local/")]
    assert sends(legacy, "Hangup", Channel="PJSIP/1-1")
    assert not sends(legacy, "Hangup", Channel="Local/1@x-1;1")  # include, then excluded
    assert not sends(legacy, "Newchannel", Channel="PJSIP/1-1")
    excluded_only = [("eventfilter(action(exclude),name(VarSet))", "")]
    assert sends(excluded_only, "Newchannel")
    assert not sends(excluded_only, "VarSet")


@pytest.mark.parametrize(
    ("criteria", "pattern"),
    [
        ("eventfilter", ""),  # legacy without a pattern
        ("eventfilter(action(include)", ""),  # unbalanced
        ("eventfilter(nnnn(yyy))", "XXX"),  # unknown option
        ("eventfilter(name(X),method(exact))", ""),  # a method needs a pattern
        ("eventfilter(name(X))", "ABC"),  # and a pattern needs a method
        ("eventfilter(method(none))", ""),  # neither name nor header nor pattern
        ("eventfilter", "(unclosed"),  # does not compile
    ],
)
def test_filters_asterisk_refuses_are_refused(criteria: str, pattern: str) -> None:
    # main/manager.c's own test cases (FILTER_FORMAT_ERROR / FILTER_COMPILE_FAIL)
    with pytest.raises(ValueError, match=r"."):
        parse_filter(criteria, pattern)


def test_the_shipped_manager_conf_lets_through_exactly_the_events_the_daemon_uses() -> None:
    settings = load_settings(CONFIG, require_secrets=False)
    username = settings.system.ami.username
    filters = user_filters(render_manager_conf(settings), username)
    assert len(filters) == len(EVENT_FILTERS)
    used = {"DialEnd", "DeviceStateChange", "OriginateResponse", "ChanSpyStart", "ChanSpyStop"}
    assert used <= set(EVENT_CLASSES)
    for name in used:
        assert should_send(filters, *event(name, DialStatus="ANSWER", State="INUSE"))
    assert not should_send(filters, *event("DialEnd", DialStatus="NOANSWER"))
    for name in ("Newchannel", "VarSet", "Newexten", "BridgeEnter", "Hangup", "MusicOnHoldStart"):
        assert not should_send(filters, *event(name))
    assert user_filters(render_manager_conf(settings), "someone-else") == ()


@pytest.mark.asyncio
async def test_the_simulator_filters_queued_events_per_user_but_not_replies() -> None:
    dialend = parse_filter("eventfilter(name(DialEnd))", "")
    sim = Simulator(SimPlan(ami_event_filters={"acd": (dialend,)}), seed=1, auth_failure_delay=0.0)
    await sim.start()
    sim.secrets["other"] = "other-secret"
    try:
        filtered, unfiltered = (
            await AmiProbe.connect(sim.ami_port),
            await AmiProbe.connect(sim.ami_port),
        )
        assert (await filtered.login_md5()).ok
        assert (await unfiltered.login_md5("other", "other-secret")).ok
        await sim.place_call(CallerBehaviour(number="5550100", hangup_after=0.2))
        await unfiltered.wait_event(is_event("Hangup"))
        await sim.wait_idle()
        # An action's reply comes after every event queued before it, in order: once both
        # sessions have one, each has seen the whole call.
        for probe in (filtered, unfiltered):
            listed = await probe.action("CoreShowChannels")
            assert listed.response.get("Response") == "Success"
        got = [e.name for e in filtered.events if "ActionID" not in e]
        assert got[0] == "FullyBooted"  # written by the Login itself: never filtered
        everything = [e.name for e in unfiltered.events if "ActionID" not in e][1:]
        assert got[1:] == [n for n in everything if n == "DialEnd"]
        assert got[1:]
        assert "Newchannel" in everything
        # Held back from the filtered user: every queued event the other saw but the DialEnds,
        # and its own login's SuccessfulAuth (queued before the other had logged in).
        assert sim.ami_server.events_filtered == len(everything) - len(got[1:]) + 1
        await filtered.close()
        await unfiltered.close()
    finally:
        await sim.close()
