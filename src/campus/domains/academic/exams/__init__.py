"""Exam scheduling (考试安排): the term's exams placed in periods and rooms by the solver in
``engine/`` (pure, no database), with seat plans (座位表) and invigilators (监考) assigned."""
