"""Transcribe the exact messages DSPy's adapter tests expect into golden files.

Usage: python3 extract.py <dspy checkout> <commit>

Reads tests/adapters/test_chat_adapter.py and test_json_adapter.py at the
given commit of stanfordnlp/dspy (git show), evaluates the literal that each
listed test compares the formatted messages with (ast.literal_eval: nothing
from DSPy is executed), and the keyword arguments it expects the LM to get
(expected_lm_kwargs, when the test has it), and writes one JSON file per
test case. The Go test
(adapter/dspy_golden_test.go) rebuilds each case's signature, demos and
inputs in Go and checks the messages byte for byte.
"""
import ast
import json
import subprocess
import sys

repo, commit = sys.argv[1], sys.argv[2]

CASES = {
    "tests/adapters/test_chat_adapter.py": [
        "test_chat_adapter_format_exact_messages_for_simple_signature",
        "test_chat_adapter_format_exact_messages_with_demo_and_typed_outputs",
        "test_chat_adapter_format_exact_messages_with_nested_pydantic_models",
        "test_chat_adapter_format_exact_messages_with_incomplete_demo",
        "test_chat_adapter_format_exact_messages_with_list_value_for_string_input",
        "test_chat_adapter_format_exact_messages_with_literal_output",
        "test_chat_adapter_format_exact_messages_with_history",
        "test_chat_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image",
        "test_chat_adapter_format_exact_messages_preserves_passthrough_lm_kwargs",
        "test_chat_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling",
        "test_chat_adapter_format_exact_messages_with_tool_input",
        "test_chat_adapter_format_exact_messages_with_non_native_tool_history",
        "test_format_system_message",
    ],
    "tests/adapters/test_json_adapter.py": [
        "test_json_adapter_format_exact_messages_for_simple_signature",
        "test_json_adapter_format_exact_messages_with_demo_and_typed_output",
        "test_json_adapter_format_exact_messages_with_described_and_bool_outputs",
        "test_json_adapter_format_exact_messages_with_int_and_mapping_outputs",
        "test_json_adapter_format_exact_messages_with_literal_and_enum_outputs",
        "test_json_adapter_format_exact_messages_with_nested_pydantic_output",
        "test_json_adapter_format_exact_messages_with_incomplete_demo",
        "test_json_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image",
        "test_json_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling",
        "test_json_adapter_format_exact_messages_with_tool_calls_output_demo",
        "test_format_system_message",
    ],
}


def lm_kwargs(fn):
    """The LM keyword arguments the test expects (`expected_lm_kwargs =
    {...}`), or None when it checks none."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "expected_lm_kwargs":
                return ast.literal_eval(node.value)
    return None


def expected(fn):
    """The literal the test compares with: `assert messages == [...]`,
    `expected_messages = [...]` or `expected_system_message = "..."`."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("expected_messages", "expected_system_message"):
                return ast.literal_eval(node.value)
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare):
            left = node.test.left
            if isinstance(left, ast.Name) and left.id == "messages" and isinstance(node.test.comparators[0], ast.List):
                return ast.literal_eval(node.test.comparators[0])
    raise SystemExit(f"no expected literal in {fn.name}")


for path, names in CASES.items():
    src = subprocess.run(["git", "-C", repo, "show", f"{commit}:{path}"], check=True, capture_output=True, text=True).stdout
    tree = ast.parse(src)
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    adapter = "chat" if "chat" in path else "json"
    for name in names:
        want = expected(funcs[name])
        if isinstance(want, str):
            want = [{"role": "system", "content": want}]
        out = {
            "dspy_repo": "stanfordnlp/dspy",
            "dspy_commit": commit,
            "dspy_file": path,
            "dspy_test": name,
            "dspy_line": funcs[name].lineno,
            "adapter": adapter,
            "messages": want,
        }
        kwargs = lm_kwargs(funcs[name])
        if kwargs is not None:
            out["lm_kwargs"] = kwargs
        short = name.removeprefix('test_').removeprefix(adapter + '_adapter_').removeprefix('format_exact_messages_')
        short = short.removeprefix('and_lm_kwargs_').removeprefix('format_exact_')
        fname = f"{adapter}_{short}.json"
        with open(fname, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(fname)
