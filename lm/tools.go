package lm

import (
	"encoding/json"
	"fmt"
	"slices"
)

// RoleTool is the role of a message that carries a tool's result
// (Message.ToolCallID names the call it answers). OpenAI sends it as a
// "tool" message; Anthropic as a tool_result block in a user turn.
const RoleTool Role = "tool"

// ToolDef describes a function the model may call (native tool calling):
// OpenAI's "tools" entries of type function, Anthropic's custom tools.
type ToolDef struct {
	// Name is the function's name, as the model calls it.
	Name string `json:"name"`
	// Description tells the model what the function does.
	Description string `json:"description,omitempty"`
	// Parameters is the JSON schema of the arguments: an object schema.
	// Empty means a function without arguments.
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// ToolChoice tells the model whether it must call a tool. The zero value
// leaves it to the provider's default (auto when tools are given).
type ToolChoice string

// The tool choices. Any other non-empty value names the one tool the model
// must call.
const (
	// ToolChoiceAuto lets the model answer with text or call tools.
	ToolChoiceAuto ToolChoice = "auto"
	// ToolChoiceNone forbids tool calls.
	ToolChoiceNone ToolChoice = "none"
	// ToolChoiceRequired makes the model call at least one tool (OpenAI's
	// "required", Anthropic's "any").
	ToolChoiceRequired ToolChoice = "required"
)

// ToolCall is a call of a tool by the model, in an assistant message.
type ToolCall struct {
	// ID identifies the call; the tool's result message refers to it.
	ID string `json:"id"`
	// Name names the tool called.
	Name string `json:"name"`
	// Arguments is the JSON text of the arguments as the model wrote it.
	// It may not be valid JSON: models err, and the caller decides what a
	// bad argument means (ReAct makes it an observation).
	Arguments string `json:"arguments"`
}

// named reports whether c forces a tool by name.
func (c ToolChoice) named() bool {
	switch c {
	case "", ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired:
		return false
	}
	return true
}

// checkTools validates the tool fields of req: names present and unique,
// parameters a JSON object, a named tool choice among the tools, tool
// results with the id of their call.
func checkTools(req Request) error {
	seen := make(map[string]bool, len(req.Tools))
	for i, t := range req.Tools {
		switch {
		case t.Name == "":
			return fmt.Errorf("lm: Request.Tools[%d] has no name", i)
		case seen[t.Name]:
			return fmt.Errorf("lm: Request.Tools has two tools named %q", t.Name)
		case len(t.Parameters) > 0 && !isJSONObject(t.Parameters):
			return fmt.Errorf("lm: Request.Tools[%d] (%s): parameters are not a JSON object", i, t.Name)
		}
		seen[t.Name] = true
	}
	if req.ToolChoice != "" && len(req.Tools) == 0 {
		return fmt.Errorf("lm: Request.ToolChoice %q without Tools", req.ToolChoice)
	}
	if req.ToolChoice.named() && !seen[string(req.ToolChoice)] {
		return fmt.Errorf("lm: Request.ToolChoice %q names no tool of the request", req.ToolChoice)
	}
	for i, m := range req.Messages {
		if m.Role == RoleTool && m.ToolCallID == "" {
			return fmt.Errorf("lm: Request.Messages[%d]: a tool message needs the ToolCallID of its call", i)
		}
		if len(m.ToolCalls) > 0 && m.Role != RoleAssistant {
			return fmt.Errorf("lm: Request.Messages[%d]: only assistant messages carry tool calls", i)
		}
		for j, c := range m.ToolCalls {
			if c.ID == "" || c.Name == "" {
				return fmt.Errorf("lm: Request.Messages[%d].ToolCalls[%d] needs an ID and a Name", i, j)
			}
		}
	}
	return nil
}

// isJSONObject reports whether raw is a JSON object.
func isJSONObject(raw json.RawMessage) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal(raw, &v) == nil && v != nil
}

// argumentsObject returns a call's arguments as a JSON object for
// providers that need one (Anthropic's tool_use input): the arguments
// themselves when they are an object, {} when empty, else an error.
func argumentsObject(c ToolCall) (json.RawMessage, error) {
	if c.Arguments == "" {
		return json.RawMessage("{}"), nil
	}
	if !isJSONObject(json.RawMessage(c.Arguments)) {
		return nil, fmt.Errorf("lm: the arguments of tool call %s (%s) are not a JSON object", c.ID, c.Name)
	}
	return json.RawMessage(c.Arguments), nil
}

// cloneToolCalls copies calls (nil stays nil).
func cloneToolCalls(calls []ToolCall) []ToolCall { return slices.Clone(calls) }

// ToolSupporter is implemented by LMs that know whether their provider
// supports native tool calling. The runtime's LMs answer from the
// provider's configuration (config.Provider.NativeTools).
type ToolSupporter interface {
	// SupportsTools reports whether requests may carry Tools.
	SupportsTools() bool
}

// SupportsTools reports whether m takes native tool calls: what m says when
// it is a ToolSupporter, else false, so that an LM that cannot tell (a
// test double, a wrapper) gets tools described in text.
func SupportsTools(m LM) bool {
	ts, ok := m.(ToolSupporter)
	return ok && ts.SupportsTools()
}

// SupportsTools reports true: OpenAI-compatible servers take "tools". The
// runtime asks its configuration instead (config.Provider.NativeTools),
// for servers that do not.
func (c *OpenAI) SupportsTools() bool { return true }

// SupportsTools reports true: the Messages API takes tools.
func (c *Anthropic) SupportsTools() bool { return true }
