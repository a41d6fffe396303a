"""Write the messages DSPy's ChatAdapter sends for the saved programs here.

Usage: python3 transcribe.py   (in this folder; needs pydantic 2, not DSPy)

For each case below it loads a real file saved by DSPy, takes one
predictor's instructions, field descriptions and demos from it, and formats
the chat messages for one input the way DSPy 3.3.1's ChatAdapter does
(stanfordnlp/dspy 4ed377ee9110e912d4f5e1be43b317b87455053c:
dspy/adapters/base.py format, format_system_message, format_demos;
dspy/adapters/chat_adapter.py format_field_description,
format_field_structure, format_task_description,
format_user_message_content, user_message_output_requirements,
format_assistant_message_content; dspy/adapters/utils.py
get_field_description_string, translate_field_type, _get_json_schema,
format_field_value, _format_input_list_field_value, get_annotation_name).
It is an independent transcription of those rules, written for these
tests, with pydantic's TypeAdapter for JSON schemas and JSON values as DSPy
uses it; nothing from dspex or DSPy is run. The Go test
(programs/state_dspy_saved_test.go) loads the same file into a dspex
program of the same shape and checks that adapter.Chat formats the same
messages byte for byte.

The field types are those of the DSPy programs that saved the files (DSPy
does not save types): str unless a case says otherwise.
"""
import json
import textwrap
from typing import Any, Literal, get_args, get_origin

import pydantic

DSPY = {
    "dspy_repo": "stanfordnlp/dspy",
    "dspy_commit": "4ed377ee9110e912d4f5e1be43b317b87455053c",
    "dspy_files": [
        "dspy/adapters/base.py",
        "dspy/adapters/chat_adapter.py",
        "dspy/adapters/utils.py",
    ],
}

REACT_TOOLS = Literal["search_wikipedia", "finish"]

# fixture, predictor, inputs and outputs as (name, type), the demo whose
# inputs are the request (None: the inputs given).
CASES = [
    ("dspy_react_3.0.0.json", "react",
     [("question", str), ("trajectory", str)],
     [("next_thought", str), ("next_tool_name", REACT_TOOLS), ("next_tool_args", dict[str, Any])], 0, None),
    ("dspy_react_3.0.0.json", "extract.predict",
     [("question", str), ("trajectory", str)],
     [("reasoning", str), ("answer", str)], 0, None),
    ("knutole_cot_bootstrapped_2.6.25.json", "chain.predict",
     [("text", str)],
     [("reasoning", str), ("clean_text", str)], 1, None),
    ("dspy_flex_predict_3.3.0b1.json", "judge",
     [("input_name", str), ("input_address", str), ("match_name", str), ("match_address", str), ("distance", float)],
     [("is_same", bool)], None,
     {"input_name": "Joe's Pizza", "input_address": "7 Carmine St, New York, NY",
      "match_name": "Joe's Pizza #2", "match_address": "7 Carmine Street, New York", "distance": 42.5}),
    ("dspy_flex_cot_3.3.0b1.json", "classify.predict",
     [("text", str)],
     [("reasoning", str), ("intent", str)], None,
     {"text": "I still have not received my new card, when will it arrive?"}),
]


def literal_quoted(s):
    # Single quotes unless the string has one and no double quote; with
    # both, single quotes with the single quotes escaped.
    if "'" in s and '"' not in s:
        return '"' + s + '"'
    return "'" + s.replace("'", "\\'") + "'"


def annotation_name(t):
    origin, args = get_origin(t), get_args(t)
    if origin is None:
        return t.__name__ if hasattr(t, "__name__") else str(t)
    if origin is Literal:
        inner = ", ".join(literal_quoted(a) if isinstance(a, str) else annotation_name(a) for a in args)
    else:
        inner = ", ".join(annotation_name(a) for a in args)
    return f"{annotation_name(origin)}[{inner}]"


def json_schema(t):
    def type_first(d):
        if isinstance(d, dict):
            return {k: type_first(v) for k, v in sorted(d.items(), key=lambda kv: (kv[0] != "type", kv[0]))}
        if isinstance(d, list):
            return [type_first(x) for x in d]
        return d

    return type_first(pydantic.TypeAdapter(t).json_schema())


def field_type_note(name, t, role):
    if role == "input" or t is str:
        note = ""
    elif t is bool:
        note = "must be True or False"
    elif t in (int, float):
        note = f"must be a single {t.__name__} value"
    elif get_origin(t) is Literal:
        note = f"must exactly match (no extra characters) one of: {'; '.join(str(a) for a in get_args(t))}"
    else:
        note = f"must adhere to the JSON schema: {json.dumps(json_schema(t), ensure_ascii=False)}"
    return "{" + name + "}" + ((" " * 8) + f"# note: the value you produce {note}" if note else "")


