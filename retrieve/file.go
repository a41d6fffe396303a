package retrieve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/dspex-go/dspex/lm"
)

// The saved index format, version 1 (all integers little-endian):
//
//	magic    8 bytes  "DSPXVIX\x00"
//	version  uint32   1
//	hlen     uint32   length of the header
//	header   JSON     {model identity, dim, count, corpus hash, HNSW settings}
//	vectors  count*dim float32, the unit-length embeddings in corpus order
//	glen     uint64   length of the graph (0: exact index)
//	graph    bytes    the HNSW graph: entry, top layer, each node's level and links
//	sum      32 bytes SHA-256 of everything before it
//
// A file whose checksum, magic or version is wrong is a *FormatError; one
// that belongs to another corpus, embedding model or graph setting is
// ErrStaleIndex.
const (
	fileMagic   = "DSPXVIX\x00"
	fileVersion = 1
	maxHeader   = 1 << 20
)

// FormatError means a saved index could not be read: it is damaged,
// truncated, or not an index file.
type FormatError struct {
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *FormatError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("retrieve: saved index: %s: %v", e.Reason, e.Err)
	}
	return "retrieve: saved index: " + e.Reason
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

type fileHeader struct {
	Identity   string `json:"identity"`
	Dim        int    `json:"dim"`
	Count      int    `json:"count"`
	CorpusHash string `json:"corpus_sha256"`
	Graph      bool   `json:"graph"`
	M          int    `json:"m,omitempty"`
	EfSearch   int    `json:"ef_search,omitempty"`
	Seed       uint64 `json:"seed,omitempty"`
}

// CorpusHash returns the hex SHA-256 of a corpus's ids and texts, in order:
// the identity a saved index is checked against.
func CorpusHash(corpus []Passage) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range corpus {
		for _, s := range []string{p.ID, p.Text} {
			binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
			h.Write(n[:])
			h.Write([]byte(s))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (ix *Index) header() fileHeader {
	h := fileHeader{Identity: ix.identity, Dim: ix.dim, Count: len(ix.corpus), CorpusHash: CorpusHash(ix.corpus), Graph: ix.graph != nil}
	if h.Graph {
		h.M, h.EfSearch, h.Seed = ix.cfg.m, ix.cfg.efSearch, ix.cfg.seed
	}
	return h
}

// Save writes the index to w in the versioned, checksummed format described
// in the package documentation. The passages' texts are not written: Load
// is given the corpus and checks it against the saved hash.
func (ix *Index) Save(w io.Writer) error {
	hw := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, hw))
	hdr, err := json.Marshal(ix.header())
	if err != nil {
		return fmt.Errorf("retrieve: save: %w", err)
	}
	bw.WriteString(fileMagic)
	le := binary.LittleEndian
	bw.Write(le.AppendUint32(nil, fileVersion))
	bw.Write(le.AppendUint32(nil, uint32(len(hdr))))
	bw.Write(hdr)
	buf := make([]byte, 4*ix.dim)
	for _, v := range ix.vecs {
		for i, x := range v {
			le.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		bw.Write(buf)
	}
	var graph []byte
	if ix.graph != nil {
		graph = ix.graph.appendBinary(nil)
	}
	bw.Write(le.AppendUint64(nil, uint64(len(graph))))
	bw.Write(graph)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("retrieve: save: %w", err)
	}
	if _, err := w.Write(hw.Sum(nil)); err != nil {
		return fmt.Errorf("retrieve: save: %w", err)
	}
	return nil
}

