"""The README's walk-through with curl, run request by request against the demo data.

The commands are read from README.md itself (the first ``sh`` block of "A walk-through
with curl"), so that this test fails when the README drifts: each ``curl`` must answer
the status its comment states ("answers 201"), with the revision and ETag the comment
names, and a comment "naming X" must find X in the answer. Afterwards every demo
organisation's figures and ratings are as they were.
"""

from __future__ import annotations

import codecs
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.periods import add_months, current_period
from seed import reference
from seed.load import load_demo
from tests.conftest import TokenFactory

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_UNTIL = "2020-03"  # a year of demo returns
TODAY = date(2020, 4, 14)  # after the demo's last month
# The README's command substitutions, and what each prints on TODAY.
SUBSTITUTIONS: dict[str, Callable[[date], str]] = {
    "date -u +%Y-%m": current_period,
    "python3 -c 'import datetime as d; print((d.datetime.now(d.UTC).replace(day=1) - "
    'd.timedelta(days=1)).strftime("%Y-%m"))\'': lambda today: add_months(
        current_period(today), -1
    ),
}


@dataclass
class Step:
    command: str
    comment: str  # the comment block stating what it answers


def walkthrough_block() -> str:
    text = README.read_text()
    section = text[text.index("## A walk-through with curl") :]
    section = section[: section.index("\n## ", 1)]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "the walk-through has no sh block"
    return match.group(1)


def steps(block: str) -> list[Step]:
    """Commands with their continuation lines joined, each with the comment before it
    (commands after one comment share it)."""
    found: list[Step] = []
    comment: list[str] = []
    fresh = False  # a comment line since the last command
    pending = ""
    for raw in block.splitlines():
        if pending:
            pending += "\n" + raw
        elif raw.startswith("#"):
            comment = [*comment, raw[1:].strip()] if fresh else [raw[1:].strip()]
            fresh = True
            continue
        elif not raw.strip():
            continue
        else:
            pending = raw
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        # An open quote (a JSON body over several lines) continues too.
        try:
            shlex.split(_ansi_c(pending), comments=True)
        except ValueError:
            continue
        found.append(Step(pending, " ".join(comment)))
        fresh = False
        pending = ""
    assert not pending, f"unfinished command: {pending}"
    return found


def _ansi_c(command: str) -> str:
    """``$'...'`` strings (with ``\\n`` escapes) as plain single-quoted ones."""
    return re.sub(
        r"\$'((?:[^'\\]|\\.)*)'",
        lambda m: "'" + codecs.decode(m.group(1), "unicode_escape") + "'",
        command,
    )


@dataclass
class Shell:
    client: TestClient
    today: date
    variables: dict[str, str] = field(default_factory=dict)
    last: httpx.Response | None = None

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.variables[m.group(1)], text)

    def run(self, step: Step) -> httpx.Response | None:
        command = step.command.strip()
        if match := re.fullmatch(r"(\w+)=\$\((.*)\)", command, re.S):
            name, inner = match.groups()
            assert inner in SUBSTITUTIONS, f"the test does not know what `{inner}` prints"
            self.variables[name] = SUBSTITUTIONS[inner](self.today)
            return None
        words = shlex.split(_ansi_c(command), comments=True)
        if words[0] == "export" and words[1].endswith("=wf_..."):
            assert self.last is not None
            self.variables[words[1].split("=")[0]] = self.last.json()["token"]
            return None
        if words[0] != "curl":
            name, _, value = words[0].partition("=")
            assert name.isidentifier(), f"not understood: {command}"
            assert len(words) == 1, f"not understood: {command}"
            self.variables[name] = "" if name == "API" else self.expand(value)
            return None
        self.last = self.curl([self.expand(word) for word in words[1:]])
        return self.last

    def curl(self, words: list[str]) -> httpx.Response:
        method, headers, body, url = None, {}, None, None
        words = list(words)
        while words:
            word = words.pop(0)
            if word in ("-s", "-i", "-si"):
                continue
            if word == "-X":
                method = words.pop(0)
            elif word == "-H":
                name, _, value = words.pop(0).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data-binary"):
                body = words.pop(0)
            else:
                assert url is None, f"unexpected curl word {word!r}"
                assert word.startswith("/"), f"unexpected curl word {word!r}"
                url = word
        assert url is not None
        method = method or ("POST" if body is not None else "GET")
        response: httpx.Response = self.client.request(method, url, content=body, headers=headers)
        return response


def check(step: Step, response: httpx.Response) -> None:
    said = step.comment
    status = re.search(r"answers (\d{3})", said, re.I)
    assert status is not None, f"the README does not say what this answers: {step.command}"
    assert response.status_code == int(status.group(1)), (step.command, response.text)
    said = said[status.end() :]  # what follows "answers N" describes the answer
    if revision := re.search(r"revision (\d+)", said):
        assert response.json()["revision"] == int(revision.group(1))
    if tag := re.search(r'ETag "(r\d+)"', said):
        assert response.headers["etag"] == f'"{tag.group(1)}"'
    if named := re.search(r"naming (\w+)", said):
        assert named.group(1) in response.text
    if '"warnings"' in said:
        assert response.json()["warnings"], "the README promises warnings"


def demo_state(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """What the walk-through must not change: every demo organisation's figures month by
    month, their ratings, and the month the measures are of."""
    state: dict[str, Any] = {}
    for organisation in reference.ORGANISATIONS:
        state[organisation.code] = client.get(
            f"/v1/metrics/series?level=organisation&code={organisation.code}"
            f"&from=2019-04&to={DEMO_UNTIL}",
            headers=headers,
        ).json()["items"]
    status = client.get("/v1/targets/status?level=organisation", headers=headers).json()
    state["ratings"] = [i for i in status["items"] if i["code"] != "HOSPICE"]
    state["period"] = client.get("/v1/metrics", headers=headers).json()["period"]
    return state


def test_the_readme_walkthrough_answers_what_it_says_and_spares_the_demo(
    app: FastAPI,
    client: TestClient,
    sessions: sessionmaker[Session],
    make_token: TokenFactory,
) -> None:
    for session in session_scope(sessions):
        load_demo(session, until=DEMO_UNTIL)
    app.state.clock = lambda: TODAY
    token = make_token("admin")
    shell = Shell(client, TODAY, {"WORKFORCE_TOKEN": token})
    headers = {"Authorization": f"Bearer {token}"}
    before = demo_state(client, headers)
    assert before["period"] == DEMO_UNTIL

    ran = []
    for step in steps(walkthrough_block()):
        response = shell.run(step)
        if response is not None:
            check(step, response)
            ran.append(response.status_code)
    assert len(ran) >= 12
    assert 422 in ran
    assert 412 not in ran

    after = demo_state(client, headers)
    assert after == before
    # The walk-through's own organisation returned for the demo's last month, which
    # stays complete.
    metrics = client.get("/v1/metrics", headers=headers).json()
    assert (metrics["period"], metrics["complete"]) == (DEMO_UNTIL, True)
    assert metrics["latest_partial_period"] is None
