package simlm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Native tool calling, in both protocols: the OpenAI chat completions
// "tools" (answered with "tool_calls", finish_reason "tool_calls", results
// coming back as role "tool" messages) and the Anthropic Messages API
// "tools" (answered with tool_use blocks, stop_reason "tool_use", results
// coming back as tool_result blocks). Which tool the model calls is the
// ReAct agent's policy (agentDecide), fed with the offered tools' schemas
// and the calls made so far.

// offeredTool is a tool of a request, in either protocol.
type offeredTool struct {
	Name        string
	Description string
	Parameters  json.RawMessage // the JSON schema of the arguments
}

// agentTool reads the tool's argument schemas; a schema that does not
// parse gives no arguments.
func (t offeredTool) agentTool() agentTool {
	var schema struct {
		Properties json.RawMessage `json:"properties"`
	}
	at := agentTool{name: t.Name}
	if json.Unmarshal(t.Parameters, &schema) == nil && len(schema.Properties) > 0 {
		at.args, _ = parseArgs(schema.Properties)
	}
	return at
}

// choiceKind is how a request's tool choice constrains the reply.
type choiceKind int

const (
	choiceAuto     choiceKind = iota // text or calls
	choiceNone                       // text only
	choiceRequired                   // at least one call
	choiceNamed                      // a call of the named tool
)

// toolChoice is a request's tool choice.
type toolChoice struct {
	kind choiceKind
	name string
}

// toolCallOut is a call the simulated model makes.
type toolCallOut struct {
	ID   string
	Name string
	Args string // JSON object
}

// toolStep decides the reply to a request that offers tools: text (when
// calls is empty) or tool calls with a short text. The agent's policy
// picks the tool; "finish" is called only when offered, else the model
// answers in text as it would without tools.
func (m *model) toolStep(p *prompt, tools []offeredTool, choice toolChoice, past []agentObs, salt string) (content string, calls []toolCallOut) {
	if choice.kind == choiceNone || len(tools) == 0 {
		return m.complete(p, salt), nil
	}
	agentTools := make([]agentTool, len(tools))
	offered := map[string]bool{}
	for i, t := range tools {
		agentTools[i] = t.agentTool()
		offered[t.Name] = true
	}
	question := agentQuestion(p)
	thought, tool, args := agentDecide(question, agentTools, past)
	switch {
	case choice.kind == choiceNamed:
		tool, args = choice.name, map[string]any{}
		for _, t := range agentTools {
			if t.name == choice.name {
				if filled, ok := fillArgs(t.args, question); ok {
					args = filled
				}
			}
		}
		thought = fmt.Sprintf("I was asked to use the %s tool.", tool)
	case !offered[tool] && choice.kind == choiceRequired:
		// No finish tool, yet a call is required: the first tool.
		tool, args = tools[0].Name, map[string]any{}
	case !offered[tool]:
		return m.complete(p, salt), nil
	}
	raw, _ := json.Marshal(args)
	call := toolCallOut{Name: tool, Args: string(raw)}
	// The id depends on the conversation only, so that a replayed
	// program sends the same follow-up requests (and hits caches).
	call.ID = strconv.FormatUint(hashOf(tool, call.Args, strconv.Itoa(len(past)), question), 36)
	if p.Structured && len(p.Outputs) > 0 {
		values := make([]string, len(p.Outputs))
		for i, f := range p.Outputs {
			if f.Name == agentThought {
				values[i] = thought
			} else {
				values[i] = filler(f.Type, answer{})
			}
		}
		content = render(p, values)
	} else {
		content = thought
	}
	return content, []toolCallOut{call}
}

