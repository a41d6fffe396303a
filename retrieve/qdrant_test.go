package retrieve_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dspex-go/dspex/retrieve"
)

// fakeQdrant is a recorded fake of Qdrant's HTTP API (v1.10 and later): the
// three endpoints the client uses, with the request and response bodies of
// Qdrant's API reference, points kept in memory and cosine scoring. No
// Qdrant server runs in this environment (no network, no container
// runtime), so the client is tested against this fake on 127.0.0.1. It
// records every request.
type fakeQdrant struct {
	mu       sync.Mutex
	apiKey   string
	dim      int
	exists   bool
	points   map[string]fakePoint
	requests []string
}

type fakePoint struct {
	vec     []float32
	payload map[string]any
}

func (f *fakeQdrant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, msg string) {
		reply(status, map[string]any{"status": map[string]any{"error": msg}, "time": 0.0001})
	}
	if f.apiKey != "" && r.Header.Get("api-key") != f.apiKey {
		fail(http.StatusUnauthorized, "Must provide an API key or an Authorization bearer token")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusBadRequest, "Content-Type must be application/json")
		return
	}
	ok := func(result any) {
		reply(http.StatusOK, map[string]any{"result": result, "status": "ok", "time": 0.0002})
	}
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/collections/books":
		var body struct {
			Vectors struct {
				Size     int    `json:"size"`
				Distance string `json:"distance"`
			} `json:"vectors"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Vectors.Size <= 0 || body.Vectors.Distance != "Cosine" {
			fail(http.StatusUnprocessableEntity, fmt.Sprintf("Format error in JSON body: %v", err))
			return
		}
		f.dim, f.exists, f.points = body.Vectors.Size, true, map[string]fakePoint{}
		ok(true)
	case !f.exists:
		fail(http.StatusNotFound, "Not found: Collection `books` doesn't exist!")
	case r.Method == http.MethodPut && r.URL.Path == "/collections/books/points":
		if r.URL.Query().Get("wait") != "true" {
			fail(http.StatusBadRequest, "the client must wait")
			return
		}
		var body struct {
			Points []struct {
				ID      string         `json:"id"`
				Vector  []float32      `json:"vector"`
				Payload map[string]any `json:"payload"`
			} `json:"points"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		for _, p := range body.Points {
			if len(p.Vector) != f.dim {
				fail(http.StatusBadRequest, fmt.Sprintf("Wrong input: Vector dimension error: expected dim: %d, got %d", f.dim, len(p.Vector)))
				return
			}
			f.points[p.ID] = fakePoint{vec: p.Vector, payload: p.Payload}
		}
		ok(map[string]any{"operation_id": len(f.requests), "status": "completed"})
	case r.Method == http.MethodPost && r.URL.Path == "/collections/books/points/query":
		var body struct {
			Query       []float32 `json:"query"`
			Limit       int       `json:"limit"`
			WithPayload bool      `json:"with_payload"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !body.WithPayload || body.Limit <= 0 {
			fail(http.StatusBadRequest, "bad query")
			return
		}
		type scored struct {
			ID      string         `json:"id"`
			Version int            `json:"version"`
			Score   float64        `json:"score"`
			Payload map[string]any `json:"payload"`
		}
		var all []scored
		for id, p := range f.points {
			all = append(all, scored{ID: id, Score: cosine(body.Query, p.vec), Payload: p.payload})
		}
		slices.SortFunc(all, func(a, b scored) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		ok(map[string]any{"points": all[:min(body.Limit, len(all))]})
	default:
		fail(http.StatusNotFound, "Not found")
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / (sqrt(aa) * sqrt(bb))
}

func sqrt(x float64) float64 {
	z := x
	for range 30 {
		z -= (z*z - x) / (2 * z)
	}
	return z
}

func TestQdrantAgainstRecordedFake(t *testing.T) {
	fake := &fakeQdrant{apiKey: "qdrant-secret-key"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	ctx := context.Background()
	emb := &wordEmbedder{dim: 1024}
	q, err := retrieve.NewQdrant(retrieve.QdrantConfig{URL: srv.URL, Collection: "books", APIKey: "qdrant-secret-key"},
		emb, retrieve.WithBatchSize(40))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Retrieve(ctx, "item3", 2); !isQdrantStatus(err, http.StatusNotFound) {
		t.Fatalf("query before the collection exists: %v", err)
	}
	if err := q.CreateCollection(ctx, 1024); err != nil {
		t.Fatal(err)
	}
	c := corpus(100)
	if err := q.Upsert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := q.Upsert(ctx, c[:5]); err != nil { // idempotent: same point ids
		t.Fatal(err)
	}
	if n := len(fake.points); n != 100 {
		t.Fatalf("%d points stored, want 100", n)
	}
	ix, err := retrieve.Build(ctx, emb, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{"item42", "widget item7", "item99 widget"} {
		got, err := q.Retrieve(ctx, query, 3)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ix.Retrieve(ctx, query, 3)
		if len(got) != 3 || got[0].ID != want[0].ID || got[0].Text != want[0].Text || !near(got[0].Score, want[0].Score) {
			t.Errorf("%q: qdrant %+v, embedded index %+v", query, got, want)
		}
	}
	fake.mu.Lock()
	reqs := slices.Clone(fake.requests)
	fake.mu.Unlock()
	wantPrefix := []string{
		"POST /collections/books/points/query",
		"PUT /collections/books",
		"PUT /collections/books/points?wait=true", "PUT /collections/books/points?wait=true", "PUT /collections/books/points?wait=true",
		"PUT /collections/books/points?wait=true",
	}
	if !slices.Equal(reqs[:len(wantPrefix)], wantPrefix) {
		t.Errorf("requests %v", reqs)
	}

	bad, _ := retrieve.NewQdrant(retrieve.QdrantConfig{URL: srv.URL, Collection: "books", APIKey: "wrong-key-value"}, emb)
	_, err = bad.Retrieve(ctx, "item1", 1)
	if !isQdrantStatus(err, http.StatusUnauthorized) {
		t.Errorf("wrong key: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-key-value") || strings.Contains(fmt.Sprint(q), "qdrant-secret-key") {
		t.Errorf("the API key leaked: %v", err)
	}
	if err := q.CreateCollection(ctx, 0); err == nil {
		t.Error("dimension 0 accepted")
	}
	for _, cfg := range []retrieve.QdrantConfig{{URL: srv.URL}, {URL: "ftp://x", Collection: "c"}, {URL: "::", Collection: "c"}} {
		if _, err := retrieve.NewQdrant(cfg, emb); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if a, b := retrieve.PointID("p-1"), retrieve.PointID("p-1"); a != b || len(a) != 36 || a == retrieve.PointID("p-2") {
		t.Errorf("point ids %s %s", a, b)
	}
}

func isQdrantStatus(err error, status int) bool {
	var qe *retrieve.QdrantError
	return errors.As(err, &qe) && qe.Status == status
}
