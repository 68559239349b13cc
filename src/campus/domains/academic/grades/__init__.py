"""Grades (成绩): a section's grade sheet (components, scale, marks), its workflow from the
teacher to the college and the registrar, the published course results, and GPA and ranks."""
