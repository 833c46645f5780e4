"""What a rendered page asks the browser to load."""

from html.parser import HTMLParser


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def asset_urls(html: str) -> list[str]:
    """The scripts, stylesheets, icons, images and frames ``html`` loads, as written."""
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def off_site(html: str) -> list[str]:
    """The assets ``html`` loads from anywhere but this site (a CDN, another host)."""
    return [url for url in asset_urls(html) if not url.startswith("/") or url.startswith("//")]
