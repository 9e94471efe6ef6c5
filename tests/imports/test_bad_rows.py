"""A file full of bad rows: each one is reported with its line, column and reason; every valid row is imported;
importing the same file again changes nothing."""

import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook

from guanxi.commerce.models import Order, OrderLine
from guanxi.commerce.services import OrderData, place_order
from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.errors import ImportFileInvalid, MappingInvalid
from guanxi.imports.models import ImportJob

CUSTOMER_HEADER = "客户编号,姓名,邮箱,手机,公司,类型,标签"
GOOD_CUSTOMERS = [
    "C001,王小明,XiaoMing@Example.com,138 1234 5678,星辰科技,个人,vip",
    "C002,  Li   Lei ,lilei@example.com,+86 139-0000-0001,,person,",
    "C003,张伟,zhangwei@example.com,13900000002,,,",
    "C004,Acme Ltd,info@acme.example,,Acme,company,b2b;wholesale",
    'C005,=HYPERLINK("http://evil"),formula@example.com,,,,',
]


def customer_rows(taken_email: str, split_email: str, split_phone: str):
    """(text of the line, expected column or "" for the row, a word of the reason)."""
    return [
        ("C101,Bad Mail,not-an-email,,,,", "邮箱", "e-mail"),
        ("C102,Bad Phone,,12345,,,", "手机", "phone"),
        ("C103,,noname@example.com,,,,", "", "name"),
        ("C104,Extra,extra@example.com,,,,,surplus", "", "extra columns"),
        ("C105,Missing,missing@example.com", "", "missing columns"),
        ("C107,Odd Kind,kind@example.com,,,robot,", "类型", "person or company"),
        ("C108," + "x" * 201 + ",long@example.com,,,,", "姓名", "200"),
        ("C109,Long Tag,tag@example.com,,,," + "t" * 51, "标签", "tag"),
        (f"C110,Taken,{taken_email},,,,", "", "another owner"),
        (f"C111,Split,{split_email},{split_phone},,,", "", "several"),
    ]


def build_customer_file(write, taken_email, split_email, split_phone):
    lines = [CUSTOMER_HEADER, *GOOD_CUSTOMERS]
    bad = customer_rows(taken_email, split_email, split_phone)
    expected = {}
    for text, column, word in bad:
        lines.append(text)
        expected[len(lines)] = (column, word)
    content = ("\r\n".join(lines[:8]) + "\r\n").encode("utf-8")
    # One line written in GBK inside a UTF-8 file: that line alone is rejected.
    content += "C106,错误编码,gbk@example.com,,,,\r\n".encode("gbk")
    expected_gbk_line = 9
    rest = lines[8:]
    # Line numbers after the GBK line shift by one.
    shifted = {}
    for line, value in expected.items():
        shifted[line + 1 if line >= 9 else line] = value
    shifted[expected_gbk_line] = ("", "UTF-8")
    content += ("\r\n".join(rest) + "\r\n").encode("utf-8")
    return write("customers.csv", content), shifted


def rejected_by_line(job):
    out = {}
    for row in job.rejected_rows.all():
        out.setdefault(row.line, []).append((row.column, row.reason))
    return out


@pytest.fixture
def others(users, make_customer):
    taken = make_customer(users["rep_b"], display_name="Someone Else's", emails=["taken@example.com"])
    mine_a = make_customer(users["rep"], display_name="Mine A", emails=["a@example.com"])
    mine_b = make_customer(users["rep"], display_name="Mine B", phones=["13911112222"])
    return taken, mine_a, mine_b


def test_every_bad_customer_row_is_reported_and_every_good_one_imported(users, others, write, run_import):
    path, expected = build_customer_file(write, "taken@example.com", "a@example.com", "13911112222")
    rep = users["rep"]
    before = Customer.objects.count()
    job = run_import(rep, "customers", path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created_count, job.updated_count, job.unchanged_count) == (5, 0, 0)
    assert job.rejected_count == len(expected) == 11
    assert job.total_rows == job.processed_rows == 16
    got = rejected_by_line(job)
    assert sorted(got) == sorted(expected)
    for line, (column, word) in expected.items():
        columns = [c for c, _r in got[line]]
        reasons = " ".join(r for _c, r in got[line])
        assert column in columns, (line, got[line])
        assert word.lower() in reasons.lower(), (line, got[line])
    # The row that matched another rep's customer says nothing about that customer.
    assert "Someone" not in " ".join(r for _c, r in got[max(expected) - 1])

    assert Customer.objects.count() == before + 5
    wang = Customer.objects.get(display_name="王小明")
    assert wang.emails == ["xiaoming@example.com"]
    assert wang.phones == ["+8613812345678"]
    assert wang.owner == rep and wang.source == "import"
    assert sorted(wang.tags.values_list("name", flat=True)) == ["vip"]
    assert Customer.objects.filter(display_name="Li Lei").exists()
    assert Customer.objects.get(display_name="Acme Ltd").kind == "company"

    again = run_import(rep, "customers", path)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)
    assert again.rejected_count == 11
    assert Customer.objects.count() == before + 5


