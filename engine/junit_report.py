"""A show as JUnit XML, so a rehearsal can run in anyone's CI: one test case per cloud
join and one per expectation, failed with the measured figure beside the expected one.

Written with junitparser (a maintained JUnit XML library) rather than by hand, as the
root ``<testsuite>`` element: the schema Jenkins validates against (the xUnit plugin's
``junit-10.xsd``) has no ``skipped`` count on ``<testsuites>``, which junitparser writes.
Text from outside (a cloud's error) is ``shown``: a control character is no valid XML.
"""

from __future__ import annotations

from junitparser import Failure, TestCase, TestSuite

from engine.state import RoomState
from engine.terminal_text import shown

JOINS = "crossroom.joins"
EXPECTATIONS = "crossroom.expectations"


def junit_suite(state: RoomState) -> TestSuite:
    suite = TestSuite(shown(f"crossroom {state.demo} run {state.run_id}"))
    for cloud in state.cloud_list():
        name = shown(f"{cloud.name} joined")
        case = TestCase(name, classname=JOINS, time=cloud.time_to_join_s or 0.0)
        if cloud.status != "joined":
            why = f"{cloud.status}: {cloud.error}" if cloud.error else cloud.status
            case.result = [Failure(shown(why))]
        suite.add_testcase(case)
    for verdict in state.verdicts:
        case = TestCase(shown(f"{verdict.scope}: {verdict.name}"), classname=EXPECTATIONS)
        if not verdict.passed:
            text = f"measured {verdict.measured}, expected {verdict.expected}"
            case.result = [Failure(shown(text))]
        suite.add_testcase(case)
    suite.update_statistics()  # type: ignore[no-untyped-call]  # junitparser is untyped
    return suite


def junit_xml(state: RoomState) -> bytes:
    """The whole file: an XML declaration and one ``<testsuite>``."""
    body: bytes = junit_suite(state).tostring()  # type: ignore[no-untyped-call]
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
