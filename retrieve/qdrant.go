package retrieve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	dspexconfig "github.com/dspex-go/dspex/config"
	"github.com/dspex-go/dspex/lm"
)

// QdrantConfig locates a Qdrant collection.
type QdrantConfig struct {
	// URL is the base URL of Qdrant's HTTP API, e.g. "http://localhost:6333".
	URL string
	// Collection is the collection's name.
	Collection string
	// APIKey, when set, is sent in the api-key header. It never appears in
	// errors.
	APIKey dspexconfig.Secret
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// TextKey is the payload key holding a passage's text (default "text").
	TextKey string
	// IDKey is the payload key holding a passage's id (default
	// "passage_id"). Qdrant's own point ids must be integers or UUIDs, so
	// Upsert derives a UUID from each passage id and keeps the id itself in
	// the payload.
	IDKey string
}

// Qdrant is a Retriever over a collection of a Qdrant server, through its
// documented HTTP API (https://api.qdrant.tech/api-reference): queries are
// embedded with an lm.Embedder (as for the embedded Index) and sent to
// POST /collections/{name}/points/query; Upsert embeds passages and writes
// them with PUT /collections/{name}/points. It is the counterpart of DSPy's
// QdrantRM (dspy/retrieve/qdrant_rm.py at stanfordnlp/dspy
// cdc6625b00d419c0a9de800289e2bf679080cf19), without an SDK.
//
// A Qdrant is safe for concurrent use.
type Qdrant struct {
	cfg      QdrantConfig
	opts     config
	embedder lm.Embedder
	base     *url.URL
}

var _ Retriever = (*Qdrant)(nil)

// QdrantError is an error response of the Qdrant server.
type QdrantError struct {
	// Op names the request ("query", "upsert", "create collection").
	Op string
	// Status is the HTTP status.
	Status int
	// Message is Qdrant's status.error text, or the start of the body.
	Message string
}

// Error implements error.
func (e *QdrantError) Error() string {
	return fmt.Sprintf("retrieve: qdrant %s: HTTP %d: %s", e.Op, e.Status, e.Message)
}

