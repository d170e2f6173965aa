"""Settings from crawler.toml / [tool.crawler], per-host rules, exclusions, the User-Agent."""

import asyncio

import httpx
import pytest
import respx

from crawler import __version__
from crawler.checking.checker import Checker
from crawler.checking.verdicts import status_of
from crawler.config import ConfigError, Settings, load_config, parse_duration
from crawler.errors import UsageError
from crawler.listfile.links import precheck
from crawler.net.pool import ClientPool


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("20h", 72000), ("7d", 604800),
                                               ("1.5h", 5400), ("45", 45), (12, 12)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 parsecs", "-1h", "h"])
def test_bad_durations(text):
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_crawler_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.crawler]\nhost-concurrency = 3\n")
    assert load_config(start=tmp_path) == {"host_concurrency": 3}
    (tmp_path / "crawler.toml").write_text('max-age = "2h"\ncontact = "mailto:me@example.org"\n')
    assert load_config(start=tmp_path) == {"max_age": 7200.0, "contact": "mailto:me@example.org"}


def test_host_rules_and_exclusions(tmp_path):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text('exclude = ["^https://twitter\\\\.com/"]\n'
                   'accept = [999]\n'
                   '[hosts."github.com"]\nconcurrency = 2\nheaders = { Accept = "text/html" }\naccept = [403]\n')
    settings = Settings(**load_config(cfg))
    rule = settings.hosts["github.com"]
    assert (rule.concurrency, rule.headers, rule.accept) == (2, (("Accept", "text/html"),), (403,))
    assert settings.accept == (999,)
    verdict = precheck("https://twitter.com/someone", settings.url_rules())
    assert status_of(verdict.finding).value == "skipped"
    assert verdict.reason == "excluded by the config's exclude '^https://twitter\\.com/'"


@pytest.mark.parametrize("body", ['accept = [429]\n', '[hosts."a.org"]\naccept = [429]\n', 'accept = ["40x"]\n',
                                  'accept = [1000]\n', 'exclude-path = "drafts"\n', 'exclusions = ["x"]\n'])
def test_429_and_what_is_not_a_status_code_cannot_be_accepted(tmp_path, body):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text(body)
    with pytest.raises(UsageError) as caught:
        Settings(**load_config(cfg))
    if "429" in body:
        assert "429 cannot be accepted" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("body", ["unknown-key = 1\n", 'host-concurrency = 0\n', 'fail-on = "sometimes"\n',
                                  'exclude = ["(unclosed"]\n', '[hosts]\n"a.org" = 3\n'])
def test_bad_config_values_are_config_errors(tmp_path, body):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError):
        Settings(**load_config(cfg))


def test_per_host_rules_reach_the_wire_and_the_verdict():
    settings = Settings(contact="mailto:me@example.org", retries=0,
                        hosts=Settings(**load_config_from({"hosts": {"github.com": {
                            "concurrency": 2, "headers": {"X-Test": "yes"}, "accept": [403]}}})).hosts)
    seen = {}

    def record(request):
        seen[request.url.host] = dict(request.headers)
        return httpx.Response(403 if request.url.host == "github.com" else 200)

    async def go():
        async with ClientPool(settings) as pool:
            assert pool.host_limit("github.com") == 2 and pool.host_limit("example.org") == settings.host_concurrency
            checker = Checker(pool, settings, sleep=lambda s: asyncio.sleep(0))
            return [await checker.check(u) for u in ("https://github.com/a/b", "https://example.org/")]

    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route().mock(side_effect=record)
        gh, other = asyncio.run(go())
    assert gh.status.value == "ok"  # 403 accepted for this host by config
    assert seen["github.com"]["x-test"] == "yes" and "x-test" not in seen["example.org"]
    agent = seen["example.org"]["user-agent"]
    assert f"/{__version__}" in agent and "mailto:me@example.org" in agent


def load_config_from(raw: dict) -> dict:
    from crawler.config import settings_kwargs

    return settings_kwargs(raw)


def test_github_has_built_in_manners_without_any_config():
    from crawler.config import DEFAULT_HOST_RULES

    settings = Settings()
    rule = settings.host_rule("github.com")
    assert rule == DEFAULT_HOST_RULES["github.com"]
    assert (rule.concurrency, rule.spacing, rule.pause) == (2, 1.0, 60.0)
    assert settings.hosts == {}  # built-in rules are not user settings
    assert settings.host_rule("papers.example.org") is None


def test_a_user_rule_for_github_overrides_only_the_fields_it_names(tmp_path):
    cfg = tmp_path / "pyproject.toml"
    cfg.write_text('[tool.crawler.hosts."github.com"]\nconcurrency = 4\nspacing = "2.5s"\n'
                   '[tool.crawler.hosts."slow.example.org"]\nspacing = 3\npause = "2m"\n')
    settings = Settings(**load_config(cfg))
    gh = settings.host_rule("github.com")
    assert (gh.concurrency, gh.spacing, gh.pause) == (4, 2.5, 60.0)  # the built-in pause stays
    slow = settings.host_rule("slow.example.org")
    assert (slow.concurrency, slow.spacing, slow.pause) == (None, 3.0, 120.0)


def test_spacing_zero_switches_the_built_in_spacing_off(tmp_path):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text('[hosts."github.com"]\nspacing = 0\n')
    assert Settings(**load_config(cfg)).host_rule("github.com").spacing == 0.0


@pytest.mark.parametrize("body", ['[hosts."a.org"]\nspacing = "soon"\n', '[hosts."a.org"]\npause = -1\n',
                                  '[hosts."a.org"]\nconcurrency = 0\n', '[hosts."a.org"]\nconcurrency = "2"\n',
                                  '[hosts."a.org"]\ndelay = 1\n'])
def test_bad_host_rules_are_config_errors(tmp_path, body):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError):
        Settings(**load_config(cfg))
