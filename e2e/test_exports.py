"""Exports at phone size: an admin opens the research export from the admin page, chooses the completed demo
trial, ticks "Include identifiers" and saves the zip (the CSV files and the REDCap data dictionary); the trial
page links to the research export and to the FHIR bundle, which a PT can save too. Each is in the audit log."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from playwright.sync_api import Page, expect

from e2e.conftest import ServerDb, check_accessibility, sign_in


def _daniel(server_db: ServerDb) -> int:
    return int(server_db.scalar("SELECT trials.id FROM trials JOIN patients ON patients.id = trials.patient_id "
                                "WHERE patients.mrn = 'DEMO-1004'"))


def test_an_admin_saves_the_research_export_with_identifiers(page: Page, server_db: ServerDb) -> None:
    trial_id = _daniel(server_db)
    before = server_db.scalar("SELECT count(*) FROM audit_events WHERE action = 'export'")
    sign_in(page, "admin")
    page.goto("/admin/")
    page.get_by_role("link", name="Research export").click()
    expect(page.get_by_role("heading", name="Research export")).to_be_visible()
    page.get_by_label("Trials").select_option(str(trial_id))
    page.get_by_label("File").select_option("zip")
    page.get_by_label("Include identifiers").check()
    check_accessibility(page, "exports-form")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.startswith(f"itb-research-trial-{trial_id}-")
    assert download.suggested_filename.endswith("-identifiable.zip")
    with zipfile.ZipFile(download.path()) as z:
        files = {name.rsplit("/", 1)[-1]: z.read(name).decode() for name in z.namelist()}
    assert {"trials.csv", "measurements.csv", "doses.csv", "observations.csv", "dictionary.csv"} <= set(files)
    [trial] = list(csv.DictReader(io.StringIO(files["trials.csv"])))
    assert (trial["mrn"], trial["last_name"], trial["outcome"]) == ("DEMO-1004", "Okafor", "candidate")
    doses = list(csv.DictReader(io.StringIO(files["doses.csv"])))
    assert [d["dose_mcg"] for d in doses] == ["50.0", "75.0", "75.0"]
    assert server_db.scalar("SELECT count(*) FROM audit_events WHERE action = 'export'") == before + 1


def test_the_trial_page_links_to_the_exports(page: Page, server_db: ServerDb) -> None:
    trial_id = _daniel(server_db)
    sign_in(page, "surgeon")
    page.goto(f"/trials/{trial_id}")
    expect(page.get_by_role("heading", name="Exports")).to_be_visible()
    check_accessibility(page, "trial-page-exports")
    page.get_by_role("link", name="Research export (CSV)").click()
    expect(page.get_by_label("Trials")).to_have_value(str(trial_id))
    expect(page.get_by_label("Include identifiers")).to_have_count(0)  # an admin's choice only


def test_a_pt_saves_the_fhir_bundle(page: Page, server_db: ServerDb) -> None:
    trial_id = _daniel(server_db)
    sign_in(page, "pt")
    page.goto(f"/trials/{trial_id}")
    expect(page.get_by_role("link", name="Research export (CSV)")).to_have_count(0)
    with page.expect_download() as info:
        page.get_by_role("link", name="FHIR R4 bundle (JSON)").click()
    bundle = json.loads(open(info.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "MedicationAdministration", "Observation", "ClinicalImpression"} <= kinds
    assert server_db.scalar("SELECT count(*) FROM audit_events WHERE action = 'read' AND entity_id = :t",
                            t=str(trial_id)) >= 1
