"""LangChain adapters over an archive, for use in any LangChain pipeline (the product path is `bot.qa`).

- `ArchiveRetriever`: a `BaseRetriever` over `QA`'s hybrid retrieval and its refusal rule; `k` per
  retriever or per call (`retriever.invoke(question, k=1)`);
- `build_rag_chain(retriever, model)`: retriever -> prompt -> model -> check, all one Runnable.

Each document's metadata holds its `Citation` fields (n, doc_id, title, date, start, end...), so
`document_citation` turns it back into the Citation the rest of the bot works with.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from pydantic import ConfigDict

from bot import verify
from bot.chain import build_answer_chain, format_passages, model_passages
from bot.qa import QA, REFUSAL
from bot.types import Citation
from core.zh import sentences
from vectorstore.retrieval import Mode


def citation_document(c: Citation) -> LCDocument:
    meta = c.to_dict()
    meta.pop("text")
    return LCDocument(page_content=c.text, metadata=meta)


def document_citation(d: LCDocument) -> Citation:
    return Citation(text=d.page_content, **d.metadata)


class ArchiveRetriever(BaseRetriever):
    """LangChain retriever over `QA`'s hybrid retrieval: at most `k` documents (the settings' `top_k` when
    None), the best first. With `apply_refusal`, a question the refusal rule turns down gets none."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    qa: QA
    k: int | None = None
    where: dict[str, str] | None = None
    mode: Mode = "hybrid"
    apply_refusal: bool = True

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[LCDocument]:
        retrieval = self.qa.retrieve(query, k if k is not None else self.k, self.where, self.mode)
        if self.apply_refusal and self.qa.should_refuse(retrieval):
            return []
        return [citation_document(c) for c in self.qa.citations(retrieval)]


def build_rag_chain(retriever: BaseRetriever, model: Any, refusal: str = REFUSAL,
                    counters: verify.Counters | None = verify.COUNTERS) -> Runnable[str, dict[str, Any]]:
    """question -> {"answer", "path", "citations", "generated"}. No documents (the retriever refused) -> the
    refusal; otherwise the checked answer, or the passages' first sentence cited [1] when nothing generated
    survives the check."""

    def prepare(x: dict[str, Any]) -> dict[str, Any]:
        cits = [document_citation(d) for d in x["docs"]]
        texts, heads = model_passages(cits)
        return {**x, "citations": cits, "texts": texts, "headers": heads, "passages": format_passages(texts, heads)}

    def settle(x: dict[str, Any]) -> dict[str, Any]:
        if not x["citations"]:
            v = verify.check_answer("", [], "", refused=True, refusal=refusal, counters=counters)
        else:
            first = next(iter(sentences(x["texts"][0])), x["texts"][0])
            v = verify.check_answer(x["generated"], x["texts"], f"{first.strip()}[1]", headers=x["headers"],
                                    counters=counters, question=str(x.get("question", "")))
        return {"answer": v.text, "path": v.path, "citations": x["citations"], "generated": x["generated"]}

    def generate(x: dict[str, Any]) -> str:
        return build_answer_chain(model).invoke(x) if x["citations"] else ""

    return (
        {"question": RunnablePassthrough(), "docs": retriever}
        | RunnableLambda(prepare)
        | RunnablePassthrough.assign(generated=RunnableLambda(generate))
        | RunnableLambda(settle)
    )
