"""The shipped ``[hotline]`` and ``[hotline-fallback]`` as the dev Asterisk ran them when the
captures were recorded (dialplan/extensions.conf before issue 12: straight to the fallback when
the daemon did not take the call). Tests that compare the simulator step by step with those
captures run this text; the shipped one now first tries to resume the caller at a daemon
(``[hotline-resume]``) and sets QUEUE_PRIO in the fallback."""

from __future__ import annotations

RECORDED_HOTLINE = """[hotline]
exten => s,1,NoOp(hotline call ${CHANNEL} from ${CALLERID(all)})
 same => n,Answer()
 same => n,Set(HOTLINE_CALL_ID=${UNIQUEID})
 same => n,AGI(agi://127.0.0.1:4573/ivr?key=${HOTLINE_AGI_KEY},${HOTLINE_CALL_ID},${CALLERID(num)})
 same => n,GotoIf($["${AGISTATUS}"="HANGUP"]?done)
 same => n,GotoIf($["${HOTLINE_HANDLED}"!="1"]?hotline-fallback,s,1)
 same => n(done),Hangup()
exten => _X.,1,Goto(s,1)
"""

RECORDED_FALLBACK_S = (
    "exten => s,1,NoOp(hotline fallback: AGISTATUS=${AGISTATUS} HOTLINE_QUEUE=${HOTLINE_QUEUE})\n"
    + """ same => n,Set(HOTLINE_QUEUE=${IF($["${HOTLINE_QUEUE}"=""]?enquiries:${HOTLINE_QUEUE})})
 same => n,GotoIf(${DIALPLAN_EXISTS(hotline-fallback,${HOTLINE_QUEUE},1)}?${HOTLINE_QUEUE},1)
 same => n,Goto(enquiries,1)
"""
)


def as_recorded(text: str) -> str:
    """``text`` (a render of extensions.conf) with the two contexts as recorded."""
    start = text.index("[hotline]\n")
    end = text.index("\n[", start + 1) + 1
    text = text[:start] + RECORDED_HOTLINE + text[end:]
    start = text.index("exten => s,1,NoOp(hotline fallback:")
    end = text.index(" same => n,Goto(enquiries,1)\n", start) + len(
        " same => n,Goto(enquiries,1)\n"
    )
    return text[:start] + RECORDED_FALLBACK_S + text[end:]
