package simlm

import (
	"strconv"
	"strings"
)

// embeddingDim returns the length of the embeddings of a request: the
// requested dimensions when set; else the number ending the model name
// after a dash ("simlm-embed-256" gives 256), for clients that cannot send
// dimensions; else DefaultEmbeddingDim. Longer vectors collide less in the
// hashed bag of words, so they separate the passages of a large corpus
// better.
func embeddingDim(model string, requested int) int {
	if requested > 0 {
		return requested
	}
	if i := strings.LastIndexByte(model, '-'); i >= 0 {
		if n, err := strconv.Atoi(model[i+1:]); err == nil && n > 0 && n <= maxEmbeddingDim {
			return n
		}
	}
	return DefaultEmbeddingDim
}
