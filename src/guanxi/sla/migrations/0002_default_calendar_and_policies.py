"""The default business calendar (Asia/Shanghai, Monday to Friday 09:00-12:00 and 13:00-18:00), Chinese public
holidays and make-up working days (调休) for 2025-2027, and the default SLA policies.

Sources:
- 2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 12 November 2024).
- 2026: 国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, November 2025).
- 2027: no State Council notice was available when this was written; the statutory holiday dates come from the
  ``holidays`` package (0.109, ``holidays.China(years=2027)``), which computes them without the make-up working
  days. Admins complete 2027 on the SLA settings page once the notice is published (docs/sla.md).

Every day off of a holiday period is listed, weekends included, so the calendar page shows the whole period.
Policies are in business minutes; tier A customers get half the time. Reversing removes only these rows.
"""

from datetime import date, timedelta

from django.db import migrations

CALENDAR_NAME = "China (Asia/Shanghai)"
HOURS = {day: [["09:00", "12:00"], ["13:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}

NAMES = {
    "new_year": ("New Year's Day", "元旦"),
    "spring": ("Spring Festival", "春节"),
    "qingming": ("Qingming Festival", "清明节"),
    "labour": ("Labour Day", "劳动节"),
    "dragon_boat": ("Dragon Boat Festival", "端午节"),
    "mid_autumn": ("Mid-Autumn Festival", "中秋节"),
    "national": ("National Day", "国庆节"),
    "national_mid_autumn": ("National Day and Mid-Autumn Festival", "国庆节、中秋节"),
}

# (festival, first day off, last day off, make-up working days)
PERIODS = [
    # 2025
    ("new_year", date(2025, 1, 1), date(2025, 1, 1), []),
    ("spring", date(2025, 1, 28), date(2025, 2, 4), [date(2025, 1, 26), date(2025, 2, 8)]),
    ("qingming", date(2025, 4, 4), date(2025, 4, 6), []),
    ("labour", date(2025, 5, 1), date(2025, 5, 5), [date(2025, 4, 27)]),
    ("dragon_boat", date(2025, 5, 31), date(2025, 6, 2), []),
    ("national_mid_autumn", date(2025, 10, 1), date(2025, 10, 8), [date(2025, 9, 28), date(2025, 10, 11)]),
    # 2026
    ("new_year", date(2026, 1, 1), date(2026, 1, 3), [date(2026, 1, 4)]),
    ("spring", date(2026, 2, 15), date(2026, 2, 23), [date(2026, 2, 14), date(2026, 2, 28)]),
    ("qingming", date(2026, 4, 4), date(2026, 4, 6), []),
    ("labour", date(2026, 5, 1), date(2026, 5, 5), [date(2026, 5, 9)]),
    ("dragon_boat", date(2026, 6, 19), date(2026, 6, 21), []),
    ("mid_autumn", date(2026, 9, 25), date(2026, 9, 27), []),
    ("national", date(2026, 10, 1), date(2026, 10, 7), [date(2026, 9, 20), date(2026, 10, 10)]),
    # 2027, provisional (holidays package, no make-up working days)
    ("new_year", date(2027, 1, 1), date(2027, 1, 1), []),
    ("spring", date(2027, 2, 5), date(2027, 2, 10), []),
    ("qingming", date(2027, 4, 5), date(2027, 4, 5), []),
    ("labour", date(2027, 5, 1), date(2027, 5, 4), []),
    ("dragon_boat", date(2027, 6, 9), date(2027, 6, 9), []),
    ("mid_autumn", date(2027, 9, 15), date(2027, 9, 15), []),
    ("national", date(2027, 10, 1), date(2027, 10, 5), []),
]

# (priority, tier, first response minutes, resolution minutes, name, name_zh_hans, order)
POLICIES = [
    ("urgent", "A", 30, 120, "Urgent, tier A", "紧急（A类客户）", 10),
    ("urgent", "", 60, 240, "Urgent", "紧急", 11),
    ("high", "A", 60, 240, "High, tier A", "高（A类客户）", 20),
    ("high", "", 120, 480, "High", "高", 21),
    ("normal", "A", 120, 720, "Normal, tier A", "普通（A类客户）", 30),
    ("normal", "", 240, 1440, "Normal", "普通", 31),
    ("low", "A", 240, 1200, "Low, tier A", "低（A类客户）", 40),
    ("low", "", 480, 2400, "Low", "低", 41),
]


def holiday_rows():
    """(date, name, name_zh_hans, kind) for every seeded day."""
    rows = []
    for festival, first, last, workdays in PERIODS:
        name, name_zh = NAMES[festival]
        day = first
        while day <= last:
            rows.append((day, name, name_zh, "holiday"))
            day += timedelta(days=1)
        for workday in workdays:
            rows.append((workday, f"{name} (make-up working day)", f"{name_zh}调休上班", "workday"))
    return rows


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    Holiday = apps.get_model("sla", "Holiday")
    SLAPolicy = apps.get_model("sla", "SLAPolicy")
    calendar, _created = BusinessCalendar.objects.get_or_create(
        name=CALENDAR_NAME,
        defaults={"time_zone": "Asia/Shanghai", "hours": HOURS, "is_default": not BusinessCalendar.objects.exists()},
    )
    taken = set(Holiday.objects.filter(calendar=calendar).values_list("date", flat=True))
    Holiday.objects.bulk_create(
        Holiday(calendar=calendar, date=day, name=name, name_zh_hans=name_zh, kind=kind)
        for day, name, name_zh, kind in holiday_rows()
        if day not in taken
    )
    for priority, tier, first, resolution, name, name_zh, order in POLICIES:
        if not SLAPolicy.objects.filter(priority=priority, tier=tier, active=True).exists():
            SLAPolicy.objects.create(
                name=name,
                name_zh_hans=name_zh,
                priority=priority,
                tier=tier,
                first_response_minutes=first,
                resolution_minutes=resolution,
                order=order,
            )


def unseed(apps, schema_editor):
    SLAPolicy = apps.get_model("sla", "SLAPolicy")
    for priority, tier, _first, _resolution, name, _name_zh, _order in POLICIES:
        SLAPolicy.objects.filter(priority=priority, tier=tier, name=name, clocks__isnull=True).delete()
    calendar = apps.get_model("sla", "BusinessCalendar").objects.filter(name=CALENDAR_NAME).first()
    if calendar is not None:
        calendar.holidays.filter(date__in=[row[0] for row in holiday_rows()]).delete()
        if not calendar.policies.exists() and not calendar.clocks.exists() and not calendar.holidays.exists():
            calendar.delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
