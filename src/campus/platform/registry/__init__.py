"""统一服务中心 — the service registry: instances register with a credential and renew a lease by
heartbeat; discovery returns the healthy, unexpired instances of a service, and watchers follow
changes by long-poll or SSE. Every Campus process registers the modules it serves."""
