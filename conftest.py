"""Settings shared by the test suite and the doctests."""

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def single_torch_thread():
    """Run torch on one thread while the tests run, then restore the caller's setting.

    The networks here are tiny; on a loaded 2-core machine torch's spinning intra-op
    threads made single fits up to 100 times slower than one thread.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
