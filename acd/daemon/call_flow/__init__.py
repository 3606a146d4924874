"""The call flow: each customer call's own task, and the only writer of that call.

``IvrRoute`` (``ivr_route``) takes the FastAGI ``ivr`` route: the IVR and its outcome;
``ResumeRoute`` (``resume_route``) takes ``resume``: a caller whose daemon died, queued again;
``CallFlow`` (``flow``) serves a customer leg from start to end: queue, wait, ring, talk, end;
``Conversation`` (``conversation``) rings the offered agent and follows the conversation. These
modules and the call-back leg's flow (``acd.daemon.callback_flow``) are the only code that adds
steps to a call (``tests/daemon/test_call_model.py`` checks it); everything else returns values
or sends the call signals.
"""

from acd.daemon.call_flow.flow import CallFlow
from acd.daemon.call_flow.ivr_route import IvrRoute
from acd.daemon.call_flow.resume_route import ResumeRoute

__all__ = ["CallFlow", "IvrRoute", "ResumeRoute"]
