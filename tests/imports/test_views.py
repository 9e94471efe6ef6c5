"""The import pages end to end with Django's test client, and the customer exports."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.models import ImportJob, ImportMapping


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


FILE = "姓名,手机,邮箱,备注\n王小明,13812345678,wxm@example.com,x\n坏人,123,bad,y\n".encode()


def test_upload_mapping_preview_start_progress_and_rejected_download(
    users, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
    rep = users["rep"]
    client = client_for(rep)
    assert client.get("/imports/new/").status_code == 200
    response = client.post(
        "/imports/new/", {"kind": "customers", "file": SimpleUploadedFile("people.csv", FILE, "text/csv")}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/mapping/"
    assert job.columns == {"姓名": "display_name", "手机": "phone", "邮箱": "email"}
    page = client.get(f"/imports/{job.pk}/mapping/")
    assert page.status_code == 200 and 'value="display_name" selected' in page.content.decode()

    response = client.post(
        f"/imports/{job.pk}/mapping/",
        {"col-0": "display_name", "col-1": "phone", "col-2": "email", "col-3": "", "save_as": "我的映射"},
    )
    assert response.status_code == 302
    assert ImportMapping.objects.get(owner=rep).columns == {"姓名": "display_name", "手机": "phone", "邮箱": "email"}

    preview = client.get(f"/imports/{job.pk}/preview/").content.decode()
    assert 'data-line="2"' in preview and 'data-line="3"' in preview
    assert preview.count("cell-invalid") == 2  # the bad phone and the bad e-mail
    assert not Customer.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/start/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 1 and job.rejected_count == 1
    fragment = client.get(f"/imports/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "rejected.csv" in fragment

    download = client.get(f"/imports/{job.pk}/rejected.csv")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["line", "column", "reason"]
    assert {r[1] for r in rows[1:]} == {"手机", "邮箱"} and all(r[0] == "3" for r in rows[1:])


def test_a_running_job_page_polls_every_second(users):
    rep = users["rep"]
    job = services.create_job(
        actor=rep,
        kind="customers",
        source=SimpleUploadedFile("a.csv", b"name\nA\n"),
        file_name="a.csv",
    )
    services.start_job(actor=rep, job_id=job.pk, enqueue=False)
    page = client_for(rep).get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page


def test_only_the_creator_their_managers_and_admins_see_a_job(users):
    job = services.create_job(
        actor=users["rep"], kind="customers", source=SimpleUploadedFile("a.csv", b"name\nA\n"), file_name="a.csv"
    )
    assert client_for(users["rep2"]).get(f"/imports/{job.pk}/").status_code == 404
    assert client_for(users["rep_b"]).get(f"/imports/{job.pk}/rejected.csv").status_code == 404
    assert client_for(users["manager"]).get(f"/imports/{job.pk}/").status_code == 200
    assert client_for(users["admin"]).get(f"/imports/{job.pk}/").status_code == 200
    assert client_for(users["rep2"]).post(f"/imports/{job.pk}/start/").status_code == 404


@pytest.mark.parametrize("role", ["analyst", "support"])
def test_analysts_and_support_get_no_upload(users, role):
    response = client_for(users[role]).post(
        "/imports/new/", {"kind": "customers", "file": SimpleUploadedFile("a.csv", b"name\nA\n")}
    )
    assert response.status_code == 422 and not ImportJob.objects.exists()


def read_csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_export_keeps_the_filters_and_the_access_policy(users, make_customer):
    rep = users["rep"]
    make_customer(rep, display_name="=cmd|' /C calc'!A0", kind="company", emails=["evil@example.com"])
    make_customer(rep, display_name="王小明", kind="person", phones=["13812345678"])
    make_customer(users["rep_b"], display_name="Not mine", kind="company")
    response = client_for(rep).get("/imports/export/customers.csv?kind=company")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert "evil@example.com" in rows[1]

    everything = read_csv(client_for(rep).get("/imports/export/customers.csv"))
    assert sorted(r[1] for r in everything[1:]) == sorted(["'=cmd|' /C calc'!A0", "王小明"])


def test_analysts_export_no_personal_columns(users, make_customer):
    make_customer(users["rep"], display_name="王小明", phones=["13812345678"], region="上海")
    rows = read_csv(client_for(users["analyst"]).get("/imports/export/customers.csv"))
    assert "Name" not in rows[0] and "Phones" not in rows[0]
    assert "王小明" not in repr(rows) and "+8613812345678" not in repr(rows)
    assert "上海" in rows[1]


def test_xlsx_export(users, make_customer):
    make_customer(users["rep"], display_name="王小明")
    response = client_for(users["rep"]).get("/imports/export/customers.xlsx")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    values = [row for row in book.active.iter_rows(values_only=True)]
    assert values[1][1] == "王小明"
