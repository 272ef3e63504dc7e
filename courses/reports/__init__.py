"""The education department's reports: dashboard, learners, transcripts, catalog, exports.

Every function takes the tenant explicitly and every query is scoped to it: a hospital's
staff never see another hospital's people. Counting is done in SQL (one pass per table
per question), never by loading attempts into Python.
"""
