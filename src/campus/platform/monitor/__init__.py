"""运行监控 — the monitoring center: the event bus's dead letters (list, inspect, replay) and the
audit log of every change, for administrators."""
