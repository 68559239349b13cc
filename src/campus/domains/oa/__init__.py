"""协同办公 — the collaborative office: notices to audiences with read receipts, personal
schedules and meetings with invitations and reminders, and document issuance (发文: drafting,
approval through the workflow engine, numbering, sealing, distribution to 收文 inboxes)."""
