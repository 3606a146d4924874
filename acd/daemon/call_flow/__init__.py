"""The call flow: each customer call's own task, and the only writer of that call.

``CallFlow`` (``flow``) takes the FastAGI ``ivr`` route: IVR, queue, wait, ring, talk, end;
``Conversation`` (``conversation``) rings the offered agent and follows the conversation. These
modules and the call-back leg's flow (``acd.daemon.callback_flow``) are the only code that adds
steps to a call (``tests/daemon/test_call_model.py`` checks it); everything else returns values
or sends the call signals.
"""

from acd.daemon.call_flow.flow import CallFlow

__all__ = ["CallFlow"]
