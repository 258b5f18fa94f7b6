"""xAPI 1.0.3 statements of study sessions and reflections: the vocabulary and the builders.

Pure functions of plain rows (no queries): `learners.selectors.xapi` reads the rows with the
reader's permissions, `learners.services.xapi` streams downloads and sends to a learning record
store.
"""
