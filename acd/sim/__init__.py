"""The PBX simulator: a pure call model (``acd.sim.pbx.Pbx``) plus an asyncio runtime around it.

Pure core (no sockets, no clock): ``pbx`` (facade), ``plan`` (configuration), ``outputs``
(what the runtime must do), ``world`` (channels and their life cycle), ``dialplan`` (the
``[hotline]`` context and friends), ``originate``, ``agi_*`` (FastAGI sessions and commands),
``dial_app``, ``queue_*`` (app_queue), ``mixmonitor``, ``chanspy``, ``lists`` (AMI list items),
``events`` (AMI event builders), ``channels``, ``timers`` and ``wav`` (synthetic recordings).
"""
