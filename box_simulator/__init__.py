"""A Somfy box (TaHoma / Connexoon) simulator speaking the Overkiz local API."""
