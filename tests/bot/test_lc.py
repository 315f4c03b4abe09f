"""The LangChain adapters (bot/lc.py) over a real archive: the two seed speeches in a real Chroma store,
embedded with the real packaged model (`seed_qa` in tests/conftest.py).

`TestArchiveRetrieverStandard` is LangChain's own standard retriever suite (`langchain-tests`), unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from bot import verify
from bot.lc import ArchiveRetriever, build_rag_chain, citation_document, document_citation
from bot.qa import QA, REFUSAL

QUESTION = "会议决定5月的工作重点是什么？"  # answered by seed_000.txt
UNANSWERED = "2019年全国国防支出预算比上年增长了多少？"  # the archive holds nothing about it


@pytest.mark.anyio  # runs the suite's async test (anyio's plugin, on asyncio); the sync tests are unaffected
class TestArchiveRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _archive(self, seed_qa: QA) -> None:
        self.qa = seed_qa

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return ArchiveRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"qa": self.qa}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


def test_k_per_call_leaves_the_retrievers_own_k(seed_qa: QA) -> None:
    retriever = ArchiveRetriever(qa=seed_qa, k=2)
    assert len(retriever.invoke(QUESTION, k=1)) == 1
    assert len(retriever.invoke(QUESTION, k=4)) == 4
    docs = retriever.invoke(QUESTION)
    assert len(docs) == 2
    assert docs[0].metadata["doc_id"] == "seed_000.txt" and "5月的工作重点" in docs[0].page_content
    assert len(ArchiveRetriever(qa=seed_qa).invoke(QUESTION)) == seed_qa.settings.top_k


def test_refused_question_gets_no_documents_unless_refusal_is_off(seed_qa: QA) -> None:
    assert ArchiveRetriever(qa=seed_qa).invoke(UNANSWERED, k=3) == []
    assert len(ArchiveRetriever(qa=seed_qa, apply_refusal=False).invoke(UNANSWERED, k=3)) == 3


def test_documents_carry_their_citations(seed_qa: QA) -> None:
    cits = seed_qa.citations(seed_qa.retrieve(QUESTION, 3))
    docs = ArchiveRetriever(qa=seed_qa).invoke(QUESTION, k=3)
    assert [document_citation(d) for d in docs] == cits
    assert [citation_document(c) for c in cits] == docs
    assert docs[0].metadata["start"] < docs[0].metadata["end"] and "text" not in docs[0].metadata


def test_rag_chain_answers_checked_and_refuses_without_calling_the_model(seed_qa: QA) -> None:
    verify.COUNTERS.reset()
    retriever = ArchiveRetriever(qa=seed_qa)
    good = "5月的工作重点是集中力量解决道路停车设施不能满足群众需求等突出问题[1]。"
    out = build_rag_chain(retriever, FakeListChatModel(responses=[good]), counters=None).invoke(QUESTION)
    assert (out["path"], out["answer"]) == ("generated_kept", good)
    assert out["citations"][0].doc_id == "seed_000.txt"
    invented = "5月的工作重点是整治80处停车场[1]。"
    out = build_rag_chain(retriever, FakeListChatModel(responses=[invented]), counters=None).invoke(QUESTION)
    assert out["path"] == "fallback_extractive" and out["answer"].endswith("[1]") and "80" not in out["answer"]
    # the model would fail if it were called
    refused = build_rag_chain(retriever, FakeListChatModel(responses=[]), counters=None).invoke(UNANSWERED)
    assert (refused["path"], refused["answer"], refused["citations"]) == ("fallback_refusal", REFUSAL, [])