// NewQdrant returns a retriever over cfg's collection that embeds with
// embedder. Options WithModel and WithBatchSize apply; the others are
// ignored.
func NewQdrant(cfg QdrantConfig, embedder lm.Embedder, opts ...Option) (*Qdrant, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if embedder == nil {
		return nil, fmt.Errorf("retrieve: NewQdrant: nil embedder")
	}
	if cfg.Collection == "" {
		return nil, fmt.Errorf("retrieve: NewQdrant: empty collection name")
	}
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("retrieve: NewQdrant: URL %q is not an http(s) URL", cfg.URL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.TextKey == "" {
		cfg.TextKey = "text"
	}
	if cfg.IDKey == "" {
		cfg.IDKey = "passage_id"
	}
	return &Qdrant{cfg: cfg, opts: c, embedder: embedder, base: u}, nil
}

// CreateCollection creates the collection for vectors of dim dimensions
// compared by cosine distance (PUT /collections/{name}).
func (q *Qdrant) CreateCollection(ctx context.Context, dim int) error {
	if dim <= 0 {
		return fmt.Errorf("retrieve: qdrant: dimension %d must be positive", dim)
	}
	body := map[string]any{"vectors": map[string]any{"size": dim, "distance": "Cosine"}}
	return q.do(ctx, "create collection", http.MethodPut, q.collectionPath(""), nil, body, nil)
}

// Upsert embeds passages and writes them to the collection, waiting until
// they are applied (PUT /collections/{name}/points?wait=true). Writing the
// same passage id again replaces it.
func (q *Qdrant) Upsert(ctx context.Context, passages []Passage) error {
	if err := checkCorpus(passages); err != nil {
		return err
	}
	for start := 0; start < len(passages); start += q.opts.batch {
		batch := passages[start:min(start+q.opts.batch, len(passages))]
		texts := make([]string, len(batch))
		for i, p := range batch {
			texts[i] = p.Text
		}
		vecs, err := q.embed(ctx, "build", texts)
		if err != nil {
			return err
		}
		points := make([]map[string]any, len(batch))
		for i, p := range batch {
			points[i] = map[string]any{"id": PointID(p.ID), "vector": vecs[i],
				"payload": map[string]any{q.cfg.IDKey: p.ID, q.cfg.TextKey: p.Text}}
		}
		if err := q.do(ctx, "upsert", http.MethodPut, q.collectionPath("/points"), url.Values{"wait": {"true"}},
			map[string]any{"points": points}, nil); err != nil {
			return err
		}
	}
	return nil
}

// Retrieve embeds query and returns the collection's k nearest points as
// passages, with Qdrant's score.
func (q *Qdrant) Retrieve(ctx context.Context, query string, k int) ([]Passage, error) {
	if k <= 0 {
		return nil, ErrBadK
	}
	vecs, err := q.embed(ctx, "query", []string{query})
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result struct {
			Points []struct {
				ID      any            `json:"id"`
				Score   float64        `json:"score"`
				Payload map[string]any `json:"payload"`
			} `json:"points"`
		} `json:"result"`
	}
	body := map[string]any{"query": vecs[0], "limit": k, "with_payload": true}
	if err := q.do(ctx, "query", http.MethodPost, q.collectionPath("/points/query"), nil, body, &resp); err != nil {
		return nil, err
	}
	out := make([]Passage, 0, len(resp.Result.Points))
	for _, p := range resp.Result.Points {
		id, _ := p.Payload[q.cfg.IDKey].(string)
		text, ok := p.Payload[q.cfg.TextKey].(string)
		if !ok {
			return nil, &QdrantError{Op: "query", Status: http.StatusOK,
				Message: fmt.Sprintf("point %v has no string payload %q", p.ID, q.cfg.TextKey)}
		}
		if id == "" {
			id = fmt.Sprint(p.ID)
		}
		out = append(out, Passage{ID: id, Text: text, Score: p.Score})
	}
	return out, nil
}

// PointID returns the Qdrant point id Upsert gives a passage id: a UUID
// (version 8 layout) made from the id's SHA-256, so the same passage always
// maps to the same point.
func PointID(passageID string) string {
	s := sha256.Sum256([]byte(passageID))
	s[6] = s[6]&0x0f | 0x80
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

func (q *Qdrant) embed(ctx context.Context, op string, texts []string) ([][]float32, error) {
	resp, err := q.embedder.Embed(ctx, lm.EmbedRequest{Model: q.opts.model, Inputs: texts})
	if err != nil {
		return nil, &EmbedError{Op: op, Err: err}
	}
	if len(resp.Vectors) != len(texts) {
		return nil, &EmbedError{Op: op, Err: fmt.Errorf("%d vectors for %d texts", len(resp.Vectors), len(texts))}
	}
	return resp.Vectors, nil
}

func (q *Qdrant) collectionPath(suffix string) string {
	return "/collections/" + url.PathEscape(q.cfg.Collection) + suffix
}

// maxQdrantBody bounds a response body.
const maxQdrantBody = 64 << 20

func (q *Qdrant) do(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("retrieve: qdrant %s: %w", op, err)
	}
	u := *q.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("retrieve: qdrant %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if !q.cfg.APIKey.IsZero() {
		req.Header.Set("api-key", q.cfg.APIKey.Reveal())
	}
	resp, err := q.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("retrieve: qdrant %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxQdrantBody))
	if err != nil {
		return fmt.Errorf("retrieve: qdrant %s: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Status struct {
				Error string `json:"error"`
			} `json:"status"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Status.Error != "" {
			msg = e.Status.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return &QdrantError{Op: op, Status: resp.StatusCode, Message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &QdrantError{Op: op, Status: resp.StatusCode, Message: "bad response: " + err.Error()}
	}
	return nil
}

// String names the collection; it never shows the API key.
func (q *Qdrant) String() string {
	return fmt.Sprintf("retrieve.Qdrant(%s, %s)", q.base.Redacted(), q.cfg.Collection)
}
