"""Academic affairs (教务): the academic calendar, classrooms, the course catalogue, training
programmes and teaching plans, course offering, student status (学籍), timetabling (排课) and
exam scheduling (考试安排)."""
