"""The page layouts every module's templates extend (Tabler, responsive, Chinese by default)."""
