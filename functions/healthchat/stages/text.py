"""ExtractText and ExtractMedical: the upload becomes text, the text becomes entities."""

from __future__ import annotations

import time

from healthchat.domain.documents import sniff_content_type
from healthchat.domain.models import CostLine, DocRef, StageOutput
from healthchat.stages.artifacts import read_artifact, write_artifact
from healthchat.stages.text_extraction import extract_text
from healthchat.wiring import Services

# DetectDocumentText, first million pages a month, us-east-1 (aws.amazon.com/textract/pricing).
TEXTRACT_USD_PER_PAGE = 0.0015


def run_extract_text(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    data = svc.uploads.get(doc.upload_key)
    content_type = sniff_content_type(data)
    extracted = extract_text(data, content_type, lambda: svc.ocr)
    ocr_pages = sum(1 for p in extracted.pages if p.method == "ocr")
    if content_type == "text/plain":
        engine = "plain-text"
    elif content_type.startswith("image/"):
        engine = svc.ocr.name
    else:
        engine = f"pdfplumber+{svc.ocr.name}" if ocr_pages else "pdfplumber"
    cost: dict[str, CostLine] = {}
    if ocr_pages and svc.settings.ocr == "textract":
        cost["textract"] = CostLine(units=ocr_pages, usd=round(ocr_pages * TEXTRACT_USD_PER_PAGE, 6))
    return write_artifact(
        svc.data,
        doc,
        "extract_text",
        engine,
        started,
        extracted.to_dict(),
        counts={"chars": len(extracted.text), "pages": len(extracted.pages)},
        cost=cost,
    )


def run_extract_medical(doc: DocRef, svc: Services) -> StageOutput:
    started = time.perf_counter()
    text = str(read_artifact(svc.data, doc, "extract_text").data["text"])
    extractor = svc.medical
    result = extractor.detect_entities(text)
    cost = {extractor.name: CostLine(units=result.units, usd=result.usd)} if result.units else {}
    return write_artifact(
        svc.data,
        doc,
        "extract_medical",
        f"{extractor.name} {result.model_version}",
        started,
        {"entities": result.entities, "model_version": result.model_version},
        counts={"entities": len(result.entities)},
        cost=cost,
    )
