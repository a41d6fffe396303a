package simlm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dspex-go/dspex/internal/leakcheck"
	"github.com/dspex-go/dspex/simlm"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// start starts a server and a private HTTP client; both are closed when the
// test ends.
func start(t testing.TB, opts ...simlm.Option) (*simlm.Server, *http.Client) {
	t.Helper()
	srv, err := simlm.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, &http.Client{Transport: tr}
}

// field is a signature field as the adapters declare it.
type field struct{ name, typ string }

// spec is a prompt in the DSPy adapter wire format.
type spec struct {
	inputs, outputs []field
	objective       string
	demos           []map[string]string // inputs and outputs of each demo
	values          map[string]string   // the inputs of the call
	json            bool                // the JSON adapter's format
}

func qa(question string) spec {
	return spec{
		inputs:  []field{{"question", "str"}},
		outputs: []field{{"answer", "str"}},
		values:  map[string]string{"question": question},
	}
}

func cot(question string) spec {
	s := qa(question)
	s.outputs = []field{{"reasoning", "str"}, {"answer", "str"}}
	return s
}

func names(fs []field) string {
	q := make([]string, len(fs))
	for i, f := range fs {
		q[i] = "`" + f.name + "`"
	}
	return strings.Join(q, ", ")
}

// messages renders s as the Chat (or JSON) adapter does.
func (s spec) messages() []map[string]string {
	var b strings.Builder
	list := func(title string, fs []field) {
		b.WriteString(title + "\n")
		for i, f := range fs {
			fmt.Fprintf(&b, "%d. `%s` (%s)\n", i+1, f.name, f.typ)
		}
	}
	list("Your input fields are:", s.inputs)
	list("Your output fields are:", s.outputs)
	b.WriteString("All interactions will be structured in the following way, with the appropriate values filled in.\n\n")
	for _, f := range s.inputs {
		fmt.Fprintf(&b, "[[ ## %s ## ]]\n{%s}\n\n", f.name, f.name)
	}
	if s.json {
		b.WriteString("Outputs will be a JSON object with the following fields.\n\n{\n")
		for i, f := range s.outputs {
			fmt.Fprintf(&b, "  %q: \"{%s}\"", f.name, f.name)
			if i < len(s.outputs)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("}\n")
	} else {
		for _, f := range s.outputs {
			fmt.Fprintf(&b, "[[ ## %s ## ]]\n{%s}", f.name, f.name)
			switch f.typ {
			case "int", "float":
				fmt.Fprintf(&b, "        # note: the value you produce must be a single %s value", f.typ)
			case "bool":
				b.WriteString("        # note: the value you produce must be True or False")
			}
			b.WriteString("\n\n")
		}
		b.WriteString("[[ ## completed ## ]]\n")
	}
	obj := s.objective
	if obj == "" {
		obj = fmt.Sprintf("Given the fields %s, produce the fields %s.", names(s.inputs), names(s.outputs))
	}
	b.WriteString("In adhering to this structure, your objective is: \n")
	for line := range strings.SplitSeq(obj, "\n") {
		b.WriteString("        " + line + "\n")
	}
	msgs := []map[string]string{{"role": "system", "content": b.String()}}
	block := func(fs []field, vals map[string]string) string {
		var parts []string
		for _, f := range fs {
			if v, ok := vals[f.name]; ok {
				parts = append(parts, fmt.Sprintf("[[ ## %s ## ]]\n%s", f.name, v))
			}
		}
		return strings.Join(parts, "\n\n")
	}
	for _, d := range s.demos {
		msgs = append(msgs, map[string]string{"role": "user", "content": block(s.inputs, d)})
		if s.json {
			obj := map[string]string{}
			for _, f := range s.outputs {
				if v, ok := d[f.name]; ok {
					obj[f.name] = v
				}
			}
			j, _ := json.Marshal(obj)
			msgs = append(msgs, map[string]string{"role": "assistant", "content": string(j)})
		} else {
			msgs = append(msgs, map[string]string{"role": "assistant", "content": block(s.outputs, d) + "\n\n[[ ## completed ## ]]"})
		}
	}
	last := block(s.inputs, s.values) + "\n\n"
	if s.json {
		q := make([]string, len(s.outputs))
		for i, f := range s.outputs {
			q[i] = "`" + f.name + "`"
		}
		last += "Respond with a JSON object in the following order of fields: " + strings.Join(q, ", then ") + "."
	} else {
		q := make([]string, len(s.outputs))
		for i, f := range s.outputs {
			q[i] = "`[[ ## " + f.name + " ## ]]`"
		}
		last += "Respond with the corresponding output fields, starting with the field " + strings.Join(q, ", then ") +
			", and then ending with the marker for `[[ ## completed ## ]]`."
	}
	return append(msgs, map[string]string{"role": "user", "content": last})
}

// request is a chat completion request body.
func (s spec) request() map[string]any {
	body := map[string]any{"model": "test-model", "messages": s.messages()}
	if s.json {
		body["response_format"] = map[string]string{"type": "json_object"}
	}
	return body
}

type chatReply struct {
	status  int
	header  http.Header
	raw     []byte
	choices []string
	finish  []string
	usage   struct{ PromptTokens, CompletionTokens, TotalTokens int }
}

// post sends a chat completion request and decodes the reply.
func post(t testing.TB, ctx context.Context, c *http.Client, url string, body map[string]any) chatReply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/chat/completions", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := chatReply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if resp.StatusCode != http.StatusOK {
		return out
	}
	var cr struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		}
	}
	if err := json.Unmarshal(raw, &cr); err != nil {
		t.Fatalf("bad reply %s: %v", raw, err)
	}
	for _, ch := range cr.Choices {
		out.choices = append(out.choices, ch.Message.Content)
		out.finish = append(out.finish, ch.FinishReason)
	}
	out.usage.PromptTokens, out.usage.CompletionTokens, out.usage.TotalTokens = cr.Usage.PromptTokens, cr.Usage.CompletionTokens, cr.Usage.TotalTokens
	return out
}

