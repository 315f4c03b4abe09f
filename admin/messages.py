"""Every user-facing text of the 管理 tab and its actions (Chinese), in one place."""

from __future__ import annotations

from bot import llm

# --- login, uploads, re-indexing, removal, collections ---
MSG_DISABLED = "管理功能未启用：服务器没有设置管理员密码。"
MSG_LOGIN_REQUIRED = "请先登录管理员账号（登录可能已过期，请重新登录）。"
MSG_WRONG_PASSWORD = "密码错误"
MSG_EMPTY_PASSWORD = "请输入管理员密码。"
MSG_LOGGED_IN = "已登录，可以管理资料库。"
MSG_LOGGED_OUT = "已退出登录。"
MSG_UNKNOWN_COLLECTION = "没有名为“{name}”的资料库。"
MSG_NO_FILES = "请先选择要上传的文件。"
MSG_BAD_NAME = "文件名无效（去掉路径和特殊字符后为空），未上传。"
MSG_LOCK_FILE = "这是 Office 的临时文件（以 ~$ 开头），不是文档，未上传。"
MSG_BAD_TYPE = "不支持的文件类型“{ext}”，只能上传 {allowed} 文件。"
MSG_TOO_BIG = "文件太大（{size}），超过了 {limit} 的上传上限，未上传。"
MSG_EMPTY_FILE = "文件是空的（0 字节），未上传。"
MSG_UNREADABLE = "无法读取上传的文件，请重新上传。"
MSG_DUPLICATE = "与同一批中的另一个文件同名（{name}），未上传。"
MSG_REPLACED = "已替换同名的旧文件"
MSG_SAME = "与资料库中的版本相同"
MSG_NOT_SAVED = "，文件未保存"
MSG_SYNC_REMOVED = "文件已不在文件夹中，已从资料库移除"
MSG_NO_FOLDER = "请输入服务器上的文件夹路径。"
MSG_FOLDER_MISSING = "服务器上找不到这个路径：{path}"
MSG_FOLDER_RELATIVE = "请输入完整路径（以 / 开头），例如 /data/讲话稿。"
MSG_FOLDER_NOT_ALLOWED = ("只能索引以下文件夹中的内容：{roots}。“{path}”不在其中，未索引。"
                          "（服务器管理员可以用 SPEECHQA_REINDEX_ROOTS 设置允许的文件夹。）")
MSG_OTHER_SOURCE = ("资料库中已有同名文档“{doc_id}”，它来自另一个文件夹或上传，未替换。"
                    "如需替换，请先删除资料库中的这份文档。")
MSG_SYNC_EMPTY = "这个路径下没有可索引的文件；为避免清空资料库，没有执行同步删除。"
MSG_INDEX_ERROR = "索引时出错，已中止：{error}"
MSG_NO_DOC = "请先选择要删除的文档。"
MSG_DOC_MISSING = "没有找到这份文档（{doc_id}），它可能已被删除。"
MSG_REMOVED = "已删除文档：{title}（{doc_id}），之后的回答不会再引用它。"
MSG_DOCS = "资料库“{name}”共有 {n} 份文档。"
MSG_COLLECTION_EXISTS = "资料库“{name}”已经存在。"
MSG_COLLECTION_CREATED = "已新建资料库“{name}”，现在可以向它上传文件。"
MSG_COLLECTION_EMPTY_NAME = "请输入新资料库的名称。"
MSG_COLLECTION_BAD_NAME = "资料库名称不能包含路径符号或特殊字符，不能以“.”开头，长度不超过 {n} 个字。"
MSG_DONE = "{action}完成：已索引 {indexed} 个，未变化 {unchanged} 个，失败 {failed} 个{removed}，用时 {seconds:.1f} 秒。"
ACTION_UPLOAD = "上传"
ACTION_REINDEX = "重新索引"
STATUS_LABELS = {"indexed": "已索引", "unchanged": "未变化", "failed": "失败", "removed": "已移除"}
REPORT_HEADERS = ["文件", "状态", "段落数", "说明"]
DOC_HEADERS = ["标题", "日期", "段落数", "文档编号"]

# --- answering settings ---
MSG_RUNTIME_ONLY = "仅对当前运行的服务生效，重启后恢复为配置文件中的设置。"
MSG_BAD_MODE = "未知的回答方式“{mode}”，请选择：摘录、本地模型或 OpenAI 兼容服务。"
MSG_BAD_URL = "服务地址必须以 http:// 或 https:// 开头并包含主机名，例如 http://127.0.0.1:8080/v1。"
MSG_URL_TOO_LONG = "服务地址太长（超过 {n} 个字符）。"
MSG_URL_CREDENTIALS = "服务地址中不要包含用户名或密码，密钥请填在“API 密钥”一栏。"
MSG_NEED_URL = "选择“OpenAI 兼容服务”时必须填写服务地址，例如 http://127.0.0.1:8080/v1。"
MSG_BAD_MODEL = "模型名称不能包含控制字符，长度不超过 {n} 个字符。"
MSG_BAD_KEY = "API 密钥不能包含空格或控制字符，长度不超过 {n} 个字符。"
MSG_NEED_TIMEOUT = "请填写时间限制（秒）。"
MSG_BAD_TIMEOUT = "时间限制必须是 {lo:g} 到 {hi:g} 之间的秒数。"
MSG_NO_OPENAI = "未安装 langchain-openai，无法使用 OpenAI 兼容服务。" + llm.INSTALL_HINT
MSG_NO_LLAMACPP = "未安装 llama-cpp-python 或 langchain-community，无法使用本地模型。" + llm.INSTALL_HINT
MSG_ANSWER_NOW = "当前生效的回答设置：\n{summary}"
MSG_ANSWER_SAVED = "已保存。之后提出的新问题按以下设置回答（{note}）：\n{summary}"
MSG_PROBE_EXTRACTIVE = "摘录方式不使用模型，不需要测试连接。"
MSG_PROBE_OK = "测试成功：{name}在 {s:.1f} 秒内开始回复。（测试不会保存设置。）"
MSG_PROBE_FAILED = "测试失败：{reason}"
MSG_PROBE_TIMEOUT = "模型在 {s:g} 秒内没有回复（服务可能正忙，或模型在这台机器上太慢）。"
MSG_PROBE_CONNECT = "无法连接到 {url}（服务没有运行、地址或端口不对，或被防火墙拦截）。"
MSG_PROBE_AUTH = "服务拒绝了请求（HTTP {code}），请检查 API 密钥。"
MSG_PROBE_NOT_FOUND = "服务返回 HTTP 404：请检查服务地址（通常以 /v1 结尾）和模型名称。"
MSG_PROBE_HTTP = "服务返回错误（HTTP {code}）。"
MSG_PROBE_ERROR = "{kind}：{detail}"
KEY_SET = "已设置"
KEY_UNSET = "未设置"
PACKAGED_MODEL = "随软件提供的 Qwen2.5-Coder-1.5B"
