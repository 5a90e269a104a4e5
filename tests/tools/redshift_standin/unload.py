"""UNLOAD ('SELECT ...') TO 's3://...' ... : not implemented yet.

When it is, the session hands it a Plan (the statement's tokens and text) as it does for COPY
(see Session._run_copy): parse the options here, run the query on the client's connection, write
the files (Parquet, Hive-style PARTITION BY folders, the manifest) with session.s3 and answer as
Redshift does. Until then every UNLOAD is refused, clearly, and the client's transaction is
aborted as a failed statement aborts it.
"""

from copyload import CopyFailure, NOT_IMPLEMENTED


def run_unload(plan, session):
    """Runs the UNLOAD of `plan` for `session`; returns the CommandComplete tag."""
    raise CopyFailure("UNLOAD is not implemented by the stand-in", NOT_IMPLEMENTED)
