"""Somfy Pro installer portal (companion server).

An aiohttp application: installer companies, their administrators and installers, secure
accounts, the installations they look after, mail and (later) the Home Assistant hub.
Start it with ``python -m companion_server serve``; build it with
:func:`companion_server.app.create_app`.
"""

__version__ = "0.1.0"
