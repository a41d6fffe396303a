package simlm_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dspex-go/dspex/dataset"
)

func items(kind string, minSteps int) []dataset.Item {
	var out []dataset.Item
	for _, it := range dataset.QA() {
		if it.Kind == kind && it.Steps >= minSteps {
			out = append(out, it)
		}
	}
	return out
}

func em(pred, gold string) bool { return dataset.Normalize(pred) == dataset.Normalize(gold) }

// hasToken reports whether pred holds gold as a whole word, after
// normalisation.
func hasToken(pred, gold string) bool {
	return strings.Contains(" "+dataset.Normalize(pred)+" ", " "+dataset.Normalize(gold)+" ")
}

func TestChatFormat(t *testing.T) {
	srv, c := start(t)
	for _, tc := range []struct {
		name    string
		s       spec
		want    []string
		typeChk map[string]func(string) bool
	}{
		{name: "predict", s: qa("What is the capital of France?"), want: []string{"answer", "completed"}},
		{name: "cot", s: cot("What is the capital of France?"), want: []string{"reasoning", "answer", "completed"}},
		{
			name: "typed extra fields",
			s: func() spec {
				s := qa("What is the capital of France?")
				s.outputs = append(s.outputs, field{"confidence", "float"}, field{"count", "int"}, field{"sure", "bool"}, field{"tags", "list[str]"}, field{"note", "str"})
				return s
			}(),
			want: []string{"answer", "confidence", "count", "sure", "tags", "note", "completed"},
			typeChk: map[string]func(string) bool{
				"confidence": func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil },
				"count":      func(v string) bool { _, err := strconv.Atoi(v); return err == nil },
				"sure":       func(v string) bool { return v == "True" || v == "False" },
				"tags":       func(v string) bool { var l []string; return jsonInto(v, &l) && len(l) > 0 },
				"note":       func(v string) bool { return v != "" },
			},
		},
		{
			name: "int answer",
			s: func() spec {
				s := qa(items(dataset.KindMath, 1)[0].Question)
				s.outputs = []field{{"answer", "int"}}
				return s
			}(),
			want:    []string{"answer", "completed"},
			typeChk: map[string]func(string) bool{"answer": func(v string) bool { _, err := strconv.Atoi(v); return err == nil }},
		},
		{
			name: "no question field",
			s: spec{
				inputs:  []field{{"topic", "str"}, {"context", "list[str]"}},
				outputs: []field{{"summary", "str"}},
				values:  map[string]string{"topic": "What is the capital of Italy?", "context": `["a", "b"]`},
			},
			want: []string{"summary", "completed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply := ask(t, c, srv.URL(), tc.s)
			vals, order := parseChat(reply)
			if diff := cmp.Diff(tc.want, order); diff != "" {
				t.Fatalf("fields (-want +got):\n%s\nreply:\n%s", diff, reply)
			}
			for name, ok := range tc.typeChk {
				if !ok(vals[name]) {
					t.Errorf("%s = %q has the wrong type", name, vals[name])
				}
			}
			if tc.name == "no question field" && !strings.Contains(vals["summary"], "Rome") {
				t.Errorf("the first input was not used as the question: %q", vals["summary"])
			}
			// The JSON adapter's format gives the same fields as one object.
			js := tc.s
			js.json = true
			jv := outputs(t, ask(t, c, srv.URL(), js), true)
			for _, name := range tc.want[:len(tc.want)-1] {
				if _, ok := jv[name]; !ok {
					t.Errorf("JSON reply lacks %q: %v", name, jv)
				}
			}
		})
	}
}

func jsonInto(s string, v any) bool { return jsonUnmarshal([]byte(s), v) == nil }

func TestJSONDetectedWithoutResponseFormat(t *testing.T) {
	srv, c := start(t)
	s := cot("What is the capital of Japan?")
	s.json = true
	body := s.request()
	delete(body, "response_format") // only the prompt asks for JSON
	r := post(t, context.Background(), c, srv.URL(), body)
	v := outputs(t, r.choices[0], true)
	if !strings.Contains(v["answer"], "Tokyo") || v["reasoning"] == "" {
		t.Fatalf("reply %v", v)
	}
}

