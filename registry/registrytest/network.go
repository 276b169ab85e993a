package registrytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Network is an http.RoundTripper that delivers requests to Servers in
// process as if each server were across a network whose round trip takes
// RTT: a request and its answer cost one round trip, a new connection one
// more (the TCP handshake), and over HTTPS one more again (the TLS 1.3
// handshake). HTTPS connections are HTTP/2, as registries serve them: one
// per host, shared by concurrent requests (a request arriving while it is
// being set up waits for it). Plain HTTP connections are HTTP/1.1: one
// request at a time each, reused when idle, a new one opened otherwise.
// An HTTPS request to a plain server fails the way net/http's does ("server
// gave HTTP response to HTTPS client"), after two round trips.
//
// Run a client over it inside a testing/synctest bubble: time is then the
// bubble's fake clock, which moves only while every goroutine waits, so
// the time a client takes is exactly its longest chain of sequential round
// trips, whatever the machine's load. That is how tests count round trips
// without measuring time. Faults that drop connections are not supported.
type Network struct {
	// RTT is the round-trip time. Default 10ms.
	RTT time.Duration

	mu      sync.Mutex
	servers map[string]*Server
	conns   map[string]*conn
	start   time.Time
	trips   []Trip
}

// Trip is one request the network carried.
type Trip struct {
	// Host is the server's host:port; Scheme "http" or "https".
	Host, Scheme string
	Method, Path string
	// Status is the answer's (0 when the request failed).
	Status int
	// Start and End are offsets from the network's first request.
	Start, End time.Duration
	// Connect says the request opened a connection.
	Connect bool
}

// String is "start→end METHOD scheme://host/path status", for failure
// messages.
func (t Trip) String() string {
	conn := ""
	if t.Connect {
		conn = " (new connection)"
	}
	return fmt.Sprintf("%4v → %4v %-4s %s://%s%s %d%s", t.Start, t.End, t.Method, t.Scheme, t.Host, t.Path, t.Status, conn)
}

// conn is the connection state of one scheme and host.
type conn struct {
	ready bool          // the HTTP/2 connection is up
	setup chan struct{} // closed when the HTTP/2 connection being set up is done
	idle  int           // idle HTTP/1.1 connections
}

// NewNetwork returns a network reaching servers by their Host.
func NewNetwork(rtt time.Duration, servers ...*Server) *Network {
	if rtt <= 0 {
		rtt = 10 * time.Millisecond
	}
	n := &Network{RTT: rtt, servers: map[string]*Server{}, conns: map[string]*conn{}}
	for _, s := range servers {
		n.servers[s.Host] = s
	}
	return n
}

// Trips returns the requests carried so far, in the order they started.
func (n *Network) Trips() []Trip {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := slices.Clone(n.trips)
	slices.SortStableFunc(out, func(a, b Trip) int { return int(a.Start - b.Start) })
	return out
}

// Elapsed is the time from the first request's start to the last one's
// end.
func (n *Network) Elapsed() time.Duration {
	var end time.Duration
	for _, t := range n.Trips() {
		end = max(end, t.End)
	}
	return end
}

// Reset forgets the log and every connection (a new process).
func (n *Network) Reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.trips, n.conns, n.start = nil, map[string]*conn{}, time.Time{}
}

// RoundTrip implements http.RoundTripper.
func (n *Network) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	n.mu.Lock()
	if n.start.IsZero() {
		n.start = time.Now()
	}
	trip := Trip{Host: req.URL.Host, Scheme: req.URL.Scheme, Method: req.Method, Path: req.URL.Path, Start: time.Since(n.start)}
	srv := n.servers[req.URL.Host]
	n.mu.Unlock()
	resp, err := n.carry(ctx, req, srv, &trip)
	n.mu.Lock()
	trip.End = time.Since(n.start)
	if resp != nil {
		trip.Status = resp.StatusCode
	}
	n.trips = append(n.trips, trip)
	n.mu.Unlock()
	if err != nil && req.Body != nil {
		req.Body.Close()
	}
	return resp, err
}

func (n *Network) carry(ctx context.Context, req *http.Request, srv *Server, trip *Trip) (*http.Response, error) {
	if srv == nil {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", req.URL.Host)
	}
	secure := req.URL.Scheme == "https"
	if secure && !srv.tls {
		// The TCP handshake, then the ClientHello answered in plain text.
		trip.Connect = true
		if err := n.wait(ctx, 2*n.RTT); err != nil {
			return nil, err
		}
		return nil, errors.New("http: server gave HTTP response to HTTPS client")
	}
	release, err := n.connect(ctx, req.URL.Scheme+"://"+req.URL.Host, secure, trip)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := n.wait(ctx, n.RTT/2); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	if !secure && srv.tls {
		http.Error(rec, "Client sent an HTTP request to an HTTPS server.", http.StatusBadRequest)
	} else {
		sreq := req.Clone(ctx)
		sreq.RequestURI = req.URL.RequestURI()
		// A server's request URL is the request line's: no scheme or host.
		sreq.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
		sreq.Host = req.URL.Host
		sreq.RemoteAddr = "192.0.2.1:1234"
		if sreq.Body == nil {
			sreq.Body = http.NoBody
		}
		srv.ServeHTTP(rec, sreq)
		if req.Body != nil {
			req.Body.Close()
		}
	}
	if err := n.wait(ctx, n.RTT-n.RTT/2); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	if req.Method == http.MethodHead {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// connect waits for a connection to key (scheme://host) and returns the
// function that gives it back. HTTPS connections are HTTP/2: one per key,
// shared; plain ones HTTP/1.1: one request each at a time.
func (n *Network) connect(ctx context.Context, key string, secure bool, trip *Trip) (func(), error) {
	handshakes := 1 // TCP
	if secure {
		handshakes = 2 // TCP, TLS
	}
	n.mu.Lock()
	c, ok := n.conns[key]
	if !ok {
		c = &conn{}
		n.conns[key] = c
	}
	for secure && !c.ready && c.setup != nil {
		// Another request is setting the connection up: wait for it, then
		// look again (it may have failed).
		setup := c.setup
		n.mu.Unlock()
		select {
		case <-setup:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		n.mu.Lock()
	}
	switch {
	case secure && c.ready:
		n.mu.Unlock()
		return func() {}, nil
	case secure:
		c.setup = make(chan struct{})
		n.mu.Unlock()
		trip.Connect = true
		err := n.wait(ctx, time.Duration(handshakes)*n.RTT)
		n.mu.Lock()
		c.ready = err == nil
		close(c.setup)
		c.setup = nil
		n.mu.Unlock()
		return func() {}, err
	case c.idle > 0:
		c.idle--
		n.mu.Unlock()
	default:
		n.mu.Unlock()
		trip.Connect = true
		if err := n.wait(ctx, time.Duration(handshakes)*n.RTT); err != nil {
			return nil, err
		}
	}
	return func() {
		n.mu.Lock()
		c.idle++
		n.mu.Unlock()
	}, nil
}

func (n *Network) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Chains renders the trips per host, for a person reading a failure: one
// line per request with its start and end.
func Chains(trips []Trip) string {
	var b strings.Builder
	hosts := []string{}
	for _, t := range trips {
		if !slices.Contains(hosts, t.Host) {
			hosts = append(hosts, t.Host)
		}
	}
	for _, h := range hosts {
		fmt.Fprintf(&b, "%s:\n", h)
		for _, t := range trips {
			if t.Host == h {
				fmt.Fprintf(&b, "  %s\n", t)
			}
		}
	}
	return b.String()
}
