"""服务中台 — the service middle platform every business system reuses."""
