package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// host is everything the client keeps per registry host, shared by all its
// operations: the scheme found by the ping, the credentials, and one bearer
// token whose scopes grow to cover every repository the client touched, so
// a promotion inside one registry needs one token exchange.
type host struct {
	name     string
	keychain authn.Keychain
	retry    RetryPolicy
	plainOK  bool
	plain    http.RoundTripper // guard + base: no credentials
	client   *http.Client      // plain + authTransport, with the redirect policy

	// referrersState says whether the registry has the referrers API
	// (referrersUnknown until an answer tells).
	referrersState atomic.Int32

	// mu serializes the ping and token exchanges.
	mu        sync.Mutex
	ready     bool
	scheme    string
	challenge *transport.Challenge // nil when the registry needs no auth
	auth      authn.Authenticator
	scopes    []string

	// tok guards what requests read on every round trip.
	tok     sync.RWMutex
	header  string // the Authorization header value, "" for none
	gen     int    // bumped on every new header
	secrets []string
}

func newHost(name string, o *options, plain http.RoundTripper) *host {
	h := &host{
		name:     name,
		keychain: o.keychain,
		retry:    o.retry,
		plainOK:  o.plainAllowed(name),
		plain:    plain,
		scheme:   "https",
	}
	h.client = &http.Client{
		Transport:     &authTransport{h: h, inner: plain},
		CheckRedirect: checkRedirect,
	}
	return h
}

// url is the absolute URL of a registry path.
func (h *host) url(path string) string { return h.scheme + "://" + h.name + path }

// prepare pings the registry once and makes sure the token (if the
// registry uses tokens) covers scopes. Scopes are
// "repository:<path>:pull" or "repository:<path>:pull,push".
func (h *host) prepare(ctx context.Context, scopes ...string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.ready {
		if err := h.retry.retry(ctx, func(int) error { return h.ping(ctx) }); err != nil {
			return named(err, "reaching registry %s: %w", h.name)
		}
		h.ready = true
	}
	if h.challenge == nil || !strings.EqualFold(h.challenge.Scheme, "bearer") {
		return nil
	}
	missing := false
	for _, s := range scopes {
		if !slices.Contains(h.scopes, s) {
			h.scopes = append(h.scopes, s)
			missing = true
		}
	}
	h.tok.RLock()
	have := h.header != ""
	h.tok.RUnlock()
	if !missing && have {
		return nil
	}
	return h.exchange(ctx)
}

// ping finds the scheme and the authentication the registry wants: GET
// /v2/ over HTTPS, and over plain HTTP when HTTPS meets a plain HTTP
// server and the host is allowed it.
func (h *host) ping(ctx context.Context) error {
	var resp *http.Response
	var err error
	if h.plainOK {
		resp, err = h.racePing(ctx)
	} else if resp, err = h.pingScheme(ctx, "https"); err != nil && isPlainHTTPAnswer(err) {
		return &InsecureError{Registry: h.name}
	}
	if err != nil {
		return h.transportError(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyLimit))
	switch resp.StatusCode {
	case http.StatusOK:
		h.challenge = nil
		return nil
	case http.StatusUnauthorized:
		c, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ok {
			return fmt.Errorf("registry %s answered 401 without a Basic or Bearer challenge", h.name)
		}
		c.Insecure = h.scheme == "http"
		h.challenge = c
		return h.loadCredentials(ctx)
	default:
		return newResponseError(resp, h.retry.Now())
	}
}

// racePing is the ping of a host allowed plain HTTP: HTTPS and plain HTTP
// at once. HTTPS wins whenever it answers (or fails in any other way than
// meeting a plain HTTP server), exactly as if plain HTTP were tried only
// after it; the plain answer is used only in that one case, and then it
// arrives a round trip (a TCP connection and a request) sooner. The plain
// request carries no credentials.
func (h *host) racePing(ctx context.Context) (*http.Response, error) {
	type answer struct {
		resp *http.Response
		err  error
	}
	pctx, cancel := context.WithCancel(ctx)
	plain := make(chan answer, 1)
	go func() {
		r, err := h.pingScheme(pctx, "http")
		plain <- answer{r, err}
	}()
	resp, err := h.pingScheme(ctx, "https")
	if err == nil || !isPlainHTTPAnswer(err) {
		cancel()
		go func() {
			if a := <-plain; a.resp != nil {
				a.resp.Body.Close()
			}
		}()
		return resp, err
	}
	a := <-plain
	if a.err != nil {
		cancel()
		return nil, a.err
	}
	h.scheme = "http"
	a.resp.Body = cancelOnClose{ReadCloser: a.resp.Body, cancel: cancel}
	return a.resp, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func (h *host) pingScheme(ctx context.Context, scheme string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+h.name+"/v2/", nil)
	if err != nil {
		return nil, err
	}
	c := http.Client{Transport: h.plain, CheckRedirect: checkRedirect}
	return c.Do(req)
}