// Load reads an index written by Save for corpus, embedded by embedder
// (which also embeds the queries) with the same options. It returns an
// error wrapping ErrStaleIndex when the file was saved for another corpus,
// embedding model (WithModel, the embedder's String) or graph setting, and
// a *FormatError when it is damaged.
func Load(r io.Reader, embedder lm.Embedder, corpus []Passage, opts ...Option) (*Index, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if embedder == nil {
		return nil, fmt.Errorf("retrieve: Load: nil embedder")
	}
	if err := checkCorpus(corpus); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &FormatError{Reason: "read", Err: err}
	}
	body, err := verify(data)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	hlen := int(le.Uint32(body[12:16]))
	if hlen > maxHeader || 16+hlen > len(body) {
		return nil, &FormatError{Reason: fmt.Sprintf("header length %d out of range", hlen)}
	}
	var h fileHeader
	if err := json.Unmarshal(body[16:16+hlen], &h); err != nil {
		return nil, &FormatError{Reason: "header", Err: err}
	}
	ix := &Index{cfg: cfg, embedder: embedder, identity: identityOf(embedder, cfg.model), corpus: clonePassages(corpus)}
	want := ix.header()
	switch {
	case h.Identity != ix.identity:
		return nil, fmt.Errorf("%w: embedded by %q, not %q", ErrStaleIndex, h.Identity, ix.identity)
	case h.Count != len(corpus) || h.CorpusHash != want.CorpusHash:
		return nil, fmt.Errorf("%w: built for another corpus (%d passages)", ErrStaleIndex, h.Count)
	case h.Graph != cfg.approximate(len(corpus)):
		return nil, fmt.Errorf("%w: graph %v, want %v", ErrStaleIndex, h.Graph, !h.Graph)
	case h.Graph && (h.M != cfg.m || h.EfSearch != cfg.efSearch || h.Seed != cfg.seed):
		return nil, fmt.Errorf("%w: graph built with m %d, efSearch %d, seed %d", ErrStaleIndex, h.M, h.EfSearch, h.Seed)
	case h.Dim <= 0 || h.Dim > 1<<16:
		return nil, &FormatError{Reason: fmt.Sprintf("dimension %d out of range", h.Dim)}
	}
	rest := body[16+hlen:]
	nvec := h.Count * h.Dim * 4
	if len(rest) < nvec+8 {
		return nil, &FormatError{Reason: "truncated vectors"}
	}
	ix.dim = h.Dim
	ix.vecs = make([][]float32, h.Count)
	for i := range ix.vecs {
		v := make([]float32, h.Dim)
		for j := range v {
			off := 4 * (i*h.Dim + j)
			v[j] = math.Float32frombits(le.Uint32(rest[off:]))
		}
		ix.vecs[i] = v
	}
	rest = rest[nvec:]
	glen := le.Uint64(rest[:8])
	rest = rest[8:]
	if glen != uint64(len(rest)) {
		return nil, &FormatError{Reason: fmt.Sprintf("graph length %d, %d bytes left", glen, len(rest))}
	}
	if h.Graph {
		g, err := readGraph(rest, ix.vecs, cfg.m, cfg.efSearch)
		if err != nil {
			return nil, &FormatError{Reason: "graph", Err: err}
		}
		ix.graph = g
	} else if len(rest) != 0 {
		return nil, &FormatError{Reason: "graph in an exact index"}
	}
	return ix, nil
}

// verify checks the magic, version and checksum of data and returns it
// without the checksum.
func verify(data []byte) ([]byte, error) {
	if len(data) < len(fileMagic)+8+sha256.Size {
		return nil, &FormatError{Reason: fmt.Sprintf("%d bytes is too short", len(data))}
	}
	if string(data[:len(fileMagic)]) != fileMagic {
		return nil, &FormatError{Reason: "not a dspex index file"}
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != fileVersion {
		return nil, &FormatError{Reason: fmt.Sprintf("format version %d, this build reads %d", v, fileVersion)}
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, &FormatError{Reason: "checksum mismatch"}
	}
	return body, nil
}

// Open returns the index of corpus saved at path when it is current (see
// Load); otherwise (no file, a stale or damaged one) it builds the index,
// saves it at path (atomically, through a temporary file in the same
// directory) and reports built. Errors of the embedder and of writing the
// file are returned; a stale or damaged file is not an error.
func Open(ctx context.Context, path string, embedder lm.Embedder, corpus []Passage, opts ...Option) (ix *Index, built bool, err error) {
	f, err := os.Open(path)
	switch {
	case err == nil:
		ix, err = Load(f, embedder, corpus, opts...)
		f.Close()
		var fe *FormatError
		if err == nil {
			return ix, false, nil
		}
		if !errors.Is(err, ErrStaleIndex) && !errors.As(err, &fe) {
			return nil, false, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("retrieve: open index: %w", err)
	}
	ix, err = Build(ctx, embedder, corpus, opts...)
	if err != nil {
		return nil, false, err
	}
	if err := writeAtomic(path, ix.Save); err != nil {
		return nil, false, err
	}
	return ix, true, nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("retrieve: save index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("retrieve: save index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("retrieve: save index: %w", err)
	}
	return nil
}
