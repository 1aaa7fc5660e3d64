"""PublishedWorkflowEntity: one published workflow (`wpid_...`) and its revisions, in Temporal.

A long-lived workflow whose id is the published workflow's id: every client and worker of the
namespace reaches it, with no store of its own. It answers the `get` query with everything it
holds and takes new revisions by the `add_revision` signal (reruns that healed a step send it:
a workflow cannot send updates) or update (clients, which want to know it was taken). It waits
forever; when its history grows long it continues as new with its revisions as input.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from wayfinder.workflows.published_state import (
        ADD_REVISION,
        GET,
        MEMO,
        WORKFLOW_TYPE,
        ListingMemo,
        PublishedState,
        StoredRevision,
    )


@workflow.defn(name=WORKFLOW_TYPE)
class PublishedWorkflowEntity:
    @workflow.init
    def __init__(self, state: PublishedState) -> None:
        self._state = state

    @workflow.query(name=GET)
    def get(self) -> PublishedState:
        return self._state

    @workflow.signal(name=ADD_REVISION)
    def add_revision_signal(self, revision: StoredRevision) -> None:
        self._add(revision)

    @workflow.update(name=f"{ADD_REVISION}_update")
    def add_revision(self, revision: StoredRevision) -> str:
        self._add(revision)
        return revision.revision_id

    def _add(self, revision: StoredRevision) -> None:
        # A retried sender (a rerun replayed after a crash) must not add its repair twice.
        if all(r.revision_id != revision.revision_id for r in self._state.revisions):
            self._state.revisions.append(revision)

    @workflow.run
    async def run(self, state: PublishedState) -> None:
        await workflow.wait_condition(lambda: workflow.info().is_continue_as_new_suggested())
        await workflow.wait_condition(workflow.all_handlers_finished)
        script = self._state.current.script
        listing = ListingMemo(title=self._state.title, prompt=script.prompt, url=script.url)
        workflow.continue_as_new(self._state, memo={MEMO: listing})