func TestDeterminism(t *testing.T) {
	srv, c := start(t)
	multi := items(dataset.KindMath, 2)
	var questions []string
	for _, it := range multi[:30] {
		questions = append(questions, it.Question)
	}
	questions = append(questions, "What is the capital of Kenya?", "Something nobody knows?")
	for _, temp := range []any{nil, 0.0} {
		for _, q := range questions {
			body := qa(q).request()
			if temp != nil {
				body["temperature"] = temp
			}
			a := post(t, context.Background(), c, srv.URL(), body)
			b := post(t, context.Background(), c, srv.URL(), body)
			if a.choices[0] != b.choices[0] {
				t.Fatalf("same request, different replies:\n%s\n%s", a.choices[0], b.choices[0])
			}
		}
	}
	// At temperature > 0 the seed changes the luck: some math answers
	// differ between seeds, and each seed is reproducible.
	differ := 0
	for _, q := range questions[:30] {
		reply := func(seed int) string {
			body := qa(q).request()
			body["temperature"], body["seed"] = 1.0, seed
			return post(t, context.Background(), c, srv.URL(), body).choices[0]
		}
		a, b := reply(1), reply(2)
		if a != reply(1) {
			t.Fatal("temperature 1 with a fixed seed is not reproducible")
		}
		if a != b {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("different seeds never changed a reply")
	}
	// n choices at temperature > 0 vary too.
	body := qa(multi[0].Question).request()
	body["temperature"], body["n"] = 1.0, 20
	r := post(t, context.Background(), c, srv.URL(), body)
	if len(r.choices) != 20 {
		t.Fatalf("got %d choices", len(r.choices))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(r.choices)))) < 2 {
		t.Fatal("20 samples at temperature 1 are all equal")
	}
}

// styleOf classifies the answers to the known facts: the share that are
// exactly the model's value (short), given a prompt builder.
func shortShare(t *testing.T, srv interface{ URL() string }, c *http.Client, build func(q string) spec) float64 {
	t.Helper()
	facts := items(dataset.KindFact, 0)[:60]
	short := 0
	for _, it := range facts {
		v, _ := parseChat(ask(t, c, srv.URL(), build(it.Question)))
		if len(strings.Fields(v["answer"])) <= 4 {
			short++
		}
	}
	return float64(short) / float64(len(facts))
}

func TestStyle(t *testing.T) {
	srv, c := start(t)
	train := items(dataset.KindFact, 0)[100:]
	shortDemos := []map[string]string{
		{"question": train[0].Question, "answer": train[0].Answer},
		{"question": train[1].Question, "answer": train[1].Answer},
		{"question": train[2].Question, "answer": train[2].Answer},
	}
	longDemos := []map[string]string{
		{"question": train[0].Question, "answer": "Well, the answer to that is " + train[0].Answer + " of course."},
		{"question": train[1].Question, "answer": "Well, the answer to that is " + train[1].Answer + " of course."},
		{"question": train[2].Question, "answer": train[2].Answer},
	}
	for _, tc := range []struct {
		name     string
		build    func(q string) spec
		min, max float64
	}{
		{"zero-shot is verbose", qa, 0, 0.35},
		{"concise instructions", func(q string) spec {
			s := qa(q)
			s.objective = "Answer the question. Be concise."
			return s
		}, 0.75, 0.98},
		{"only the answer", func(q string) spec {
			s := cot(q)
			s.objective = "Think, then give only the answer."
			return s
		}, 0.75, 0.98},
		{"two constraints", func(q string) spec {
			s := qa(q)
			s.objective = "Reply in three words or fewer, with no explanation."
			return s
		}, 0.95, 1},
		{"asked to elaborate", func(q string) spec {
			s := qa(q)
			s.objective = "Explain the answer in detail."
			return s
		}, 0, 0.05},
		{"short demos", func(q string) spec {
			s := qa(q)
			s.demos = shortDemos
			return s
		}, 0.75, 1},
		{"one short demo", func(q string) spec {
			s := qa(q)
			s.demos = shortDemos[:1]
			return s
		}, 0.2, 0.6},
		{"verbose demos", func(q string) spec {
			s := qa(q)
			s.demos = longDemos
			return s
		}, 0, 0.1},
		{"short demos, JSON adapter", func(q string) spec {
			s := qa(q)
			s.demos, s.json = shortDemos, true
			return s
		}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.min < 0 {
				// JSON demos: check via the JSON reply.
				short := 0
				for _, it := range items(dataset.KindFact, 0)[:40] {
					v := outputs(t, ask(t, c, srv.URL(), tc.build(it.Question)), true)
					if len(strings.Fields(v["answer"])) <= 4 {
						short++
					}
				}
				if short < 30 {
					t.Fatalf("%d of 40 answers short despite short JSON demos", short)
				}
				return
			}
			got := shortShare(t, srv, c, tc.build)
			if got < tc.min || got > tc.max {
				t.Fatalf("short share = %.2f, want in [%.2f, %.2f]", got, tc.min, tc.max)
			}
		})
	}
}

