package retrieve

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// graph is a hierarchical navigable small world graph (Malkov and
// Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", 2016) over the unit-length
// vectors of an index, with cosine distance (1 - dot product). Node i is
// vector i. Each node lives on layers 0..level[i]; a layer above 0 keeps at
// most m links per node, layer 0 at most 2m. A search descends greedily
// from the top layer's entry point and runs a beam search of width ef on
// layer 0. The graph is immutable once built, so searches may run
// concurrently.
type graph struct {
	m, efSearch int
	entry       int32
	top         int
	level       []uint8
	links       [][][]int32 // links[node][layer]
	vecs        [][]float32

	// building is the visited set the build's searches reuse; searches
	// after the build take theirs from visits.
	building *visitSet
	visits   sync.Pool
}

// visitSet records which nodes a search has visited. A node is visited
// when its stamp equals the current generation, so starting a new search
// costs one increment instead of clearing or allocating a map.
type visitSet struct {
	stamp []uint32
	gen   uint32
}

func newVisitSet(n int) *visitSet { return &visitSet{stamp: make([]uint32, n)} }

// reset starts a new search.
func (v *visitSet) reset() {
	v.gen++
	if v.gen == 0 { // wrapped: old stamps could match again
		clear(v.stamp)
		v.gen = 1
	}
}

// visit marks i and reports whether it was already marked.
func (v *visitSet) visit(i int32) bool {
	if v.stamp[i] == v.gen {
		return true
	}
	v.stamp[i] = v.gen
	return false
}

// efConstruction is the beam width while inserting.
const efConstruction = 200

// maxGraphLevel bounds a node's level.
const maxGraphLevel = 16

func (g *graph) dist(q []float32, i int32) float32 { return 1 - dot(q, g.vecs[i]) }

// buildHNSW inserts every vector in order; levels come from a PCG
// generator seeded with seed, so the same vectors always build the same
// graph.
func buildHNSW(vecs [][]float32, m, efSearch int, seed uint64) *graph {
	g := &graph{m: m, efSearch: efSearch, entry: -1, vecs: vecs,
		level: make([]uint8, len(vecs)), links: make([][][]int32, len(vecs)),
		building: newVisitSet(len(vecs))}
	r := rand.New(rand.NewPCG(seed, 0x686e_7377))
	ml := 1 / math.Log(float64(m))
	for i := range vecs {
		l := int(-math.Log(1-r.Float64()) * ml)
		g.insert(int32(i), min(l, maxGraphLevel))
	}
	g.building = nil
	return g
}

func (g *graph) maxLinks(layer int) int {
	if layer == 0 {
		return 2 * g.m
	}
	return g.m
}

func (g *graph) insert(i int32, l int) {
	g.level[i] = uint8(l)
	g.links[i] = make([][]int32, l+1)
	if g.entry < 0 {
		g.entry, g.top = i, l
		return
	}
	q := g.vecs[i]
	ep := g.entry
	for layer := g.top; layer > l; layer-- {
		ep = g.greedy(q, ep, layer)
	}
	for layer := min(l, g.top); layer >= 0; layer-- {
		found := g.searchLayer(q, ep, efConstruction, layer, g.building)
		nb := g.selectNeighbors(found, g.m)
		g.links[i][layer] = nb
		for _, n := range nb {
			g.link(n, i, layer)
		}
		ep = found[0].id
	}
	if l > g.top {
		g.entry, g.top = i, l
	}
}

// link adds i to n's links on layer, keeping the closest when they
// overflow.
func (g *graph) link(n, i int32, layer int) {
	ls := append(g.links[n][layer], i)
	if len(ls) > g.maxLinks(layer) {
		cs := make([]cand, len(ls))
		for j, x := range ls {
			cs[j] = cand{id: x, d: g.dist(g.vecs[n], x)}
		}
		sortCands(cs)
		ls = g.selectNeighbors(cs, g.maxLinks(layer))
	}
	g.links[n][layer] = ls
}

// selectNeighbors picks at most m links from cs (sorted closest first to
// the node being linked) with the paper's heuristic (its algorithm 4): a
// candidate is kept when it is closer to the node than to every candidate
// already kept, so links reach out in different directions instead of all
// into the nearest cluster, which keeps a clustered corpus connected. The
// rest of the m slots are filled with the closest candidates left out.
func (g *graph) selectNeighbors(cs []cand, m int) []int32 {
	out := make([]int32, 0, m)
	var skipped []int32
	for _, c := range cs {
		if len(out) == m {
			break
		}
		keep := true
		for _, r := range out {
			if g.dist(g.vecs[c.id], r) < c.d {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, c.id)
		} else {
			skipped = append(skipped, c.id)
		}
	}
	for _, id := range skipped {
		if len(out) == m {
			break
		}
		out = append(out, id)
	}
	return out
}

// greedy walks layer from ep to the node nearest q it can reach by always
// moving closer.
func (g *graph) greedy(q []float32, ep int32, layer int) int32 {
	best, bd := ep, g.dist(q, ep)
	for changed := true; changed; {
		changed = false
		for _, n := range g.links[best][layer] {
			if d := g.dist(q, n); d < bd {
				best, bd, changed = n, d, true
			}
		}
	}
	return best
}

type cand struct {
	id int32
	d  float32
}

