"""Shared test configuration.

The integration is imported here, before Home Assistant's pytest plugin puts its own
``custom_components`` package first on the path; runs without Home Assistant skip it.
"""

try:
    import custom_components.somfy_pro  # noqa: F401
except ImportError:  # pragma: no cover - test runs without Home Assistant installed
    pass
