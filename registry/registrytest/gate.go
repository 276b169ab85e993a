package registrytest

import (
	"net/http"
	"sync"
)

// Gate is an http.RoundTripper that holds the requests Match selects until
// Want of them are in flight at once, then lets them all through, and
// records the most it saw in flight. A client that sends them one by one
// never opens it (give the request a deadline); one that sends more than
// Want at once shows in Max. Requests Match leaves alone go straight to
// Inner.
type Gate struct {
	Inner http.RoundTripper
	Match func(*http.Request) bool
	Want  int

	once     sync.Once
	open     chan struct{}
	mu       sync.Mutex
	inFlight int
	max      int
	opened   bool
}

// NewGate is a Gate in front of inner (http.DefaultTransport when nil).
func NewGate(inner http.RoundTripper, want int, match func(*http.Request) bool) *Gate {
	if inner == nil {
		inner = http.DefaultTransport
	}
	return &Gate{Inner: inner, Match: match, Want: want}
}

// Max is the most matching requests that were in flight at once.
func (g *Gate) Max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

// RoundTrip holds a matching request at the gate, then sends it.
func (g *Gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if !g.Match(req) {
		return g.Inner.RoundTrip(req)
	}
	g.once.Do(func() { g.open = make(chan struct{}) })
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	if g.inFlight == g.Want && !g.opened {
		g.opened = true
		close(g.open)
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.open:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return g.Inner.RoundTrip(req)
}
