"""统一用户中心 — the unified user center: people, their identities, org units, administrative
classes and positions. The master data every other module refers to by id."""
