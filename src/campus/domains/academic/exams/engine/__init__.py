"""The exam timetabling solver: a pure library with no database, working on
``problem.ExamProblem``.

``itc2007`` reads and writes the ITC-2007 examination-track formats, ``scoring`` is an independent
scorer of its rules, ``solve`` finds a feasible timetable and improves it, ``moves`` checks a
move of one exam by hand, ``seating`` makes seat plans and ``invigilators`` assigns invigilators
(and repairs their duties after a change)."""
