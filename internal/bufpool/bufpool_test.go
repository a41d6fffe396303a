package bufpool

import "testing"

func TestPutDropsLargeBuffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		kept bool
	}{
		{"small", 100, true},
		{"at the limit", maxKept, true},
		{"past the limit", maxKept + 1, false},
	} {
		bp := new([]byte)
		*bp = make([]byte, 0, tc.size)
		Put(bp)
		if kept := *bp != nil; kept != tc.kept {
			t.Errorf("%s: kept %v, want %v", tc.name, kept, tc.kept)
		}
	}
}