func TestVerboseContainsAnswer(t *testing.T) {
	srv, c := start(t)
	known := 0
	facts := items(dataset.KindFact, 0)
	for _, it := range facts {
		v, _ := parseChat(ask(t, c, srv.URL(), qa(it.Question)))
		if strings.Contains(strings.ToLower(v["answer"]), strings.ToLower(it.Answer)) {
			known++
		}
	}
	share := float64(known) / float64(len(facts))
	if share < 0.75 || share > 0.95 {
		t.Fatalf("the model knows %.2f of the facts, want about 0.85", share)
	}
}

// mathAccuracy is the share of probs whose answer holds the right number
// (the answer's style is measured apart, by TestStyle).
func mathAccuracy(t *testing.T, url string, c *http.Client, build func(q string) spec, probs []dataset.Item) float64 {
	t.Helper()
	right := 0
	for _, it := range probs {
		s := build(it.Question)
		v := outputs(t, ask(t, c, url, s), s.json)
		if hasToken(v["answer"], it.Answer) {
			right++
		}
	}
	return float64(right) / float64(len(probs))
}

func TestMath(t *testing.T) {
	srv, c := start(t)
	multi := items(dataset.KindMath, 2)
	short := func(s spec) spec { s.objective = "Answer with just the answer."; return s }
	demos := func(reasoned bool) []map[string]string {
		var ds []map[string]string
		for _, it := range items(dataset.KindMath, 2)[:3] {
			d := map[string]string{"question": it.Question, "answer": it.Answer}
			if reasoned {
				d["reasoning"] = strings.Join(it.Work, ". ")
			}
			ds = append(ds, d)
		}
		return ds
	}
	probs := multi[3:]
	acc := map[string]float64{}
	for _, tc := range []struct {
		name  string
		build func(q string) spec
	}{
		{"predict", func(q string) spec { return short(qa(q)) }},
		{"predict+demos", func(q string) spec { s := short(qa(q)); s.demos = demos(false); return s }},
		{"predict+step-by-step", func(q string) spec {
			s := qa(q)
			s.objective = "Think step by step and give just the answer."
			return s
		}},
		{"cot", func(q string) spec { return short(cot(q)) }},
		{"cot json", func(q string) spec { s := short(cot(q)); s.json = true; return s }},
		{"cot+reasoned demos", func(q string) spec { s := short(cot(q)); s.demos = demos(true); return s }},
		{"answer before reasoning", func(q string) spec {
			s := short(cot(q))
			s.outputs = []field{{"answer", "str"}, {"reasoning", "str"}}
			return s
		}},
	} {
		acc[tc.name] = mathAccuracy(t, srv.URL(), c, tc.build, probs)
	}
	t.Logf("multi-step math accuracy: %v", acc)
	var oneStep []dataset.Item
	for _, it := range items(dataset.KindMath, 1) {
		if it.Steps == 1 {
			oneStep = append(oneStep, it)
		}
	}
	single := mathAccuracy(t, srv.URL(), c, func(q string) spec { return short(qa(q)) }, oneStep)
	checks := []struct {
		ok   bool
		what string
	}{
		{acc["predict"] < 0.4, "predict is mostly wrong on multi-step problems"},
		{acc["answer before reasoning"] < 0.4, "reasoning after the answer does not help"},
		{acc["cot"] > 0.8 && acc["cot json"] > 0.8, "cot is mostly right"},
		{acc["cot+reasoned demos"] == 1, "cot with reasoned demos is always right"},
		{acc["predict+demos"] > acc["predict"], "good demos help"},
		{acc["predict+step-by-step"] > acc["predict"], "step-by-step instructions help"},
		{acc["cot"] > acc["predict+step-by-step"], "a reasoning field helps most"},
		{single == 1, "single-step problems are always right"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("want: %s; got %v (single-step %.2f)", ch.what, acc, single)
		}
	}
}

