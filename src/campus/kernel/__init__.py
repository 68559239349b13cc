"""The kernel: configuration, database, outbox and event bus, cache, errors, i18n, logging,
metrics and the module manifest type. It knows no business rules."""
