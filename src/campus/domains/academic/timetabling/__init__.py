"""Timetabling (排课): the term's lectures placed in rooms and time slots, by the solver in
``engine/`` (pure, no database) run as a background job, adjusted by hand and published."""
