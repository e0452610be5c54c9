"""Reading PDFs in tests (the trial summary, printed by Chromium and made by WeasyPrint): poppler's tools, from
Debian's poppler-utils (`make pdf-deps` installs it)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: run `make pdf-deps` (Debian's poppler-utils)"
    return found


def pdf_pages(body: bytes, folder: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext), in page order."""
    path = folder / f"{uuid.uuid4()}.pdf"
    path.write_bytes(body)
    text = subprocess.run([_tool("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    return text.split("\f")[:-1]  # a form feed ends each page


def page_size(body: bytes, folder: Path) -> tuple[float, float]:
    """The first page's width and height in points (pdfinfo)."""
    path = folder / f"{uuid.uuid4()}.pdf"
    path.write_bytes(body)
    info = subprocess.run([_tool("pdfinfo"), str(path)], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    line = next(x for x in info.splitlines() if x.startswith("Page size:"))
    width, _, height = line.split(":", 1)[1].split()[:3]
    return float(width), float(height)


def pages_as_png(body: bytes, folder: Path, prefix: str, resolution: int = 60) -> list[Path]:
    """Each page as a PNG (pdftoppm), to look at."""
    path = folder / f"{prefix}.pdf"
    path.write_bytes(body)
    subprocess.run([_tool("pdftoppm"), "-png", "-r", str(resolution), str(path), str(folder / prefix)], check=True,
                   timeout=120)
    return sorted(folder.glob(f"{prefix}-*.png"))
