"""Custom forms of the workflow module: a designer's list of fields compiled to a JSON Schema (the
data's shape and rules) plus a UI schema (how it is shown), versioned and immutable once
published; the renderer, the server-side cleaning of submissions, prefill from the applicant's
record and the designer's pages and API."""
