# SPDX-License-Identifier: MIT
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from zktest.tools import ZONEKEEPER  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (skipped under ASan)")


@pytest.fixture(scope="session", autouse=True)
def built():
    if not ZONEKEEPER.exists():
        pytest.exit("%s is missing: run make first" % ZONEKEEPER, returncode=2)
