from datetime import datetime

from sentiment.data.records import make_record
from sentiment.data.validation import validate_records

LABELS = ("negative", "neutral", "positive")


def rec(**fields):
    base = {"source_id": "1", "text": "fine tweet", "created_at": "2020-01-01T00:00:00Z"}
    base.update(fields)
    return make_record(source="generic", location="mem:1", raw=base, **base)


def reasons_for(**fields):
    result = validate_records([rec(**fields)], LABELS, 280)
    return result.rejected[0][1] if result.rejected else []


def test_a_good_record_passes():
    result = validate_records([rec(label="positive", lang="en", author="jess")], LABELS, 280)
    assert len(result.valid) == 1 and result.rejected == [] and result.failures == {}


def test_each_expectation_names_its_reason():
    assert reasons_for(source_id="x" * 81) == ["id longer than 80 characters"]
    assert reasons_for(text="   ") == ["empty text"]
    assert reasons_for(text="a" * 281) == ["text longer than 280 characters"]
    assert reasons_for(text="nul\x00here") == ["NUL byte in text"]
    assert reasons_for(created_at="tomorrowish") == ["unparseable created_at"]
    assert reasons_for(created_at="1999-01-01") == ["created_at out of range (before 2006 or in the future)"]
    assert reasons_for(created_at=f"{datetime.now().year + 2}-01-01") == ["created_at out of range (before 2006 or in the future)"]
    assert reasons_for(label="angry") == ["label not in negative,neutral,positive"]
    assert reasons_for(lang="English") == ["malformed language code"]
    assert reasons_for(lang="pt-BR") == []
    assert reasons_for(author="a" * 129) == ["author longer than 128 characters"]


def test_spreadsheet_mangled_twitter_ids_are_caught():
    record = make_record(source="airline", location="a.csv:2", raw={}, source_id="5.70306E+17", text="hi", twitter_ids=True)
    ((_, reasons),) = validate_records([record], LABELS, 280).rejected
    assert reasons == ["id mangled by a spreadsheet: '5.70306E+17' looks like a number a spreadsheet rounded or reformatted (keep ids as text)"]
    other = make_record(source="airline", location="a.csv:3", raw={}, source_id="57030613367776051x", text="hi", twitter_ids=True)
    assert validate_records([other], LABELS, 280).rejected[0][1] == ["malformed tweet id (expected digits only)"]


def test_a_row_gets_every_reason_at_once_and_reader_problems_too():
    record = make_record(
        source="generic", location="f.csv:9", raw=["", ""], source_id="", text="", label="meh", problems=["wrong column count: expected 4, found 2"]
    )
    result = validate_records([record, rec()], LABELS, 280)
    assert len(result.valid) == 1
    ((_, reasons),) = result.rejected
    assert reasons == ["wrong column count: expected 4, found 2", "missing id", "empty text", "label not in negative,neutral,positive"]
    assert result.failures["missing id"] == 1 and result.failures["wrong column count"] == 1


def test_absent_optional_fields_are_fine():
    record = make_record(source="tweeteval", location="t:1", raw={}, text="no id, no date", id_from_text=True)
    assert validate_records([record], LABELS, 280).rejected == []
    assert validate_records([], LABELS, 280).valid == []
