package adapter

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/signature"
)

// streamSig has two string outputs, one differing from an input only by
// case, and an int output.
func streamSig(t testing.TB) signature.Signature {
	return newSig(t, "", []signature.Field{{Name: "question"}},
		[]signature.Field{{Name: "reasoning"}, {Name: "answer"}, {Name: "count", Type: signature.TypeInt}})
}

// feed writes reply to fs in pieces cut at the given points (taken modulo
// the length) and returns the concatenated text of each field.
func feed(fs FieldStream, reply string, cuts []byte) map[string]string {
	got := map[string]string{}
	add := func(ds []Delta) {
		for _, d := range ds {
			if d.Text == "" {
				panic("empty delta")
			}
			got[d.Field] += d.Text
		}
	}
	prev := 0
	for _, c := range cuts {
		if len(reply) == 0 {
			break
		}
		at := prev + int(c)%(len(reply)-prev+1)
		add(fs.Write(reply[prev:at]))
		prev = at
	}
	add(fs.Write(reply[prev:]))
	add(fs.Close())
	return got
}

// chatFields is what Chat.Parse takes as each field's text, before
// coercion: the blocking reference.
func chatFields(sig signature.Signature, reply string) map[string]string {
	secs := sections(reply)
	want := map[string]string{}
	for _, f := range sig.Outputs() {
		text, ok := lookup(sig, f.Name, func(match nameMatch) (string, bool) {
			for _, s := range secs {
				if match.ok(s.name) {
					return s.text, true
				}
			}
			return "", false
		})
		if ok && text != "" {
			want[f.Name] = text
		}
	}
	return want
}

const chatReply = "[[ ## reasoning ## ]]\nHamlet is a tragedy  \n by  William Shakespeare.\n\n[[ ## answer ## ]]  William Shakespeare  \n\n[[ ## count ## ]]\n1\n\n[[ ## completed ## ]]\n"

func TestChatStream(t *testing.T) {
	sig := streamSig(t)
	tests := []struct {
		name, reply string
		want        map[string]string
	}{
		{"reply", chatReply, map[string]string{
			"reasoning": "Hamlet is a tragedy  \n by  William Shakespeare.", "answer": "William Shakespeare", "count": "1"}},
		{"preamble and unknown section", "Sure!\n[[ ## notes ## ]]\nignored\n[[ ## answer ## ]]\nyes\n", map[string]string{"answer": "yes"}},
		{"first section wins", "[[ ## answer ## ]]\none\n[[ ## answer ## ]]\ntwo", map[string]string{"answer": "one"}},
		{"case-insensitive held back", "[[ ## ANSWER ## ]]\nloud\n", map[string]string{"answer": "loud"}},
		{"exact beats earlier case match", "[[ ## ANSWER ## ]]\nloud\n[[ ## answer ## ]]\nquiet", map[string]string{"answer": "quiet"}},
		{"bracket text is not a marker", "[[ ## answer ## ]]\n[[ not a marker ]]\n[x]\n", map[string]string{"answer": "[[ not a marker ]]\n[x]"}},
		{"crlf", "[[ ## answer ## ]]\r\nyes\r\n", map[string]string{"answer": "yes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, chatFields(sig, tc.reply)); diff != "" {
				t.Fatalf("reference (-want +blocking):\n%s", diff)
			}
			for _, step := range []int{1, 2, 3, 7, len(tc.reply)} {
				var cuts []byte
				for range len(tc.reply) / step {
					cuts = append(cuts, byte(step))
				}
				if diff := cmp.Diff(tc.want, feed(NewChatStream(sig), tc.reply, cuts)); diff != "" {
					t.Errorf("chunks of %d bytes (-want +got):\n%s", step, diff)
				}
			}
		})
	}
}

// TestChatStreamNeverEmitsMarkers checks that, byte by byte, no delta
// carries a field marker.
func TestChatStreamNeverEmitsMarkers(t *testing.T) {
	s := NewChatStream(streamSig(t))
	for i := range len(chatReply) {
		for _, d := range s.Write(chatReply[i : i+1]) {
			if strings.Contains(d.Text, "##") || strings.Contains(d.Text, "[[") {
				t.Fatalf("delta %+v carries a marker", d)
			}
		}
	}
}