// loadCredentials resolves the keychain for the host and, for Basic
// registries, fixes the header every request carries.
func (h *host) loadCredentials(ctx context.Context) error {
	reg, err := name.NewRegistry(h.name, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("registry %q: %v: %w", h.name, err, ErrInvalidReference)
	}
	auth, err := authn.Resolve(ctx, h.keychain, reg)
	if err != nil {
		return fmt.Errorf("reading credentials for %s: %w", h.name, err)
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return fmt.Errorf("reading credentials for %s: %w", h.name, err)
	}
	secrets := []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken}
	header := ""
	switch {
	case cfg.RegistryToken != "":
		header = "Bearer " + cfg.RegistryToken
	case cfg.Auth != "":
		header = "Basic " + cfg.Auth
		if dec, err := base64.StdEncoding.DecodeString(cfg.Auth); err == nil {
			if _, pw, ok := strings.Cut(string(dec), ":"); ok {
				secrets = append(secrets, pw)
			}
		}
	case cfg.Username != "" || cfg.Password != "":
		enc := base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password))
		header = "Basic " + enc
		secrets = append(secrets, enc)
	}
	h.auth = auth
	h.tok.Lock()
	defer h.tok.Unlock()
	h.secrets = append(h.secrets, secrets...)
	if !strings.EqualFold(h.challenge.Scheme, "bearer") {
		h.header = header
		h.gen++
	}
	return nil
}

// exchange trades the credentials for a bearer token covering h.scopes.
// The caller holds h.mu.
func (h *host) exchange(ctx context.Context) error {
	reg, err := name.NewRegistry(h.name, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("registry %q: %v: %w", h.name, err, ErrInvalidReference)
	}
	var tok *transport.Token
	err = h.retry.retry(ctx, func(int) error {
		t, err := transport.Exchange(ctx, reg, h.auth, h.plain, h.scopes, h.challenge)
		if err != nil {
			return h.exchangeError(err)
		}
		tok = t
		return nil
	})
	if err != nil {
		return named(err, "authenticating to %s: %w", h.name)
	}
	t := tok.Token
	if t == "" {
		t = tok.AccessToken
	}
	if t == "" {
		return fmt.Errorf("authenticating to %s: the token server sent no token", h.name)
	}
	h.tok.Lock()
	defer h.tok.Unlock()
	h.header = "Bearer " + t
	h.gen++
	h.secrets = append(h.secrets, t)
	if tok.RefreshToken != "" {
		h.secrets = append(h.secrets, tok.RefreshToken)
	}
	return nil
}

// exchangeError maps a token server failure: refused credentials become an
// *AuthError, transient statuses a retryable *ResponseError.
func (h *host) exchangeError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return &AuthError{Registry: h.name, Status: te.StatusCode}
		case retryableStatus[te.StatusCode]:
			return &ResponseError{Method: http.MethodGet, Path: "token", Status: te.StatusCode}
		}
	}
	return h.transportError(err)
}

// current is the Authorization header and its generation.
func (h *host) current() (string, int) {
	h.tok.RLock()
	defer h.tok.RUnlock()
	return h.header, h.gen
}

// secretList is every secret the host has seen, for redaction.
func (h *host) secretList() []string {
	h.tok.RLock()
	defer h.tok.RUnlock()
	return slices.Clone(h.secrets)
}

