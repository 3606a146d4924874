"""Fault modes of the simulated PBX, switchable while it runs.

Each fault reproduces a failure the daemon must survive on a real Asterisk:

* ``drop_ami()``: every AMI connection is closed at once (Asterisk restart, network cut).
* ``refuse_ami()``: AMI is down for a while (Asterisk restarting, the manager port firewalled):
  every connection is dropped, and each new one is closed before the banner until switched off.
* ``stall_ami()``: actions are read but never answered, Ping included (a wedged manager
  thread); events keep flowing, so a client only notices through its own action timeouts.
* ``refuse_agi()``: FastAGI connects go to a closed port, so the connect is refused and the
  dialplan sees ``AGISTATUS=FAILURE`` (shared/asterisk README).
* ``drop_agi()``: the FastAGI connection is closed right after it was opened, before any
  command: Asterisk reports ``AGISTATUS=SUCCESS`` with none of the script's variables set (the
  small-backlog gotcha in the README), so the dialplan must not let the caller go without
  ``HOTLINE_DONE`` (``[hotline-resume]``).
* ``hangup_in_agi()``: the caller hangs up while an AGI command is still running (scenario D of
  ami_events_full_call.txt: the ``HANGUP`` line arrives before the command's reply).
* ``phone_unreachable(device)`` / ``phone_slow(device, rtt_ms)`` / ``phone_reachable(device)``:
  a PJSIP agent's phone stops answering qualify, answers it slowly (a remote agent's poor home
  line), or is back: ``ContactStatus`` and friends as acd/sim/contacts.py describes.
* ``cut_agi()``: every open FastAGI connection ends at once with nothing more read from it, as
  when the FastAGI server's process is killed (SIGKILL): Asterisk sees the socket close while a
  command may still run (RECORDED q2_agi_dies_ami*.txt; acd/sim/agi_exec.py says what follows).

This object only holds the switches; the runtime reads them where the fault applies. Nothing here
does I/O: ``drop_ami`` calls back into the runtime, which owns the connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Faults switched on from the start (e.g. by ``hotline sim`` options or a test)."""

    stall_ami: bool = False
    refuse_agi: bool = False
    drop_agi: bool = False
    hangup_in_agi: bool = False


class Faults:
    """The live fault switches of one ``Simulator``."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        plan = plan or FaultPlan()
        self._ami_stalled = plan.stall_ami
        self._agi_refused = plan.refuse_agi
        self._agi_dropped = plan.drop_agi
        self._agi_hangup = plan.hangup_in_agi
        self._ami_refused = False
        self._ami_drops = 0
        #: actions read and left unanswered while AMI was stalled
        self.ami_actions_ignored = 0
        self._on_drop_ami: Callable[[], None] | None = None
        self._on_qualify: Callable[[str, float | None], None] | None = None
        self._on_cut_agi: Callable[[], None] | None = None
        # one-shot hooks: an AMI action's name (lower case) -> what happens just before it
        self._before_action: dict[str, Callable[[], None]] = {}

    def bind(
        self,
        on_drop_ami: Callable[[], None],
        on_qualify: Callable[[str, float | None], None] | None = None,
        on_cut_agi: Callable[[], None] | None = None,
    ) -> None:
        """Called by the runtime: how to close every AMI connection / FastAGI link now, and
        how to hand a phone's qualify result (device, RTT in ms or None) to the PBX."""
        self._on_drop_ami = on_drop_ami
        self._on_qualify = on_qualify
        self._on_cut_agi = on_cut_agi

    # -- switches -------------------------------------------------------------------------------
    def drop_ami(self) -> None:
        """Close every AMI connection now (one-shot; new logins are accepted again)."""
        self._ami_drops += 1
        if self._on_drop_ami is not None:
            self._on_drop_ami()

    def cut_agi(self) -> None:
        """End every open FastAGI connection now, as a killed server (one-shot)."""
        if self._on_cut_agi is not None:
            self._on_cut_agi()

    def before_action(self, action: str, do: Callable[[], None]) -> None:
        """Run ``do`` just before the next AMI action named ``action`` is carried out
        (one-shot): what happens on the PBX between a client's sending an action and
        Asterisk's running it (a channel hung up meanwhile)."""
        self._before_action[action.strip().lower()] = do

    def cut_agi_before(self, action: str) -> None:
        """End every open FastAGI connection, as a killed server, just before the next AMI
        action named ``action`` is carried out (one-shot): a daemon that dies right after
        sending it, before it hears of the action's effect on its callers."""
        self.before_action(action, self.cut_agi)

    def action_arrives(self, action: str) -> None:
        """Called by the AMI server before it carries out each action."""
        do = self._before_action.pop(action.strip().lower(), None)
        if do is not None:
            do()

    def refuse_ami(self, on: bool = True) -> None:
        """AMI down (on) or back (off); switching it on drops every connection."""
        self._ami_refused = on
        if on:
            self.drop_ami()

    def stall_ami(self, on: bool = True) -> None:
        self._ami_stalled = on

    def refuse_agi(self, on: bool = True) -> None:
        self._agi_refused = on

    def drop_agi(self, on: bool = True) -> None:
        self._agi_dropped = on

    def hangup_in_agi(self, on: bool = True) -> None:
        self._agi_hangup = on

    def phone_unreachable(self, device: str) -> None:
        """The PJSIP phone ``device`` (``PJSIP/1001``) stops answering qualify."""
        self._qualify(device, None)

    def phone_slow(self, device: str, rtt_ms: float) -> None:
        """The phone answers qualify after ``rtt_ms`` (e.g. above its rtt_limit_ms)."""
        if rtt_ms <= 0:
            raise ValueError(f"expected a positive round trip in ms, got {rtt_ms}")
        self._qualify(device, rtt_ms)

    def phone_reachable(self, device: str, rtt_ms: float = 20.0) -> None:
        """The phone answers qualify promptly again."""
        self.phone_slow(device, rtt_ms)

    def _qualify(self, device: str, rtt_ms: float | None) -> None:
        if self._on_qualify is None:
            raise RuntimeError("phone faults need a running simulator")
        self._on_qualify(device, rtt_ms)

    def clear(self) -> None:
        """Switch every lasting fault off."""
        self._ami_stalled = self._agi_refused = self._agi_dropped = self._agi_hangup = False
        self._ami_refused = False
        self._before_action.clear()

    # -- state read by the runtime --------------------------------------------------------------
    @property
    def ami_stalled(self) -> bool:
        return self._ami_stalled

    @property
    def ami_refused(self) -> bool:
        return self._ami_refused

    @property
    def agi_refused(self) -> bool:
        return self._agi_refused

    @property
    def agi_dropped(self) -> bool:
        return self._agi_dropped

    @property
    def agi_hangup(self) -> bool:
        return self._agi_hangup

    @property
    def ami_drops(self) -> int:
        """How many times ``drop_ami`` was used (for logs and tests)."""
        return self._ami_drops
