"""The feature packages wired into the daemon: the one place the ``acd`` CLI names ``ivr``.

The kernel defines what it needs (``acd.daemon.ivr_port``); the feature packages implement it;
this composition function connects the two for ``hotline run`` and ``hotline demo``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from acd.daemon.ivr_port import Features
from acd.settings.settings import Settings


def hotline_features(settings: Settings, clock: Callable[[], float] = time.time) -> Features:
    from ivr.identify import TableCustomerLookup  # noqa: PLC0415 - the feature boundary
    from ivr.order_status import TableOrderStatusSource  # noqa: PLC0415
    from ivr.runner import MenuRunner  # noqa: PLC0415

    return Features(
        ivr=lambda sessions: MenuRunner.from_settings(
            settings, orders=TableOrderStatusSource(sessions), clock=clock
        ),
        callers=TableCustomerLookup,
    )
