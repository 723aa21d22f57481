"""Shared test configuration.

The integration is imported here, before Home Assistant's pytest plugin puts its own
``custom_components`` package first on the path; runs without Home Assistant skip it.
"""

import contextlib

with contextlib.suppress(ImportError):  # test runs without Home Assistant installed
    import custom_components.somfy_pro  # noqa: F401
