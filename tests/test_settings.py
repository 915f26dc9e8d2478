"""One typed settings object: arguments, then PAINPOINTS_* variables, then painpoints.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from painpoints.discovery.settings import llm_configured, load_settings


def test_toml_env_and_arguments_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "painpoints.toml"
    toml.write_text(
        "min_theme_size = 15\noutlier_threshold = 0.5\nsource_weights = { app_store = 1.0, enterprise_tickets = 3.0 }\n"
    )
    monkeypatch.setenv("PAINPOINTS_CONFIG", str(toml))
    s = load_settings()
    assert s.min_theme_size == 15 and s.outlier_threshold == 0.5
    assert s.source_weights == {"app_store": 1.0, "enterprise_tickets": 3.0}
    monkeypatch.setenv("PAINPOINTS_OUTLIER_THRESHOLD", "0.4")
    assert load_settings().outlier_threshold == 0.4
    assert load_settings(min_theme_size=8, db=None).min_theme_size == 8  # None never masks env/toml


def test_llm_is_configured_the_openai_clients_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert not llm_configured()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    assert llm_configured()


@pytest.mark.slow
def test_prefect_yaml_deploys_the_nightly_flow_on_the_default_schedule() -> None:
    import yaml
    from prefect.utilities.importtools import import_object

    from painpoints.discovery.settings import Settings

    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "prefect.yaml").read_text())
    (deployment,) = spec["deployments"]
    flow = import_object(deployment["entrypoint"])  # as a Prefect worker loads it
    assert flow.name == deployment["name"] == "painpoints-nightly"
    assert deployment["schedules"][0]["cron"] == Settings.model_fields["schedule_cron"].default
