"""The model side: the Messages API client, tool schemas, prompts and decisions.

Nothing here knows about Temporal or the browser; it takes text in and gives validated answers.
"""
