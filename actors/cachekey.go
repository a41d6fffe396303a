package actors

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dspex-go/dspex/internal/bufpool"
	"github.com/dspex-go/dspex/lm"
)

// cacheKey returns the hex SHA-256 of the request's identity for provider
// and model: of the JSON encoding of its cacheKeyInput. It reports false
// for a request that cannot be keyed (a NaN temperature), which then
// bypasses the cache.
//
// Plain chat requests — messages of text only, no tools — are encoded by
// appendPlainKey straight into a pooled buffer, byte for byte what
// encoding/json writes (FuzzCacheKeyPlain checks it), so that keys stay
// those of earlier versions (a disk cache keeps serving) at a fraction of
// the cost; any other request goes through encoding/json.
func cacheKey(provider, model string, req lm.Request) (string, bool) {
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	b, ok := appendPlainKey((*bp)[:0], provider, model, &req)
	if !ok {
		var err error
		if b, err = json.Marshal(newCacheKeyInput(provider, model, &req)); err != nil {
			return "", false
		}
	} else {
		*bp = b
	}
	return hexKey(sha256.Sum256(b)), true
}

// hexKey is a key's text: the hex of its SHA-256 sum.
func hexKey(sum [sha256.Size]byte) string {
	var key [2 * sha256.Size]byte
	hex.Encode(key[:], sum[:])
	return string(key[:])
}

// cacheKeyInput is what a cache key is computed from. It names the provider,
// the model and every field that changes the reply. It never holds
// credentials.
type cacheKeyInput struct {
	Provider    string        `json:"p"`
	Model       string        `json:"m"`
	Messages    []lm.Message  `json:"msgs"`
	Temperature *float64      `json:"t,omitempty"`
	MaxTokens   int           `json:"mt,omitempty"`
	N           int           `json:"n,omitempty"`
	Stop        []string      `json:"stop,omitempty"`
	Seed        *int          `json:"seed,omitempty"`
	Format      lm.Format     `json:"fmt,omitempty"`
	RolloutID   int           `json:"r,omitempty"`
	Tools       []lm.ToolDef  `json:"tools,omitempty"`
	ToolChoice  lm.ToolChoice `json:"tc,omitempty"`
}

// newCacheKeyInput returns what the key of req for provider and model is
// computed from.
func newCacheKeyInput(provider, model string, req *lm.Request) cacheKeyInput {
	return cacheKeyInput{
		Provider:    provider,
		Model:       model,
		Messages:    req.Messages,
		Temperature: req.Temperature,
		MaxTokens:   req.MaxTokens,
		N:           req.N,
		Stop:        req.Stop,
		Seed:        req.Seed,
		Format:      req.ResponseFormat,
		RolloutID:   req.RolloutID,
		Tools:       req.Tools,
		ToolChoice:  req.ToolChoice,
	}
}

// appendPlainKey appends the JSON encoding of req's cacheKeyInput to b,
// as json.Marshal writes it, when req is a plain chat request: no tools,
// no tool choice, messages without parts, tool calls or tool call ids,
// and a temperature json.Marshal writes without an exponent. Else it
// reports false, and b is garbage.
func appendPlainKey(b []byte, provider, model string, req *lm.Request) ([]byte, bool) {
	if len(req.Tools) > 0 || req.ToolChoice != "" {
		return b, false
	}
	b = appendKeyHead(b, provider, model)
	if req.Messages == nil {
		b = append(b, "null"...)
		return appendPlainTail(b, req)
	}
	b, ok := appendPlainMessages(append(b, '['), req.Messages, false)
	if !ok {
		return b, false
	}
	return appendPlainTail(b, req)
}

