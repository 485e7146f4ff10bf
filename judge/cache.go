package judge

import (
	"context"
	"crypto/sha256"
	"sync"
)

// memo remembers the answer to each key for the Client's life and lets one
// caller at a time fetch a missing one while the others with the same key
// wait for it. A failure is handed to those waiting and then forgotten, so a
// later call tries again. It is safe for concurrent use.
//
// singleflight would share the fetching caller's context with every waiter:
// a conversation stopped mid-call would fail the others. Here a fetch whose
// own caller went away is abandoned, and each waiter still running claims
// the key and fetches it itself.
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]*pending[V]
}

type pending[V any] struct {
	done      chan struct{} // closed once val and err are set
	val       V
	err       error
	abandoned bool // the fetching caller's context ended first
}

// claim returns key's entry, and true when it was missing: then the caller
// must fetch the value and settle the entry.
func (m *memo[V]) claim(key string) (*pending[V], bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.m[key]; ok {
		return p, false
	}
	if m.m == nil {
		m.m = make(map[string]*pending[V])
	}
	p := &pending[V]{done: make(chan struct{})}
	m.m[key] = p
	return p, true
}

// settle records the outcome of a claimed fetch and wakes those waiting. A
// failed entry leaves the map; ctx is the fetching caller's.
func (m *memo[V]) settle(ctx context.Context, key string, p *pending[V], v V, err error) {
	p.val, p.err = v, err
	if err != nil {
		p.abandoned = ctx.Err() != nil
		m.mu.Lock()
		if m.m[key] == p {
			delete(m.m, key)
		}
		m.mu.Unlock()
	}
	close(p.done)
}

// await waits for p's outcome or ctx. again reports that p's fetch was
// abandoned while ctx still runs: the caller should claim the key anew.
func (p *pending[V]) await(ctx context.Context) (v V, err error, again bool) {
	select {
	case <-p.done:
		if p.abandoned && ctx.Err() == nil {
			return v, nil, true
		}
		return p.val, p.err, false
	case <-ctx.Done():
		return v, ctx.Err(), false
	}
}

// do returns key's value, fetching it when no one has. shared reports that
// it came from the cache or from another caller's fetch.
func (m *memo[V]) do(ctx context.Context, key string, fetch func() (V, error)) (v V, shared bool, err error) {
	for {
		p, mine := m.claim(key)
		if mine {
			v, err = fetch()
			m.settle(ctx, key, p, v, err)
			return v, false, err
		}
		if v, err, again := p.await(ctx); !again {
			return v, true, err
		}
	}
}

// key hashes the parts of a request that decide its answer. The parts are
// length-prefixed so that no two different lists hash alike.
func key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		l := uint64(len(p))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return string(h.Sum(nil))
}
