"""The API catalog (API目录): the OpenAPI documents of every registered service, aggregated,
versioned and searchable."""
