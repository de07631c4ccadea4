"""76 everyday questions reach the service they are about, through `citybot ask` (the
router first), said in a row by one resident and each by a new one (bench/everyday.py)."""

import pytest

from bench.everyday import measure, service_of


@pytest.mark.parametrize("each_new", [False, True], ids=["one resident in a row", "each a new resident"])
def test_everyday_questions_reach_their_service(each_new):
    results = measure(each_new)
    misses = [(service, question, route.get("intent"), route.get("how"))
              for service, question, route in results if service_of(route.get("intent")) != service]
    share = 1 - len(misses) / len(results)
    assert len(results) == 76
    assert share >= 0.90, f"{share:.1%} reached their service; misses: {misses}"