def blob(x):
    if "\n" not in x and "«" not in x and "»" not in x:
        return f"«{x}»"
    return "«««\n    " + x.replace("\n", "\n    ") + "\n»»»"


def value_text(t, v):
    if isinstance(v, list) and t is str:
        if not v:
            return "N/A"
        if len(v) == 1:
            return blob(v[0])
        return "\n".join(f"[{i + 1}] {blob(x)}" for i, x in enumerate(v))
    j = pydantic.TypeAdapter(type(v)).dump_python(v, mode="json")
    if isinstance(j, (dict, list)):
        return json.dumps(j, ensure_ascii=False)
    return str(j)


def sections(pairs):
    return "\n\n".join(f"[[ ## {n} ## ]]\n{text}" for n, text in pairs).strip()


def descriptions(fields, descs):
    lines = []
    for i, (n, t) in enumerate(fields):
        d = descs[n]
        lines.append(f"{i + 1}. `{n}` ({annotation_name(t)}): {'' if d == '${' + n + '}' else d}")
    return "\n".join(lines).strip()


def system_message(ins, outs, descs, instructions):
    structure = "\n\n".join([
        "All interactions will be structured in the following way, with the appropriate values filled in.",
        sections((n, field_type_note(n, t, "input")) for n, t in ins),
        sections((n, field_type_note(n, t, "output")) for n, t in outs),
        "[[ ## completed ## ]]\n",
    ]).strip()
    objective = ("\n" + " " * 8).join([""] + textwrap.dedent(instructions).splitlines())
    return (f"Your input fields are:\n{descriptions(ins, descs)}\n"
            f"Your output fields are:\n{descriptions(outs, descs)}\n"
            f"{structure}\n"
            f"In adhering to this structure, your objective is: {objective}")


def user_content(ins, outs, values, prefix="", main=False):
    parts = [prefix]
    for n, t in ins:
        if n in values:
            parts.append(f"[[ ## {n} ## ]]\n{value_text(t, values[n])}")
    if main:
        def info(t):
            return "" if t is str else f" (must be formatted as a valid Python {annotation_name(t)})"
        parts.append("Respond with the corresponding output fields, starting with the field "
                     + ", then ".join(f"`[[ ## {n} ## ]]`{info(t)}" for n, t in outs)
                     + ", and then ending with the marker for `[[ ## completed ## ]]`.")
    parts.append("")
    return "\n\n".join(parts).strip()


def assistant_content(outs, values, missing):
    return sections((n, value_text(t, values.get(n, missing))) for n, t in outs) + "\n\n[[ ## completed ## ]]\n"


def messages(ins, outs, descs, instructions, demos, request):
    names = [n for n, _ in ins + outs]
    complete, incomplete = [], []
    for d in demos:
        if all(n in d and d[n] is not None for n in names):
            complete.append(d)
        elif any(n in d for n, _ in ins) and any(n in d for n, _ in outs):
            incomplete.append(d)
    out = [{"role": "system", "content": system_message(ins, outs, descs, instructions)}]
    for d in incomplete:
        out.append({"role": "user", "content": user_content(
            ins, outs, d, prefix="This is an example of the task, though some input or output fields are not supplied.")})
        out.append({"role": "assistant", "content": assistant_content(
            outs, d, "Not supplied for this particular example. ")})
    for d in complete:
        out.append({"role": "user", "content": user_content(ins, outs, d)})
        out.append({"role": "assistant", "content": assistant_content(
            outs, d, "Not supplied for this conversation history message. ")})
    out.append({"role": "user", "content": user_content(ins, outs, request, main=True)})
    return out


for fixture, pred, ins, outs, demo, given in CASES:
    with open(fixture, encoding="utf-8") as f:
        state = json.load(f)[pred]
    names = [n for n, _ in ins + outs]
    descs = {n: fld["description"] for n, fld in zip(names, state["signature"]["fields"])}
    demos = state["demos"]
    request = {n: demos[demo][n] for n, _ in ins if n in demos[demo]} if demo is not None else given
    golden = {
        **DSPY,
        "fixture": fixture,
        "predictor": pred,
        "request_from_demo": demo,
        "request": request,
        "messages": messages(ins, outs, descs, state["signature"]["instructions"], demos, request),
    }
    out = f"{fixture.removesuffix('.json')}.{pred}.chat.golden"
    with open(out, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(out)
