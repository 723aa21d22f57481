"""The corpus both ends of the Home Assistant <-> portal protocol are held to."""