// OpenAI chat completions.

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// openAITools checks and returns the request's tools and tool choice.
func (r *chatRequest) openAITools() ([]offeredTool, toolChoice, error) {
	var choice toolChoice
	tools := make([]offeredTool, 0, len(r.Tools))
	names := map[string]bool{}
	for i, t := range r.Tools {
		if t.Type != "function" {
			return nil, choice, fmt.Errorf("tools[%d].type must be \"function\"", i)
		}
		if t.Function.Name == "" || names[t.Function.Name] {
			return nil, choice, fmt.Errorf("tools[%d].function.name is empty or repeated", i)
		}
		if len(t.Function.Parameters) > 0 && !isObject(t.Function.Parameters) {
			return nil, choice, fmt.Errorf("tools[%d].function.parameters must be a JSON schema object", i)
		}
		names[t.Function.Name] = true
		tools = append(tools, offeredTool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	if len(r.ToolChoice) == 0 || string(r.ToolChoice) == "null" {
		return tools, choice, nil
	}
	if len(tools) == 0 {
		return nil, choice, errors.New("tool_choice is only allowed when tools are specified")
	}
	var mode string
	if json.Unmarshal(r.ToolChoice, &mode) == nil {
		switch mode {
		case "auto":
		case "none":
			choice.kind = choiceNone
		case "required":
			choice.kind = choiceRequired
		default:
			return nil, choice, fmt.Errorf("tool_choice %q is not auto, none or required", mode)
		}
		return tools, choice, nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(r.ToolChoice, &named); err != nil || named.Type != "function" || !names[named.Function.Name] {
		return nil, choice, errors.New("tool_choice must be auto, none, required or a function among the tools")
	}
	return tools, toolChoice{kind: choiceNamed, name: named.Function.Name}, nil
}

// splitToolTurns separates the tool traffic of a conversation (assistant
// messages with tool calls, role "tool" results) from the messages the
// prompt is read from, and returns the calls made with their results.
func splitToolTurns(req *chatRequest, msgs []message) ([]message, []agentObs, error) {
	var keep []message
	var past []agentObs
	index := map[string]int{}
	for i, m := range req.Messages {
		switch {
		case m.Role == "tool":
			j, ok := index[m.ToolCallID]
			if !ok {
				return nil, nil, fmt.Errorf("messages[%d]: tool_call_id %q answers no tool call before it", i, m.ToolCallID)
			}
			past[j].observation = msgs[i].Text
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
			for _, c := range m.ToolCalls {
				if c.ID == "" {
					return nil, nil, fmt.Errorf("messages[%d]: a tool call has no id", i)
				}
				index[c.ID] = len(past)
				past = append(past, agentObs{tool: c.Function.Name})
			}
		default:
			keep = append(keep, msgs[i])
		}
	}
	return keep, past, nil
}

// Anthropic Messages API.

type anthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"input_schema"`
	Type        string          `json:"type"`
}

type anthropicToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// anthropicTools checks and returns the request's tools and tool choice.
func (r *messagesRequest) anthropicTools() ([]offeredTool, toolChoice, error) {
	var choice toolChoice
	tools := make([]offeredTool, 0, len(r.Tools))
	names := map[string]bool{}
	for i, t := range r.Tools {
		switch {
		case t.Type != "" && t.Type != "custom":
			return nil, choice, fmt.Errorf("tools.%d.type: the simulator knows custom tools only, not %q", i, t.Type)
		case t.Name == "" || names[t.Name]:
			return nil, choice, fmt.Errorf("tools.%d.name: empty or repeated", i)
		case !isObject(t.InputSchema):
			return nil, choice, fmt.Errorf("tools.%d.input_schema: field required (a JSON schema object)", i)
		}
		names[t.Name] = true
		tools = append(tools, offeredTool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	if r.ToolChoice == nil {
		return tools, choice, nil
	}
	if len(tools) == 0 && r.ToolChoice.Type != "none" {
		return nil, choice, errors.New("tool_choice: requires tools")
	}
	switch r.ToolChoice.Type {
	case "auto":
	case "none":
		choice.kind = choiceNone
	case "any":
		choice.kind = choiceRequired
	case "tool":
		if !names[r.ToolChoice.Name] {
			return nil, choice, fmt.Errorf("tool_choice.name: %q is not a tool of the request", r.ToolChoice.Name)
		}
		choice = toolChoice{kind: choiceNamed, name: r.ToolChoice.Name}
	default:
		return nil, choice, fmt.Errorf("tool_choice.type: %q is not auto, any, tool or none", r.ToolChoice.Type)
	}
	return tools, choice, nil
}

// toolTurns returns the calls made in the conversation (tool_use blocks)
// with their results (tool_result blocks), and whether turn i carries tool
// traffic only, which the prompt is not read from.
func (r *messagesRequest) toolTurns() ([]agentObs, map[int]bool, error) {
	var past []agentObs
	index := map[string]int{}
	toolOnly := map[int]bool{}
	for i, m := range r.Messages {
		only := len(m.Content) > 0
		for _, b := range m.Content {
			switch b.Type {
			case "tool_use":
				if m.Role != "assistant" || b.ID == "" || b.Name == "" {
					return nil, nil, fmt.Errorf("messages.%d: a tool_use block belongs to an assistant turn and needs an id and a name", i)
				}
				index[b.ID] = len(past)
				past = append(past, agentObs{tool: b.Name})
			case "tool_result":
				j, ok := index[b.ToolUseID]
				if m.Role != "user" || !ok {
					return nil, nil, fmt.Errorf("messages.%d: tool_result block with tool_use_id %q answers no earlier tool_use", i, b.ToolUseID)
				}
				text, err := b.resultText()
				if err != nil {
					return nil, nil, fmt.Errorf("messages.%d: %w", i, err)
				}
				past[j].observation, past[j].failed = text, b.IsError
			default:
				only = false
			}
		}
		if m.Role == "assistant" {
			// An assistant turn with calls is tool traffic, its text the
			// thought that came with them.
			only = false
			for _, b := range m.Content {
				only = only || b.Type == "tool_use"
			}
		}
		toolOnly[i] = only
	}
	return past, toolOnly, nil
}

// resultText is the text of a tool_result block: its content is a string
// or an array of text blocks.
func (b anthropicBlock) resultText() (string, error) {
	if len(b.Content) == 0 || string(b.Content) == "null" {
		return "", nil
	}
	var one string
	if err := json.Unmarshal(b.Content, &one); err == nil {
		return one, nil
	}
	var many []anthropicBlock
	if err := json.Unmarshal(b.Content, &many); err != nil {
		return "", errors.New("tool_result content must be a string or an array of blocks")
	}
	var parts []string
	for _, p := range many {
		if p.Type == "text" {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n"), nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal(raw, &v) == nil && v != nil
}
