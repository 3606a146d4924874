"""The PBX simulator: a pure call model (``acd.sim.pbx.Pbx``) plus an asyncio runtime around it.

Pure core (no sockets, no clock): ``pbx`` (facade), ``plan`` (configuration), ``outputs``
(what the runtime must do), ``world`` (channels and their life cycle), the dialplan interpreter
that runs the loaded extensions.conf (``dialplan_conf``, ``dialplan_pattern``, ``dialplan_expr``,
``dialplan_funcs``, ``dialplan_run``, ``dialplan_apps``; ``reference_dialplan`` for a bare plan),
``dialplan`` (where a channel goes, the phones and test contexts modelled in Python, Redirect),
``originate``, ``agi_*`` (FastAGI sessions and commands), ``app_dial`` and ``dial_app`` (Dial and
its legs), ``queue_*`` (app_queue, ``queue_log``), ``cdr``, ``devices``, ``dtmf``, ``mixmonitor``,
``chanspy``, ``lists`` (AMI list items), ``events`` (AMI event builders), ``channels``, ``timers``
and ``wav`` (synthetic recordings). docs/simulator.md says where each behaviour comes from.
"""