func TestMathReasoningText(t *testing.T) {
	srv, c := start(t)
	it := items(dataset.KindMath, 3)[0]
	v, _ := parseChat(ask(t, c, srv.URL(), cot(it.Question)))
	for _, eq := range it.Work {
		if !strings.Contains(v["reasoning"], eq) {
			t.Errorf("reasoning %q lacks step %q", v["reasoning"], eq)
		}
	}
}

func TestPlainChat(t *testing.T) {
	srv, c := start(t)
	chat := func(msgs ...map[string]string) string {
		r := post(t, context.Background(), c, srv.URL(), map[string]any{"model": "m", "messages": msgs})
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
		return r.choices[0]
	}
	user := func(s string) map[string]string { return map[string]string{"role": "user", "content": s} }
	if got := chat(user("Hi! What is the capital of Canada? Thanks.")); !strings.Contains(got, "Ottawa") || strings.Contains(got, "[[ ##") {
		t.Errorf("plain chat reply %q", got)
	}
	if got := chat(map[string]string{"role": "system", "content": "Be brief: the name alone, no explanation."}, user("What is the capital of Canada?")); got != "Ottawa" {
		t.Errorf("brief plain chat reply %q", got)
	}
	if got := chat(user("hello there")); got == "" {
		t.Error("empty reply to small talk")
	}
}

