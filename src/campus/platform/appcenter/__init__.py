"""统一应用中心 — the app center: one catalog of the applications a person may open (Campus
modules from their manifests, external systems signing in through Campus, third-party links),
with visibility by role and org unit, favourites and usage counts; it feeds the portal's home."""
