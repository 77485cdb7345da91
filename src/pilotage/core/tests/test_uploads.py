"""Uploaded documents are PDFs by their content, within the size limit, stored under a random name."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from pilotage.core.uploads import PdfField, check_pdf, human_size, max_upload_bytes, random_pdf_name, store_pdf

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def upload(content: bytes, name: str = "document.pdf", content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_pdf_passes_and_can_be_read_again_from_its_start():
    document = upload(PDF)
    check_pdf(document)
    assert document.read() == PDF


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"Bonjour, ceci est du texte.", "contrat.pdf", "application/pdf"),  # text renamed .pdf
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "scan.pdf", "application/pdf"),  # an image renamed .pdf
        (b"<html><script>alert(1)</script></html>", "page.pdf", "application/pdf"),
        (b" %PDF-1.4 not at the start", "decale.pdf", "application/pdf"),
    ],
)
def test_the_content_decides_not_the_name_nor_the_announced_type(content, name, content_type):
    with pytest.raises(ValidationError, match="n'est pas un document PDF") as error:
        check_pdf(upload(content, name, content_type))
    assert error.value.code == "not_pdf"


def test_a_pdf_named_otherwise_is_still_a_pdf():
    check_pdf(upload(PDF, "scan.jpg", "image/jpeg"))


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError, match="Le fichier est vide."):
        check_pdf(upload(b""))


def test_size_limit_defaults_to_10_mo_and_follows_the_setting(settings):
    del settings.PILOTAGE_UPLOAD_MAX_BYTES
    assert max_upload_bytes() == 10 * 1024 * 1024
    settings.PILOTAGE_UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    check_pdf(upload(PDF + b"0" * (2 * 1024 * 1024 - len(PDF))))  # exactly the limit
    with pytest.raises(ValidationError) as error:
        check_pdf(upload(PDF + b"0" * (3 * 1024 * 1024)))
    assert error.value.messages == ["Le fichier pèse 3 Mo : la taille maximale est de 2 Mo."]
    assert error.value.code == "file_too_big"


@pytest.mark.parametrize(
    ("size", "text"),
    [(850, "850 octets"), (12 * 1024, "12 ko"), (10 * 1024 * 1024, "10 Mo"), (int(2.5 * 1024 * 1024), "2,5 Mo")],
)
def test_sizes_read_as_in_french(size, text):
    assert human_size(size) == text


def test_the_form_field_tells_the_rule_and_checks_it(settings):
    settings.PILOTAGE_UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    field = PdfField(label="Document")
    assert str(field.help_text) == "Format PDF uniquement, 5 Mo au maximum."
    assert 'accept="application/pdf,.pdf"' in field.widget.render("document", None)
    with pytest.raises(ValidationError, match="n'est pas un document PDF"):
        field.clean(upload(b"pas un pdf"))
    assert field.clean(None) is None  # optional by default


@pytest.mark.django_db
def test_stored_under_a_random_name_in_the_media_root(settings, tmp_path):
    from pilotage.geo.models import Region
    from pilotage.programme.models import Meeting

    settings.MEDIA_ROOT = tmp_path
    meeting = Meeting(region=Region.objects.create(code="44", name="Grand Est"), kind="other", held_on="2021-01-01")
    store_pdf(meeting.minutes_document, upload(PDF, "Compte rendu confidentiel.pdf"))
    name = meeting.minutes_document.name
    assert name.startswith("meetings/") and name.endswith(".pdf") and "confidentiel" not in name.lower()
    assert (tmp_path / name).read_bytes() == PDF
    assert random_pdf_name() != random_pdf_name()