func FuzzChatStream(f *testing.F) {
	f.Add(chatReply, []byte{3, 5, 8})
	f.Add("[[ ## ANSWER ## ]] x \n[[ ## answer ## ]]\ny", []byte{1, 1, 1})
	f.Add("  [[ ## answer ## ]]\u00a0a\u00a0\n", []byte{4, 18, 1})
	f.Add("[[##answer##]]a\n[[ ## reasoning ## ]", []byte{0, 2})
	sig := streamSig(f)
	f.Fuzz(func(t *testing.T, reply string, cuts []byte) {
		want := chatFields(sig, reply)
		whole := feed(NewChatStream(sig), reply, nil)
		if diff := cmp.Diff(want, whole); diff != "" {
			t.Fatalf("one write of %q (-blocking +stream):\n%s", reply, diff)
		}
		if diff := cmp.Diff(want, feed(NewChatStream(sig), reply, cuts)); diff != "" {
			t.Fatalf("%q cut at %v (-blocking +stream):\n%s", reply, cuts, diff)
		}
	})
}

const jsonReply = "```json\n{\n  \"reasoning\": \"Hamlet is a \\\"tragedy\\\" \\u00e9\\ud83d\\ude00 by\\nShakespeare.\",\n  \"answer\": \"William Shakespeare\",\n  \"count\": 1,\n  \"extra\": {\"answer\": \"nested\", \"l\": [1, \"}\"]}\n}\n```"

// jsonFields is what JSON.Parse decodes for each string output field.
func jsonFields(t testing.TB, sig signature.Signature, reply string) map[string]string {
	vals, err := JSON{}.Parse(sig, reply)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range sig.Outputs() {
		if s, ok := vals[f.Name].(string); ok && s != "" {
			want[f.Name] = s
		}
	}
	return want
}

func TestJSONStream(t *testing.T) {
	sig := streamSig(t)
	want := jsonFields(t, sig, jsonReply)
	if want["reasoning"] == "" || want["answer"] != "William Shakespeare" {
		t.Fatalf("reference %v", want)
	}
	for _, step := range []int{1, 2, 3, 5, 7, len(jsonReply)} {
		var cuts []byte
		for range len(jsonReply) / step {
			cuts = append(cuts, byte(step))
		}
		if diff := cmp.Diff(want, feed(NewJSONStream(sig), jsonReply, cuts)); diff != "" {
			t.Errorf("chunks of %d bytes (-want +got):\n%s", step, diff)
		}
	}
}

func FuzzJSONStream(f *testing.F) {
	f.Add(jsonReply, []byte{3, 5, 8})
	f.Add(`{"answer": "\ud83d\ude00\u00e9 ok", "reasoning": "a\\b"}`, []byte{11, 1, 1, 1})
	f.Add(`{"answer": "x", "answer": "y"}`, []byte{2})
	sig := streamSig(f)
	f.Fuzz(func(t *testing.T, reply string, cuts []byte) {
		whole := feed(NewJSONStream(sig), reply, nil)
		if diff := cmp.Diff(whole, feed(NewJSONStream(sig), reply, cuts)); diff != "" {
			t.Fatalf("%q cut at %v (-one write +cut):\n%s", reply, cuts, diff)
		}
		// On a reply whose object is the first '{', with unique keys
		// and valid UTF-8, the stream matches JSON.Parse.
		vals, err := JSON{}.Parse(sig, reply)
		if err != nil || !simpleJSON(reply) {
			return
		}
		for _, fl := range sig.Outputs() {
			if s, ok := vals[fl.Name].(string); ok && whole[fl.Name] != "" && whole[fl.Name] != s {
				t.Fatalf("%q: field %s streamed %q, parsed %q", reply, fl.Name, whole[fl.Name], s)
			}
		}
	})
}

// simpleJSON reports whether the first '{' of reply starts a JSON object
// that decodes strictly and has unique top-level keys.
func simpleJSON(reply string) bool {
	i := strings.IndexByte(reply, '{')
	if i < 0 {
		return false
	}
	end, _ := balancedEnd(reply, i)
	if end < 0 {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(reply[i:end]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok || seen[key] {
			return false
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return false
		}
	}
	tok, err := dec.Token()
	return err == nil && tok == json.Delim('}')
}
