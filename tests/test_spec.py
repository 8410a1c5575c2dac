"""The song spec: lyric sections, tags, and one-line errors that name file, line and field."""

import pytest

from pipeline.spec import SongSpec, parse_lyrics
from representations.errors import SpecError


def test_sections_numbered_any_case_and_chinese_tags():
    secs = parse_lyrics("[verse 2]\na\n[PRE-CHORUS]\nb\n[Chorus]\nc\n[副歌]\nd\n[Intro]\n")
    assert [s.kind for s in secs] == ["verse", "pre-chorus", "chorus", "chorus", "intro"]
    assert secs[0].label == "Verse 2" and secs[0].lines == ("a",)
    assert secs[4].lines == ()


def test_untagged_stanzas_become_verses_and_repeated_one_chorus():
    secs = parse_lyrics("one\ntwo\n\nhook line\nhook two\n\nthree\nfour\n\nhook line\nhook two\n")
    assert [s.kind for s in secs] == ["verse", "chorus", "verse", "chorus"]
    assert [s.label for s in secs] == ["Verse 1", "Chorus", "Verse 2", "Chorus"]


def test_file_lines_point_at_the_lyric_lines():
    spec = SongSpec.from_text("title: t\nlyrics: |\n  [Verse]\n  first\n  second\n", source="s.yaml")
    assert spec.lyric_sections()[0].file_lines == (4, 5)


@pytest.mark.parametrize(
    "text, where",
    [
        ("title: t\ntempo: 900\nlyrics: la\n", "s.yaml:2: tempo:"),
        ("title: t\nlyrics: la\ncolour: red\n", "s.yaml:3: colour: unknown field"),
        ("title: t\nlyrics: |\n  [Verse]\n  la\n  [Solo Kazoo]\n", "s.yaml:5: lyrics: unknown section tag [Solo Kazoo]"),
        ("title: t\nkey: H minor\nlyrics: la\n", "s.yaml:2: key:"),
        ("title: t\nmeter: 5/4\nlyrics: la\n", "s.yaml:2: meter:"),
        ("title: t\nlanguage: fr\nlyrics: la\n", "s.yaml:2: language:"),
        ("title: [unclosed\n", "s.yaml:"),
        ("- just\n- a list\n", "s.yaml:1: the spec must be a YAML mapping"),
        ("title: t\n", "s.yaml:1: lyrics: no lyrics to sing"),
        ("title: t\nlyrics: la\nseed: -1\n", "s.yaml:3: seed:"),
        ("!!python/object/apply:os.system ['echo hi']\n", "s.yaml:1:"),
    ],
)
def test_bad_specs_give_one_line_naming_file_line_field(text, where):
    with pytest.raises(SpecError) as e:
        SongSpec.from_text(text, source="s.yaml")
    msg = str(e.value)
    assert msg.startswith(where), msg
    assert "\n" not in msg


def test_style_alias_language_detection_and_key():
    spec = SongSpec.from_text("title: t\nstyle: [流行, 女声]\nkey: e minor\nlyrics: 我爱你\n")
    assert spec.tags == ["流行", "女声"]
    assert spec.resolved_language() == "zh"
    assert str(spec.key_obj()) == "E minor"
