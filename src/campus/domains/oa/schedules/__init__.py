"""日程: personal events, meetings with invitations and answers, reminders, calendars."""
