"""Write INDEX.md: every test function of DSPy's tests/adapters/*.py and
where dspex transcribes it.

Usage: python3 index.py <dspy checkout> <commit>

Reads the test files at the commit (git show; nothing from DSPy is run),
lists their test functions with line numbers, and gives each the status
recorded below. A function without a status stops the script, so a new
DSPy version cannot be indexed without deciding each new test.
"""
import os
import re
import subprocess
import sys

repo, commit = sys.argv[1], sys.argv[2]
files=subprocess.run(["git","-C",repo,"ls-tree","--name-only",commit,"tests/adapters/"],capture_output=True,text=True,check=True).stdout.split()
G=lambda f: ("golden", f"`{f}`")
T=lambda n: ("go", f"`{n}`")
P=lambda n, why: ("partial", f"`{n}`; {why}")
N=lambda why: ("no", why)
S={
# chat
"test_chat_adapter_quotes_literals_as_expected": T("TestDSPyQuotesLiterals"),
"test_chat_adapter_sync_call": T("TestDSPySyncCall"),
"test_chat_adapter_async_call": T("TestDSPySyncCall (async twin: dspex has one Call)"),
"test_chat_adapter_format_exact_messages_for_simple_signature": G("chat_for_simple_signature.json"),
"test_chat_adapter_format_exact_messages_with_demo_and_typed_outputs": G("chat_with_demo_and_typed_outputs.json"),
"test_chat_adapter_format_exact_messages_with_nested_pydantic_models": G("chat_with_nested_pydantic_models.json"),
"test_chat_adapter_format_exact_messages_with_incomplete_demo": G("chat_with_incomplete_demo.json"),
"test_chat_adapter_format_exact_messages_with_history": G("chat_with_history.json"),
"test_chat_adapter_format_exact_messages_with_list_value_for_string_input": G("chat_with_list_value_for_string_input.json"),
"test_chat_adapter_format_exact_messages_with_literal_output": G("chat_with_literal_output.json"),
"test_chat_adapter_format_exact_messages_with_multimodal_custom_type_inputs": N("needs dspy.Audio, dspy.File and Document input types, which dspex does not have"),
"test_chat_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image": G("chat_with_history_demo_pydantic_tools_and_image.json"),
"test_chat_adapter_format_exact_messages_with_base_custom_type_input": N("a user-defined dspy.Type subclass with its own content parts; dspex has no custom-type hook"),
"test_chat_adapter_format_exact_messages_with_citations_output_demo": N("needs dspy.Citations"),
"test_chat_adapter_format_exact_messages_and_lm_kwargs_with_native_citations": N("needs dspy.Citations and Anthropic native citations"),
"test_chat_adapter_format_exact_messages_preserves_passthrough_lm_kwargs": G("chat_preserves_passthrough_lm_kwargs.json` + `TestDSPyPassthroughLMKwargs"),
"test_chat_adapter_format_exact_messages_and_lm_kwargs_with_native_reasoning": N("needs dspy.Reasoning and reasoning_effort"),
"test_chat_adapter_native_tool_calling_still_enables_native_reasoning": N("needs dspy.Reasoning"),
"test_chat_adapter_nonnative_strips_native_tool_kwargs": T("TestDSPyNonNativeStripsToolKwargs"),
"test_chat_adapter_format_exact_messages_with_reasoning_and_code_outputs": N("needs dspy.Reasoning and dspy.Code"),
"test_chat_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling": G("chat_with_native_tool_calling.json"),
"test_adapter_native_tool_calling_can_request_parallel_tool_calls": N("lm.Request has no parallel_tool_calls setting (lm/ is outside this task); parametrized over Chat, JSON and XML"),
"test_adapter_native_tool_calling_respects_lm_kwargs_parallel_tool_call_override": N("lm.Request has no parallel_tool_calls setting"),
"test_chat_adapter_native_tool_history_replay": P("TestDSPyNativeToolHistoryReplay", "DSPy's tool message also carries the tool's name; lm.Message has no such field (the call id identifies it)"),
"test_chat_adapter_native_tool_history_replays_parallel_tool_results": T("TestDSPyNativeToolHistoryParallelResults"),
"test_chat_adapter_native_tool_history_skips_empty_user_message": T("TestDSPyNativeToolHistorySkipsEmptyUserMessage"),
"test_chat_adapter_native_tool_history_skips_unmatched_tool_calls": T("TestDSPyNativeToolHistorySkipsUnmatchedToolCalls (its three parameters)"),
"test_chat_adapter_format_exact_messages_with_non_native_tool_history": G("chat_with_non_native_tool_history.json"),
"test_non_native_tool_history_remains_text_based": T("TestDSPyNonNativeToolHistory (both parameters)"),
"test_chat_adapter_format_accepts_custom_history_formatter_returning_messages_only": N("overrides format_conversation_history in a Python subclass; dspex adapters are not extended by subclassing"),
"test_chat_adapter_format_exact_messages_with_tool_input": G("chat_with_tool_input.json"),
"test_chat_adapter_format_exact_messages_kitchen_sink": N("needs dspy.Audio, dspy.File, Document and a custom dspy.Type"),
"test_chat_adapter_with_pydantic_models": T("TestDSPyPydanticModels"),
"test_chat_adapter_signature_information": T("TestDSPySignatureInformation"),
"test_chat_adapter_exception_raised_on_failure": T("TestDSPyChatExceptionOnFailure"),
"test_chat_adapter_formats_image": T("TestDSPyFormatsImage"),
"test_chat_adapter_formats_image_with_few_shot_examples": T("TestDSPyFormatsImageWithFewShotExamples"),
"test_chat_adapter_formats_image_with_nested_images": T("TestDSPyFormatsNestedImages"),
"test_chat_adapter_formats_image_with_few_shot_examples_with_nested_images": T("TestDSPyFormatsNestedImages"),
"test_chat_adapter_with_tool": T("TestDSPyWithTool"),
"test_chat_adapter_with_code": N("needs dspy.Code"),
"test_code_output_field_omits_json_schema_in_prompt": N("needs dspy.Code"),
"test_citations_output_field_keeps_json_schema_in_prompt": N("needs dspy.Citations"),
"test_chat_adapter_formats_conversation_history": T("TestDSPyFormatsConversationHistory"),
"test_chat_adapter_fallback_to_json_adapter_on_exception": T("TestDSPyChatFallbackToJSON"),
"test_chat_adapter_fallback_preserves_native_function_calling_flag": T("TestDSPyFallbackPreservesNativeFunctionCalling"),
"test_chat_adapter_respects_use_json_adapter_fallback_flag": T("TestDSPyChatRespectsNoJSONFallback"),
"test_chat_adapter_fallback_to_json_adapter_on_exception_async": T("TestDSPyChatFallbackToJSON (async twin)"),
"test_chat_adapter_async_fallback_preserves_native_function_calling_flag": T("TestDSPyFallbackPreservesNativeFunctionCalling (async twin)"),
"test_chat_adapter_toolcalls_native_function_calling": T("TestDSPyToolCallsNativeFunctionCalling"),
"test_chat_adapter_toolcalls_vague_match": P("TestDSPyToolCallsVagueMatch", "its first reply lacks a closing brace that json_repair adds; dspex does not repair brackets and the test pins the error"),
"test_chat_adapter_native_reasoning": N("needs dspy.Reasoning"),
"test_chat_adapter_parses_float_with_underscores": T("TestDSPyFloatWithUnderscores"),
"test_format_system_message": None, # per file
"test_null_content_raises_adapter_parse_error": T("TestDSPyEmptyContentRaises"),
"test_empty_string_content_raises_adapter_parse_error": T("TestDSPyEmptyContentRaises"),
"test_tool_call_with_null_or_missing_content_does_not_raise": T("TestDSPyProviderToolCalls (both parameters)"),
"test_responses_model_native_tool_calling_round_trips_tool_only_output": N("OpenAI Responses API; dspex's lm speaks Chat Completions and Anthropic Messages"),
"test_tool_call_with_unstructured_content_does_not_raise": P("TestDSPyProviderToolCalls", "the tool-call half; its next_thought is a dspy.Reasoning from reasoning_content"),
"test_tool_call_with_structured_content_preserves_other_outputs": T("TestDSPyProviderToolCalls"),
"test_provider_tool_calls_preserve_id_and_repair_arguments": T("TestDSPyProviderToolCalls"),
"test_missing_optional_output_fields_fall_back_to_defaults": None,
"test_output_field_default_is_overridden_by_lm_response": T("TestDSPyOutputsFromReply"),
"test_missing_required_output_field_still_raises": T("TestDSPyMissingOutputsWithoutDefaults"),
"test_optional_type_syntax_output_fields_fall_back_to_defaults": T("TestDSPyOptionalOutputs (no defaults: the missing optional is None)"),
"test_optional_type_syntax_missing_required_output_field_still_raises": T("TestDSPyOptionalOutputs"),
# json
"test_json_adapter_format_exact_messages_for_simple_signature": G("json_for_simple_signature.json"),
"test_json_adapter_format_exact_messages_with_demo_and_typed_output": G("json_with_demo_and_typed_output.json"),
"test_json_adapter_format_exact_messages_with_described_and_bool_outputs": G("json_with_described_and_bool_outputs.json"),
"test_json_adapter_format_exact_messages_with_history_demo_pydantic_tools_and_image": G("json_with_history_demo_pydantic_tools_and_image.json"),
"test_json_adapter_format_exact_messages_with_int_and_mapping_outputs": G("json_with_int_and_mapping_outputs.json"),
"test_json_adapter_format_exact_messages_with_literal_and_enum_outputs": G("json_with_literal_and_enum_outputs.json"),
"test_json_adapter_format_exact_messages_with_nested_pydantic_output": G("json_with_nested_pydantic_output.json"),
"test_json_adapter_format_exact_messages_with_incomplete_demo": G("json_with_incomplete_demo.json"),
"test_json_adapter_format_exact_messages_and_lm_kwargs_with_native_tool_calling": G("json_with_native_tool_calling.json"),
"test_json_adapter_format_exact_messages_with_tool_calls_output_demo": G("json_with_tool_calls_output_demo.json"),
"test_json_adapter_format_exact_non_native_tool_result_history_field": T("TestDSPyNonNativeToolHistory"),
"test_json_adapter_passes_structured_output_when_supported_by_model": T("TestDSPyJSONStructuredOutputSchema; test/structured_test.go TestStructuredPredictOverHTTP (json_schema sent)"),
"test_json_adapter_not_using_structured_outputs_when_not_supported_by_model": N("DSPy sends no response_format to a provider without it; dspex's OpenAI client always asks for json_object at least (lm.OpenAIConfig.StructuredOutputs decides json_schema), and falls back on a 400"),
"test_json_adapter_with_structured_outputs_does_not_mutate_original_signature": T("TestDSPyJSONStructuredOutputSchema"),
"test_json_adapter_sync_call": T("TestDSPySyncCall"),
"test_json_adapter_async_call": T("TestDSPySyncCall (async twin)"),
"test_json_adapter_on_pydantic_model": T("TestDSPyJSONOnPydanticModel"),
"test_json_adapter_parse_raise_error_on_mismatch_fields": T("TestDSPyJSONMismatchFields"),
"test_json_adapter_formats_image": T("TestDSPyFormatsImage"),
"test_json_adapter_formats_image_with_few_shot_examples": T("TestDSPyFormatsImageWithFewShotExamples"),
"test_json_adapter_formats_image_with_nested_images": T("TestDSPyFormatsNestedImages"),
"test_json_adapter_formats_with_nested_documents": N("needs Document"),
"test_json_adapter_formats_image_with_few_shot_examples_with_nested_images": T("TestDSPyFormatsNestedImages"),
"test_json_adapter_with_tool": T("TestDSPyWithTool"),
"test_json_adapter_with_code": N("needs dspy.Code"),
"test_json_adapter_formats_conversation_history": T("TestDSPyFormatsConversationHistory"),
"test_json_adapter_on_pydantic_model_async": T("TestDSPyJSONOnPydanticModel (async twin)"),
"test_json_adapter_does_not_fallback_to_json_mode_on_structured_output_lm_error": T("TestDSPyJSONLMErrorNotRetried"),
"test_json_adapter_json_mode_no_structured_outputs": T("test/structured_test.go TestStructuredPredictOverHTTP (\"json, json_object\")"),
"test_json_adapter_json_mode_no_structured_outputs_async": T("test/structured_test.go TestStructuredPredictOverHTTP (async twin)"),
"test_json_adapter_does_not_fallback_to_json_mode_on_structured_output_lm_error_async": T("TestDSPyJSONLMErrorNotRetried (async twin)"),
"test_error_message_on_json_adapter_failure": T("TestDSPyJSONLMErrorNotRetried"),
"test_error_message_on_json_adapter_failure_async": T("TestDSPyJSONLMErrorNotRetried (async twin)"),
"test_json_adapter_toolcalls_native_function_calling": T("TestDSPyToolCallsNativeFunctionCalling"),
"test_json_adapter_toolcalls_no_native_function_calling": T("TestDSPyJSONToolCallsNoNativeFunctionCalling"),
"test_json_adapter_native_reasoning": N("needs dspy.Reasoning"),
"test_json_adapter_with_responses_api": N("OpenAI Responses API"),
# utils
"test_parse_value_str_annotation": N("differs: for a str field the JSON parser takes a number or bool as its JSON text (true, not Python's True) and refuses null and lists, where DSPy writes str(value)"),
"test_parse_value_pydantic_types": T("TestDSPyParseValue"),
"test_parse_value_basic_types": T("TestDSPyParseValue"),
"test_parse_value_literal": T("TestDSPyParseValue"),
"test_parse_value_union": P("TestDSPyParseValue", "the Optional cases; dspex types have no Union[int, str, None]"),
"test_parse_value_json_repair": T("TestDSPyParseValue"),
# tool
"test_format_as_litellm_function_call_excludes_defaulted_args_from_required": T("TestDSPyToolTypes"),
"test_tool_str": T("TestDSPyToolTypes"),
"test_tool_calls_format_basic": T("TestDSPyToolTypes (its four parameters)"),
"test_tool_calls_format_from_dict_list": T("TestDSPyToolTypes"),
"test_tool_calls_preserves_ids_from_dict_list_and_format_omits_ids": T("TestDSPyToolTypes; ids: TestDSPyProviderToolCalls"),
"test_tool_calls_json_schema_omits_internal_id_field": T("TestDSPyToolTypes"),
"test_toolcalls_vague_match": T("TestDSPyToolTypes"),
}
PERFILE={
("test_chat_adapter.py","test_format_system_message"): G("chat_format_system_message.json"),
("test_json_adapter.py","test_format_system_message"): G("json_format_system_message.json"),
("test_xml_adapter.py","test_format_system_message"): N("dspex has no XMLAdapter"),
("test_chat_adapter.py","test_missing_optional_output_fields_fall_back_to_defaults"): P("TestDSPyMissingOutputsWithoutDefaults", "differs deliberately: no output defaults, so note is None and tags (default []) is an error; pinned"),
("test_json_adapter.py","test_missing_optional_output_fields_fall_back_to_defaults"): P("TestDSPyMissingOutputsWithoutDefaults", "differs deliberately: no output defaults, so note is None; pinned"),
}
FILEWIDE={
"test_xml_adapter.py": "dspex has no XMLAdapter",
"test_baml_adapter.py": "dspex has no BAMLAdapter",
"test_two_step_adapter.py": "dspex has no TwoStepAdapter",
"test_audio.py": "needs dspy.Audio",
"test_base_type.py": "Python annotation introspection of custom dspy.Type classes",
"test_citation.py": "needs dspy.Citations",
"test_document.py": "needs Document",
"test_code.py": "needs dspy.Code",
"test_reasoning.py": "needs dspy.Reasoning",
"test_resource_loading.py": "construction of dspy.Image/Audio/File from paths, URLs and bytes (host I/O, downloads); dspex's signature.Image never downloads (ImageFromURL, ImageFromBytes, ImageFromFile)",
"test_tool.py": "dspy.Tool built from Python callables, classes, MCP or LangChain tools, and run (sync/async); dspex's Tool only describes a function (ReAct runs tools: programs/tool.go)",
}
rows=[]; counts={}
for path in files:
    base=path.split("/")[-1]
    if base=="conftest.py": continue
    src=subprocess.run(["git","-C",repo,"show",f"{commit}:{path}"],capture_output=True,text=True,check=True).stdout
    for i,line in enumerate(src.split("\n"),1):
        m=re.match(r"^(async )?def (test_\w+)",line)
        if not m: continue
        name=m.group(2)
        st=PERFILE.get((base,name))
        if st is None and base in ("test_chat_adapter.py","test_json_adapter.py","test_adapter_utils.py","test_tool.py"):
            st=S.get(name)
        if st is None and base in FILEWIDE:
            st=N(FILEWIDE[base])
        if st is None:
            sys.exit(f"no status for {base}:{name}")
        rows.append((base,name,i,st))
        counts.setdefault(base,{}).setdefault(st[0],0); counts[base][st[0]]+=1
