"""支撑后台 — the back-office business systems (academic affairs, student affairs, dormitories,
e-card, fees, OA…), each a module built on the service middle platform."""