// ask sends s and returns the first completion, failing on any error.
func ask(t testing.TB, c *http.Client, url string, s spec) string {
	t.Helper()
	r := post(t, context.Background(), c, url, s.request())
	if r.status != http.StatusOK || len(r.choices) == 0 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	return r.choices[0]
}

// parseChat parses a reply in the Chat adapter's format, as the brief
// specifies: values between [[ ## name ## ]] header lines, trimmed.
func parseChat(reply string) (map[string]string, []string) {
	vals := map[string]string{}
	var order []string
	cur := ""
	var buf []string
	flush := func() {
		if cur != "" {
			vals[cur] = strings.TrimSpace(strings.Join(buf, "\n"))
			order = append(order, cur)
		}
		buf = nil
	}
	for line := range strings.SplitSeq(reply, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[[ ## ") && strings.HasSuffix(t, " ## ]]") {
			flush()
			cur = strings.TrimSuffix(strings.TrimPrefix(t, "[[ ## "), " ## ]]")
			if cur == "completed" {
				order = append(order, cur)
				cur = ""
			}
			continue
		}
		buf = append(buf, line)
	}
	flush()
	return vals, order
}

// outputs returns the output fields of a reply in either format.
func outputs(t testing.TB, reply string, jsonMode bool) map[string]string {
	t.Helper()
	if !jsonMode {
		v, _ := parseChat(reply)
		return v
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(reply), &obj); err != nil {
		t.Fatalf("reply is not a JSON object: %v\n%s", err, reply)
	}
	out := map[string]string{}
	for k, v := range obj {
		if s, ok := v.(string); ok {
			out[k] = s
		} else {
			j, _ := json.Marshal(v)
			out[k] = string(j)
		}
	}
	return out
}