def test_a_changed_row_updates_and_adds_contacts_without_losing_any(users, write, run_import):
    rep = users["rep"]
    run_import(rep, "customers", write("a.csv", "id,name,email,company\nC1,Wang,wang@example.com,Old Co\n"))
    job = run_import(rep, "customers", write("b.csv", "id,name,email,company\nC1,Wang,wang2@example.com,New Co\n"))
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 1, 0)
    wang = Customer.objects.get(display_name="Wang")
    assert wang.company == "New Co"
    assert wang.emails == ["wang@example.com", "wang2@example.com"]


ORDER_HEADER = "订单号,客户,日期,金额,币种,商品,数量,单价"


def test_every_bad_order_row_is_reported_and_every_good_one_imported(users, make_customer, write, run_import):
    rep = users["rep"]
    buyer = make_customer(rep, display_name="Buyer", emails=["buyer@example.com"], phones=["13800000001"])
    make_customer(users["rep_b"], display_name="Other", emails=["other@example.com"])
    run_import(rep, "customers", write("c.csv", "客户编号,姓名\nK9,Keyed\n"))
    keyed = Customer.objects.get(display_name="Keyed")
    place_order(actor=rep, data=OrderData(buyer.pk, "USED-1", datetime(2026, 1, 1, tzinfo=UTC), Decimal("5")))

    lines = [
        ORDER_HEADER,
        "SO-1,buyer@example.com,2026-11-23,100.00,CNY,,,",  # 2 good
        'SO-2,13800000001,2026/11/23 14:05,"¥1,234.50",,,,',  # 3 good (phone reference, amount with symbol)
        "SO-3,K9,2026年11月23日,,,TEA,2,10",  # 4 good: two lines, amount from the lines
        "SO-3,K9,2026年11月23日,,,CUP,1,5.5",  # 5
        "SO-4,buyer@example.com,23.11.2026,50,usd,,,",  # 6 good
        "SO-5,buyer@example.com,46349,10,,,,",  # 7 good: Excel serial date
        "SO-6,buyer@example.com,next tuesday,10,,,,",  # 8 unparseable date
        "SO-7,buyer@example.com,2026-11-23,-5,,,,",  # 9 negative amount
        "SO-8,nobody@example.com,2026-11-23,5,,,,",  # 10 unknown customer
        "SO-1,buyer@example.com,2026-11-23,100.00,CNY,,,",  # 11 duplicate order number in the file
        "USED-1,buyer@example.com,2026-11-23,7,,,,",  # 12 number used by a different stored order
        "SO-9,buyer@example.com,2026-11-23,5,dollars,,,",  # 13 bad currency
        "SO-10,buyer@example.com,2026-11-23,,,TEA,0,10",  # 14 zero quantity
        ",buyer@example.com,2026-11-23,5,,,,",  # 15 missing order number
        "SO-11,buyer@example.com,2026-11-23,lots,,,,",  # 16 amount not a number
        "SO-12,other@example.com,2026-11-23,5,,,,",  # 17 another rep's customer
        "SO-13,buyer@example.com,2026-11-23,,,TEA,1,10",  # 18 order whose second line differs
        "SO-13,13800000001,2026-11-24,,,CUP,1,5",  # 19
        "SO-14,buyer@example.com,2026-11-23,5,,,,,extra",  # 20 extra column
    ]
    expected = {
        8: ("日期", "date"),
        9: ("金额", "negative"),
        10: ("客户", "unknown customer"),
        11: ("订单号", "duplicate order number"),
        12: ("订单号", "already used"),
        13: ("币种", "ISO 4217"),
        14: ("数量", "positive"),
        15: ("订单号", "required"),
        16: ("金额", "not a number"),
        17: ("客户", "another owner"),
        18: ("", "another line"),
        19: ("", "differ"),
        20: ("", "extra columns"),
    }
    path = write("orders.csv", "\n".join(lines) + "\n")
    before = Order.objects.count()
    job = run_import(rep, "orders", path)
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created_count, job.updated_count, job.unchanged_count) == (5, 0, 0)
    got = rejected_by_line(job)
    assert sorted(got) == sorted(expected)
    for line, (column, word) in expected.items():
        assert column in [c for c, _r in got[line]], (line, got[line])
        assert word.lower() in " ".join(r for _c, r in got[line]).lower(), (line, got[line])
    assert job.rejected_count == len(expected)

    assert Order.objects.count() == before + 5
    assert Order.objects.get(external_id="SO-2").amount == Decimal("1234.50")
    assert Order.objects.get(external_id="SO-2").customer == buyer
    so3 = Order.objects.get(external_id="SO-3")
    assert so3.customer == keyed and so3.amount == Decimal("25.50")
    assert OrderLine.objects.filter(order=so3).count() == 2
    assert Order.objects.get(external_id="SO-4").currency == "USD"
    assert timezone.localtime(Order.objects.get(external_id="SO-5").ordered_at).date().isoformat() == "2026-11-23"

    again = run_import(rep, "orders", path)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 5)
    assert again.rejected_count == len(expected)
    assert Order.objects.count() == before + 5


