"""Every side effect of a run, as Temporal activities.

`contracts` holds activity names and their input/output models and is safe to import from
workflow code; the other modules do I/O (browser, model, disk) and are only loaded by workers.
"""
