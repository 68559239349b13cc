"""Moderation shared by the messaging center, its chats and the campus community: the
sensitive-word filter (words kept by administrators, matched with an Aho-Corasick automaton),
the report queue every module reports into, and personal blocks. Public face: ``service.py``,
re-exported by the messaging module's ``service.py``."""
