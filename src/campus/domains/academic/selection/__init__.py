"""Course selection (选课): rounds (预选 with a lottery, 正选, 补退选), the rules every selection
is checked against, seats taken atomically in the cache and recorded in the database, waitlists
and overrides."""
