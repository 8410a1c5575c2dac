"""Style tags in English and Chinese, following the prompt structure style+emotion+instruments+rhythm+vocals."""

import pytest

from generators.style import parse_style, tag_list


def test_english_free_text():
    s = parse_style("warm acoustic pop, female vocals, 92 BPM")
    assert (s.genre, s.mood, s.vocal, s.tempo_bpm) == ("pop", "gentle", "female", 92.0)
    assert "acoustic guitar" in s.instruments
    assert s.default_tempo() == 92.0


def test_chinese_tags_cover_every_prompt_element():
    s = parse_style("流行, 悲伤, 钢琴, 小提琴, 慢速, 女声, 和声")
    assert (s.genre, s.mood, s.tempo_word, s.vocal) == ("pop", "sad", "slow", "female")
    assert s.instruments == ["piano", "violin"]
    assert s.harmonies and s.minor is True


@pytest.mark.parametrize("tags, bpm", [("ballad", 70), ("dance", 124), ("sad ballad", 63), ("pop, fast", 125), ("lofi, 78 bpm", 78)])
def test_tempo_from_words(tags, bpm):
    assert parse_style(tags).default_tempo() == bpm


def test_longest_keyword_wins_and_unknown_words_are_kept():
    s = parse_style(["electric guitar riff", "male vocals", "zorblax"])
    assert s.instruments == ["electric guitar"]
    assert s.vocal == "male"
    assert s.unknown == ["zorblax"]


def test_tag_list_splits_lists_and_text():
    assert tag_list(["a, b", "c"]) == ["a", "b", "c"]
    assert tag_list("流行，钢琴、女声") == ["流行", "钢琴", "女声"]