func TestUsageAndLimits(t *testing.T) {
	srv, c := start(t)
	body := cot("What is the capital of Peru?").request()
	r := post(t, context.Background(), c, srv.URL(), body)
	if r.usage.PromptTokens < 50 || r.usage.CompletionTokens < 5 || r.usage.TotalTokens != r.usage.PromptTokens+r.usage.CompletionTokens {
		t.Errorf("usage %+v", r.usage)
	}
	if r.finish[0] != "stop" {
		t.Errorf("finish_reason %q", r.finish[0])
	}
	body["max_tokens"] = 5
	short := post(t, context.Background(), c, srv.URL(), body)
	if short.finish[0] != "length" || short.usage.CompletionTokens != 5 || !strings.HasPrefix(r.choices[0], short.choices[0]) {
		t.Errorf("max_tokens 5: %q finish %q usage %+v", short.choices[0], short.finish[0], short.usage)
	}
	delete(body, "max_tokens")
	body["stop"] = "[[ ## answer"
	stopped := post(t, context.Background(), c, srv.URL(), body)
	if strings.Contains(stopped.choices[0], "answer ##") || !strings.Contains(stopped.choices[0], "reasoning") {
		t.Errorf("stop: %q", stopped.choices[0])
	}
	st := srv.Stats()
	if st.PromptTokens < int64(3*r.usage.PromptTokens) || st.CompletionTokens == 0 || st.Completions != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestBadRequests(t *testing.T) {
	srv, c := start(t)
	for name, body := range map[string]map[string]any{
		"no messages":  {"model": "m", "messages": []any{}},
		"bad n":        {"model": "m", "messages": []map[string]string{{"role": "user", "content": "x"}}, "n": 0},
		"bad content":  {"model": "m", "messages": []map[string]any{{"role": "user", "content": 42}}},
		"bad format":   {"model": "m", "messages": []map[string]string{{"role": "user", "content": "x"}}, "response_format": map[string]string{"type": "xml"}},
		"bad temp":     {"model": "m", "messages": []map[string]string{{"role": "user", "content": "x"}}, "temperature": 7},
		"stop integer": {"model": "m", "messages": []map[string]string{{"role": "user", "content": "x"}}, "stop": 3},
	} {
		t.Run(name, func(t *testing.T) {
			r := post(t, context.Background(), c, srv.URL(), body)
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "invalid_request_error") {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
		})
	}
	// Content as an array of parts is accepted.
	r := post(t, context.Background(), c, srv.URL(), map[string]any{"model": "m", "messages": []map[string]any{
		{"role": "user", "content": []map[string]string{{"type": "text", "text": "What is the capital of Cuba?"}}},
	}})
	if r.status != http.StatusOK || !strings.Contains(r.choices[0], "Havana") {
		t.Fatalf("parts: %d %s", r.status, r.raw)
	}
}

// TestAccuracy measures what the simulator yields on the dev split of the
// shipped dataset, for doc.go. It asserts the ordering, not the numbers.
func TestAccuracy(t *testing.T) {
	srv, c := start(t)
	_, dev := dataset.TrainDev(0, 100)
	train, _ := dataset.TrainDev(0, 100)
	var shortDemos []map[string]string
	for _, it := range train[:4] {
		shortDemos = append(shortDemos, map[string]string{"question": it.Question, "answer": it.Answer})
	}
	type score struct{ em, contains, facts, math float64 }
	nKind := map[string]int{}
	for _, it := range dev {
		nKind[it.Kind]++
	}
	run := func(build func(q string) spec) score {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var emN, cN int
		byKind := map[string]int{}
		work := make(chan dataset.Item)
		for range 8 {
			wg.Go(func() {
				for it := range work {
					s := build(it.Question)
					v := outputs(t, ask(t, c, srv.URL(), s), s.json)
					mu.Lock()
					if em(v["answer"], it.Answer) {
						emN++
						byKind[it.Kind]++
					}
					if strings.Contains(dataset.Normalize(v["answer"]), dataset.Normalize(it.Answer)) {
						cN++
					}
					mu.Unlock()
				}
			})
		}
		for _, it := range dev {
			work <- it
		}
		close(work)
		wg.Wait()
		return score{
			em: float64(emN) / float64(len(dev)), contains: float64(cN) / float64(len(dev)),
			facts: float64(byKind[dataset.KindFact]) / float64(nKind[dataset.KindFact]),
			math:  float64(byKind[dataset.KindMath]) / float64(nKind[dataset.KindMath]),
		}
	}
	zero := run(qa)
	concise := run(func(q string) spec { s := qa(q); s.objective = "Answer concisely."; return s })
	demos := run(func(q string) spec { s := qa(q); s.demos = shortDemos; return s })
	cotShort := run(func(q string) spec { s := cot(q); s.objective = "Answer concisely."; return s })
	t.Logf("dev set (%d items: %v) exact match / contains (EM facts, EM math):", len(dev), nKind)
	for _, r := range []struct {
		name string
		s    score
	}{
		{"zero-shot Predict", zero}, {"Predict, concise", concise},
		{"Predict, 4 short demos", demos}, {"ChainOfThought, concise", cotShort},
	} {
		t.Logf("  %-25s %.2f / %.2f (%.2f, %.2f)", r.name, r.s.em, r.s.contains, r.s.facts, r.s.math)
	}
	if !(zero.em < 0.3 && zero.em < concise.em && concise.em < cotShort.em && zero.em < demos.em) {
		t.Errorf("accuracy ordering broken: zero %.2f concise %.2f demos %.2f cot %.2f", zero.em, concise.em, demos.em, cotShort.em)
	}
	if zero.contains < concise.em-0.05 {
		t.Errorf("zero-shot answers should contain the gold as often as concise ones equal it: %.2f vs %.2f", zero.contains, concise.em)
	}
}
