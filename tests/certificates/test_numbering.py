"""Certificate numbers: a board clerk who mistypes one is told so, not "no such certificate"."""

from __future__ import annotations

import pytest

from certificates import numbering


def test_a_new_number_is_sixteen_symbols_in_four_groups_and_checks_out():
    for _ in range(200):
        number = numbering.new_number()
        assert len(number) == 19 and number.count("-") == 3
        assert numbering.normalise(number) == number


def test_every_single_mistyped_symbol_is_caught():
    number = numbering.new_number().replace("-", "")
    for position in range(len(number)):
        for symbol in numbering.ALPHABET:
            if symbol == number[position]:
                continue
            typo = number[:position] + symbol + number[position + 1 :]
            assert not numbering.is_well_formed(typo), typo


def test_swapping_two_neighbours_is_caught_except_zero_and_z():
    missed = []
    for _ in range(50):
        number = numbering.new_number().replace("-", "")
        for i in range(len(number) - 1):
            a, b = number[i], number[i + 1]
            if a == b:
                continue
            swapped = number[:i] + b + a + number[i + 2 :]
            if numbering.is_well_formed(swapped):
                missed.append({a, b})
    assert all(pair == {"0", "Z"} for pair in missed)


def test_case_spaces_hyphens_and_look_alikes_do_not_matter():
    number = numbering.new_number()
    sloppy = number.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert numbering.normalise(f"  {sloppy} ") == number


def test_a_wrong_check_character_is_explained():
    number = numbering.new_number()
    last = number[-1]
    wrong = numbering.ALPHABET[(numbering.ALPHABET.index(last) + 1) % 32]
    with pytest.raises(numbering.NumberMistyped) as caught:
        numbering.normalise(number[:-1] + wrong)
    assert "typing mistake" in str(caught.value)
    assert "check character" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ABC", "not 16"),
        ("7K3M-9QXD-2HPA-4RT!", "contains !"),
        ("UUUU-UUUU-UUUU-UUUU", "contains U"),
    ],
)
def test_malformed_numbers_say_what_is_wrong(text, message):
    with pytest.raises(numbering.NumberMistyped) as caught:
        numbering.normalise(text)
    assert message in str(caught.value)
