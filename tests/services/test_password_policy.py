"""The password policy refuses the most common passwords and the user's own name."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from runtime.services.accounts.passwords import common_passwords
from runtime.services.accounts.service import AccountService, PasswordPolicyError

LIST = Path(__file__).resolve().parents[2] / "resources" / "common_passwords.txt.gz"


@pytest.fixture
def accounts(workspace):
    return AccountService(workspace)


def test_the_shipped_list_holds_ten_thousand_passwords():
    words = gzip.decompress(LIST.read_bytes()).decode("utf-8").splitlines()
    assert len(words) == len(set(words)) == 10_000
    assert words[:3] == ["123456", "password", "12345678"]
    assert common_passwords() == frozenset(words)


@pytest.mark.parametrize(
    "password",
    ["password", "Password", "PASSWORD", "password1", "iloveyou", "12345678", "qwerty123"],
)
def test_common_passwords_are_refused(accounts, password):
    with pytest.raises(PasswordPolicyError, match="among the most common"):
        accounts.check_password(password, "zhang.wei")


@pytest.mark.parametrize(
    "password", ["zhang.wei", "ZHANG.WEI", " zhang.wei ", "iew.gnahz", "IEW.GNAHZ"]
)
def test_the_user_name_and_its_reverse_are_refused(accounts, password):
    with pytest.raises(PasswordPolicyError, match="user name"):
        accounts.check_password(password, "Zhang.Wei")


def test_an_uncommon_password_is_accepted(accounts):
    accounts.check_password("ward 3 night shift", "zhang.wei")
    assert accounts.password_problems("correct horse 9", "zhang.wei") == []
