"""Fast starts (bot/content/cache.py, libyaml): the same files load at once, an edit is always seen."""

import os
import shutil
from pathlib import Path

import pytest
import yaml

from bot.bootstrap import build_router, content_schema
from bot.config import Config
from bot.content import cache, yamlfile
from bot.content import store as store_module
from bot.content.store import ContentError, ContentStore, content_files, load_content

CONTENT = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture(autouse=True)
def new_process():
    """Each test starts with nothing in memory, as a new process does."""
    cache._memory.clear()
    yield
    cache._memory.clear()


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def schema():
    return content_schema(build_router(Config(env="test")))


def start(content_dir: Path, cache_dir: Path) -> ContentStore:
    return ContentStore(content_dir, schema(), reload_seconds=0, cache=cache_dir)


def count_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = store_module.load_yaml

    def counting(path, name, data=None):
        parsed.append(name)
        return real(path, name, data)

    monkeypatch.setattr(store_module, "load_yaml", counting)
    return parsed


def test_a_restart_on_the_same_files_reads_the_cache_not_the_files(content_dir, tmp_path, monkeypatch):
    first = start(content_dir, tmp_path / "cache").current()
    [entry] = (tmp_path / "cache").glob("*.pickle")
    assert entry.stat().st_mode & 0o077 == 0  # this user's alone
    cache._memory.clear()  # a new process
    parsed = count_parses(monkeypatch)
    second = start(content_dir, tmp_path / "cache").current()
    assert parsed == []
    assert second.version == first.version and second.root == content_dir
    assert second.documents == first.documents
    assert second.text("help.body", "en") == first.text("help.body", "en")


def test_an_edited_file_is_seen_even_when_its_size_and_time_are_unchanged(content_dir, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    first = start(content_dir, cache_dir).current()
    contact = content_dir / "contact.yaml"
    before = contact.stat()
    contact.write_text(contact.read_text(encoding="utf-8").replace("06-0000-0000", "06-1111-1111"), encoding="utf-8")
    os.utime(contact, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert contact.stat().st_size == before.st_size and contact.stat().st_mtime_ns == before.st_mtime_ns

    edited = start(content_dir, cache_dir).current()  # the same process (its memory)
    assert edited["contact"].phone == "06-1111-1111" and edited.version != first.version
    cache._memory.clear()
    assert start(content_dir, cache_dir).current()["contact"].phone == "06-1111-1111"  # a new one (the disk)

    contact.write_text(contact.read_text(encoding="utf-8").replace("06-1111-1111", "06-0000-0000"), encoding="utf-8")
    cache._memory.clear()
    parsed = count_parses(monkeypatch)
    back = start(content_dir, cache_dir).current()  # the first version again: still kept
    assert parsed == [] and back.version == first.version and back["contact"].phone == "06-0000-0000"


def test_a_running_store_reloads_an_edit_and_a_broken_file_is_reported_though_good_ones_were_cached(content_dir,
                                                                                                    tmp_path):
    running = start(content_dir, tmp_path / "cache")
    contact = content_dir / "contact.yaml"
    contact.write_text(contact.read_text(encoding="utf-8").replace("06-0000-0000", "06-2222-2222"), encoding="utf-8")
    assert running.reload_if_changed() is True and running.current()["contact"].phone == "06-2222-2222"

    contact.write_text(contact.read_text(encoding="utf-8").replace("hours:\n", "hours: [\n"), encoding="utf-8")
    assert running.reload_if_changed() is False and running.status()["errors"][0].startswith("contact.yaml:")
    with pytest.raises(ContentError):
        load_content(content_dir, schema(), cache.ContentCache(tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2  # the two good versions only


def test_a_file_that_is_not_yaml_is_part_of_the_key(content_dir, tmp_path):
    """The rich-menu check reads the images: a menu image gone is reported, cache or not."""
    start(content_dir, tmp_path / "cache").current()
    images = [p for p in content_dir.rglob("*") if p.is_file() and p.suffix in (".png", ".jpg")]
    assert images
    for image in images:
        image.unlink()
    with pytest.raises(ContentError) as exc:
        start(content_dir, tmp_path / "cache")
    assert any("not found" in str(p) for p in exc.value.problems)


def test_a_cache_someone_else_could_have_written_is_not_read(content_dir, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    start(content_dir, cache_dir).current()
    [entry] = cache_dir.glob("*.pickle")
    entry.chmod(0o666)
    cache._memory.clear()
    parsed = count_parses(monkeypatch)
    assert start(content_dir, cache_dir).current()["contact"].phone == "06-0000-0000"
    assert parsed  # loaded from the files instead


def test_a_damaged_cache_entry_is_a_miss(content_dir, tmp_path):
    cache_dir = tmp_path / "cache"
    first = start(content_dir, cache_dir).current()
    [entry] = cache_dir.glob("*.pickle")
    entry.write_bytes(entry.read_bytes()[:1000])
    cache._memory.clear()
    assert start(content_dir, cache_dir).current().version == first.version


def test_the_key_changes_with_the_bytes_and_with_what_the_schema_asks(tmp_path):
    from bot.content.models import IntentContent

    keys = cache.ContentCache(tmp_path / "cache")
    full = keys.key({"a.yaml": b"x"}, schema())
    assert keys.key({"a.yaml": b"x"}, schema()) == full  # another router, the same routes
    assert keys.key({"a.yaml": b"y"}, schema()) != full
    assert keys.key({"b.yaml": b"x"}, schema()) != full
    more = schema()
    more.add("extra", IntentContent)
    assert keys.key({"a.yaml": b"x"}, more) != full


# -- libyaml ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_libyaml_reads_the_sample_content_exactly_as_the_python_loader(monkeypatch):
    assert yamlfile.FastLoader is yaml.CSafeLoader
    names = [path.relative_to(CONTENT).as_posix() for path in content_files(CONTENT)]
    fast = [yamlfile.load_yaml(CONTENT / name, name) for name in names]
    monkeypatch.setattr(yamlfile, "FastLoader", yaml.SafeLoader)
    for name, doc in zip(names, fast):
        slow = yamlfile.load_yaml(CONTENT / name, name)
        assert (doc.data, doc.lines) == (slow.data, slow.lines), name


def test_a_syntax_error_reads_as_the_python_loader_words_it(tmp_path, monkeypatch):
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"a: 1\r\nb: [1, 2\r\nc: {x: 1\r\n")
    with pytest.raises(yamlfile.YamlError) as fast:
        yamlfile.load_yaml(broken, "broken.yaml", broken.read_bytes())
    monkeypatch.setattr(yamlfile, "FastLoader", yaml.SafeLoader)
    with pytest.raises(yamlfile.YamlError) as slow:
        yamlfile.load_yaml(broken, "broken.yaml")
    assert str(fast.value) == str(slow.value) and str(fast.value).startswith("broken.yaml:")
