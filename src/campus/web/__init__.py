"""业务前台 — the front: layouts, shared components, the portal and the mobile PWA."""
