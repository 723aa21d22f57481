"""Tickets: created by customers or the manufacturer's support, tracked by the companies."""
