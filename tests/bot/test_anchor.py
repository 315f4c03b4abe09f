"""`bot.anchor` through `QA.anchored`: every unit of an answer lies in the passage its [n] cites (the two
seed speeches, real index; the citations are built by hand around chosen offsets so that each branch is
reached)."""

from __future__ import annotations

import dataclasses

from bot.types import Citation, Unit


def _sentence_at(text: str, pos: int) -> tuple[int, int]:
    """The sentence ("。"-ended) that begins after the first "。" at or after `pos`."""
    start = text.index("。", pos) + 1
    while text[start].isspace():
        start += 1
    return start, text.index("。", start) + 1


def _citation(n: int, doc_id: str, text: str, start: int, end: int) -> Citation:
    return Citation(n=n, doc_id=doc_id, source=doc_id, title="t", date="", speaker="", text=text[start:end],
                    start=start, end=end, score=1.0, hit_start=start, hit_end=end)


def _unit(n: int, doc_id: str, text: str, span: tuple[int, int]) -> Unit:
    return Unit(n=n, doc_id=doc_id, start=span[0], end=span[1], text=text[span[0]:span[1]], role="sentence")


def _setup(seed_qa):  # noqa: ANN001, ANN202
    doc = "seed_004.txt"
    text = seed_qa.retriever.texts()[doc]
    near = _sentence_at(text, 100)
    far = _sentence_at(text, 2400)  # farther from `near` than a citation may grow (1,200 + 2 × 200)
    assert far[0] - near[1] > seed_qa.settings.max_citation_chars + 2 * seed_qa.settings.context_chars
    return doc, text, near, far


def test_a_citation_whose_units_all_lie_elsewhere_cites_the_passage_around_them(seed_qa) -> None:  # noqa: ANN001
    doc, text, near, far = _setup(seed_qa)
    cits = [_citation(1, doc, text, 0, 600), _citation(2, doc, text, 1000, 1500)]
    out, units = seed_qa.anchored(cits, [_unit(1, doc, text, far)])
    assert len(out) == 2 and units[0].n == 1
    c = out[0]
    assert c.start <= far[0] and far[1] <= c.end and c.text == text[c.start:c.end]
    assert (c.hit_start, c.hit_end) == far  # the unit is what the citation highlights
    assert out[1] == cits[1]


def test_a_unit_far_from_its_citations_other_units_gets_a_citation_of_its_own(seed_qa) -> None:  # noqa: ANN001
    doc, text, near, far = _setup(seed_qa)
    cits = [_citation(1, doc, text, 0, 600), _citation(2, doc, text, 1000, 1500)]
    out, units = seed_qa.anchored(cits, [_unit(1, doc, text, near), _unit(1, doc, text, far)])
    assert out[:2] == cits  # the passage holding the first unit is kept as it was
    assert len(out) == 3 and [u.n for u in units] == [1, 3]
    assert out[2].n == 3 and out[2].start <= far[0] and far[1] <= out[2].end and out[2].doc_id == doc


def test_a_unit_another_citation_holds_is_cited_to_that_one(seed_qa) -> None:  # noqa: ANN001
    doc, text, near, far = _setup(seed_qa)
    cits = [_citation(1, doc, text, 0, 600), _citation(2, doc, text, far[0] - 50, far[1] + 50)]
    out, units = seed_qa.anchored(cits, [_unit(1, doc, text, near), _unit(1, doc, text, far)])
    assert out == cits and [u.n for u in units] == [1, 2]


def test_a_list_running_on_past_its_passage_grows_the_citation(seed_qa) -> None:  # noqa: ANN001
    doc, text, near, _ = _setup(seed_qa)
    after = _sentence_at(text, 700)  # a little past the passage's end
    cits = [_citation(1, doc, text, 0, 600)]
    out, units = seed_qa.anchored(cits, [_unit(1, doc, text, near), _unit(1, doc, text, after)])
    assert len(out) == 1 and [u.n for u in units] == [1, 1]
    assert out[0].start == 0 and out[0].end >= after[1] and out[0].text == text[: out[0].end]
    assert (out[0].hit_start, out[0].hit_end) == (0, 600)


def test_units_inside_their_citations_change_nothing(seed_qa) -> None:  # noqa: ANN001
    doc, text, near, _ = _setup(seed_qa)
    cits = [_citation(1, doc, text, 0, 600)]
    units = [_unit(1, doc, text, near)]
    assert seed_qa.anchored(cits, units) == (cits, units)


def test_every_unit_of_an_answer_lies_in_the_passage_its_number_cites(seed_qa) -> None:  # noqa: ANN001
    for q in ("会议决定5月的工作重点是什么？", "政策预判要做到哪三不当？", "区长强调了哪几点工作规范？"):
        ans = seed_qa.ask(q)
        by_n = {c.n: c for c in ans.citations}
        for u in ans.units:
            c = by_n[u.n]
            assert c.doc_id == u.doc_id and c.start <= u.start and u.end <= c.end, (q, u)
            assert dataclasses.asdict(c)["text"] == seed_qa.retriever.texts()[c.doc_id][c.start:c.end]
