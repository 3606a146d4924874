"""The composition root: builds the daemon's parts once and wires them (``acd.app.daemon``).

Layers run one way: ``acd.engine`` <- ``acd.daemon`` <- ``acd.http`` <- ``acd.app`` <- ``acd.cli``
(``tests/test_layering.py`` checks it).
"""
