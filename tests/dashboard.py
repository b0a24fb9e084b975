"""The home's "needs attention" counts against the lists they link to: a count is only right
if it equals the length of the filtered list behind it, followed across every page."""

import re

from django.urls import reverse

# Each row of a list's table; a row with a colspan is the "nothing here" line, not a row.
ROW = r"<tr>(.*?)</tr>"
# The link in the first cell of each row.
FIRST_LINK = r'<tr>\s*<td><a href="([^"]+)">'


def home_page(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("home")).content.decode()


def dashboard_count(client, user, url: str) -> int:
    """The number the home shows beside the link to ``url``."""
    body = home_page(client, user)
    found = re.search(rf'<a href="{re.escape(url.replace("&", "&amp;"))}"><span class="badge">(\d+)</span>', body)
    assert found, url
    return int(found.group(1))


def list_rows(client, user, url: str, pattern: str = ROW) -> list[str]:
    """What ``pattern`` picks out of the table body of every page of the list at ``url``,
    following its "Next" links."""
    client.force_login(user)
    rows, page = [], url
    while page:
        response = client.get(page)
        assert response.status_code == 200
        body = response.content.decode()
        table = body.split("<tbody>")[1].split("</tbody>")[0]
        rows += [row for row in re.findall(pattern, table, re.S) if "colspan" not in row]
        following = re.search(r'<a href="(\?[^"]+)" rel="next">', body)
        page = url.split("?")[0] + following.group(1).replace("&amp;", "&") if following else None
    return rows