// appendPlainMessages appends msgs, each as appendPlainMessage writes it
// and after a comma when it is not the list's first (after: msgs follow
// others), then closes the list. It reports false for a message that is
// not plain, and b is then garbage.
func appendPlainMessages(b []byte, msgs []lm.Message, after bool) ([]byte, bool) {
	for i := range msgs {
		if after || i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendPlainMessage(b, &msgs[i]); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendKeyHead appends the opening of a key's JSON, up to its messages.
func appendKeyHead(b []byte, provider, model string) []byte {
	b = append(b, `{"p":`...)
	b = appendJSONString(b, provider)
	b = append(b, `,"m":`...)
	b = appendJSONString(b, model)
	return append(b, `,"msgs":`...)
}

// appendPlainTail appends what follows the messages in a plain key's
// JSON. It reports false for a temperature that encoding/json must
// write, and b is then garbage.
func appendPlainTail(b []byte, req *lm.Request) ([]byte, bool) {
	if t := req.Temperature; t != nil {
		if abs := math.Abs(*t); abs != 0 && (abs < 1e-6 || abs >= 1e21) || math.IsNaN(*t) {
			return b, false // exponents, and NaN (an error): encoding/json decides
		}
		b = append(b, `,"t":`...)
		b = strconv.AppendFloat(b, *t, 'f', -1, 64)
	}
	if req.MaxTokens != 0 {
		b = append(b, `,"mt":`...)
		b = strconv.AppendInt(b, int64(req.MaxTokens), 10)
	}
	if req.N != 0 {
		b = append(b, `,"n":`...)
		b = strconv.AppendInt(b, int64(req.N), 10)
	}
	if len(req.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range req.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	if req.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, int64(*req.Seed), 10)
	}
	if req.ResponseFormat != "" {
		b = append(b, `,"fmt":`...)
		b = appendJSONString(b, string(req.ResponseFormat))
	}
	if req.RolloutID != 0 {
		b = append(b, `,"r":`...)
		b = strconv.AppendInt(b, int64(req.RolloutID), 10)
	}
	return append(b, '}'), true
}

// plainMessage reports whether appendPlainMessage writes m.
func plainMessage(m *lm.Message) bool {
	return len(m.Parts) == 0 && len(m.ToolCalls) == 0 && m.ToolCallID == ""
}

// keyMemo remembers, for a client, the SHA-256 state of plain keys'
// JSON up to and including their first message (the adapter's system
// prompt, the same call after call), so that a key hashes and escapes
// only what follows it. The key is the same as cacheKey's, byte for
// byte: the remembered state is of the bytes appendPlainKey writes.
// Its slots are read and written without locks; two prefixes may share
// a slot, the latest wins.
type keyMemo struct {
	seed  maphash.Seed
	slots [keyMemoSlots]atomic.Pointer[keyPrefix]
}

const keyMemoSlots = 64

// keyPrefix is the SHA-256 state (MarshalBinary) after the JSON of a
// plain key for provider and model up to its first message, a system
// message of content system.
type keyPrefix struct {
	provider, model, system string
	state                   []byte
}

// newKeyMemoFor returns the memo of a client with cache rc: none when
// it has no cache.
func newKeyMemoFor(rc *responseCache) *keyMemo {
	if rc == nil {
		return nil
	}
	return &keyMemo{seed: maphash.MakeSeed()}
}

// key is cacheKey(provider, model, *req). Only a system message followed
// by others is remembered: a prompt that comes back call after call. A
// lone message, or a first one from the user, is as likely a document
// seen once, which a slot would keep alive for nothing.
func (km *keyMemo) key(provider, model string, req *lm.Request) (string, bool) {
	if km == nil || len(req.Messages) < 2 || req.Messages[0].Role != lm.RoleSystem ||
		len(req.Tools) > 0 || req.ToolChoice != "" || !plainMessage(&req.Messages[0]) {
		return cacheKey(provider, model, *req)
	}
	// The slot is chosen by the end of the prompt (its instructions)
	// and its length: cheap, and enough to spread them.
	system := req.Messages[0].Content
	h := maphash.String(km.seed, system[max(len(system)-64, 0):]) ^ uint64(len(system))
	slot := &km.slots[h%keyMemoSlots]
	p := slot.Load()
	if p == nil || p.system != system || p.provider != provider || p.model != model {
		p = newKeyPrefix(provider, model, system)
		slot.Store(p)
	}
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	b, ok := appendPlainMessages((*bp)[:0], req.Messages[1:], true)
	if ok {
		b, ok = appendPlainTail(b, req)
	}
	if !ok {
		return cacheKey(provider, model, *req)
	}
	*bp = b
	d := sha256.New()
	if d.(encoding.BinaryUnmarshaler).UnmarshalBinary(p.state) != nil {
		return cacheKey(provider, model, *req)
	}
	d.Write(b)
	var sum [sha256.Size]byte
	d.Sum(sum[:0])
	return hexKey(sum), true
}

// newKeyPrefix hashes the JSON of a plain key for provider and model up
// to its first message, a system message of content system.
func newKeyPrefix(provider, model, system string) *keyPrefix {
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	b := appendKeyHead((*bp)[:0], provider, model)
	b, _ = appendPlainMessage(append(b, '['), &lm.Message{Role: lm.RoleSystem, Content: system})
	*bp = b
	d := sha256.New()
	d.Write(b)
	state, _ := d.(encoding.BinaryMarshaler).MarshalBinary()
	return &keyPrefix{provider: provider, model: model, system: system, state: state}
}

const hexDigits = "0123456789abcdef"

// appendPlainMessage appends m as encoding/json encodes it, when it is
// plain: text, no parts, tool calls or tool call id. Else it reports
// false, and b is garbage.
func appendPlainMessage(b []byte, m *lm.Message) ([]byte, bool) {
	if !plainMessage(m) {
		return b, false
	}
	b = append(b, `{"role":`...)
	b = appendJSONString(b, string(m.Role))
	b = append(b, `,"content":`...)
	b = appendJSONString(b, m.Content)
	return append(b, '}'), true
}

// plainASCII tells the ASCII bytes encoding/json writes as they are in a
// string: all but control characters, '"', '\\' and the HTML characters.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as encoding/json writes a string by default:
// quoted, with HTML characters, control characters, U+2028 and U+2029
// escaped, and invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
