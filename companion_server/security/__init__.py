"""Security building blocks: passwords, tokens, sessions, CSRF, rate limits, audit, headers."""
