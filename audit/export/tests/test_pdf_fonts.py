"""Chinese renders on a machine with no fonts at all: only the face shipped under static/fonts."""
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

SCRIPT = """
import sys
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
fonts = FontConfiguration()
css = CSS(filename=sys.argv[1] + "/audit/record.css", font_config=fonts)
HTML(string="<h1>客户互动记录</h1><p>王建国 · 信息科主任</p><p class=mono>0123abcdef</p>",
     base_url=sys.argv[1] + "/audit").write_pdf(sys.argv[2], stylesheets=[css], font_config=fonts)
"""

NO_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>{cache}</cachedir></fontconfig>
"""


def test_the_record_css_brings_its_own_cjk_font(tmp_path, poppler_utils):
    config = tmp_path / "fonts.conf"
    config.write_text(NO_FONTS.format(cache=tmp_path / "cache"))
    env = {"PATH": "/usr/bin:/bin", "FONTCONFIG_FILE": str(config), "HOME": str(tmp_path)}
    listed = subprocess.run(["fc-list"], env=env, capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    assert listed.strip() == ""  # the renderer really sees no system font
    pdf = tmp_path / "bare.pdf"
    subprocess.run([sys.executable, "-c", SCRIPT, str(settings.BASE_DIR / "static"), str(pdf)], env=env, check=True,
                   capture_output=True, timeout=120)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "SalesFlow-Noto-Sans-SC" in fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "客户互动记录" in text and "王建国 · 信息科主任" in text
