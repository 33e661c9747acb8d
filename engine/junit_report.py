"""A show as JUnit XML, so a rehearsal can run in anyone's CI: one test case per cloud
join and one per expectation, failed with the measured figure beside the expected one.

Written with junitparser (a maintained JUnit XML library) rather than by hand, as the
root ``<testsuite>`` element: the schema Jenkins validates against (the xUnit plugin's
``junit-10.xsd``) has no ``skipped`` count on ``<testsuites>``, which junitparser writes.
"""

from __future__ import annotations

from junitparser import Failure, TestCase, TestSuite

from engine.state import RoomState

JOINS = "crossroom.joins"
EXPECTATIONS = "crossroom.expectations"


def junit_suite(state: RoomState) -> TestSuite:
    suite = TestSuite(f"crossroom {state.demo} run {state.run_id}")
    for cloud in state.cloud_list():
        case = TestCase(f"{cloud.name} joined", classname=JOINS, time=cloud.time_to_join_s or 0.0)
        if cloud.status != "joined":
            case.result = [
                Failure(f"{cloud.status}: {cloud.error}" if cloud.error else cloud.status)
            ]
        suite.add_testcase(case)
    for verdict in state.verdicts:
        case = TestCase(f"{verdict.scope}: {verdict.name}", classname=EXPECTATIONS)
        if not verdict.passed:
            case.result = [Failure(f"measured {verdict.measured}, expected {verdict.expected}")]
        suite.add_testcase(case)
    suite.update_statistics()  # type: ignore[no-untyped-call]  # junitparser is untyped
    return suite


def junit_xml(state: RoomState) -> bytes:
    """The whole file: an XML declaration and one ``<testsuite>``."""
    body: bytes = junit_suite(state).tostring()  # type: ignore[no-untyped-call]
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"