out=[]
W=out.append
W("# DSPy adapter tests and their transcription")
W("")
W(f"Every test function in `tests/adapters/*.py` of stanfordnlp/dspy at `{commit}` (DSPy 3.3.1, the");
W("\"Update versions for 3.3.1\" commit), in file order, and where dspex checks the same thing. Counted with")
W("`git show <commit>:tests/adapters/<file> | grep -cE '^(async )?def test_'` (a parametrized test is one function).")
W("")
W("Status: **golden** — a golden file in this directory, compared byte for byte by `TestDSPyGolden`;")
W("**Go test** — a Go test in adapter/ (or test/) asserting what the DSPy test asserts (parsing tests,")
W("substring checks, calls); an async DSPy test that asserts what its sync twin does is covered by the")
W("sync twin's Go test (dspex has one Call); **partial** — the Go test covers part, the rest is said;")
W("**not transcribed** — why.")
W("")
W("## Counts")
W("")
W("| file | functions | golden | Go test | partial | not transcribed |")
W("|---|---:|---:|---:|---:|---:|")
tot=[0,0,0,0,0]
for base in [p.split('/')[-1] for p in files if not p.endswith("conftest.py")]:
    c=counts.get(base,{}); n=sum(c.values())
    vals=[n,c.get("golden",0),c.get("go",0),c.get("partial",0),c.get("no",0)]
    tot=[a+b for a,b in zip(tot,vals)]
    W(f"| {base} | "+" | ".join(map(str,vals))+" |")
W("| **all** | "+" | ".join(f"**{v}**" for v in tot)+" |")
cj=[0,0,0,0,0]
for base in ("test_chat_adapter.py","test_json_adapter.py"):
    c=counts[base]; vals=[sum(c.values()),c.get("golden",0),c.get("go",0),c.get("partial",0),c.get("no",0)]
    cj=[a+b for a,b in zip(cj,vals)]
W("")
W(f"In the two files issue 16 names (test_chat_adapter.py, test_json_adapter.py): {cj[0]} functions; "
  f"{cj[1]} golden, {cj[2]} Go tests, {cj[3]} partial, {cj[4]} not transcribed.")
W("")
label={"golden":"golden","go":"Go test","partial":"partial","no":"not transcribed"}
cur=None
for base,name,line,(k,txt) in rows:
    if base!=cur:
        cur=base; W(""); W(f"## {base}"); W(""); W("| function | line | status | where / why |"); W("|---|---:|---|---|")
    W(f"| `{name}` | {line} | {label[k]} | {txt} |")
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "INDEX.md"), "w", encoding="utf-8").write("\n".join(out)+"\n")
print("all:", tot, "chat+json:", cj)
