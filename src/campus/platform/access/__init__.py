"""统一权限中心 — the permission center: permission codes declared by modules, roles as sets of
codes, grants of roles to people or posts scoped to org units, decisions from a cached index,
data scopes compiled into SQL, and the pages that explain who can do what, where."""
