"""The ``[hotline]`` and ``[hotline-direct]`` contexts of ../shared/asterisk/reference-config.

The transcripts in ../shared/asterisk were recorded with these contexts, so a bare ``SimPlan()``
runs them through the dialplan interpreter and can be compared with the recordings step by step
(Newexten/VarSet). Only the FastAGI address differs: tests point it at their own server. The
other reference contexts (caller-sim, agents, supervisor, parking-lot) are the phones and test
fixtures around the PBX; the simulator models those in Python (acd/sim/dialplan.py).
"""

from __future__ import annotations

REFERENCE_SOURCE = "reference-config/extensions.conf"

_TEMPLATE = """\
[hotline]
exten => s,1,NoOp(HOTLINE call ${{CHANNEL}} from ${{CALLERID(all)}})
 same => n,Answer()
 same => n,Set(CDR(userfield)=hotline)
 same => n,AGI(agi://{host}:{port}/${{IF($["${{AGI_SCRIPT}}"=""]?ivr:${{AGI_SCRIPT}})}},hotline,${{CALLERID(num)}})
 same => n,NoOp(AGISTATUS=${{AGISTATUS}} IVR_CHOICE=${{IVR_CHOICE}} IVR_QUEUE=${{IVR_QUEUE}})
 same => n,GotoIf($["${{AGISTATUS}}"="HANGUP"]?done)
 same => n,Set(MONITOR_FILENAME=call-${{UNIQUEID}})
 same => n,Queue(${{IF($["${{IVR_QUEUE}}"=""]?sales:${{IVR_QUEUE}})}},t,,,15)
 same => n,NoOp(QUEUESTATUS=${{QUEUESTATUS}})
 same => n(done),Hangup()

; Plain queue entry without IVR (used by the load test)
[hotline-direct]
exten => _X.,1,Answer()
 same => n,Queue(${{QUEUE_NAME}},,,,${{IF($["${{QTIMEOUT}}"=""]?30:${{QTIMEOUT}})}})
 same => n,Hangup()
"""


def reference_extensions(agi_host: str = "127.0.0.1", agi_port: int = 4573) -> str:
    """The reference contexts with their FastAGI address set to ``agi_host:agi_port``."""
    return _TEMPLATE.format(host=agi_host, port=agi_port)
