"""The authentication center defines no permission codes yet: signing in is open to everyone."""

from campus.kernel.manifest import Permission

PERMISSIONS: tuple[Permission, ...] = ()
