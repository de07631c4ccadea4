"""The normal form keeps letters and numbers of every script and drops everything else."""

import sys

from bot.lookup.normalize import _DROPPED, _keep, normalize


def test_the_fast_filter_drops_exactly_what_the_definition_drops_for_every_character():
    disagree = [hex(code) for code in range(sys.maxunicode + 1)
                if (_DROPPED.fullmatch(chr(code)) is None) != _keep(chr(code))]
    assert disagree == []


def test_the_ways_people_type_a_word_meet():
    assert normalize("ﾍﾙﾌﾟ！") == normalize("へるぷ") == normalize("ヘルプ") == "へるぷ"
    assert normalize("ＰＥＴ ボトル_2") == "petぼとる2"
