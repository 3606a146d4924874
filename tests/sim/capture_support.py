"""Running the simulator the way the dev Asterisk 22.10.1 captures were made, and comparing.

``dev_plan`` loads the shipped dialplan/extensions.conf plus the test contexts of that machine
(tests/fixtures/asterisk-dev/test-contexts.conf) and its test queues and Local "agent phones"
(1001-1010 answer at once and stay, 11xx ring then answer, 2001 never answers).
``trail`` reduces the AMI events of one channel to what the comparisons look at, with channel
names and uniqueids (which differ from run to run) taken out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from acd.asterisk.ami.message import Message
from acd.sim.outputs import OriginateRequest
from acd.sim.plan import AgentBehaviour, DialplanPlan, QueueMember, QueuePlan, SimPlan
from tests.dev_captures import recorded_test_contexts
from tests.sim.pbx_driver import SHIPPED_DIALPLAN, Driver

MOH_FILE = "/usr/share/asterisk/moh/macroform-cold_day"
_CHANNEL = re.compile(r"Local/[^ ,;]+-[0-9a-f]{8};[12]")
#: the VarSets the comparisons keep (others, e.g. BRIDGEPEER, the sim does not publish)
KEPT_VARIABLES = frozenset({"AGISTATUS", "DIALSTATUS", "T_VAR", "ANSWEREDTIME", "DIALEDTIME"})
_SNAPSHOT = frozenset(
    {
        "Event",
        "Privilege",
        "Timestamp",
        "Channel",
        "ChannelState",
        "ChannelStateDesc",
        "CallerIDNum",
        "CallerIDName",
        "ConnectedLineNum",
        "ConnectedLineName",
        "Language",
        "AccountCode",
        "Context",
        "Exten",
        "Priority",
        "Uniqueid",
        "Linkedid",
    }
)


def phone(answer_after: float | None) -> AgentBehaviour:
    """An [agent-phones] extension: answers after ``answer_after`` s (None: never) and stays
    until the other side hangs up."""
    return AgentBehaviour(answer_after=answer_after, talk_time=3600.0, hangs_up="caller")


def dev_plan(**agents: AgentBehaviour) -> SimPlan:
    """The dev Asterisk's set-up: shipped dialplan + test contexts, test-local / test-noanswer."""
    nobody = QueueMember("Local/2001@agent-phones/n", "NoAnswer 2001", "Local/2001@agent-phones")
    agent = QueueMember("Local/1003@agent-phones/n", "Agent 1003", "Local/1003@agent-phones")
    phones = {
        "Local/2001@agent-phones/n": phone(None),
        "Local/1003@agent-phones/n": phone(0.0),
        "Local/1004@agent-phones/n": phone(0.0),
        "Local/1103@agent-phones/n": phone(2.0),
        "Local/1106@agent-phones/n": phone(6.0),
    }
    phones.update({f"Local/{k}@agent-phones/n": b for k, b in agents.items()})
    text = SHIPPED_DIALPLAN.read_text() + "\n" + recorded_test_contexts()
    return SimPlan(
        queues=(
            QueuePlan("test-local", "linear", 5.0, 1.0, (nobody, agent), monitor_format="wav"),
            QueuePlan("test-noanswer", "ringall", 5.0, 1.0, (nobody,)),
        ),
        agents=phones,
        dialplan=DialplanPlan(text=text, source="extensions.conf of the dev Asterisk"),
        sounds={MOH_FILE: 120.0, "beep": 0.4255},
    )


def originate(
    driver: Driver,
    context: str,
    *,
    data: str,
    caller_id: str,
    variables: Iterable[tuple[str, str]],
) -> None:
    """``Originate Channel=Local/s@<context>/n Application=Wait`` as the captures' harness."""
    driver.originate(
        OriginateRequest(
            channel=f"Local/s@{context}/n",
            application="Wait",
            data=data,
            variables=tuple(variables),
            caller_id=caller_id,
        )
    )


def norm(text: str) -> str:
    return _CHANNEL.sub("<chan>", text)


def step(message: Message) -> tuple[str, ...] | None:
    """What a comparison keeps of one event (None: not compared)."""
    name = message.name
    get = message.get
    if name == "Newexten":
        return (name, *(get(k) or "" for k in ("Context", "Exten", "Priority", "Application")),
                norm(get("AppData") or ""))  # fmt: skip
    if name == "VarSet" and get("Variable") in KEPT_VARIABLES:
        return (name, get("Variable") or "", get("Value") or "")
    if name == "UserEvent":
        rest = tuple(f"{k}: {v}" for k, v in message.headers if k not in _SNAPSHOT)
        return (name, get("Context") or "", get("Exten") or "", *rest)
    if name == "AGIExecEnd":
        return (name, *(get(k) or "" for k in ("Command", "ResultCode", "Result")))
    if name == "SoftHangupRequest":
        return (name, get("Cause") or "")
    if name == "Hangup":
        return (name, *(get(k) or "" for k in ("Context", "Exten", "Priority")))
    return None


def trail(messages: Iterable[Message], channel: str) -> list[tuple[str, ...]]:
    out = []
    for message in messages:
        if message.get("Channel") == channel and (kept := step(message)) is not None:
            out.append(kept)
    return out


def dialplan_channel(messages: Iterable[Message], context: str) -> str:
    """The ;2 half that ran ``context`` (its ;1 half only shows an AppDial2 step there)."""
    return next(
        m["Channel"]
        for m in messages
        if m.name == "Newexten" and m.get("Context") == context and m["Channel"].endswith(";2")
    )
