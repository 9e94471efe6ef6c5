"""Customer imports create new customers in bulk (``customers.create_customers``, one call per batch) and give
the result of handling the rows one after the other: a row that refers to a customer created earlier in the same
batch (same id, e-mail, phone, or same name without any of these) updates it, exactly as with batches of one."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditEntry, Event
from guanxi.customers.models import Customer
from guanxi.imports import matching

HEADER = "客户编号,姓名,邮箱,手机,公司,标签"


class _Rollback(Exception):
    pass


def dependent_rows(make_customer, users) -> list[str]:
    make_customer(users["rep"], display_name="老客户", emails=["old@example.com"], phones=["13700000001"])
    make_customer(users["rep_b"], display_name="别人的", emails=["theirs@example.com"])
    return [
        "K1,张三,zs@example.com,13800000001,A公司,vip",  # new
        "K2,李四,ls@example.com,,,",  # new
        "K1,张三丰,,13800000009,,new",  # the first row's customer: renamed, a phone and a tag more
        ",王五,,,王公司,",  # no id, e-mail or phone: matched by name; none yet: new
        ",王五,,,王公司,b2b",  # the previous row's customer, by name: a tag more
        "K3,赵六,LS@example.com,,,",  # the second row's customer by e-mail: renamed, external id K3 added
        ",赵六,,,,",  # by name: the customer the previous row renamed: unchanged
        "K4,老客户,old@example.com,,,",  # an existing customer the rep owns: external id added
        "K5,偷,theirs@example.com,,,",  # belongs to rep_b: rejected
        "K6,混合,zs@example.com,13700000001,,",  # the first row's customer and an existing one: rejected
        "K7,坏,not-an-email,,,",  # rejected by the parser
        "K8,新人,new8@example.com,,,",  # new
        "K8,新人,new8@example.com,,,",  # the same again: unchanged
        "K9,同号,,13800000009,,",  # the phone the third row gave the first row's customer: that customer
        ",李,,,李公司,",  # new, by name
    ]


def state() -> dict:
    customers = []
    for c in Customer.objects.prefetch_related("tags").order_by("display_name", "company"):
        customers.append(
            (
                c.display_name,
                c.company,
                c.emails,
                c.phones,
                c.search_text,
                c.owner_id,
                c.version,
                sorted(t.name for t in c.tags.all()),
                matching.external_ids_of(c),
            )
        )
    events = sorted(
        (e.type, Customer.objects.get(pk=e.subject_id).display_name)
        for e in Event.objects.filter(subject_type="customers.customer")
    )
    audit = sorted(
        (a.action, a.subject_label, sorted(a.changes))
        for a in AuditEntry.objects.filter(subject_type="customers.customer")
    )
    return {"customers": customers, "events": events, "audit": audit}


def outcome(job) -> dict:
    counts = (job.created_count, job.updated_count, job.unchanged_count, job.rejected_count, job.status)
    rejected = [(r.line, r.column, r.reason) for r in job.rejected_rows.order_by("line", "id")]
    return {"counts": counts, "rejected": rejected}


def test_rows_that_depend_on_earlier_rows_of_the_batch_give_the_one_by_one_result(
    users, make_customer, write, run_import
):
    path = write("dependent.csv", "\n".join([HEADER, *dependent_rows(make_customer, users)]) + "\n")
    rep = users["rep"]
    captured = {}
    with pytest.raises(_Rollback), transaction.atomic():
        job = run_import(rep, "customers", path, batch_size=1)
        captured["one_by_one"] = {**outcome(job), **state()}
        raise _Rollback
    job = run_import(rep, "customers", path, batch_size=500)
    batched = {**outcome(job), **state()}
    assert batched == captured["one_by_one"]
    # What one by one means here, spelled out.
    assert batched["counts"] == (5, 5, 2, 3, "done")
    assert [(line, column) for line, column, _reason in batched["rejected"]] == [(10, ""), (11, ""), (12, "邮箱")]
    reasons = [reason for _line, _column, reason in batched["rejected"]]
    assert "another owner" in reasons[0] and "several" in reasons[1] and "e-mail" in reasons[2]
    first = Customer.objects.get(display_name="同号")  # renamed by the third row, then by the K9 row
    assert first.phones == ["+8613800000001", "+8613800000009"] and first.company == "A公司"
    assert sorted(first.tags.values_list("name", flat=True)) == ["new", "vip"]
    assert matching.external_ids_of(first) == ["import:K1", "import:K9"]
    second = Customer.objects.get(display_name="赵六")
    assert matching.external_ids_of(second) == ["import:K2", "import:K3"]
    assert sorted(Customer.objects.get(display_name="王五").tags.values_list("name", flat=True)) == ["b2b"]


def test_importing_new_customers_takes_a_few_statements_per_batch(users, write, run_import):
    rows = [f"N{i},客户{i},n{i}@example.com,139{i:08d},公司{i % 7},t{i % 3}" for i in range(400)]
    path = write("many.csv", "\n".join([HEADER, *rows]) + "\n")
    with CaptureQueriesContext(connection) as captured:
        job = run_import(users["manager"], "customers", path, batch_size=200)
    assert (job.status, job.created_count, job.rejected_count) == ("done", 400, 0)
    # One by one this was about 12 statements per row (4,800); now a few dozen per batch.
    assert len(captured.captured_queries) < 150, len(captured.captured_queries)
    assert Event.objects.filter(type="customer.created").count() == 400
    with CaptureQueriesContext(connection) as captured:
        again = run_import(users["manager"], "customers", path, batch_size=200)
    assert (again.unchanged_count, again.created_count, again.updated_count) == (400, 0, 0)
    assert len(captured.captured_queries) < 80, len(captured.captured_queries)
