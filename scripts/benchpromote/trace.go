package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/releasetool/release/registry"
	"github.com/releasetool/release/release"
)

// trace runs `release promote` in process, as the command does (the same
// options: --no-signatures, --ca-file, --insecure-registry, the Docker
// config of DOCKER_CONFIG), with a transport that records every request:
// when it started and ended, whether it opened a connection (and its TLS
// handshake), and the protocol. It prints the timeline of each run, so
// the chain of sequential round trips of a promotion can be read per
// registry. A fresh client per run, as a fresh process has.
//
//	benchpromote trace -ca CA -insecure HOST -runs 3 SRC DST
func trace(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	ca := fs.String("ca", "", "PEM CA file to trust (as --ca-file)")
	var insecure multiFlag
	fs.Var(&insecure, "insecure", "host allowed plain HTTP (as --insecure-registry; repeatable)")
	runs := fs.Int("runs", 1, "promotions to trace")
	signatures := fs.Bool("signatures", false, "look for signatures (without: --no-signatures)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("trace needs SRC and DST")
	}
	for i := range *runs {
		t, err := newTracer(*ca)
		if err != nil {
			return err
		}
		opts := []registry.Option{registry.WithTransport(t)}
		if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
			opts = append(opts, registry.WithKeychain(registry.DockerConfigKeychain(dir)))
		}
		for _, h := range insecure {
			opts = append(opts, registry.WithInsecureRegistry(h))
		}
		client, err := registry.New(opts...)
		if err != nil {
			return err
		}
		t.start = time.Now()
		res, err := release.Promote(ctx, release.PromoteDeps{Registry: client}, release.PromoteOptions{
			Source:       fs.Arg(0),
			Destination:  fs.Arg(1),
			NoSignatures: !*signatures,
		})
		total := time.Since(t.start)
		if err != nil {
			return err
		}
		var actions []string
		for _, a := range res.Tags {
			actions = append(actions, a.Tag+" "+string(a.Action))
		}
		fmt.Printf("run %d: %s in %.1f ms (%s)\n", i+1, fs.Arg(0), ms(total), strings.Join(actions, ", "))
		t.print(os.Stdout)
		t.base.CloseIdleConnections()
	}
	return nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// tracer is an http.RoundTripper that records each request.
type tracer struct {
	base  *http.Transport
	start time.Time

	mu   sync.Mutex
	seen []*event
}

// event is one request as the tracer saw it.
type event struct {
	host, method, path string
	status             int
	err                error
	proto              string
	start, end         time.Duration
	connect, tlsDone   time.Duration // 0: the connection was reused
	reused             bool
}

// newTracer is a tracer over the transport the registry client makes for
// itself (registry's newBaseTransport: idle connections for its default 8
// jobs), trusting the CA file alone: WithTransport replaces that transport,
// CA included.
func newTracer(caFile string) (*tracer, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2*8 + 4
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", caFile)
		}
		cfg.RootCAs = pool
	}
	t.TLSClientConfig = cfg
	return &tracer{base: t}, nil
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	e := &event{host: req.URL.Scheme + "://" + req.URL.Host, method: req.Method, path: req.URL.Path, start: time.Since(t.start)}
	ct := &httptrace.ClientTrace{
		ConnectDone:      func(string, string, error) { e.connect = time.Since(t.start) },
		TLSHandshakeDone: func(tls.ConnectionState, error) { e.tlsDone = time.Since(t.start) },
		GotConn:          func(i httptrace.GotConnInfo) { e.reused = i.Reused },
	}
	resp, err := t.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), ct)))
	e.end = time.Since(t.start)
	e.err = err
	if resp != nil {
		e.status, e.proto = resp.StatusCode, resp.Proto
	}
	t.mu.Lock()
	t.seen = append(t.seen, e)
	t.mu.Unlock()
	return resp, err
}

// print writes the timeline, by start time: start and end in ms, the
// connection events, the request.
func (t *tracer) print(w io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sort.Slice(t.seen, func(i, j int) bool { return t.seen[i].start < t.seen[j].start })
	for _, e := range t.seen {
		conn := "reused"
		if !e.reused {
			conn = fmt.Sprintf("new: tcp %.1f", ms(e.connect))
			if e.tlsDone > 0 {
				conn += fmt.Sprintf(" tls %.1f", ms(e.tlsDone))
			}
		}
		outcome := fmt.Sprint(e.status)
		if e.err != nil {
			outcome = "error: " + e.err.Error()
			if len(outcome) > 60 {
				outcome = outcome[:60]
			}
		}
		fmt.Fprintf(w, "  %6.1f → %6.1f ms  %-8s %-4s %-26s %s %s  [%s]\n",
			ms(e.start), ms(e.end), e.proto, e.method, e.host, shortPath(e.path), outcome, conn)
	}
	t.seen = nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// shortPath shortens digests in a path.
func shortPath(p string) string {
	if i := strings.Index(p, "sha256:"); i >= 0 && len(p) > i+19 {
		return p[:i+19] + "…"
	}
	return p
}
