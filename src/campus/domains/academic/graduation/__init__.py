"""Graduation audit (毕业审核): each student's published results held against their
programme (credits per course group, required courses, the total), a report of what is missing
for one student, and audit runs over a cohort with progress, whose results feed batch
graduation in student status."""
