"""Working-hours overlap across time zones, on a fixed reference date."""

from bot.matching.overlap import hours, shared_hours, working_mask


def test_same_zone_full_day():
    mask = working_mask("Europe/Berlin", "09:00", "17:00")
    assert hours(mask) == 8
    assert shared_hours(mask, mask) == 8


def test_neighbouring_zones():
    berlin = working_mask("Europe/Berlin", "09:00", "17:00")
    london = working_mask("Europe/London", "09:00", "17:00")
    assert shared_hours(berlin, london) == 7


def test_los_angeles_and_tokyo_barely_meet():
    la = working_mask("America/Los_Angeles", "09:00", "17:00")
    tokyo = working_mask("Asia/Tokyo", "09:00", "17:00")
    assert shared_hours(la, tokyo) <= 1


def test_overnight_shift_and_half_hour_zone():
    night = working_mask("UTC", "22:00", "06:00")
    assert hours(night) == 8
    india = working_mask("Asia/Kolkata", "09:00", "17:00")  # 03:30-11:30 UTC
    assert shared_hours(night, india) == 2.5


def test_group_overlap_is_common_to_all():
    masks = [working_mask(tz, "09:00", "17:00") for tz in ("Europe/London", "America/New_York", "UTC")]
    assert shared_hours(*masks) == 4  # New York starts at 13:00 UTC in daylight time
