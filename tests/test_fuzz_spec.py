"""Fuzzing the spec parser and planner: every input either plans or raises one SpecError line."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import SongPipeline, SongSpec
from representations.errors import SongwrightError

PIPE = SongPipeline()
FIELDS = ["title", "lyrics", "tags", "style", "key", "tempo", "meter", "language", "seed", "duration",
          "instrumental", "voice", "bogus"]
TAGS = ["[Verse]", "[Chorus]", "[verse 2]", "[Bridge]", "[Intro]", "[Outro]", "[Foo]", "[副歌]", "", "[]"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=40), st.sampled_from(["G major", "E minor", "3/4", "6/8", "en", "zh", "5", "900"]))
lyric_lines = st.lists(st.one_of(st.sampled_from(TAGS), st.text(max_size=30),
                                 st.sampled_from(["hello world", "我爱你中国", "la la la", "🎉", "\x00\x1b", "don't stop"])),
                       max_size=12).map("\n".join)


def check(text: str) -> None:
    try:
        spec = SongSpec.from_text(text, source="f.yaml")
        sheet = PIPE.plan(spec)
    except SongwrightError as e:
        msg = str(e)
        assert msg.startswith("f.yaml") or msg.startswith("voice:"), msg
        assert "\n" not in msg, msg
        return
    assert sheet.n_bars >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text(text):
    check(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=8), lyric_lines)
def test_random_specs(fields, lyrics):
    fields = dict(fields)
    if "lyrics" in fields or not fields.get("instrumental"):
        fields["lyrics"] = lyrics
    check(yaml.safe_dump(fields, allow_unicode=True))


def test_huge_lyrics_refused_with_one_line():
    text = "title: long\nlyrics: |\n" + "".join(f"  line number {i} of many\n" for i in range(10000))
    check(text)


def test_yaml_object_tags_are_refused():
    for text in ["!!python/object/apply:os.system ['true']", "title: !!python/name:os.system\n",
                 "a: &a [*a]\n", "title: x\nlyrics: !!binary aGVsbG8=\n"]:
        check(text)
