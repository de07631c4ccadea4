"""A scrape in multiprocess mode while another process is creating its first metrics file:
the file exists but has no bytes yet, and prometheus_client's collector fails the whole
scrape on it (prometheus/client_python#1199). The scrape must answer with every other
process's counts; the new file counts from the next scrape on."""

from prometheus_client.mmap_dict import MmapedDict, mmap_key

from bot import metrics


def _counter_file(folder, pid: int, value: float) -> None:
    values = MmapedDict(str(folder / f"counter_{pid}.db"))
    key = mmap_key("citybot_demo", "citybot_demo_total", ("status",), ("200",), "A counter of the test")
    values.write_value(key, value, 0.0)
    values.close()


def test_a_file_being_created_does_not_fail_the_scrape(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    _counter_file(tmp_path, 101, 5.0)
    _counter_file(tmp_path, 102, 7.0)
    (tmp_path / "histogram_103.db").touch()  # opened by process 103, not sized yet

    body, _ = metrics.exposition(None)

    assert 'citybot_demo_total{status="200"} 12.0' in body.decode()


def test_the_file_counts_once_it_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_103.db").touch()
    assert "citybot_demo_total" not in metrics.exposition(None)[0].decode()

    (tmp_path / "counter_103.db").unlink()
    _counter_file(tmp_path, 103, 2.0)
    assert 'citybot_demo_total{status="200"} 2.0' in metrics.exposition(None)[0].decode()
