"""The receipt given at the counter (phiếu tiếp nhận hồ sơ và hẹn trả kết quả), as a
printable HTML page and as a PDF (fpdf2 with a Unicode TrueType font: DejaVu Sans, from
the Debian package fonts-dejavu-core, covers Vietnamese)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fpdf import FPDF

from cadastre.clock import office_stamp
from cadastre.errors import ConfigurationError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TITLE = "PHIẾU TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
HEADER = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def _rows(d: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("Mã hồ sơ", d["code"]),
        ("Thủ tục", d["procedure_name"]),
        ("Người nộp", d["applicant_name"]),
        ("Ngày nhận", office_stamp(d["received_at"])),
        ("Ngày hẹn trả kết quả", d["due_date"].strftime("%d/%m/%Y")),
        ("Nơi giải quyết", d["handling_office_name"]),
    ]


def _lookup(d: dict[str, Any]) -> str:
    return (f"Tra cứu tình trạng hồ sơ: /api/v1/public/dossiers/{d['code']} "
            "(kèm 4 số cuối điện thoại hoặc CCCD)")


def receipt_html(d: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>"
                   for k, v in _rows(d))
    documents = "".join(f"<li>{html.escape(str(x))}</li>" for x in d["documents"])
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Phiếu tiếp nhận {html.escape(d['code'])}</title>
<style>body{{font-family:"DejaVu Sans","Times New Roman",serif;max-width:720px;margin:2em auto}}
h1{{font-size:1.3em;text-align:center}}td{{padding:.2em .6em;vertical-align:top}}
@media print{{button{{display:none}}}}</style></head><body>
<p style="text-align:center"><b>{HEADER[0]}</b><br>{HEADER[1]}</p>
<h1>{TITLE}</h1><table>{rows}</table><p>Giấy tờ đã nhận:</p><ol>{documents}</ol>
<p>{html.escape(_lookup(d))}</p>
<button onclick="print()">In phiếu</button></body></html>"""


def receipt_pdf(d: dict[str, Any], *, font_dir: Path = FONT_DIR) -> bytes:
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise ConfigurationError(f"the receipt font is missing in {font_dir}",
                                 hint="apt-get install fonts-dejavu-core (make setup does)")
    pdf = FPDF(format="A4")
    pdf.set_title(f"{TITLE} {d['code']}")
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_font("DejaVu", "B", 11)
    for line in HEADER:
        pdf.cell(0, 6, line, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 10, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for label, value in _rows(d):
        pdf.set_font("DejaVu", "", 11)
        pdf.cell(55, 7, label)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 11)
    pdf.cell(0, 7, "Giấy tờ đã nhận:", new_x="LMARGIN", new_y="NEXT")
    for i, document in enumerate(d["documents"], 1):
        pdf.multi_cell(0, 6, f"{i}. {document}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, _lookup(d), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def apology_html(d: dict[str, Any]) -> str:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả, for the latest apology of the dossier."""
    if not d["apologies"]:
        raise ConfigurationError("this dossier has no apology letter")
    a = d["apologies"][-1]
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Phiếu xin lỗi {html.escape(d['code'])}</title>
<style>body{{font-family:"DejaVu Sans","Times New Roman",serif;max-width:720px;margin:2em auto}}
h1{{font-size:1.3em;text-align:center}}@media print{{button{{display:none}}}}</style></head>
<body><p style="text-align:center"><b>{HEADER[0]}</b><br>{HEADER[1]}</p>
<h1>PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ</h1>
<p>{html.escape(d['handling_office_name'])} xin lỗi Ông/Bà
<b>{html.escape(d['applicant_name'])}</b> vì hồ sơ <b>{html.escape(d['code'])}</b>
({html.escape(d['procedure_name'])}), hẹn trả ngày {a['previous_due'].strftime('%d/%m/%Y')},
chưa được giải quyết đúng hẹn.</p>
<p>Lý do: {html.escape(a['reason'])}</p>
<p>Ngày hẹn trả kết quả mới: <b>{a['new_due'].strftime('%d/%m/%Y')}</b>.</p>
<p>{html.escape(_lookup(d))}</p>
<button onclick="print()">In phiếu</button></body></html>"""
