"""门户 — the portal: the home page with the enabled modules, and later the service hall,
search, news, calendar and profile."""
