# nbgrader configuration for a course made from the coursekit notebooks.
#
# `python tools/make_nbgrader.py COURSE` copies this file to COURSE/nbgrader_config.py (once:
# an existing one is never overwritten) and writes the source notebooks into COURSE/source/.
# Run every nbgrader command in COURSE, with the environment that has coursekit and nbgrader
# on PATH (nbgrader runs `alembic` for its database). See docs/teaching.md, *Grading with nbgrader*.
c = get_config()  # noqa: F821  (nbgrader provides get_config)

c.CourseDirectory.course_id = "coursekit"
# The course directory is the folder nbgrader runs in: source/, release/, submitted/, autograded/, feedback/.
# The gradebook: a SQLite file here. On JupyterHub with several graders, a shared database URL.
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# What replaces a solution in the learner's copy. The exercise's task is in the comment lines
# right above it (tools/make_nbgrader.py writes them from coursekit.exercises).
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("write your solution here (the task is in the comment above), '
              'then run the check cell below")',
}

# Autograding runs every cell of a submission. A course notebook takes under a minute in all;
# a cell that runs longer than this (a learner's loop that never ends, outside any function)
# is interrupted and the notebook goes on. Inside an exercise's function, coursekit's check
# stops a loop after 5 s a case, so such a loop costs that exercise only.
c.Execute.timeout = 120
# A fresh kernel per submission; no retry of a submission that fails.
c.Execute.execute_retries = 0

# JupyterHub: the exchange folder that release_assignment / fetch / submit / collect use.
# c.Exchange.root = "/srv/nbgrader/exchange"
