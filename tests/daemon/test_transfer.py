"""Transfers end to end: the daemon with its HTTP API against the PBX simulator, real sockets.

Generated agents (``acd.cli.demo.plan``): 2001 is expert in orders (none in complaints), 2002 is
good in complaints (none in orders), both can take the default queue ``enquiries``.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from acd.app.daemon import RunOptions
from acd.asterisk.aio.ami_session import AmiConnectionLost
from acd.cli.main import main
from acd.daemon.call_state import CallState, fold
from acd.daemon.call_steps import Answered, Arrival, LegEnded, Offered, Queued, Transferred
from acd.daemon.calls import Call
from acd.daemon.ivr_port import Features
from acd.daemon.transfers import (
    AgentLeg,
    NotInConversation,
    TransferNotAllowed,
    check_transfer,
)
from acd.settings.schema_routing import TransferRules
from recordings import catalogue
from tests.daemon import harness as harness_module
from tests.daemon.harness import Harness, QueueAtOnce, floor_harness, floor_settings
from tests.http.api_harness import SUPERVISOR, issue_key
from tests.http.live_daemon import LONG_TALK, with_tokens

# The queue only the OTHER agent can take, by the agent who answered first.
ONLY_THE_OTHER = {"2001": "complaints", "2002": "orders"}
KEYS: dict[str, dict[str, str]] = {}  # agent id -> bearer header of that agent's person


def key_of(agent_id: str | None) -> dict[str, str]:
    assert agent_id is not None
    return KEYS[agent_id]


@asynccontextmanager
async def daemon_with_api(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    rules: TransferRules | None = None,
    time_scale: float = 10.0,
) -> AsyncIterator[tuple[Harness, httpx.AsyncClient]]:
    monkeypatch.setattr(harness_module, "RunOptions", functools.partial(RunOptions, http_port=0))
    settings = with_tokens(floor_settings(2))
    recording = settings.recording.model_copy(update={"directory": str(tmp_path / "recordings")})
    settings = settings.model_copy(update={"recording": recording})
    if rules is not None:
        queues = tuple(
            q.model_copy(update={"transfers": rules}) if q.name == settings.default_queue else q
            for q in settings.queues
        )
        settings = settings.model_copy(update={"queues": queues})
    # recorded (the recordings package's catalogue), each caller queued at once
    features = Features(ivr=lambda _s: QueueAtOnce(settings.default_queue), recorder=catalogue)
    harness = floor_harness(
        tmp_path,
        settings=settings,
        behaviour=LONG_TALK,
        start=False,
        features=features,
        time_scale=time_scale,
    )
    async with harness as h:
        daemon = await h.start_daemon()
        assert daemon.http is not None
        assert daemon.api.sessions is not None
        for agent in settings.agents:  # each agent's personal key (hotline users add)
            KEYS[agent.id] = await issue_key(
                daemon.api.sessions, f"user-{agent.id}", "agent", agent_id=agent.id
            )
        try:
            async with httpx.AsyncClient(base_url=daemon.http.url) as client:
                yield h, client
        finally:
            for channel in [c.name for c in h.sim.pbx.channels()]:
                h.hang_up(channel)
            await h.wait_for(h.quiet, "no call left anywhere")
            await h.stop_daemon()


async def answered_call(h: Harness) -> Call:
    await h.place()
    await h.wait_for(lambda: any(c.state.agent_channel for c in h.daemon.registry), "an answer")
    return next(c for c in h.daemon.registry if c.state.agent_channel)


async def answered_by(h: Harness, call: Call, agent_id: str) -> None:
    await h.wait_for(
        lambda: call.state.agent_id == agent_id and call.state.agent_channel is not None,
        f"agent {agent_id} answering the transferred caller",
    )


def other(agent_id: str | None) -> str:
    return "2002" if agent_id == "2001" else "2001"


async def to_specialist(api: httpx.AsyncClient, call: Call, agent: str) -> httpx.Response:
    """A supervisor transfers the call to the named agent."""
    body = {"agent": agent, "reason": "specialist"}
    return await api.post(f"/calls/{call.call_id}/transfer", json=body, headers=SUPERVISOR)


async def waiting_for_a_paused_agent(h: Harness, api: httpx.AsyncClient) -> tuple[Call, str]:
    """An answered caller transferred to the other agent, who is paused: the caller waits for
    them. Returns the call and that agent."""
    call = await answered_call(h)
    target = other(call.state.agent_id)
    paused = await api.post(f"/agents/{target}/pause", json={}, headers=SUPERVISOR)
    assert paused.status_code == 200
    r = await to_specialist(api, call, target)
    assert r.status_code == 200
    await h.wait_for(lambda: bool(call.state.transfers), "the transfer taking effect")
    waiting = await h.floor(lambda f, _now: [c.call_id for c in f.router.waiting_calls()])
    assert waiting == [call.call_id]
    return call, target


@pytest.mark.asyncio
async def test_transfer_to_a_queue_wraps_up_the_agent_and_connects_the_other_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with daemon_with_api(tmp_path, monkeypatch) as (h, api):
        call = await answered_call(h)
        first, first_answer = call.state.agent_id, call.state.answered_at
        assert first is not None
        target = ONLY_THE_OTHER[first]
        r = await api.post(
            f"/calls/{call.call_id}/transfer",
            json={"queue": target, "reason": "wrong department"},
            headers=key_of(first),
        )
        assert r.status_code == 200, r.text
        assert r.json()["target"] == f"queue:{target}"
        await answered_by(h, call, other(first))
        state = call.state
        assert state.queue == target
        assert state.priority == h.settings.queue(target).priority + 5  # not sent to the back
        assert state.answered_at == first_answer  # KPIs keep the first answer
        assert state.leg_answered_at is not None
        assert first_answer is not None
        assert state.leg_answered_at > first_answer
        h.hang_up(call.facts.channel)
        await h.wait_for(
            lambda: any(c.recording_id for c in h.daemon.registry.recent), "the recordings"
        )
    rows = h.rows("select transfers, outcome, agent_id, queue from calls")
    assert len(rows) == 1
    transfers, outcome, agent, queue = rows[0]
    [entry] = json.loads(transfers)
    assert entry["from_agent"] == first
    assert (entry["target"], entry["reason"], entry["by"]) == (
        f"queue:{target}",
        "wrong department",
        f"user-{first}",
    )
    assert isinstance(entry["at"], float)
    assert (outcome, agent, queue) == ("answered", other(first), target)
    events = [e for e in h.timeline() if e["kind"] == "transferred"]
    assert [(e["kind"], e["agent_id"]) for e in events] == [("transferred", first)]
    assert events[0]["data"]["target"] == f"queue:{target}"
    # the first agent wrapped up after the transferred leg (calls.agent_legs, issue 13)
    [(legs,)] = h.rows("select agent_legs from calls")
    first_leg, second_leg = json.loads(legs)
    assert (first_leg["agent_id"], second_leg["agent_id"]) == (first, other(first))
    assert first_leg["ended_at"] < first_leg["wrap_up_due"]
    assert first_leg["ended_at"] <= second_leg["answered_at"]
    audit = h.rows("select who, role, action, target from audit_log where action like 'call.%'")
    assert audit == [(f"user-{first}", "agent", "call.transfer", f"queue:{target}")]
    # each agent's conversation recorded on its own leg, in its own file (the second with the
    # leg's number), catalogued with that agent; the call row keeps the first
    recordings = h.rows("select id, agent_id, queue, path from recordings order by started_at")
    assert [(agent, q) for _, agent, q, _ in recordings] == [
        (first, h.settings.default_queue),
        (other(first), target),
    ]
    first_file, second_file = (Path(p) for *_, p in recordings)
    assert second_file.name == f"{first_file.stem}-2.wav"
    # the row's legs name their files, for a daemon that would close it after this one died
    assert (first_leg["recording"], second_leg["recording"]) == (str(first_file), str(second_file))
    assert h.rows("select recording_id from calls") == [(recordings[0][0],)]


@pytest.mark.asyncio
async def test_supervisor_transfers_to_a_named_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with daemon_with_api(tmp_path, monkeypatch) as (h, api):
        call = await answered_call(h)
        first = call.state.agent_id
        body = {"agent": other(first), "reason": "customer asked for them"}
        r = await api.post(f"/calls/{call.call_id}/transfer", json=body, headers=SUPERVISOR)
        assert r.status_code == 200, r.text
        await answered_by(h, call, other(first))
        assert call.state.queue == h.settings.default_queue  # same queue, kept for that agent
        assert call.state.transfers[0]["target"] == f"agent:{other(first)}"
        assert call.state.transfers[0]["by"] == "supervisors"
        # the call is already with that agent now: a second transfer to them is refused
        again = await api.post(f"/calls/{call.call_id}/transfer", json=body, headers=SUPERVISOR)
        assert again.status_code == 409


@pytest.mark.asyncio
async def test_transfers_refused_by_config_and_when_not_in_a_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = TransferRules(agents_may_transfer_to=("orders",), require_reason=True)
    async with daemon_with_api(tmp_path, monkeypatch, rules=rules) as (h, api):
        assert (await api.post("/calls/nope/transfer", json={"queue": "orders", "reason": "x"},
                               headers=SUPERVISOR)).status_code == 404  # fmt: skip
        call = await answered_call(h)
        url = f"/calls/{call.call_id}/transfer"
        agent = call.state.agent_id
        own = key_of(agent)
        cases = [
            ({"queue": "orders", "reason": "x"}, key_of(other(agent)), 403),  # not theirs
            ({"queue": "complaints", "reason": "angry"}, own, 403),
            ({"agent": other(agent), "reason": "x"}, own, 403),
            ({"queue": "orders"}, own, 422),  # no reason
            ({"queue": "orders", "agent": "2001", "reason": "x"}, own, 422),
            ({"queue": "billing", "reason": "x"}, own, 404),
            ({"agent": "9999", "reason": "x"}, SUPERVISOR, 404),
        ]
        for body, token, status in cases:
            r = await api.post(url, json=body, headers=token)
            assert r.status_code == status, (body, r.text)
        argv = ["transfer", call.call_id, "--queue", "complaints", "--reason", "angry"]
        argv += ["--api", str(api.base_url).rstrip("/"), "--token", own["Authorization"][7:]]
        assert await asyncio.to_thread(main, argv) == 1  # the CLI is refused the same way
        assert "refused (403)" in capsys.readouterr().err
        assert call.state.transfer_asked is None
        assert not call.state.transfers
        assert call.state.agent_channel is not None  # still talking to the same agent
        # a caller still waiting (everyone busy or paused) is not in a conversation: 409
        idle = other(call.state.agent_id)
        paused = await api.post(f"/agents/{idle}/pause", json={}, headers=SUPERVISOR)
        assert paused.status_code == 200
        await h.place()
        await h.wait_for(lambda: len(h.daemon.registry) == 2, "a second caller")
        waiting = next(c for c in h.daemon.registry if c.call_id != call.call_id)
        await h.wait_for(lambda: waiting.state.queued_at is not None, "the second caller queued")
        r = await api.post(
            f"/calls/{waiting.call_id}/transfer",
            json={"queue": "orders", "reason": "x"},
            headers=SUPERVISOR,
        )
        assert r.status_code == 409
    assert h.rows("select count(*) from audit_log where action = 'call.transfer'") == [(0,)]


@pytest.mark.asyncio
async def test_caller_hanging_up_while_transferred_leaves_nothing_stuck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with daemon_with_api(tmp_path, monkeypatch) as (h, api):
        call, target = await waiting_for_a_paused_agent(h, api)
        h.hang_up(call.facts.channel)
        await h.wait_for(h.quiet, "nothing left queued, engaged or open")
        assert (await h.agent_states())[target] == "paused"
    rows = h.rows("select outcome, hung_up_by, json_array_length(transfers) from calls")
    assert rows == [("answered", "caller", 1)]


def test_policy_check_is_for_agents_only() -> None:
    rules = TransferRules(agents_may_transfer_to=("orders",), require_reason=False)
    check_transfer(rules, "agent", "queue", "orders", None)
    check_transfer(rules, "supervisor", "queue", "complaints", None)
    check_transfer(rules, "admin", "agent", "2001", None)
    with pytest.raises(TransferNotAllowed):
        check_transfer(rules, "agent", "queue", "complaints", "x")
    with pytest.raises(TransferNotAllowed):
        check_transfer(rules, "agent", "agent", "2001", "x")
    check_transfer(TransferRules(), "agent", "agent", "2001", "x")  # default: anywhere


def test_talk_of_a_transferred_call_leaves_out_the_wait_between_legs() -> None:
    state = fold(
        Arrival("c1", "u1", "ch", "555", None, arrived_at=0.0),
        [
            Queued(1.0, "enquiries", 1),
            Offered(2.0, "2001", "PJSIP/2001"),
            Answered(3.0, "2001", "PJSIP/2001-1"),
            LegEnded(13.0, "agent"),  # 3 -> 13 with the first agent
            Transferred(13.0, "2001", "queue:orders", "x", "agents"),
            Queued(13.0, "orders", 7),
            Offered(18.0, "2002", "PJSIP/2002"),
            Answered(20.0, "2002", "PJSIP/2002-1"),  # 7 s waiting, then 5 s with the next
            LegEnded(25.0, "caller"),
        ],
    )
    facts = state.kpi_facts()
    assert (facts.answered_at, facts.queued_at, facts.ring_started_at) == (3.0, 1.0, 2.0)
    assert facts.talk_s == 15.0
    assert state.queue == "orders"
    assert [r.agent_id for r in state.rings] == ["2001", "2002"]


@pytest.mark.asyncio
async def test_a_transferred_caller_waiting_when_the_daemon_dies_is_not_let_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first leg's Dial left DIALSTATUS=ANSWER on the channel, which a [hotline-resume]
    # rendered before HOTLINE_TRANSFERRED reads as "finished": queued again, the caller's place
    # clears it, so a daemon dying while they wait for the second agent does not hang them up.
    async with daemon_with_api(tmp_path, monkeypatch) as (h, api):
        call, _ = await waiting_for_a_paused_agent(h, api)
        # the kill once the place is stored (the window before it: the next test)
        await h.wait_for(
            lambda: h.sim.pbx.get_var(call.facts.channel, "DIALSTATUS") != "ANSWER",
            "the place stored on the channel",
        )
        await h.daemon.writer.wait_drained()
        await h.sigkill_daemon()
        await h.start_daemon(login=False)
        # not hung up: [hotline-resume] offers the caller to the restarted daemon
        await h.wait_for(
            lambda: any(c.call_id == call.call_id for c in h.daemon.registry), "the resume"
        )
        assert call.facts.channel in {c.name for c in h.sim.pbx.channels()}
        # the first agent's leg, over before the kill, recorded by the dead daemon's Dial: the
        # resuming flow has only its own legs, the call reconcile catalogues that one
        await h.wait_for(
            lambda: bool(h.rows("SELECT 1 FROM recordings WHERE id = ?", (call.call_id,))),
            "the first leg's recording catalogued",
        )


@pytest.mark.asyncio
async def test_a_daemon_dying_as_its_transfer_hangs_up_the_agent_does_not_let_the_caller_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The daemon dies just after it sent the Hangup of the agent's leg: the Dial returns
    # DIALSTATUS=ANSWER to a caller no daemon will queue again. The transfer named that leg on
    # the caller's channel first (HOTLINE_TRANSFERRED, equal to DIALEDPEERNAME), so
    # [hotline-resume] offers the caller to the next daemon instead of hanging them up.
    # the simulator at twice real time: the dialplan's six resume attempts 2 s apart leave the
    # restart 6 s (at ten times, 1.2 s: too little on a loaded machine)
    async with daemon_with_api(tmp_path, monkeypatch, time_scale=2.0) as (h, api):
        call = await answered_call(h)
        first_leg, channel = call.state.agent_channel, call.facts.channel
        await h.daemon.agi.stop_listening()  # the resume is for the next daemon
        h.sim.faults.cut_agi_before("Hangup")
        r = await to_specialist(api, call, other(call.state.agent_id))
        assert r.status_code == 200
        await h.wait_for(  # the Dial returned ANSWER; [hotline-resume] went on to AGI()
            lambda: int(h.sim.pbx.get_var(channel, "HOTLINE_RESUMES") or 0) >= 1,
            "a resume attempt",
        )
        assert h.sim.pbx.get_var(channel, "DIALSTATUS") == "ANSWER"
        marked = h.sim.pbx.get_var(channel, "HOTLINE_TRANSFERRED")
        assert marked == first_leg == h.sim.pbx.get_var(channel, "DIALEDPEERNAME")
        await h.kill_daemon()
        await h.start_daemon(login=False)
        await h.wait_for(
            lambda: any(c.call_id == call.call_id for c in h.daemon.registry), "the resume"
        )
        resumed = next(c for c in h.daemon.registry if c.call_id == call.call_id)
        await h.wait_for(lambda: resumed.state.agent_channel is not None, "the next answer")
        assert channel in {c.name for c in h.sim.pbx.channels()}
        assert resumed.state.agent_channel != first_leg


@dataclass(frozen=True)
class Reply:
    ok: bool
    message: str = ""
    action_id: str = ""


@dataclass
class Asterisk:
    """AMI as the transfer meets it: every action answered, those named in ``gone`` with
    "No such channel" (the channel already hung up), those in ``lost`` never (raised)."""

    gone: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)  # the connection drops while these wait
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def action(
        self,
        name: str,
        headers: Iterable[tuple[str, str]] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - AmiClient's signature
    ) -> Reply:
        self.sent.append((name, dict(headers)))
        if name in self.lost:
            raise AmiConnectionLost(f"AMI connection lost while sending {name}")
        if name in self.gone:
            return Reply(False, "No such channel")
        return Reply(True)


CALLER, LEG = "Local/5550100@caller-sim-00000001;1", "PJSIP/2001-00000002"


def talking_state() -> CallState:
    return fold(Arrival("c1", "c1", CALLER, "5550100", None, 0.0), [Answered(1.0, "2001", LEG)])


def actions(asterisk: Asterisk) -> list[tuple[str, str | None, str | None]]:
    return [(name, h.get("Channel"), h.get("Value")) for name, h in asterisk.sent]


@pytest.mark.asyncio
async def test_the_transfer_names_the_agents_leg_on_the_caller_before_hanging_it_up() -> None:
    asterisk = Asterisk()
    await AgentLeg(lambda: asterisk).hang_up(talking_state())
    assert asterisk.sent[0][1]["Variable"] == "HOTLINE_TRANSFERRED"
    assert actions(asterisk) == [("Setvar", CALLER, LEG), ("Hangup", LEG, None)]


@pytest.mark.asyncio
async def test_a_leg_already_gone_clears_the_mark_and_a_caller_gone_is_no_refusal() -> None:
    # the agent hung up first: the caller's conversation is over, and the mark must not make
    # [hotline-resume] offer them to a daemon again
    asterisk = Asterisk(gone={"Hangup"})
    with pytest.raises(NotInConversation, match="the agent's leg is already gone"):
        await AgentLeg(lambda: asterisk).hang_up(talking_state())
    assert actions(asterisk) == [
        ("Setvar", CALLER, LEG),
        ("Hangup", LEG, None),
        ("Setvar", CALLER, ""),
    ]
    # the mark refused ("No such channel": the caller is hanging up): the leg is hung up all
    # the same, and the transfer goes on (unmarked, as before marks existed)
    asterisk = Asterisk(gone={"Setvar"})
    await AgentLeg(lambda: asterisk).hang_up(talking_state())
    assert [name for name, _ in asterisk.sent] == ["Setvar", "Hangup"]


@pytest.mark.asyncio
async def test_asterisk_unreachable_during_the_transfer_is_raised() -> None:
    asterisk = Asterisk(lost={"Hangup"})
    with pytest.raises(AmiConnectionLost):
        await AgentLeg(lambda: asterisk).hang_up(talking_state())
    assert [name for name, _ in asterisk.sent] == ["Setvar", "Hangup"]


@pytest.mark.asyncio
async def test_a_transfer_the_agent_beats_lets_the_finished_caller_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The agent hangs up as the transfer's Hangup is on its way ("No such channel"), and AMI
    # drops as the daemon clears the mark again: the mark names the last leg, so only the
    # daemon's HOTLINE_DONE keeps [hotline-resume] from offering a finished caller again.
    async with daemon_with_api(tmp_path, monkeypatch) as (h, api):
        call = await answered_call(h)
        first_leg, channel = call.state.agent_channel, call.facts.channel
        assert first_leg is not None

        def agent_hangs_up() -> None:
            h.hang_up(first_leg)
            h.sim.faults.before_action("Setvar", h.sim.faults.drop_ami)  # the clearing one

        h.sim.faults.before_action("Hangup", agent_hangs_up)
        r = await to_specialist(api, call, other(call.state.agent_id))
        assert r.status_code == 409
        await h.wait_for(
            lambda: channel not in {c.name for c in h.sim.pbx.channels()}, "the caller let go"
        )
        await h.wait_for(lambda: call.state.over, "the call's end")
        assert call.transfer_marked
        assert call.state.outcome == "answered"
        assert not call.state.transfers
        # not offered again: the restarted flow never saw a resume of this call
        assert not any(c.call_id == call.call_id and c is not call for c in h.daemon.registry)
