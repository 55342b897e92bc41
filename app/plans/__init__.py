"""Plans: allocations of the system-wide bank, solved away from the request.

A plan's row is the single source of truth for its state. Its life::

                 submit (API, sweep, page)
                          |
                          v
    +--------+  claim   +---------+  store the result   +----------+
    | queued | -------> | running | ------------------> | finished |
    +--------+          +---------+                     +----------+
        |                 |   ^  |
        |                 |   |  | take over a dead runner's claim
        |                 |   +--+ (attempts + 1)
        |                 |
        |  fail_plan      |  fail_plan
        v                 v
    +-----------------------+
    |        failed         |
    +-----------------------+

Who may move it (``app.plans.worker`` holds every one of these writes):

- **queued -> running**: whichever worker claims it first, in one conditional UPDATE
  (``WHERE state = 'queued'``); the claim records the worker as the plan's ``runner``
  (``host:pid``), sets ``started_at`` and ``heartbeat_at`` and counts an attempt.
- **running -> running** (a takeover): a worker handed the plan again (a Celery task
  redelivered after its worker died) may take the claim of a dead runner: a
  process of this host that no longer exists, or one whose ``heartbeat_at`` is older than
  ``plan_claim_stale_s``. The takeover is a compare-and-set on the old runner and its
  attempt count, so of several redeliveries only one wins. A live runner's claim is left
  alone ("held"); the task looks again after ``plan_claim_stale_s``.
- **running -> finished**: the runner alone, and only while its claim is still its own;
  a runner that was taken over (it looked dead) stores nothing.
- **-> failed** (``fail_plan``, from queued or running, never from finished): the runner
  when its solve raises; a worker finding the plan's ``plan_max_attempts``-th runner
  dead; the API for plans it could not hand to any worker; the embedded engine for a
  plan whose worker process died, for the plan being solved when the API stops, and at
  start-up for plans left running by dead processes of its host (a process that has
  ended but not been reaped counts as dead).
- A queued plan that nothing was ever handed (the broker refused it) is deleted, not
  failed: the request answered 503 and nothing was accepted.

The rules read the same settings in both engines: ``plan_heartbeat_s`` (how often a
runner touches ``heartbeat_at``), ``plan_claim_stale_s`` and ``plan_max_attempts``.

Names: the **engine** is what the API hands plans to (``app.plans.engines``: the embedded
process pool, or Celery workers in ``app.plans.queue``); a **worker** is a process that
solves plans (``app.plans.worker.run_plan``); a plan's **runner** is the worker holding
its claim. The engine's unit of work is a **chain** of plans (``run_chain``: a sweep's
neighbouring points, or one plan alone), each plan of which is claimed, solved and stored
by these rules in turn (docs/plans.md). ``app.plans.submission`` is the one way a plan
is submitted.
"""
