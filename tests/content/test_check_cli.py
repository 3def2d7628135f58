import io
import json

from content.check_cli import run_check


def run(lines: str) -> list[dict]:
    out = io.StringIO()
    run_check(io.StringIO(lines), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_plain_and_json_lines_each_give_one_result():
    results = run('你涉嫌洗钱，把钱转到安全账户\n{"text": "妈，我周六回家吃饭"}\n')
    assert [r["fraud"] for r in results] == [True, False]
    assert results[0]["fraud_type"] == "police"
    assert results[1]["fraud_type"] is None
    assert {"fraud", "fraud_type", "score", "reason", "level", "verdict"} <= set(results[0])
    assert results[0]["level"] == "high" and results[0]["verdict"] == "高度疑似诈骗"
    assert results[1]["level"] == "none" and results[1]["verdict"] == "未发现明显特征"


def test_empty_lines_are_skipped():
    assert len(run("\n  \n你好\n\n")) == 1


def test_bad_json_line_yields_error_object_and_processing_continues():
    results = run('{"text": oops}\n{"no_text": 1}\n你好\n')
    assert "error" in results[0] and results[0]["line"] == 1
    assert "error" in results[1]
    assert results[2]["fraud"] is False


def test_output_keeps_chinese_readable():
    out = io.StringIO()
    run_check(io.StringIO("你涉嫌洗钱，把钱转到安全账户\n"), out)
    assert "安全账户" in out.getvalue()


def test_the_command_fails_whenever_a_line_could_not_be_read_however_many():
    # The exit status is one byte: 256 bad lines used to exit 0, as if all went well.
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-m", "cli", "check"], input="{oops\n" * 256,
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.count('"error"') == 256
    assert done.returncode == 1
