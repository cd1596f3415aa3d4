"""pytest's part: the tests are coroutines run by anyio's plugin on asyncio."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
