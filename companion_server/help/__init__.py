"""Self-service help: articles kept as files, in every language the portal speaks."""
