"""The timetabling solver: a pure library with no database, working on ``problem.Problem``.

CP-SAT finds a feasible timetable, local search improves it; ``itc2007`` reads and writes the
ITC-2007 curriculum-based formats, ``scoring`` is an independent scorer of the UD2 rules."""
