"""Dashboard figures from counters, the SVG charts, and /metrics."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from console import charts, stats
from store import keys, tallies
from store.followers import Follower, FollowerDirectory
from store.streams import DurableQueue
from tests.waiting import watch_commands


def _funnel(redis) -> None:
    tallies.add(redis, "alerts_received_total", 100)
    tallies.add(redis, "alerts_warnings_sent_total", 90, role="owner")
    tallies.add(redis, "alerts_warnings_sent_total", 7, role="officer")
    tallies.add(redis, "alerts_warnings_delivered_total", 80)
    tallies.add(redis, "alerts_answered_total", 45, answer="safe")
    tallies.add(redis, "alerts_escalated_total", 5)


def test_funnel_counts_warnings_to_citizens_not_officer_notices(redis):
    _funnel(redis)
    assert dict(stats.funnel(tallies.snapshot(redis)))["alerts_warnings_sent_total"] == 90


def test_answer_rate_is_answered_over_sent(redis):
    _funnel(redis)
    assert stats.answer_rate(tallies.snapshot(redis)) == 0.5


def test_median_latency_is_interpolated_from_histogram_buckets(redis):
    for value in (0.2, 0.2, 0.4, 0.4, 4.0):
        tallies.observe(redis, "alerts_warning_latency_seconds", value)
    median = stats.median_latency_s(tallies.snapshot(redis))
    assert median is not None and 0.25 < median <= 0.5


def test_median_latency_is_none_without_observations():
    assert stats.median_latency_s({}) is None


def test_daily_snapshot_makes_the_followers_history(redis, config):
    redis.hset("reg:{stats}", mapping={"followers": 10, "bound": 4})
    day1 = time.time() - 86400
    stats.record_daily_snapshot(redis, day1)
    redis.hset("reg:{stats}", mapping={"followers": 15, "bound": 6})
    stats.record_daily_snapshot(redis, time.time())
    _, series = stats.daily_series(redis, time.time(), days=3)
    assert series["followers_total"] == [0, 10, 15]
    assert series["phones_bound_total"] == [0, 4, 6]


def test_dashboard_page_shows_funnel_and_answer_rate_to_the_duty_desk(login_as, redis):
    _funnel(redis)
    page = login_as("duty").get("/console/dashboard").get_data(as_text=True)
    assert "预警漏斗" in page and "50%" in page
    assert "<svg" in page


def test_dashboard_page_for_propaganda_has_no_alert_figures(login_as, redis):
    _funnel(redis)
    page = login_as("propaganda").get("/console/dashboard").get_data(as_text=True)
    assert "预警漏斗" not in page and "关注与绑定" in page


def test_dashboard_reads_counters_only_with_a_million_followers_counted(login_as, redis):
    # The gauges say a million; no follower record is read and nothing is scanned, so the page
    # costs the same with ten or a million (timed in benchmarks/console_speed.py).
    redis.hset(keys.registration_stats(), mapping={"followers": 1_000_000, "bound": 640_000})
    directory = FollowerDirectory(redis, None)  # type: ignore[arg-type]
    for index in range(20):
        directory.save(Follower(f"oDASHBOARD{index:018d}", True, 0, "o1", "c1", ""))
    client = login_as("admin")
    with watch_commands(redis) as watch:
        data = client.get("/api/v1/dashboard").get_json()
        redis.echo("dashboard-request-done")
        commands = watch.until(lambda c: "dashboard-request-done" in c, "the marker")[:-1]
    assert data["totals"] == {"followers": 1_000_000.0, "bound": 640_000.0}
    follower_records = keys.follower_records_bucket(0).split("{")[0]
    assert commands and not [c for c in commands if follower_records in c]
    scans = {"SCAN", "KEYS", "HSCAN", "SSCAN", "ZSCAN", "SMEMBERS", "HKEYS"}
    assert not [c for c in commands if c.split()[0].upper() in scans]


def test_bar_chart_escapes_station_names():
    svg = charts.bar_chart([("<script>", 3)], "t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_charts_say_when_there_is_no_data():
    assert "暂无" in charts.funnel_chart([("收到", 0)], "t")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_endpoint_exposes_queue_gauges_read_at_scrape_time(client, redis, config):
    queue = DurableQueue(redis, "warnings", config.queue)
    queue.ensure_group()
    queue.enqueue("warning.deliver", {"alert": "a1"})
    queue.read("test-consumer", block_ms=0)  # taken, not acknowledged: still in the queue
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = _samples(response.get_data(as_text=True))
    assert samples[("endfraud_queue_depth", (("queue", "warnings"),))] == 1
    assert samples[("endfraud_queue_dead_letters", (("queue", "broadcasts"),))] == 0
    assert samples[("endfraud_redis_up", ())] == 1


def test_metrics_endpoint_has_help_and_type_lines_for_every_family(client):
    text = client.get("/metrics").get_data(as_text=True)
    families = [f for f in text_string_to_metric_families(text) if f.name.startswith("endfraud_")]
    assert families
    for family in families:
        exposed = family.name + ("_total" if family.type == "counter" else "")
        assert f"# HELP {exposed} " in text and f"# TYPE {exposed} {family.type}" in text


def test_metrics_count_requests_by_route_template_not_raw_path(client):
    before = _samples(client.get("/metrics").get_data(as_text=True))
    client.get("/articles/no-such-article-1")
    client.get("/articles/no-such-article-2")
    after = _samples(client.get("/metrics").get_data(as_text=True))
    key = ("endfraud_http_request_duration_seconds_count", (("route", "/articles/<article_id>"),))
    assert after[key] - before.get(key, 0) == 2
    assert not any("no-such-article" in str(labels) for _, labels in after)


def test_tallies_spread_over_shards_and_sum_back(redis):
    for _ in range(200):
        tallies.add(redis, "alerts_received_total")
    assert len(redis.keys("tally:*")) > 1  # no single hot key
    assert tallies.snapshot(redis)["alerts_received_total"] == 200


def test_tallies_work_on_a_cluster(cluster_redis):
    for value in (0.2, 0.4, 700.0):
        tallies.observe(cluster_redis, "alerts_warning_latency_seconds", value)
    tallies.add(cluster_redis, "alerts_escalated_total", 3)
    values = tallies.snapshot(cluster_redis)
    assert values["alerts_escalated_total"] == 3
    assert values['alerts_warning_latency_seconds_bucket{le="0.25"}'] == 1
    assert values['alerts_warning_latency_seconds_bucket{le="300.0"}'] == 2
    assert values['alerts_warning_latency_seconds_bucket{le="+Inf"}'] == 3
    assert values["alerts_warning_latency_seconds_count"] == 3


def test_console_pages_carry_security_headers(login_as):
    response = login_as("admin").get("/console/dashboard")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_metrics_token_when_configured_is_required(redis, redis_url):
    from app import create_app
    from tests.conftest import make_config

    config = make_config(redis_url, console={"metrics_token": "scrape-secret-123"})
    client = create_app(config, redis).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert answer.status_code == 200
    assert "endfraud_" in answer.get_data(as_text=True)


def test_metrics_token_refuses_a_non_ascii_header_without_an_error(redis, redis_url):
    from app import create_app
    from tests.conftest import make_config

    config = make_config(redis_url, console={"metrics_token": "scrape-secret-123"})
    client = create_app(config, redis).test_client()
    for header in ("Bearer 密钥", "Bearer scrape-secret-123\u00e9", "Bearer \udcff"):
        environ = {"HTTP_AUTHORIZATION": header.encode("utf-8", "surrogateescape")
                   .decode("latin-1")}
        assert client.get("/metrics", environ_overrides=environ).status_code == 401


def test_a_non_ascii_metrics_token_matches_its_utf8_bytes_on_the_wire(redis, redis_url):
    from app import create_app
    from tests.conftest import make_config

    config = make_config(redis_url, console={"metrics_token": "令牌-scrape-secret"})
    client = create_app(config, redis).test_client()
    wire = "Bearer 令牌-scrape-secret".encode().decode("latin-1")  # as WSGI passes it
    assert client.get("/metrics", environ_overrides={"HTTP_AUTHORIZATION": wire}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer 令牌"}).status_code == 401
