package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
)

// newBaseTransport is the default HTTP transport: http.DefaultTransport's
// settings (proxies from the environment, timeouts) with the system roots
// plus the CA file, and enough idle connections per host for the jobs.
// Without a CA file crypto/tls verifies the certificate itself, against
// the name (or IP address) of the host dialled.
func newBaseTransport(o *options) (http.RoundTripper, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2*o.jobs + 4
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile == "" {
		return t, nil
	}
	pem, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	roots, err := newLazyRoots(o.caFile, pem)
	if err != nil {
		return nil, err
	}
	return &caTransport{base: t, roots: roots, byHost: map[string]*http.Transport{}}, nil
}

// caTransport sends each request over a transport of its host's own, whose
// TLS verification (see lazyRoots) is bound to that host's name.
//
// The handshake skips crypto/tls's verification to run the same one in
// VerifyConnection, against roots loaded off the critical path. That
// callback only sees the ConnectionState, whose ServerName is the SNI the
// client sent, and Go sends none for an IP address: a callback shared by
// every host would verify a registry reached by IP address against no
// name at all, and accept any certificate the roots signed, whatever name
// it carries. One transport per host name knows the name to check;
// connections are per host anyway, so nothing is shared that was before.
type caTransport struct {
	base  *http.Transport
	roots *lazyRoots

	mu     sync.Mutex
	byHost map[string]*http.Transport
}

func (c *caTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return c.transport(req.URL.Hostname()).RoundTrip(req)
}

// transport is the transport for the host name (no port, no brackets).
func (c *caTransport) transport(name string) *http.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.byHost[name]
	if !ok {
		t = c.base.Clone()
		t.TLSClientConfig.InsecureSkipVerify = true
		t.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
			return c.roots.verify(cs, name)
		}
		c.byHost[name] = t
	}
	return t
}

// CloseIdleConnections closes the idle connections of every host's
// transport.
func (c *caTransport) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.byHost {
		t.CloseIdleConnections()
	}
}

// lazyRoots are the system roots plus the certificates of a CA file.
// Parsing the system roots costs tens of milliseconds of CPU (every
// certificate of the machine's bundle and directory), more than a
// promotion that has already happened takes on a fast network: loading
// them when the client is made charged every run with --ca-file, TLS or
// not. They are loaded at the first handshake that needs them, as Go does
// for the system roots alone, and a registry whose certificate the CA
// file's authority signed never needs them.
type lazyRoots struct {
	ca   *x509.CertPool
	pool func() *x509.CertPool
}

func newLazyRoots(path string, pem []byte) (*lazyRoots, error) {
	ca := x509.NewCertPool()
	if !ca.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("reading CA file %s: no PEM certificate in it", path)
	}
	r := &lazyRoots{ca: ca}
	r.pool = sync.OnceValue(func() *x509.CertPool {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(pem)
		return pool
	})
	return r, nil
}

// verify is the verification crypto/tls does by default (chain to a root,
// server name), with the lazily loaded roots. The name is the SNI the
// handshake sent, which is the host dialled; an IP address is never sent
// as SNI, so without one the name is host, the host the request is for
// (an IP address: x509 then checks the certificate's IP SANs). Through an
// HTTPS proxy the first handshake is the proxy's, whose SNI names it. A
// certificate signed by the CA file's own authority needs no system root,
// so it does not wait for them.
func (r *lazyRoots) verify(cs tls.ConnectionState, host string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	name := cs.ServerName
	if name == "" {
		name = host
	}
	if name == "" {
		// Never verify without a name: x509 would skip the check.
		return errors.New("tls: no server name to verify the certificate against")
	}
	opts := x509.VerifyOptions{DNSName: name, Intermediates: x509.NewCertPool(), Roots: r.ca}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	leaf := cs.PeerCertificates[0]
	if _, err := leaf.Verify(opts); err == nil {
		return nil
	}
	opts.Roots = r.pool()
	if _, err := leaf.Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return nil
}

// guard is the lowest layer of the client: it refuses plain HTTP to hosts
// that are not allowed it (whatever asked for it: a ping, a redirect, an
// upload Location, a token realm) and any scheme other than http(s), and it
// sets the User-Agent.
type guard struct {
	inner     http.RoundTripper
	plainOK   func(host string) bool
	userAgent string
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Scheme {
	case "https":
	case "http":
		if !g.plainOK(req.URL.Host) {
			closeBody(req)
			return nil, &InsecureError{Registry: req.URL.Host}
		}
	default:
		closeBody(req)
		return nil, fmt.Errorf("refusing URL scheme %q", req.URL.Scheme)
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", g.userAgent)
	}
	return g.inner.RoundTrip(req)
}

// closeBody closes a request body a RoundTripper will not send, as the
// RoundTripper contract requires.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// plainAllowed reports whether host may be reached over plain HTTP:
// loopback, or named with WithInsecureRegistry (as host:port or host).
func (o *options) plainAllowed(host string) bool {
	if isLoopback(host) {
		return true
	}
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}
	for _, allowed := range o.insecure {
		if allowed == host || allowed == hostname {
			return true
		}
	}
	return false
}

