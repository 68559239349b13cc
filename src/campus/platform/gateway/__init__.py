"""统一API中心 (API center): the gateway at ``/gw/<service>/<path>`` in front of the services of
the registry, its services, routes, consumers and their credentials, rate limits and request
statistics, and the export of the same configuration for Kong."""
