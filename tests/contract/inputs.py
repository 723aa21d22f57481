"""Installer input both ends read: QR scans of remotes, parameter values, pairable products.

``tests/integration/test_contract.py`` runs every case through the portal's reading (which
answers the installer at once) and Home Assistant's (which decides): they must agree with
each other and with the expected reading here.
"""

from __future__ import annotations

from typing import Final

# A scan as the 2D reader typed it -> the remote's io address (None: unreadable).
SCANS: Final[list[tuple[str, str | None]]] = [
    ("E53F27", "E53F27"),
    ("e53f27", "E53F27"),
    ("00E53F27", "00E53F27"),
    ("E53F2", None),
    ("E53F27AB9", None),
    ("IO:E53F27", "E53F27"),
    # A separator is not a digit typed in another layout ("-" is AZERTY's 6 key).
    ("IO-E53F27", "E53F27"),
    ("IO=E53F27", "E53F27"),
    ("IO.E53F27", "E53F27"),
    ("IO/E53F27", "E53F27"),
    ("IOE53F27", "E53F27"),
    ("io:e53f27", "E53F27"),
    ("ADDR=E53F27", "E53F27"),
    ("ADDRESS:E53F27", "E53F27"),
    ("  IO:E53F27\r\n", "E53F27"),
    ("\tE53F27\n", "E53F27"),
    ("SOMFY;IO:E53F27;SN:12345678", "E53F27"),
    ("SOMFY IO:E53F27 SITUO", "E53F27"),
    ("SOMFY|IO:E53F27|SITUO", "E53F27"),
    ("12345678;IO:E53F27", "E53F27"),
    ("IO:E53F27,IO:E53F27", "E53F27"),
    ("https://somfy.example/r?sn=7&io=00E53F27", "00E53F27"),
    ("12345678;ABCDEF12", None),
    ("IO:E53F27;IO:E53F28", None),
    ("E53F 27", None),
    # Typed by a reader set to another layout than the PC's (reader-on-PC).
    ("IO.Q%#F@&", "A53F27"),  # AZERTY on QWERTY
    ("io.q%#f@&", "A53F27"),
    ("Q%#F@&", "A53F27"),
    ('IOMQ("Féè', "A53F27"),  # QWERTY on AZERTY
    ('Q&Bé"C', "A1B23C"),
    ("&é\"'(-", "123456"),
    ('IO:E("Féè', "E53F27"),
    ("IO>E53F27", "E53F27"),  # QWERTZ on QWERTY
    ("IOÖA53F27", "A53F27"),  # QWERTY on QWERTZ
    # Digits of one layout with the letters of another: no reader types that.
    ('A&Bé"C', None),
    ("", None),
    ("   \n", None),
    (";", None),
    ("IO:", None),
    ("hello", None),
    ("IO:Q53F2", None),
    ("E\u06653F27", None),  # an Arabic-Indic five
    ("\uff25\uff15\uff13\uff26\uff12\uff17", None),  # full-width E53F27
    ("E53F27" + " " * 494, "E53F27"),  # 500 characters
    ("E53F27" + " " * 495, None),  # longer than a reader types
    ("x" * 600, None),
]

# (parameter, what the installer typed, what a portal that checks nothing would send,
#  the value sent once checked, or None when refused).
PARAMETER_VALUES: Final[list[tuple[str, str, int | str, int | str | None]]] = [
    ("my_position", "50", 50, 50),
    ("my_position", " 50 ", 50, 50),
    ("my_position", "0", 0, 0),
    ("my_position", "100", 100, 100),
    ("my_position", "0050", 50, 50),
    ("my_position", "-0", 0, 0),
    ("my_position", "101", 101, None),
    ("my_position", "-1", -1, None),
    ("my_position", "9999999999", 9999999999, None),
    ("my_position", "+5", "+5", None),
    ("my_position", "5.0", "5.0", None),
    ("my_position", "5_0", "5_0", None),
    ("my_position", "\u0665\u0660", "\u0665\u0660", None),  # Arabic-Indic 50
    ("my_position", "\u00b2", "\u00b2", None),  # superscript two
    ("my_position", "", "", None),
    ("my_position", "half", "half", None),
    ("label", "Salon", "Salon", "Salon"),
    ("label", "  Salon  ", "  Salon  ", "Salon"),
    ("label", "Séjour \u0665 日本 🏠", "Séjour \u0665 日本 🏠", "Séjour \u0665 日本 🏠"),
    ("label", "a" * 64, "a" * 64, "a" * 64),
    ("label", " " + "a" * 64 + " ", " " + "a" * 64 + " ", "a" * 64),
    ("label", "a" * 65, "a" * 65, None),
    ("label", "", "", None),
    ("label", "   ", "   ", None),
    ("label", "a\tb", "a\tb", None),
    ("label", "Salon\n", "Salon\n", None),
    ("label", "a\x00b", "a\x00b", None),
    ("label", "a\x7fb", "a\x7fb", "a\x7fb"),
]

# Overkiz ui classes of io products: can a remote control be paired to them?
PAIRABLE: Final[list[tuple[str, bool]]] = [
    ("RollerShutter", True),
    ("ExteriorVenetianBlind", True),
    ("VenetianBlind", True),
    ("Awning", True),
    ("Curtain", True),
    ("ExteriorScreen", True),
    ("Screen", True),
    ("Pergola", True),
    ("Shutter", True),
    ("SwingingShutter", True),
    ("Window", True),
    ("GarageDoor", True),
    ("Gate", True),
    ("Light", True),
    ("OnOff", True),
    ("WindowHandle", False),
    ("DoorLock", False),
    ("Plug", False),
    ("ContactSensor", False),
    ("RemoteController", False),
    ("HeatingSystem", False),
    ("SmokeSensor", False),
    ("Pod", False),
]
