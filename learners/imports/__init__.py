"""Reading other tools' files into study sessions: Anki collections and Metacoach's own sessions CSV.

The readers here only read: each turns a file into `ImportRow`s, or raises `ImportProblem` with a
message for the learner. `learners.services.imports` runs them in the worker and saves the rows.
"""