def test_a_gbk_file_from_chinese_excel_is_read(users, write, run_import):
    path = write("gbk.csv", "姓名;手机;邮箱\r\n李娜;13700000000;lina@example.com\r\n", encoding="gbk")
    job = run_import(users["rep"], "customers", path)
    assert job.encoding == "gb18030" and job.delimiter == ";"
    assert job.created_count == 1
    assert Customer.objects.get(display_name="李娜").phones == ["+8613700000000"]


def test_an_xlsx_with_bad_rows_reports_their_sheet_rows(users, write, run_import):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "E-mail", "Phone"])
    sheet.append(["Good One", "good@example.com", 13600000000])
    sheet.append(["Bad One", "bad@", None])
    sheet.append([None, None, None])
    sheet.append(["Good Two", "two@example.com", None])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run_import(users["rep"], "customers", write("people.xlsx", buffer.getvalue()))
    assert job.file_format == "xlsx"
    assert job.created_count == 2
    assert rejected_by_line(job).keys() == {3}
    assert Customer.objects.get(display_name="Good One").phones == ["+8613600000000"]


def test_an_xlsx_zip_bomb_is_refused_before_parsing(users, write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    path = write("bomb.xlsx", buffer.getvalue())
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ImportFileInvalid, match="unpacks to"):
        services.create_job(actor=users["rep"], kind="customers", source=path, file_name=path.name)
    assert not ImportJob.objects.exists()


def test_a_high_ratio_xlsx_is_refused(users, write, settings):
    settings.GUANXI_IMPORT_MAX_XLSX_UNCOMPRESSED = 1024 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    path = write("ratio.xlsx", buffer.getvalue())
    with pytest.raises(ImportFileInvalid, match="zip bomb"):
        services.create_job(actor=users["rep"], kind="customers", source=path, file_name=path.name)


def test_a_file_over_the_size_limit_is_refused(users, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write(b"name,email\n")
        row = b"Someone,someone@example.com\n"
        handle.write(row * (50 * 1024 * 1024 // len(row) + 1))
    assert path.stat().st_size > 50 * 1024 * 1024
    with pytest.raises(ImportFileInvalid, match="limit is 50"):
        services.create_job(actor=users["rep"], kind="customers", source=path, file_name=path.name)
    assert not ImportJob.objects.exists()


def test_a_file_missing_a_required_column_is_refused(users, write, run_import):
    path = write("orders.csv", "订单号,金额\nSO-1,5\n")
    with pytest.raises(MappingInvalid) as caught:
        run_import(users["rep"], "orders", path)
    assert "mapping" in caught.value.details


def test_binary_garbage_is_not_a_csv(users, write):
    path = write("junk.csv", bytes(range(256)) * 40)
    with pytest.raises(ImportFileInvalid):
        services.create_job(actor=users["rep"], kind="customers", source=path, file_name=path.name)


@pytest.mark.parametrize("role", ["analyst", "support"])
def test_analysts_and_support_cannot_import(users, write, role):
    from guanxi.imports.errors import ImportDenied

    with pytest.raises(ImportDenied):
        services.create_job(actor=users[role], kind="customers", source=write("x.csv", "name\nA\n"), file_name="x.csv")
