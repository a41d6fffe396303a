// Package retrieve finds the passages of a corpus nearest to a query: the
// retrieval half of retrieval-augmented programs.
//
// # Retrievers
//
// A Retriever maps a query to its k best passages (id, text, score). The
// Retrieve module of package programs (DSPy's dspy.Retrieve) calls one
// inside a program. Two implementations ship:
//
//   - Index, the embedded default: an in-memory vector index that needs no
//     service. Build embeds the corpus through an lm.Embedder (on a dspex
//     runtime, rt.Embedder(id), so embeddings go through the client actor
//     and its cache); Retrieve embeds the query the same way and returns
//     the passages of highest cosine similarity. Search is exact below
//     DefaultApproxThreshold passages and walks an HNSW graph above it
//     (WithApproximate forces either), reranking the graph's candidates
//     exactly.
//   - Qdrant, a client of a Qdrant server's HTTP API: CreateCollection,
//     Upsert (embeds and writes points) and Retrieve.
//
// # Approximate search
//
// The graph is a hierarchical navigable small world graph (Malkov and
// Yashunin, 2016) written in this package: levels drawn from a seeded
// generator (WithSeed), m links per node (2m on the bottom layer, the
// closest kept), insertion with a beam of 200, search with a beam of
// efSearch (WithHNSW). github.com/coder/hnsw, the obvious module, was
// tried first and dropped: its search stops as soon as one expansion does
// not beat the best node found, starts from a random entry point, and found
// a passage from its own text half the time on a templated test corpus
// where this graph finds it nine times in ten (TestIndexApproximateAgreesWithExact). FAISS, which DSPy uses,
// is a C++ library. Recall against exact search on the shipped
// multi-hop corpus is measured by the tests of package test
// (TestMultihopIndexRecall); build time and query latency by
// BenchmarkIndex in this package.
//
// # Saved indexes
//
// Save writes an index in a versioned, checksummed binary format (magic,
// version, a JSON header naming the embedding model, dimension, passage
// count and the corpus's SHA-256, the vectors, the graph, a SHA-256 of the
// whole); Load reads it back for the same corpus and rejects a file made
// for another corpus, model or graph setting (ErrStaleIndex) or a damaged
// one (*FormatError). Open does both: it loads the file when it is current
// and otherwise builds the index and saves it, so a corpus is embedded once.
package retrieve