// sortCands sorts closest first, ties by id, so builds are deterministic.
func sortCands(cs []cand) {
	slices.SortFunc(cs, func(a, b cand) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
}

// candHeap is a binary heap of candidates: with far set, the farthest is
// on top, otherwise the closest. It is typed, so pushing allocates nothing
// beyond the slice's growth.
type candHeap struct {
	cs  []cand
	far bool
}

func (h *candHeap) less(a, b int) bool {
	if h.far {
		return h.cs[a].d > h.cs[b].d
	}
	return h.cs[a].d < h.cs[b].d
}

func (h *candHeap) push(c cand) {
	h.cs = append(h.cs, c)
	for i := len(h.cs) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.cs[i], h.cs[p] = h.cs[p], h.cs[i]
		i = p
	}
}

func (h *candHeap) pop() cand {
	top := h.cs[0]
	last := len(h.cs) - 1
	h.cs[0] = h.cs[last]
	h.cs = h.cs[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < last && h.less(l, small) {
			small = l
		}
		if r := l + 1; r < last && h.less(r, small) {
			small = r
		}
		if small == i {
			break
		}
		h.cs[i], h.cs[small] = h.cs[small], h.cs[i]
		i = small
	}
	return top
}

// searchLayer is the beam search of width ef on layer from ep, marking
// nodes in seen; it returns the nodes found, closest first.
func (g *graph) searchLayer(q []float32, ep int32, ef, layer int, seen *visitSet) []cand {
	seen.reset()
	seen.visit(ep)
	first := cand{id: ep, d: g.dist(q, ep)}
	cands := candHeap{cs: make([]cand, 1, ef), far: false}
	res := candHeap{cs: make([]cand, 1, ef+1), far: true}
	cands.cs[0], res.cs[0] = first, first
	for len(cands.cs) > 0 {
		c := cands.pop()
		if len(res.cs) >= ef && c.d > res.cs[0].d {
			break
		}
		for _, n := range g.links[c.id][layer] {
			if seen.visit(n) {
				continue
			}
			d := g.dist(q, n)
			if len(res.cs) < ef || d < res.cs[0].d {
				cands.push(cand{id: n, d: d})
				res.push(cand{id: n, d: d})
				if len(res.cs) > ef {
					res.pop()
				}
			}
		}
	}
	out := res.cs
	sortCands(out)
	return out
}

// search returns up to k nodes near q, closest first.
func (g *graph) search(q []float32, k int) []cand {
	if g.entry < 0 {
		return nil
	}
	ep := g.entry
	for layer := g.top; layer > 0; layer-- {
		ep = g.greedy(q, ep, layer)
	}
	seen, _ := g.visits.Get().(*visitSet)
	if seen == nil {
		seen = newVisitSet(len(g.vecs))
	}
	found := g.searchLayer(q, ep, max(g.efSearch, k), 0, seen)
	g.visits.Put(seen)
	return found[:min(k, len(found))]
}

// appendBinary appends the graph's structure: entry, top, then per node
// its level and, per layer, the link count and links (little-endian).
func (g *graph) appendBinary(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, uint32(g.entry))
	b = le.AppendUint32(b, uint32(g.top))
	for i, ls := range g.links {
		b = append(b, g.level[i])
		for _, l := range ls {
			b = le.AppendUint32(b, uint32(len(l)))
			for _, n := range l {
				b = le.AppendUint32(b, uint32(n))
			}
		}
	}
	return b
}

// readGraph reads what appendBinary wrote for the vectors vecs.
func readGraph(b []byte, vecs [][]float32, m, efSearch int) (*graph, error) {
	le := binary.LittleEndian
	n := len(vecs)
	g := &graph{m: m, efSearch: efSearch, vecs: vecs, level: make([]uint8, n), links: make([][][]int32, n)}
	u32 := func() (uint32, error) {
		if len(b) < 4 {
			return 0, fmt.Errorf("truncated graph")
		}
		x := le.Uint32(b)
		b = b[4:]
		return x, nil
	}
	e, err := u32()
	if err != nil {
		return nil, err
	}
	top, err := u32()
	if err != nil {
		return nil, err
	}
	if int(e) >= n || top > maxGraphLevel {
		return nil, fmt.Errorf("graph entry %d or top layer %d out of range", e, top)
	}
	g.entry, g.top = int32(e), int(top)
	for i := range n {
		if len(b) < 1 {
			return nil, fmt.Errorf("truncated graph")
		}
		g.level[i] = b[0]
		b = b[1:]
		if int(g.level[i]) > g.top {
			return nil, fmt.Errorf("node %d on layer %d above the top %d", i, g.level[i], g.top)
		}
		g.links[i] = make([][]int32, int(g.level[i])+1)
		for layer := range g.links[i] {
			c, err := u32()
			if err != nil {
				return nil, err
			}
			if int(c) > g.maxLinks(layer) || int(c) > len(b)/4 {
				return nil, fmt.Errorf("node %d has %d links on layer %d", i, c, layer)
			}
			ls := make([]int32, c)
			for j := range ls {
				x, _ := u32()
				if int(x) >= n {
					return nil, fmt.Errorf("node %d links to %d of %d nodes", i, x, n)
				}
				ls[j] = int32(x)
			}
			g.links[i][layer] = ls
		}
	}
	if int(g.level[g.entry]) != g.top {
		return nil, fmt.Errorf("entry %d is not on the top layer", g.entry)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the graph", len(b))
	}
	// A link to a node must be on a layer that node is on.
	for i, ls := range g.links {
		for layer, l := range ls {
			for _, x := range l {
				if int(g.level[x]) < layer {
					return nil, fmt.Errorf("node %d links on layer %d to node %d of level %d", i, layer, x, g.level[x])
				}
			}
		}
	}
	return g, nil
}
