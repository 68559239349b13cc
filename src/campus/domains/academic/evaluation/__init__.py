"""Teaching evaluation (评教): a form per term, students' anonymous answers for each section they
take, completion tracking, and results per section, teacher and college once the window closes."""
