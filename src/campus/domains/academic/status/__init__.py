"""Student status (学籍) and its changes (学籍异动): one record per student, every change approved
through the workflow engine and kept in the record's history."""
