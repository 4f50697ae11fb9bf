#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Prints "passed failed skipped" for the test cases of a meson JUnit log, and the names of the
# failed ones on stderr.
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
        print(f"FAILED: {case.get('classname')}.{case.get('name')}", file=sys.stderr)
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
print(passed, failed, skipped)
