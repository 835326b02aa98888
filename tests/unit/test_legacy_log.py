"""Ladon 1.0's logging API (``ladon.tools.log``) with the application's
``logging=`` flags: the file holds the service's messages, the call
records and the access lines, as Ladon 1.0's log file did."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from webtest import TestApp

from ladon import LadonWSGIApplication
from ladon.ladonizer import ladonize
from ladon.server import LOG_REQUEST_ACCESS
from ladon.server import LOG_REQUEST_DICT
from ladon.server import LOG_RESPONSE_DICT
from ladon.tools import log


class Logged:
    @ladonize(int, int, rtype=int)
    def add(self, a: int, b: int) -> int:
        log.info(f"adding {a} and {b}")
        return a + b


@pytest.fixture
def logfile(tmp_path: Path) -> Iterator[Path]:
    names = ("ladon.service", "ladon.access", "ladon.calls")
    levels = {name: logging.getLogger(name).level for name in names}
    path = tmp_path / "service.log"
    log.set_logfile(str(path))
    yield path
    log.set_logfile(None)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_set_logfile_holds_messages_call_records_and_access_lines(logfile: Path) -> None:
    flags = LOG_REQUEST_ACCESS | LOG_REQUEST_DICT | LOG_RESPONSE_DICT
    app = LadonWSGIApplication([Logged], logging=flags)
    body = json.dumps({"methodname": "add", "args": {"a": 1, "b": 2}})
    TestApp(app).post("/Logged/jsonwsp", body, content_type="application/json")
    app.close()
    text = logfile.read_text(encoding="utf-8")
    assert "adding 1 and 2" in text  # the service's own message
    assert "args={'a': 1, 'b': 2} result=3" in text  # the call record
    assert "POST /Logged/jsonwsp 200" in text  # the access line
    log.set_logfile(None)  # stops writing to it
    TestApp(LadonWSGIApplication([Logged], logging=flags)).post(
        "/Logged/jsonwsp", body, content_type="application/json"
    )
    assert logfile.read_text(encoding="utf-8") == text
