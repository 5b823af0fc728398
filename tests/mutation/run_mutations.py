"""Curated mutation run over the verdicts, the cancel run, the panic and the listing (issue 13).

mutmut (``mutmut run``, configured in pyproject.toml) mutates operators and constants inside
functions. It does not touch module-level tables, and it does not delete statements or force a
condition, which is how the failures that matter most look: a code dropped from a table of
``_classify.py``, ``account_empty`` forced true, a listing that stops after its first page, a
symbol cancel never followed by a cancel by id, a scope check dropped. This script applies such
mutants one at a time to a copy of the package, runs the unit tests (``-x``, with a timeout) and
says which were killed.

    python tests/mutation/run_mutations.py            # every mutant
    python tests/mutation/run_mutations.py --list     # their names
    python tests/mutation/run_mutations.py 'panic.*'  # those whose name matches (fnmatch)

Each mutant is an exact piece of source and its replacement; a piece that is not found exactly
once is reported as ``stale`` (the code changed: update the mutant), never silently skipped.
Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "bitget_cancel"
TESTS = ("tests/unit",)
TIMEOUT = 180.0  # seconds for one mutant's test run; the whole unit directory takes ~15 s


@dataclass(frozen=True)
class Mutant:
    name: str
    module: str  # file under bitget_cancel/
    old: str
    new: str
    why: str  # the behaviour it breaks
    more: tuple[tuple[str, str], ...] = ()  # further (old, new) pairs, all applied together

    def apply(self, source: str) -> str | None:
        """The mutated source, or None if a piece is not found exactly once."""
        for old, new in ((self.old, self.new), *self.more):
            if source.count(old) != 1:
                return None
            source = source.replace(old, new)
        return source


def _m(name: str, module: str, old: str, new: str, why: str) -> Mutant:
    return Mutant(name, module, old, new, why)


CURATED: list[Mutant] = [
    # -- the panic's all-clear ------------------------------------------------------------------
    _m(
        "panic.account_empty_forced_true",
        "_panic.py",
        "account_empty=self._account_empty and not problems,",
        "account_empty=True,",
        "the report says the account is empty whatever happened",
    ),
    _m(
        "panic.unattributed_rows_ignored",
        "_panic.py",
        "                if panic.unattributed(kind, row):\n",
        "                if False:\n",
        "a clientOid-prefix panic calls its scope empty while orders without a clientOid are open",
    ),
    _m(
        "panic.account_empty_set_true_on_finish",
        "_panic.py",
        "self._account_empty = all(self._confirmed.get(k, False) for k in self._kinds)",
        "self._account_empty = True",
        "a finished panic counts as empty without every kind confirmed",
    ),
    _m(
        "panic.confirmed_ignores_open_rows",
        "_panic.py",
        "self._confirmed[kind] = listing.complete and listing.open_in_scope == 0",
        "self._confirmed[kind] = listing.complete",
        "a complete listing that showed open orders confirms the kind empty",
    ),
    _m(
        "panic.finish_ignores_open_left",
        "_panic.py",
        "if all_complete and not open_left and not unconfirmed_bulk and not explicit_open:",
        "if all_complete and not unconfirmed_bulk and not explicit_open:",
        "finishes while the listing still shows open orders",
    ),
    _m(
        "panic.finish_ignores_unconfirmed_bulk",
        "_panic.py",
        "if all_complete and not open_left and not unconfirmed_bulk and not explicit_open:",
        "if all_complete and not open_left and not explicit_open:",
        "finishes before a listing confirmed the bulk cancel",
    ),
    _m(
        "panic.finish_ignores_explicit_targets",
        "_panic.py",
        "if all_complete and not open_left and not unconfirmed_bulk and not explicit_open:",
        "if all_complete and not open_left and not unconfirmed_bulk:",
        "finishes with the caller's own targets unanswered",
    ),
    _m(
        "panic.finish_ignores_incomplete_listing",
        "_panic.py",
        "if all_complete and not open_left and not unconfirmed_bulk and not explicit_open:",
        "if not open_left and not unconfirmed_bulk and not explicit_open:",
        "an incomplete listing finishes the panic as done",
    ),
    _m(
        "panic.stuck_listing_finishes",
        "_panic.py",
        "if not stuck and not open_left and not unconfirmed_bulk and not explicit_open:",
        "if not open_left and not unconfirmed_bulk and not explicit_open:",
        "a listing that may work next time is given up at once",
    ),
    _m(
        "panic.nothing_listed_not_reported",
        "_panic.py",
        "if not self._listed_any and not listed_now:",
        "if False:",
        "a panic that cannot list anything does not stop and say so",
    ),
    _m(
        "panic.max_passes_ignored",
        "_panic.py",
        "if self._scope.over or self._passes - self._settle_waits >= MAX_PASSES:",
        "if self._scope.over:",
        "passes are unbounded",
    ),
    _m(
        "panic.deadline_problem_dropped",
        "_panic.py",
        "elif expired and not self._account_empty:",
        "elif False:",
        "a panic that hit its deadline does not say so",
    ),
    _m(
        "panic.unconfirmed_kind_problem_dropped",
        "_panic.py",
        "if not self._confirmed.get(kind) and kind not in problems and None not in problems:",
        "if False:",
        "a kind no listing confirmed is not named as a problem",
    ),
    # -- joining: the scope check ---------------------------------------------------------------
    _m(
        "panic.scope_check_dropped",
        "_panic.py",
        "if not self._in_scope(listed.symbol):\n                return None",
        "if False:\n                return None",
        "orders of other symbols are cancelled by a one-symbol panic",
    ),
    _m(
        "panic.in_scope_always_true",
        "_panic.py",
        "return self._symbols is None or symbol in self._symbols",
        "return True",
        "every symbol is in scope",
    ),
    _m(
        "panic.bulk_scope_check_dropped",
        "_panic.py",
        "            and self.panic._in_scope(entry.target.symbol)\n",
        "",
        "a bulk cancel fires for an order outside the scope",
    ),
    _m(
        "panic.join_never_widens",
        "_panic.py",
        "wider = self._symbols is not None and (symbols is None or not symbols <= self._symbols)",
        "wider = False",
        "a joined whole-account panic finishes with only the narrower scope listed",
    ),
    _m(
        "panic.widened_not_relisted",
        "_panic.py",
        "if self._widened:\n            return False",
        "if False:\n            return False",
        "a widened scope is not listed before finishing",
    ),
    _m(
        "panic.join_new_kinds_dropped",
        "_panic.py",
        "if new_kinds:\n            self._kinds += tuple(new_kinds)",
        "if False:\n            self._kinds += tuple(new_kinds)",
        "a joined call's extra kinds are never listed",
    ),
    # -- bulk cancels and the by-id fallback ----------------------------------------------------
    _m(
        "panic.no_by_id_after_settle_on_page",
        "_panic.py",
        "if now - entry.bulk_at < BULK_SETTLE:",
        "if True:",
        "an order a symbol cancel did not take is never cancelled by id",
    ),
    _m(
        "panic.no_by_id_after_settle",
        "_panic.py",
        "elif now - accepted >= BULK_SETTLE:",
        "elif False:",
        "after the settle time the bulk-covered orders do not go by id",
    ),
    _m(
        "panic.no_by_id_when_listing_incomplete",
        "_panic.py",
        "and now - accepted >= BULK_SETTLE\n",
        "and False\n",
        "without a complete listing, bulk-covered orders never go by id",
    ),
    Mutant(
        "panic.no_by_id_fallback_at_all",
        "_panic.py",
        "if now - entry.bulk_at < BULK_SETTLE:",
        "if True:",
        "orders a symbol cancel did not take are never cancelled by id (every path)",
        (
            ("elif now - accepted >= BULK_SETTLE:", "elif False:"),
            ("and now - accepted >= BULK_SETTLE\n", "and False\n"),
            ("        self._by_id(pairs)\n", "        pass\n"),
        ),
    ),
    _m(
        "panic.by_id_only_not_fed",
        "_panic.py",
        "if (e.explicit or e.by_id_only) and e.needs_cancel",
        "if e.explicit and e.needs_cancel",
        "orders moved to by-id are not fed to the next pass",
    ),
    _m(
        "panic.refused_bulk_no_fallback",
        "_panic.py",
        "        self._by_id(pairs)\n",
        "        pass\n",
        "orders of a refused bulk cancel are never cancelled by id",
    ),
    _m(
        "panic.bulk_confirmed_by_older_listing",
        "_panic.py",
        "if accepted is None or entry.outcome is not None or accepted >= listing_started:",
        "if accepted is None or entry.outcome is not None:",
        "a listing begun before the bulk cancel confirms it",
    ),
    _m(
        "panic.bulk_confirmed_while_listed",
        "_panic.py",
        "if id(entry) not in still_open:\n                    entry.outcome",
        "if True:\n                    entry.outcome",
        "an order still listed is reported cancelled by the bulk cancel",
    ),
    _m(
        "panic.unresolved_not_open_while_listed",
        "_panic.py",
        "                    and id(entry) not in still_open\n",
        "",
        "an order still listed is called not open",
    ),
    _m(
        "panic.harvest_overrides_bulk",
        "_panic.py",
        "if outcome is None or entry.bulk_at is not None:",
        "if outcome is None:",
        "a by-id answer overrides the wait for a bulk cancel's confirmation",
    ),
    _m(
        "panic.duplicate_rows_counted",
        "_panic.py",
        "if id(entry) in self._seen_ids:\n                continue",
        "if False:\n                continue",
        "duplicate listing rows count twice (threshold, totals)",
    ),
    _m(
        "panic.listed_again_not_reopened",
        "_panic.py",
        "if entry.outcome is not None and entry.outcome.status is not CancelStatus.FAILED:",
        "if False:",
        "an order listed again after a final outcome is not worked on again",
    ),
    _m(
        "panic.caller_ids_beat_listing",
        "_panic.py",
        "target = entry.target if entry.target.order_id == row.order_id else listed",
        "target = entry.target",
        "the panic keeps sending the caller's stale orderId",
    ),
    _m(
        "panic.failed_asked_again",
        "_panic.py",
        "if entry.failed:\n                continue",
        "if False:\n                continue",
        "an order refused for good is asked again every pass",
    ),
    _m(
        "panic.cancellation_not_harvested",
        "_panic.py",
        "                self._harvest()\n                log.warning(",
        "                log.warning(",
        "answers of a pass cut short by cancellation are lost",
    ),
    # -- the listing ---------------------------------------------------------------------------
    _m(
        "listing.first_page_only",
        "_listing.py",
        "if page.cursor is None:\n                    return listing",
        "if True:\n                    return listing",
        "only the first page of a listing is read",
    ),
    _m(
        "listing.repeated_cursor_accepted",
        "_listing.py",
        "page.cursor in cursors_seen\n                    or ",
        "",
        "a cursor that cycles is followed until the page limit",
    ),
    _m(
        "listing.cursor_not_advancing_accepted",
        "_listing.py",
        "                    or not lister.advances(cursor, page.cursor)\n",
        "",
        "a cursor that does not move on is followed",
    ),
    _m(
        "listing.page_limit_dropped",
        "_listing.py",
        "                    or pages >= MAX_PAGES\n",
        "",
        "an endless listing is never given up",
    ),
    _m(
        "listing.unexpected_shape_read_as_empty",
        "_listing.py",
        'verdict, problem = Verdict.RETRY, "an answer of an unexpected shape"',
        "return listing",
        'a success answer with no usable data ("data": null) reads as no open orders',
    ),
    _m(
        "listing.no_answer_read_as_empty",
        "_listing.py",
        'verdict, problem, code = Verdict.RETRY, f"no answer: {exc}", None',
        "return listing",
        "a listing without an answer reads as complete",
    ),
    _m(
        "listing.stopped_read_as_complete",
        "_listing.py",
        'return Listing(False, f"listing stopped: {exc.reason}", True, listing.open_in_scope)',
        "return listing",
        "a listing stopped halfway reads as complete",
    ),
    _m(
        "listing.gave_up_read_as_complete",
        "_listing.py",
        'return Listing(False, f"listing failed {failures} times; last: {problem}", False)',
        "return listing",
        "a listing that kept failing reads as complete",
    ),
    _m(
        "listing.credentials_retried",
        "_listing.py",
        "if verdict is Verdict.CREDENTIALS:",
        "if False:",
        "refused credentials on a listing are retried instead of stopping",
    ),
    _m(
        "listing.refusal_retried",
        "_listing.py",
        "if verdict in (Verdict.FAIL, Verdict.SPLIT, Verdict.NOT_OPEN, Verdict.WRONG_ACCOUNT):",
        "if False:",
        "a refused listing is retried as if transient",
    ),
    _m(
        "listing.failures_not_reset",
        "_listing.py",
        "failures = 0\n                pages += 1",
        "pages += 1",
        "failures on earlier pages count against later ones",
    ),
    _m(
        "listing.deadline_not_checked",
        "_listing.py",
        'if scope.over:\n            return Listing(False, "listing stopped at the deadline"',
        'if False:\n            return Listing(False, "listing stopped at the deadline"',
        "a failing listing keeps retrying past the deadline",
    ),
    _m(
        "listing.open_rows_not_counted",
        "_listing.py",
        "listing.open_in_scope += on_page(page.rows)",
        "on_page(page.rows)",
        "a listing's open orders are not counted (the kind is confirmed empty)",
    ),
    _m(
        "listing.open_orders_scope_dropped",
        "_listing.py",
        "if symbols is None or target.symbol in symbols:",
        "if True:",
        "open_orders() returns orders of symbols not asked for",
    ),
    _m(
        "listing.open_orders_complete_despite_problems",
        "_listing.py",
        "complete=not problems,",
        "complete=True,",
        "open_orders() says complete although a listing failed",
    ),
    # -- the cancel run ------------------------------------------------------------------------
    _m(
        "run.slot_not_released",
        "_run.py",
        "slot.release()  # a task cancelled",
        "pass  # a task cancelled",
        "a budget slot is never released when its request ends",
    ),
    _m(
        "run.slot_not_given_back_on_route_change",
        "_run.py",
        "slot.give_back()  # the account type",
        "pass  # the account type",
        "a slot taken for the wrong API family is never given back",
    ),
    _m(
        "run.slot_not_given_back_when_nothing_due",
        "_run.py",
        "            if not lane.ready:\n                slot.give_back()",
        "            if not lane.ready:\n                pass",
        "a slot with nothing to send is never given back",
    ),
    _m(
        "run.no_client_oid_fallback",
        "_run.py",
        "if askable and order.order_id is not None and order.client_oid is not None:",
        "if False:",
        "a stale orderId hides a live order that its clientOid names",
    ),
    _m(
        "run.client_oid_fallback_repeats",
        "_run.py",
        "if not order.retried_by_client_oid and by_client_oid not in self._orders:",
        "if by_client_oid not in self._orders:",
        "the clientOid question is asked although clientOids disagree",
    ),
    _m(
        "run.shared_order_id_not_marked",
        "_run.py",
        "known.retried_by_client_oid = True\n                known.by_client_oid_too = False",
        "pass",
        "targets sharing an orderId but not a clientOid are asked by one of the clientOids",
    ),
    _m(
        "run.item_credentials_do_not_stop",
        "_run.py",
        'self._scope.refuse(code or "", msg or "credentials refused")',
        "pass",
        "a credentials refusal inside an answer does not stop the call",
    ),
    _m(
        "run.split_fails_the_batch",
        "_run.py",
        "elif verdict is Verdict.SPLIT:",
        "elif False:",
        "one bad order fails its whole batch",
    ),
    _m(
        "run.silent_orders_forgotten",
        "_run.py",
        "        if matched.again:\n",
        "        if False:\n",
        "orders an answer did not mention are not asked again",
    ),
    _m(
        "run.silent_orders_cancelled",
        "_run.py",
        "self._retry(matched.again, None, why)",
        "[self._finish(o, CancelStatus.CANCELLED, None, None) for o in matched.again]",
        "orders an answer did not mention are reported cancelled",
    ),
    _m(
        "run.unexpected_shape_cancelled",
        "_run.py",
        'verdict, msg = Verdict.RETRY, "an answer of an unexpected shape"',
        "[self._finish(o, CancelStatus.CANCELLED, None, None) for o in orders]\n            return",
        "a success answer of an unexpected shape is read as every order cancelled",
    ),
    _m(
        "run.ambiguous_client_oid_matched",
        "_answers.py",
        "by_client_oid[oid] = None if oid in by_client_oid else member",
        "by_client_oid[oid] = member",
        "an item matched by a clientOid two orders share decides one of them",
    ),
    _m(
        "run.duplicate_item_decides_twice",
        "_answers.py",
        "said.setdefault(order, refusal)",
        "said[order] = refusal",
        "a second answer item for an order overrides the first",
    ),
    _m(
        "run.unsent_order_id_matched_by_client_oid",
        "_answers.py",
        "if order_id is not None and by_order_id:",
        "if False:",
        "an item naming an orderId that was not sent decides an order by its clientOid",
    ),
    _m(
        "run.transient_item_fails",
        "_run.py",
        "elif verdict in (Verdict.RETRY, Verdict.THROTTLED, Verdict.RESYNC_CLOCK):",
        "elif verdict is Verdict.RETRY:",
        "a throttled or clock item fails its order",
    ),
    _m(
        "run.refusal_fails_in_flight_orders",
        "_run.py",
        "if refusal is not None and order.place != _IN_FLIGHT:",
        "if refusal is not None:",
        "an order whose cancel may have happened is reported failed, not unresolved",
    ),
    _m(
        "run.unresolved_reported_not_open",
        "_run.py",
        "order.status = CancelStatus.UNRESOLVED",
        "order.status = CancelStatus.NOT_OPEN",
        "orders left at the deadline are reported not open",
    ),
    _m(
        "run.in_flight_reason_dropped",
        "_run.py",
        "if order.place == _IN_FLIGHT:\n            return",
        "if False:\n            return",
        'an order in flight at the deadline is not said to be "may have happened"',
    ),
    _m(
        "run.one_attempt_too_many",
        "_run.py",
        "if order.attempts >= policy.max_attempts:",
        "if order.attempts > policy.max_attempts:",
        "one more attempt than the policy allows",
    ),
    _m(
        "run.in_flight_not_drained",
        "_run.py",
        "await self._drain_in_flight(scope)",
        "pass",
        "answers still in flight when the lanes end are not waited for",
    ),
    _m(
        "run.in_flight_tasks_outlive_call",
        "_run.py",
        "for task in lane.in_flight:\n                    task.cancel()",
        "for task in lane.in_flight:\n                    pass",
        "a cancelled call leaves its requests running",
    ),
    # -- issue 19: reading answers, confirming "does not exist", the account type ------------
    _m(
        "answers.foreign_fields_read",
        "_answers.py",
        "        stranger = fields.foreign(item)\n",
        "        stranger = None\n",
        "an item with an undocumented outcome field (v2's errorCode on v3) reads as a success",
    ),
    _m(
        "answers.single_names_ignored",
        "_answers.py",
        "    if text(named.order_id) is None and text(named.client_oid) is None:\n",
        "    if True:\n",
        "a one-order success naming another order confirms the one asked",
    ),
    _m(
        "answers.nameless_single_success",
        "_answers.py",
        "        if not confirmed:\n",
        "        if False:\n",
        "a one-order success that names no order confirms it where the endpoint names one",
    ),
    _m(
        "confirm.skipped",
        "_run.py",
        "            if self._confirm:\n",
        "            if False:\n",
        '"does not exist" is reported not_open without a listing',
    ),
    _m(
        "confirm.found_open_ignored",
        "_confirm.py",
        "            findings.append(Finding(open_as=found))",
        "            findings.append(Finding())",
        "an order listed open under another symbol or kind is reported not_open",
    ),
    _m(
        "confirm.incomplete_listing_trusted",
        "_confirm.py",
        "        elif problem is not None:\n",
        "        elif False:\n",
        "a listing that could not be read to its end confirms not_open",
    ),
    _m(
        "confirm.unlisted_kinds_unchecked",
        "_confirm.py",
        "    if unsettled and family.checks:\n",
        "    if False:\n",
        "a plan order named as normal on a UTA (no listing shows it) is reported not_open",
    ),
    _m(
        "confirm.failed_check_trusted",
        "_confirm.py",
        "        if not transient or failures >= policy.max_attempts or scope.over:\n"
        '            times = f" ({failures} attempts)" if failures > 1 else ""\n'
        "            return Finding(",
        "        if not transient or failures >= policy.max_attempts or scope.over:\n"
        "            return None\n"
        "            return Finding(",
        "a check by id that was refused or never answered confirms not_open",
    ),
    _m(
        "confirm.client_oid_on_any_symbol",
        "_confirm.py",
        "by_client_oid.get((asked.symbol, asked.client_oid))",
        "next((t for (_, c), t in by_client_oid.items() if c == asked.client_oid), None)",
        "a clientOid open on another symbol is taken for the target's order",
    ),
    _m(
        "listing.v3_short_page_ends",
        "_family_v3.py",
        "        return Page([_listed(row) for row in data.rows], text(data.cursor))",
        "        rows = [_listed(row) for row in data.rows]\n"
        "        return Page(rows, text(data.cursor) if len(rows) == self.limit else None)",
        "a short v3 page that carries a cursor is taken as the last one",
    ),
    _m(
        "probe.lone_ok_adopts",
        "_probe.py",
        '    elif on_v2 == "refused" and on_v3 != "refused":',
        '    elif on_v3 == "ok" or (on_v2 == "refused" and on_v3 != "refused"):',
        "one OK from the v3 probe makes the account a UTA",
    ),
    _m(
        "session.refusal_never_reopens",
        "_session.py",
        "(self._fixed and self.account != account)",
        '(self.account not in ("auto", account))',
        "a refusal from the family a probe chose never re-opens the question",
    ),
]


def table_mutants() -> list[Mutant]:
    """One mutant per code of each frozenset table of ``_classify.py`` (the code renamed so it
    matches nothing: it is dropped from the table), and one per alternative of the
    message pattern that means "nothing to cancel"."""
    source = (ROOT / PACKAGE / "_classify.py").read_text()
    lines = source.splitlines(keepends=True)
    out = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        table = node.targets[0].id
        call = node.value
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "frozenset"):
            continue
        for const in ast.walk(call):
            if not (isinstance(const, ast.Constant) and isinstance(const.value, str)):
                continue
            line = lines[const.lineno - 1]
            literal = line[const.col_offset : const.end_col_offset]
            # The old text: the literal with enough of its line to be unique in the file.
            old = line[: const.end_col_offset]
            new = line[: const.col_offset] + literal[0] + "dropped-" + literal[1:]
            out.append(
                Mutant(
                    f"classify.{table}.drop_{const.value}",
                    "_classify.py",
                    old,
                    new,
                    f"code {const.value} is no longer in {table}",
                )
            )
    pattern_start = source.index("_NOT_OPEN_MESSAGE = re.compile(")
    pattern_end = source.index("re.IGNORECASE", pattern_start)
    body = source[pattern_start:pattern_end]
    alternatives = ("does ?not ?exist|", "not ?existed|", "not ?found|", "cannot be found|",
                    "no order to cancel|", "is finalized|",
                    'already (?:been )?(?:cancel|fill|clos)"')  # fmt: skip
    for alternative in alternatives:
        assert alternative in body, alternative
        out.append(
            Mutant(
                "classify.NOT_OPEN_MESSAGE.drop_" + re.sub(r"\W+", "_", alternative).strip("_"),
                "_classify.py",
                alternative,
                "(?!)" + alternative,  # an alternative that never matches
                f"the message {alternative!r} no longer means not open",
            )
        )
    return out


def all_mutants() -> list[Mutant]:
    return CURATED + table_mutants()


# -- running ---------------------------------------------------------------------------------


def _copy_tree(work: Path) -> None:
    shutil.copytree(ROOT / PACKAGE, work / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "tests").mkdir()
    shutil.copy2(ROOT / "tests" / "__init__.py", work / "tests" / "__init__.py")
    for sub in TESTS:
        rel = Path(sub).relative_to("tests")
        shutil.copytree(
            ROOT / sub, work / "tests" / rel, ignore=shutil.ignore_patterns("__pycache__")
        )
    # The unit tests read the recorded answers (test_recorded_answers, test_conformance).
    shutil.copytree(ROOT / "tests" / "fixtures", work / "tests" / "fixtures")
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")


def _run_tests(work: Path, tests: list[str]) -> tuple[str, float, str]:
    env = {**os.environ, "PYTHONPATH": str(work), "PYTHONDONTWRITEBYTECODE": "1"}
    # In one process (-n 0): under pytest-xdist, -x stops the run as "interrupted" (exit 2).
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider", *tests]
    started = time.monotonic()
    try:
        done = subprocess.run(
            cmd, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started, ""
    elapsed = time.monotonic() - started
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    if done.returncode == 0:
        return "survived", elapsed, ""
    if done.returncode == 1:
        return "killed", elapsed, lines[0] if lines else ""
    return f"error(rc={done.returncode})", elapsed, done.stdout[-400:] + done.stderr[-400:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="fnmatch patterns of mutant names")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--tests", nargs="*", default=list(TESTS), help="test paths to run")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    mutants = [
        m
        for m in all_mutants()
        if not args.patterns or any(fnmatch.fnmatch(m.name, p) for p in args.patterns)
    ]
    if args.list:
        for m in mutants:
            print(f"{m.name}: {m.why}")
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="mutate-") as tmp:
        work = Path(tmp)
        _copy_tree(work)
        base, seconds, detail = _run_tests(work, args.tests)
        print(f"baseline: {base} ({seconds:.1f}s) {detail}", flush=True)
        if base != "survived":
            print("the tests fail without any mutant: fix that first")
            return 2
        for m in mutants:
            path = work / PACKAGE / m.module
            original = path.read_text()
            mutated = m.apply(original)
            if mutated is None:
                status, seconds, detail = "stale", 0.0, "a piece is not found exactly once"
            else:
                path.write_text(mutated)
                try:
                    status, seconds, detail = _run_tests(work, args.tests)
                finally:
                    path.write_text(original)
            results.append({"name": m.name, "status": status, "why": m.why, "detail": detail})
            print(f"{status:9} {seconds:5.1f}s  {m.name}  {detail}", flush=True)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print("total", len(results), counts)
    for r in results:
        if r["status"] != "killed":
            print(f"  {r['status']}: {r['name']}: {r['why']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0 if all(r["status"] in ("killed", "timeout") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
