// Package bufpool lends the byte buffers dspex's hot paths encode into
// (cache keys, cached responses, memory-tier entries), so that a call
// allocates none of them.
package bufpool

import "sync"

// maxKept is the largest buffer Put keeps: a rare huge value does not
// stay pinned in the pool.
const maxKept = 64 << 10

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// Get returns a buffer of the pool. Append to (*bp)[:0], store the result
// back in *bp, and Put bp once nothing holds the bytes.
func Get() *[]byte { return pool.Get().(*[]byte) }

// Put returns bp to the pool. A buffer grown past 64 KiB is dropped: the
// next Get of bp starts from an empty one.
func Put(bp *[]byte) {
	if cap(*bp) > maxKept {
		*bp = nil
	}
	pool.Put(bp)
}
