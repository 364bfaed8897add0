"""AWARD_JURY_STORAGE_URL: which storage the settings name, and the AWS_* variables kept for S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from award_jury.entries.storage import LocalStorage, S3Storage, storage_for
from award_jury.errors import StorageUnavailableError
from award_jury.settings import Settings, SettingsError, parse_storage_url


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        (None, ("file", "", "")),
        ("", ("file", "", "")),
        ("file:///srv/award%20files", ("file", "/srv/award files", "")),
        ("file://localhost/srv/files", ("file", "/srv/files", "")),
        ("s3://bucket", ("s3", "bucket", "")),
        ("S3://bucket/a/b/", ("s3", "bucket", "a/b")),
    ],
)
def test_a_storage_url_names_a_folder_or_a_bucket_and_prefix(url: str | None, parsed: tuple[str, str, str]) -> None:
    assert parse_storage_url(url) == parsed


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/srv/files", "must start with file:// or s3://"),
        ("gs://bucket/x", "must start with file:// or s3://"),
        ("file://otherhost/srv", "names a local folder"),
        ("s3:///prefix-without-bucket", "looks like s3://bucket/prefix"),
        ("s3://bucket/x?versionId=1", "looks like s3://bucket/prefix"),
    ],
)
def test_a_wrong_storage_url_is_a_settings_error_naming_the_forms(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"AWARD_JURY_DATA_DIR": str(tmp_path), "AWARD_JURY_STORAGE_URL": url})


def test_the_aws_variables_are_kept_for_s3_and_never_shown(tmp_path: Path) -> None:
    env = {
        "AWARD_JURY_DATA_DIR": str(tmp_path),
        "AWARD_JURY_STORAGE_URL": "s3://files/award",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "award",
        "AWS_SECRET_ACCESS_KEY": "very-secret-value",
        "AWS_REGION": "eu-central-1",
        "HOME": "/root",
    }
    settings = Settings.from_env(env)
    assert dict(settings.storage_options) == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "award",
        "AWS_SECRET_ACCESS_KEY": "very-secret-value",
        "AWS_REGION": "eu-central-1",
    }
    assert "very-secret-value" not in repr(settings)
    storage = storage_for(settings)
    assert isinstance(storage, S3Storage) and storage.url == "s3://files/award"
    assert storage_for(settings) is storage  # one client per configuration and process


def test_without_a_storage_url_the_files_stay_under_the_data_dir(tmp_path: Path) -> None:
    storage = storage_for(Settings.from_env({"AWARD_JURY_DATA_DIR": str(tmp_path)}))
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "uploads"


def test_s3_settings_that_cannot_work_are_a_storage_error_that_says_why(tmp_path: Path) -> None:
    env = {
        "AWARD_JURY_DATA_DIR": str(tmp_path),
        "AWARD_JURY_STORAGE_URL": "s3://files/half-configured",
        "AWS_SECRET_ACCESS_KEY": "a secret without its key id",
    }
    with pytest.raises(StorageUnavailableError, match="s3://files/half-configured is not configured correctly"):
        storage_for(Settings.from_env(env))
