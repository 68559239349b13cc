"""统一权限中心 — the permission center: permission codes declared by modules, roles as sets of
codes, grants of roles to people, and the checks every route declares."""
