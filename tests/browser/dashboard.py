#!/usr/bin/python3
"""The staff dashboard in a real browser (Debian's chromium and
chromedriver, driven by selenium): sign in, a check-in at the kiosk shown on
Today within 1 s without reloading, an observer with no acknowledge or award button,
and a screenshot of every page in Chinese and English.

    dashboard.py BASE_URL KIOSK DATA_DIR STAFF PIN OBSERVER OBSERVER_PIN PASS OUT_DIR

Prints what it measured; exits non-zero on the first failure.
"""

import subprocess
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

base, kiosk, data, staff, pin, observer, observer_pin, member_pass, out = sys.argv[1:10]


def browser():
    o = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768"]:
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def sign_in(d, who, code):
    d.get(base + "/sign-in")
    d.find_element(By.NAME, "member").send_keys(who)
    d.find_element(By.NAME, "pin").send_keys(code)
    d.find_element(By.CSS_SELECTOR, "form.sign-in button").click()
    try:
        WebDriverWait(d, 10).until(expected_conditions.presence_of_element_located((By.ID, "visits-today")))
    except Exception:
        raise AssertionError("Today after signing in; the page was:\n" + d.page_source)


def visits(d):
    # Read in the page itself: the live part may be replaced between a
    # find and a read.
    return int(d.execute_script("return document.getElementById('visits-today').textContent"))


def shot(d, name):
    height = d.execute_script("return document.body.scrollHeight")
    d.set_window_size(1366, max(768, height))
    d.save_screenshot(f"{out}/{name}.png")
    d.set_window_size(1366, 768)


d = browser()
try:
    d.get(base + "/sign-in")
    shot(d, "sign-in-zh")
    sign_in(d, staff, pin)
    before = visits(d)
    # The page is open; a resident scans in at the kiosk.
    scanned = time.monotonic()
    subprocess.run([kiosk, "--data", data, "checkin", member_pass], check=True, capture_output=True)
    deadline = scanned + 5
    while time.monotonic() < deadline:
        if visits(d) == before + 1:
            break
        time.sleep(0.02)
    took = time.monotonic() - scanned
    print(f"check-in at the kiosk -> Today updated in the browser: {took * 1000:.0f} ms")
    assert visits(d) == before + 1, "the check-in never showed"
    assert took < 1.0, f"took {took:.2f} s"
    shot(d, "today-zh")
    d.get(base + "/traffic?period=month")
    shot(d, "traffic-zh")
    d.get(base + "/members")
    shot(d, "members-zh")
    d.get(base + "/members/" + staff)
    assert "健身房缴费至" in d.page_source
    shot(d, "member-zh")
    d.get(base + "/alarms")
    shot(d, "alarms-zh")
    d.get(base + "/points")
    assert d.find_elements(By.CSS_SELECTOR, "button.award"), "staff may award points"
    shot(d, "points-zh")
    d.get(base + "/report")
    assert "居民满意度" in d.page_source
    shot(d, "report-zh")
    d.get(base + "/vending")
    assert "没有待确认的出货" in d.page_source
    shot(d, "vending-zh")
    d.get(base + "/bookings")
    shot(d, "bookings-zh")
    d.get(base + "/devices")
    assert "等待确认的设备登记" in d.page_source
    shot(d, "devices-zh")
    # The week's programme and an activity's page: a class planned at the
    # command line for tomorrow, a resident signed up at the desk here.
    import datetime
    tomorrow = (datetime.datetime.utcnow() + datetime.timedelta(hours=8, days=1)).date()
    added = subprocess.run(
        [kiosk, "--data", data, "activity", "add", "--zh", "书法班", "--en", "Calligraphy",
         "--room", "活动室 2", "--start", f"{tomorrow} 09:00", "--end", f"{tomorrow} 10:30",
         "--capacity", "20"],
        check=True, capture_output=True, text=True)
    activity = added.stdout.split()[0]
    d.get(base + f"/activities?week={tomorrow}")
    assert "书法班" in d.page_source and "20/20" in d.page_source, d.page_source
    shot(d, "activities-zh")
    d.get(base + f"/activities/{activity}")
    d.find_element(By.CSS_SELECTOR, f"form[action='/activities/{activity}/signup'] input[name=member]").send_keys(staff)
    d.find_element(By.CSS_SELECTOR, f"form[action='/activities/{activity}/signup'] button").click()
    WebDriverWait(d, 10).until(expected_conditions.presence_of_element_located((By.ID, "note")))
    assert d.find_element(By.ID, "note").text == "已报名", d.page_source
    assert d.find_element(By.ID, "places-left").text == "19", d.page_source
    shot(d, "activity-zh")
    d.get(base + "/lang?to=en")
    assert "Visits today" in d.page_source
    shot(d, "today-en")
    d.get(base + "/traffic?period=day")
    shot(d, "traffic-en")
    d.get(base + "/members")
    shot(d, "members-en")
    d.get(base + "/report")
    shot(d, "report-en")
    d.get(base + "/devices")
    shot(d, "devices-en")
    d.get(base + f"/activities?week={tomorrow}")
    assert "Calligraphy" in d.page_source and "19/20" in d.page_source, d.page_source
    shot(d, "activities-en")
    d.get(base + f"/activities/{activity}")
    assert "Who is signed up" in d.page_source
    shot(d, "activity-en")
    d.get(base + "/lang?to=zh")
finally:
    d.quit()

o = browser()
try:
    sign_in(o, observer, observer_pin)
    assert not o.find_elements(By.CSS_SELECTOR, "button.ack"), "an observer has no acknowledge button"
    assert "观察员" in o.page_source
    shot(o, "today-observer-zh")
    o.get(base + "/points")
    assert not o.find_elements(By.CSS_SELECTOR, "button.award"), "an observer has no award button"
    shot(o, "points-observer-zh")
finally:
    o.quit()
print("browser: every check passed")
