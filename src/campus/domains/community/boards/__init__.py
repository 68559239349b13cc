"""Boards (板块): configured by administrators, listed for everyone."""
