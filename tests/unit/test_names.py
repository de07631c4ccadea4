"""Other names hidden in a published item name become aliases at import."""

import pytest

from bot.lookup.names import other_names


@pytest.mark.parametrize("name, aliases", [
    ("電気カミソリ・電気ひげそり", ["電気カミソリ", "電気ひげそり"]),
    ("IHクッキングヒーター・IH調理器", ["IHクッキングヒーター", "IH調理器"]),
    ("印鑑(象牙製・木製・プラスチック製)", ["印鑑"]),                      # what it is made of: a qualifier
    ("おたま(杓子) (竹製・木製・プラスチック製)", ["おたま", "杓子"]),       # a bracket that names it again
    ("カード類（ポイントカード・診察券等）", ["カード類", "ポイントカード", "診察券"]),  # examples listed
    ("おむつ(乳幼児・高齢者・障害者)", ["おむつ"]),
    ("自転車(16インチ以上)", ["自転車"]),
    ("空き缶", []),
    ("櫛(金属製)", ["櫛"]),  # one kanji is a word
    ("ごみ(1)", ["ごみ"]),
    ("あ(1)", []),  # one kana is no word
])
def test_other_names(name, aliases):
    assert other_names(name) == aliases