// refresh gets a new token after a 401 on a request sent with generation
// gen, adding the scope the challenge asked for. A refresh another request
// already did is not repeated.
func (h *host) refresh(ctx context.Context, gen int, scope string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, g := h.current(); g != gen {
		return nil
	}
	if scope != "" && !slices.Contains(h.scopes, scope) {
		h.scopes = append([]string{scope}, h.scopes...)
	}
	return h.exchange(ctx)
}

// authTransport adds the host's credentials to requests for the host (and
// only the host: a redirect to blob storage never carries them) and renews
// an expired or too narrow bearer token once on a 401.
type authTransport struct {
	h     *host
	inner http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.h.name {
		return t.inner.RoundTrip(req)
	}
	header, gen := t.h.current()
	resp, err := t.inner.RoundTrip(withAuth(req, header))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(header, "Bearer ") {
		return resp, err
	}
	c, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"))
	if !ok || !strings.EqualFold(c.Scheme, "bearer") {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyLimit))
	resp.Body.Close()
	if err := t.h.refresh(req.Context(), gen, c.Parameters["scope"]); err != nil {
		return nil, err
	}
	header, _ = t.h.current()
	retry := withAuth(req, header)
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			// A streamed body cannot be sent twice; the caller's retry
			// reopens it with the new token in place.
			return nil, &errRetry{err: fmt.Errorf("%s %s: token renewed", req.Method, req.URL.Path)}
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		retry.Body = body
	}
	return t.inner.RoundTrip(retry)
}

// withAuth is a copy of req carrying header (RoundTrippers must not change
// the request they are given).
func withAuth(req *http.Request, header string) *http.Request {
	r := req.Clone(req.Context())
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	return r
}

// pickChallenge parses WWW-Authenticate values and returns the first Basic
// or Bearer challenge.
func pickChallenge(values []string) (*transport.Challenge, bool) {
	for _, v := range values {
		for _, c := range parseChallenges(v) {
			if strings.EqualFold(c.Scheme, "bearer") || strings.EqualFold(c.Scheme, "basic") {
				return c, true
			}
		}
	}
	return nil, false
}

// parseChallenges parses one WWW-Authenticate header value (RFC 7235):
// schemes followed by comma-separated key=value or key="quoted value"
// parameters.
func parseChallenges(v string) []*transport.Challenge {
	var out []*transport.Challenge
	var cur *transport.Challenge
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		tok := s
		if i := strings.IndexAny(s, " \t,="); i >= 0 {
			tok = s[:i]
		}
		rest := s[len(tok):]
		if strings.HasPrefix(strings.TrimLeft(rest, " \t"), "=") && cur != nil {
			rest = strings.TrimLeft(rest, " \t")[1:]
			rest = strings.TrimLeft(rest, " \t")
			val := ""
			if strings.HasPrefix(rest, `"`) {
				var b strings.Builder
				i := 1
				for ; i < len(rest) && rest[i] != '"'; i++ {
					if rest[i] == '\\' && i+1 < len(rest) {
						i++
					}
					b.WriteByte(rest[i])
				}
				val = b.String()
				rest = rest[min(i+1, len(rest)):]
			} else {
				j := strings.IndexAny(rest, ", \t")
				if j < 0 {
					j = len(rest)
				}
				val, rest = rest[:j], rest[j:]
			}
			cur.Parameters[strings.ToLower(tok)] = val
			s = rest
			continue
		}
		cur = &transport.Challenge{Scheme: tok, Parameters: map[string]string{}}
		out = append(out, cur)
		s = rest
	}
}

// pullScope and pushScope are the token scopes for reading and writing a
// repository.
func pullScope(repo string) string { return "repository:" + repo + ":pull" }
func pushScope(repo string) string { return "repository:" + repo + ":pull,push" }

// resolveLocation resolves an upload Location against the URL it answered.
func resolveLocation(base, loc string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	l, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("upload location %q: %w", loc, err)
	}
	return b.ResolveReference(l), nil
}

// named wraps err with format (whose verbs are the host and %w) unless err
// already names the registry: the typed errors people act on read best
// alone.
func named(err error, format, host string) error {
	var (
		ae *AuthError
		ie *InsecureError
		ce *CertificateError
	)
	if errors.As(err, &ae) || errors.As(err, &ie) || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf(format, host, err)
}
