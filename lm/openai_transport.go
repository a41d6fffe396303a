package lm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// exchange records what happened on the wire during one provider call. Each
// call creates its own exchange and carries it to the HTTP layer in the
// request context, so concurrent calls never share one. go-openai calls the
// HTTP client synchronously on the caller's goroutine, so the exchange is
// written before the go-openai call returns and read after it.
type exchange struct {
	// set lists top-level JSON fields to set in the request body, for
	// values go-openai cannot express (an explicit zero temperature).
	set map[string]json.RawMessage
	// sent reports that the request was handed to the HTTP client.
	sent bool
	// transportErr is the HTTP client's error, when no response arrived.
	transportErr error
	// status and header describe the response, when one arrived.
	status int
	header http.Header
	// tooLarge is set when the response body passed the size cap.
	tooLarge error
}

type exchangeKey struct{}

// doer is the HTTP client go-openai sends through. It adds the configured
// headers, applies the exchange's body edits and records the response status
// and headers (Retry-After) in the exchange.
type doer struct {
	client  *http.Client
	headers map[string]string
	// maxBody caps the bytes read from a response body; <= 0: no cap.
	maxBody int64
}

// Do implements openai.HTTPDoer. It edits req in place: go-openai builds
// a request for each call and does not use it after Do (a clone would
// hold another copy of every header for as long as the call waits).
func (d *doer) Do(req *http.Request) (*http.Response, error) {
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	for name, value := range d.headers {
		req.Header.Set(name, value)
	}
	if ex != nil && len(ex.set) > 0 && req.Body != nil {
		if err := setBodyFields(req, ex.set); err != nil {
			return nil, err
		}
	}
	if ex != nil {
		ex.sent = true
	}
	resp, err := d.client.Do(req)
	if ex != nil {
		if err != nil {
			ex.transportErr = err
		} else {
			ex.status = resp.StatusCode
			ex.header = resp.Header
		}
	}
	if err == nil && d.maxBody > 0 {
		resp.Body = &cappedBody{body: resp.Body, left: d.maxBody, limit: d.maxBody, ex: ex}
		if resp.ContentLength > d.maxBody {
			// Announced too large: fail before reading any of it.
			resp.Body.(*cappedBody).left = -1
		}
	}
	return resp, err
}

// cappedBody fails a read once more than limit bytes of the body arrived,
// so a huge reply is refused while it is read, not after.
type cappedBody struct {
	body  io.ReadCloser
	left  int64 // bytes still allowed; < 0 once the cap was passed
	limit int64
	ex    *exchange
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.fail()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more tells a body of exactly limit bytes from a longer one
	}
	n, err := b.body.Read(p)
	if b.left -= int64(n); b.left < 0 {
		return n + int(b.left), b.fail()
	}
	return n, err
}

func (b *cappedBody) fail() error {
	err := fmt.Errorf("%w: the reply is larger than %d bytes", ErrResponseTooLarge, b.limit)
	if b.ex != nil {
		b.ex.tooLarge = err
	}
	return err
}

func (b *cappedBody) Close() error { return b.body.Close() }

// setBodyFields replaces req's JSON object body with one where the given
// top-level fields are set.
func setBodyFields(req *http.Request, set map[string]json.RawMessage) error {
	raw, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return fmt.Errorf("lm: reading request body: %w", err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("lm: request body is not a JSON object: %w", err)
	}
	for name, value := range set {
		body[name] = value
	}
	out, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("lm: encoding request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(out))
	req.ContentLength = int64(len(out))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	return nil
}
