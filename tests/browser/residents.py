#!/usr/bin/python3
"""The residents' pages on a phone (Debian's chromium and chromedriver,
driven by selenium) at 360x780 in WeChat's user agent: bind with a staff
link by tapping the number, then every page in Chinese and English, once at
the default text size and once with large text (the browser's default font
doubled); then once more in large text with JavaScript off. On every page: no sideways scrolling, body
text at least 18 CSS px, every button and link target at least 60 px
high. A robot slot booked and cancelled by taps with JavaScript off.

    residents.py BASE_URL KIOSK DATA_DIR MEMBER OUT_DIR

Prints what it measured; exits non-zero on the first failure.
"""

import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, kiosk, data, member, out = sys.argv[1:6]
WECHAT = ("Mozilla/5.0 (Linux; Android 13; V2197A) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.47")
PAGES = [("pass", "/"), ("bookings", "/bookings"), ("book-robot", "/bookings/robot?day=1"),
         ("activities", "/activities"), ("points", "/points"), ("feedback", "/feedback"), ("phones", "/phones")]


def phone(large, script):
    o = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=360,780",
              "--hide-scrollbars", f"--user-agent={WECHAT}"]:
        o.add_argument(a)
    prefs = {}
    if large:
        prefs["webkit.webprefs.default_font_size"] = 32
    if not script:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    o.add_experimental_option("prefs", prefs)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    # The viewport, not the window, is 360 wide.
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})
    return d


def bind(d):
    said = subprocess.run([kiosk, "--data", data, "phone", "link", member],
                          check=True, capture_output=True, text=True).stdout
    path = next(l.split()[1] for l in said.splitlines() if l.startswith("link"))
    number = next(l.split()[1] for l in said.splitlines() if l.startswith("number"))
    d.get(base + path)
    buttons = d.find_elements(By.CSS_SELECTOR, "form.choices button")
    assert len(buttons) == 3, d.page_source
    return path, number, buttons


def wait_for(d, text):
    try:
        WebDriverWait(d, 10).until(lambda d: text in d.page_source)
    except Exception:
        raise AssertionError(f"waited for {text!r}; the page was:\n" + d.page_source)


def measure(d, name):
    """No sideways scroll, body text >= 18 px, targets >= 60 px high."""
    m = d.execute_script("""
        var de = document.documentElement;
        var small = [];
        document.querySelectorAll('button, nav a, header a, .row a').forEach(function (e) {
            var r = e.getBoundingClientRect();
            if (r.height < 60) small.push(e.textContent.trim() + ' ' + r.height);
        });
        return {wide: de.scrollWidth, view: window.innerWidth,
                text: parseFloat(getComputedStyle(document.querySelector('main p') || document.body).fontSize),
                small: small};
    """)
    assert m["wide"] <= 360, f"{name}: {m['wide']} px wide in a 360 px screen"
    assert m["text"] >= 18, f"{name}: body text {m['text']} px"
    assert not m["small"], f"{name}: targets under 60 px: {m['small']}"
    return m


def shot(d, name):
    if not js:
        return
    height = d.execute_script("return document.documentElement.scrollHeight")
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 360, "height": max(780, min(height, 6000)), "deviceScaleFactor": 1, "mobile": True})
    d.save_screenshot(f"{out}/{name}.png")
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 360, "height": 780, "deviceScaleFactor": 1, "mobile": True})


for large, js in [(False, True), (True, True), (True, False)]:
    size = ("large" if large else "phone") + ("" if js else "-nojs")
    d = phone(large, js)
    try:
        d.get(base + "/welcome")
        shot(d, f"welcome-zh-{size}")
        path, number, buttons = bind(d)
        if js:
            measure(d, "bind")
        shot(d, f"bind-zh-{size}")
        next(b for b in buttons if b.text.strip() == number).click()
        wait_for(d, "<svg class=\"qr\"")
        for lang in ["zh", "en"]:
            d.get(base + f"/lang?to={lang}&back=/")
            for name, p in PAGES:
                d.get(base + p)
                assert "<main>" in d.page_source, f"{name}: {d.page_source[:300]}"
                if js:
                    m = measure(d, name)
                    print(f"{size} {lang} {name}: text {m['text']} px, {m['wide']} px wide")
                shot(d, f"{name}-{lang}-{size}")
        if not js:
            # Tapped through with JavaScript off: book the first robot slot, then cancel it.
            d.get(base + "/lang?to=zh&back=/bookings")
            d.get(base + "/bookings/robot?day=1")
            d.find_element(By.CSS_SELECTOR, "form[action='/bookings/book'] button").click()
            wait_for(d, "预约成功")
            d.find_element(By.CSS_SELECTOR, "form[action='/bookings/cancel'] button").click()
            wait_for(d, "已取消")
            print("large text, no JavaScript: booked and cancelled by taps")
    finally:
        d.quit()
print("ok")