// checkRedirect follows at most 10 redirects, only to http(s), and never
// from https down to http. Plain HTTP to a host that is not allowed it is
// refused by the guard below.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
		return fmt.Errorf("refusing redirect to scheme %q", req.URL.Scheme)
	}
	if req.URL.Scheme == "http" {
		for _, v := range via {
			if v.URL.Scheme == "https" {
				return fmt.Errorf("refusing redirect from https to http (%s)", req.URL.Host)
			}
		}
	}
	return nil
}

// call is one registry request, built afresh for every try.
type call struct {
	method string
	url    string
	header http.Header
	// body opens the request body and says its length (-1 unknown). It is
	// called once per try, so a failed upload reopens its source.
	body func(ctx context.Context) (io.ReadCloser, int64, error)
	// ok are the statuses that are answers, not errors.
	ok []int
}

// do sends c with retries. On success the caller owns resp.Body. Any other
// status becomes an *AuthError (401, 403) or a *ResponseError.
func (h *host) do(ctx context.Context, c call) (*http.Response, error) {
	var resp *http.Response
	err := h.retry.retry(ctx, func(int) error {
		r, err := h.send(ctx, c)
		resp = r
		return err
	})
	return resp, err
}

// fetch sends c and hands the answer to read, retrying the request and the
// read together: a connection dropped in the middle of a body is retried
// like any other failure. The body is closed after read.
func (h *host) fetch(ctx context.Context, c call, read func(*http.Response) error) error {
	return h.retry.retry(ctx, func(int) error {
		r, err := h.send(ctx, c)
		if err != nil {
			return err
		}
		defer r.Body.Close()
		return read(r)
	})
}

// send is one try of c. The host's first request finds out what the host
// wants (probe); the others wait for that and go with it.
func (h *host) send(ctx context.Context, c call) (*http.Response, error) {
	probe, err := h.await(ctx)
	if err != nil {
		return nil, err
	}
	if probe {
		return h.probe(ctx, c)
	}
	return h.sendKnown(ctx, c)
}

// sendKnown is one try of c once the host's scheme and authentication are
// known.
func (h *host) sendKnown(ctx context.Context, c call) (*http.Response, error) {
	req, err := h.request(ctx, c, h.currentScheme())
	if err != nil {
		return nil, err
	}
	r, err := h.client.Do(req)
	if err != nil {
		return nil, h.transportError(err)
	}
	return h.answer(r, c)
}

// request builds c's request. A URL on the host itself gets scheme: URLs
// are made before the host's scheme may be known.
func (h *host) request(ctx context.Context, c call, scheme string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, nil)
	if err != nil {
		return nil, err
	}
	if req.URL.Host == h.name && (req.URL.Scheme == "https" || req.URL.Scheme == "http") {
		req.URL.Scheme = scheme
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.body != nil {
		rc, n, err := c.body(ctx)
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentLength = rc, n
	}
	return req, nil
}

// statusError describes an unexpected status.
func (h *host) statusError(r *http.Response) error {
	re := newResponseError(r, h.retry.Now())
	if r.StatusCode == http.StatusUnauthorized || r.StatusCode == http.StatusForbidden {
		code := ""
		if len(re.Codes) > 0 {
			code = re.Codes[0]
		}
		sent := r.Request != nil && r.Request.Header.Get("Authorization") != ""
		e := &AuthError{Registry: h.name, Status: r.StatusCode, Code: code, Anonymous: !sent || !h.hasCredentials()}
		if c, ok := pickChallenge(r.Header.Values("WWW-Authenticate")); ok && !e.Anonymous && c.Parameters["error"] == "insufficient_scope" {
			e.Scope = c.Parameters["scope"]
		}
		return e
	}
	return re
}

// transportError turns a failed round trip into the errors callers branch
// on: an untrusted certificate, or a server that answers HTTPS with plain
// HTTP.
func (h *host) transportError(err error) error {
	// Upload locations carry session state in their query (distribution
	// signs it into _state); errors show the path only.
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User = "", nil
			ue.URL = u.String()
		}
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return &CertificateError{Registry: h.name, Err: err}
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) && errors.As(cv.Err, &ua) {
		return &CertificateError{Registry: h.name, Err: err}
	}
	if isPlainHTTPAnswer(err) {
		return &InsecureError{Registry: h.name}
	}
	return err
}

// isPlainHTTPAnswer reports the error net/http gives when a TLS handshake
// meets a plain HTTP server (it has no type, only this text).
func isPlainHTTPAnswer(err error) bool {
	return err != nil && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// readLimited reads at most limit bytes of r, and fails with ErrTooLarge
// when there is more.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes: %w", limit, ErrTooLarge)
	}
	return b, nil
}
