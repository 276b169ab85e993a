package registry

import (
	"bytes"
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
// operations: the scheme and the authentication the registry wants, the
// credentials, and one bearer token whose scopes grow to cover every
// repository the client touched, so a promotion inside one registry needs
// one token exchange.
//
// Nothing is asked of a registry before the first real request: there is
// no ping first. The first request to a host is sent without credentials
// (over HTTPS and, for a host allowed plain HTTP, over plain HTTP at once),
// and its answer says what the host wants: a 401 carries the challenge,
// which is answered (credentials loaded, a token exchanged) before the
// request is sent again; a success means none is needed. Requests that
// arrive meanwhile wait for that answer, so a host costs one challenge, not
// one per request, and an anonymous registry costs no round trip for
// authentication at all.
//
// "Not found" (or "forbidden") from a host that was not asked is not
// proof: a registry that wants credentials may hide what exists from a
// client without them, and believing it could take an existing immutable
// tag for an absent one. So such an answer is believed only once GET /v2/
// has said the host wants no credentials (ping), or from a repository that
// has answered without them (access is granted per repository, not per
// tag); when the ping asks for credentials, the request is sent again with
// them. A write (or a request with a body) that happens to be first pings
// before it is sent.
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

	// authLock serializes what changes the credentials requests carry
	// (loading them, token exchanges). It is a channel so that waiting
	// for it ends with the context.
	authLock chan struct{}

	// mu guards the fields below. It is never held across a request.
	mu sync.Mutex
	// known is set once an answer has said which scheme and which
	// authentication the host wants; probing is closed when the request
	// finding out is done (nil when none is).
	known   bool
	probing chan struct{}
	// scheme is "https", or "http" once a host allowed plain HTTP turned
	// out to speak only that; "" until known.
	scheme    string
	challenge *transport.Challenge // nil when the registry asked for none
	// pinged says GET /v2/ answered 200: the host wants no credentials
	// at all. Until then, a host whose answers needed none is only
	// presumed anonymous: its "not found" answers are confirmed by a
	// ping before they are believed (see confirm).
	pinged bool
	// open are the repositories that answered a request without
	// credentials: access is granted per repository, so their "not found"
	// answers can be believed without a ping.
	open map[string]bool
	auth authn.Authenticator // nil until a challenge made it needed
	// credentialed says auth holds credentials (not anonymous).
	credentialed bool
	scopes       []string        // every scope asked for
	granted      map[string]bool // the scopes the current token covers
	// announced are push scopes of Announce no write has asked for yet:
	// dropped from scopes if a token server refuses them (see exchange).
	announced map[string]bool
	header    string // the Authorization header value, "" for none
	gen       int    // bumped on every new header
	secrets   []string
}

func newHost(name string, o *options, plain http.RoundTripper) *host {
	h := &host{
		name:     name,
		keychain: o.keychain,
		retry:    o.retry,
		plainOK:  o.plainAllowed(name),
		plain:    plain,
		authLock: make(chan struct{}, 1),
	}
	h.client = &http.Client{
		Transport:     &authTransport{h: h, inner: plain},
		CheckRedirect: checkRedirect,
	}
	return h
}

// url is the absolute URL of a registry path. Before the scheme is known
// it says https; request rewrites it once the scheme is known.
func (h *host) url(path string) string { return h.currentScheme() + "://" + h.name + path }

func (h *host) currentScheme() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.scheme == "" {
		return "https"
	}
	return h.scheme
}

// lock takes authLock, or gives up when ctx ends.
func (h *host) lock(ctx context.Context) error {
	select {
	case h.authLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *host) unlock() { <-h.authLock }

// prepare makes sure the bearer token, if the registry uses tokens, covers
// scopes ("repository:<path>:pull" or "repository:<path>:pull,push"). Before
// the host's first answer it only notes them: the token exchange that
// answers the first challenge covers them all at once.
func (h *host) prepare(ctx context.Context, scopes ...string) error {
	h.mu.Lock()
	for _, s := range scopes {
		delete(h.announced, s) // asked for by what needs it now
		if !slices.Contains(h.scopes, s) {
			h.scopes = append(h.scopes, s)
		}
	}
	needed := h.known && isBearer(h.challenge) && !h.covers(scopes)
	h.mu.Unlock()
	if !needed {
		return nil
	}
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.unlock()
	h.mu.Lock()
	needed = !h.covers(scopes) // another exchange may have covered them
	h.mu.Unlock()
	if !needed {
		return nil
	}
	return h.exchange(ctx)
}

// declined reports whether a bearer challenge says the token of
// generation gen lacks a scope it was asked for (error="insufficient_scope"
// for a scope its exchange requested): the token server granted less than
// asked, as it does for a user who may pull but not push, and asking again
// would get the same. An expired token (invalid_token) is renewed.
func (h *host) declined(gen int, c *transport.Challenge) bool {
	scope := c.Parameters["scope"]
	if c.Parameters["error"] != "insufficient_scope" || scope == "" {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gen != gen {
		return false
	}
	for _, s := range strings.Fields(scope) {
		if !scopeAsked(h.granted, s) {
			return false
		}
	}
	return true
}

// scopeAsked reports whether one of the scopes asked covers scope: the
// same resource and every action of scope ("repository:a:pull,push" covers
// "repository:a:push,pull" and "repository:a:pull").
func scopeAsked(asked map[string]bool, scope string) bool {
	i := strings.LastIndex(scope, ":")
	if i < 0 {
		return asked[scope]
	}
	resource, actions := scope[:i+1], strings.Split(scope[i+1:], ",")
	for a := range asked {
		have, ok := strings.CutPrefix(a, resource)
		if !ok || strings.Contains(have, ":") {
			continue
		}
		haveActions := strings.Split(have, ",")
		if !slices.ContainsFunc(actions, func(x string) bool { return !slices.Contains(haveActions, x) }) {
			return true
		}
	}
	return false
}

// covers reports whether the current token covers every scope (h.mu held).
func (h *host) covers(scopes []string) bool {
	if h.header == "" {
		return false
	}
	for _, s := range scopes {
		if !h.granted[s] {
			return false
		}
	}
	return true
}

func isBearer(c *transport.Challenge) bool {
	return c != nil && strings.EqualFold(c.Scheme, "bearer")
}

// await returns once the host's scheme and authentication are known, or
// with probe set when the caller's request is to find them out (it must
// then call endProbe).
func (h *host) await(ctx context.Context) (probe bool, err error) {
	for {
		h.mu.Lock()
		if h.known {
			h.mu.Unlock()
			return false, nil
		}
		if h.probing == nil {
			h.probing = make(chan struct{})
			h.mu.Unlock()
			return true, nil
		}
		wait := h.probing
		h.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// endProbe ends a probe; known says whether it found out. When it did not
// (the request failed), the next request probes again.
func (h *host) endProbe(known bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if known {
		h.known = true
	}
	close(h.probing)
	h.probing = nil
}

// probe sends c as the host's first request and learns from its answer
// what the host wants (see host). A write or a request with a body is not
// sent blind: a ping finds out first.
func (h *host) probe(ctx context.Context, c call) (*http.Response, error) {
	ended := false
	end := func(known bool) {
		if !ended {
			ended = true
			h.endProbe(known)
		}
	}
	defer end(false)
	if (c.method != http.MethodGet && c.method != http.MethodHead) || c.body != nil {
		if err := h.pingAndAnswer(ctx); err != nil {
			return nil, err
		}
		end(true)
		return h.sendKnown(ctx, c)
	}
	resp, err := h.first(ctx, c)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		drain(resp)
		ch, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ok {
			return nil, fmt.Errorf("registry %s answered 401 without a Basic or Bearer challenge", h.name)
		}
		if err := h.authenticate(ctx, ch); err != nil {
			return nil, err
		}
		// The requests waiting go now, with this one's second try.
		end(true)
		return h.sendKnown(ctx, c)
	case resp.StatusCode < 300:
		h.mu.Lock()
		h.challenge = nil
		h.mu.Unlock()
		end(true)
		if u, err := url.Parse(c.url); err == nil {
			h.readable(u.Path)
		}
		return resp, nil
	case slices.Contains(c.ok, resp.StatusCode):
		// "Not there", "not yours", "no such API": a registry that wants
		// credentials may hide what an anonymous client may not see.
		// Only a ping tells; believing the answer could take an existing
		// immutable tag for an absent one.
		if err := bufferBody(resp); err != nil {
			return nil, h.transportError(err)
		}
		if err := h.pingAndAnswer(ctx); err != nil {
			return nil, err
		}
		end(true)
		h.mu.Lock()
		anonymous := h.challenge == nil
		h.mu.Unlock()
		if !anonymous {
			return h.sendKnown(ctx, c)
		}
		return resp, nil
	default:
		// A failure says nothing about authentication.
		defer resp.Body.Close()
		return nil, h.statusError(resp)
	}
}

// answer is resp as the answer to c: the caller's when its status is one c
// expects, else an error.
func (h *host) answer(resp *http.Response, c call) (*http.Response, error) {
	if slices.Contains(c.ok, resp.StatusCode) {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, h.statusError(resp)
}

// first sends c without credentials: over HTTPS, and for a host allowed
// plain HTTP over plain HTTP at the same time. HTTPS wins whenever it
// answers (or fails in any other way than meeting a plain HTTP server),
// exactly as if plain HTTP were tried only after it; the plain answer is
// used only in that one case, and then it arrives a round trip (a TCP
// connection and a request) sooner. The scheme that answered is the
// host's from then on.
func (h *host) first(ctx context.Context, c call) (*http.Response, error) {
	send := func(ctx context.Context, scheme string) (*http.Response, error) {
		req, err := h.request(ctx, c, scheme)
		if err != nil {
			return nil, err
		}
		cl := http.Client{Transport: h.plain, CheckRedirect: checkRedirect}
		return cl.Do(req)
	}
	resp, err := h.race(ctx, send)
	if err != nil {
		return nil, h.transportError(err)
	}
	return resp, nil
}

// race runs send over HTTPS, and for a host allowed plain HTTP over plain
// HTTP at once (see first), and sets the host's scheme from the winner.
func (h *host) race(ctx context.Context, send func(context.Context, string) (*http.Response, error)) (*http.Response, error) {
	setScheme := func(s string) {
		h.mu.Lock()
		h.scheme = s
		h.mu.Unlock()
	}
	if !h.plainOK {
		resp, err := send(ctx, "https")
		if err != nil && isPlainHTTPAnswer(err) {
			return nil, &InsecureError{Registry: h.name}
		}
		if err == nil {
			setScheme("https")
		}
		return resp, err
	}
	type answer struct {
		resp *http.Response
		err  error
	}
	pctx, cancel := context.WithCancel(ctx)
	plain := make(chan answer, 1)
	go func() {
		r, err := send(pctx, "http")
		plain <- answer{r, err}
	}()
	resp, err := send(ctx, "https")
	if err == nil || !isPlainHTTPAnswer(err) {
		cancel()
		go func() {
			if a := <-plain; a.resp != nil {
				a.resp.Body.Close()
			}
		}()
		if err == nil {
			setScheme("https")
		}
		return resp, err
	}
	a := <-plain
	if a.err != nil {
		cancel()
		return nil, a.err
	}
	setScheme("http")
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

// ping asks GET /v2/ what the host wants, over the host's scheme (both at
// once while it is not known, see first): nil for nothing (the host is
// then known to be anonymous), else the challenge to answer.
func (h *host) ping(ctx context.Context) (*transport.Challenge, error) {
	send := func(ctx context.Context, scheme string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+h.name+"/v2/", nil)
		if err != nil {
			return nil, err
		}
		c := http.Client{Transport: h.plain, CheckRedirect: checkRedirect}
		return c.Do(req)
	}
	h.mu.Lock()
	scheme := h.scheme
	h.mu.Unlock()
	var resp *http.Response
	var err error
	if scheme != "" {
		resp, err = send(ctx, scheme)
	} else {
		resp, err = h.race(ctx, send)
	}
	if err != nil {
		return nil, h.transportError(err)
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		h.mu.Lock()
		h.challenge, h.pinged = nil, true
		h.mu.Unlock()
		return nil, nil
	case http.StatusUnauthorized:
		c, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"))
		if !ok {
			return nil, fmt.Errorf("registry %s answered 401 without a Basic or Bearer challenge", h.name)
		}
		return c, nil
	default:
		return nil, newResponseError(resp, h.retry.Now())
	}
}

// pingAndAnswer pings and answers the challenge, if any.
func (h *host) pingAndAnswer(ctx context.Context) error {
	c, err := h.ping(ctx)
	if err != nil || c == nil {
		return err
	}
	return h.authenticate(ctx, c)
}

// presumedAnonymous reports whether a "not found" answer to req, sent
// without credentials, must be confirmed by a ping: the host's answers
// needed none so far, no ping has said it wants none, and req's repository
// has not answered anything yet.
func (h *host) presumedAnonymous(req *http.Request) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.known && h.challenge == nil && !h.pinged && !h.open[repositoryOf(req.URL.Path)]
}

// readable notes that the repository of a request path answered without
// credentials.
func (h *host) readable(path string) {
	repo := repositoryOf(path)
	if repo == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.open == nil {
		h.open = map[string]bool{}
	}
	h.open[repo] = true
}

// repositoryOf is the repository a registry API path is about ("" for
// none): /v2/<repo>/manifests/…, /blobs/…, /tags/list, /referrers/….
func repositoryOf(path string) string {
	p, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(p, marker); i > 0 {
			return p[:i]
		}
	}
	return ""
}

// confirm pings a host presumed anonymous (its answers so far needed no
// credentials), once: a registry that wants credentials may answer "not
// found" or "forbidden" to a client without them for what exists, and
// believing it could take an existing immutable tag for an absent one.
// When the ping asks for credentials they are loaded; the caller then
// sends its request again.
func (h *host) confirm(ctx context.Context) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.unlock()
	h.mu.Lock()
	settled := h.pinged || h.challenge != nil
	h.mu.Unlock()
	if settled {
		return nil
	}
	c, err := h.ping(ctx)
	if err != nil || c == nil {
		return err
	}
	return h.authenticateLocked(ctx, c)
}

// authenticate answers a challenge: the credentials for the host, and for
// a bearer challenge a token covering every scope asked for so far (and
// the one the challenge names).
func (h *host) authenticate(ctx context.Context, c *transport.Challenge) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.unlock()
	return h.authenticateLocked(ctx, c)
}

// authenticateLocked is authenticate for a caller holding authLock.
func (h *host) authenticateLocked(ctx context.Context, c *transport.Challenge) error {
	h.mu.Lock()
	c.Insecure = h.scheme == "http"
	h.challenge = c
	if s := c.Parameters["scope"]; s != "" && isBearer(c) && !slices.Contains(h.scopes, s) {
		h.scopes = append(h.scopes, s)
	}
	h.mu.Unlock()
	if err := h.loadCredentials(ctx); err != nil {
		return err
	}
	if isBearer(c) {
		return h.exchange(ctx)
	}
	return nil
}

// drain reads what is left of a small body and closes it, so that the
// connection can serve the next request.
func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, errorBodyLimit))
	resp.Body.Close()
}

// bufferBody reads a small answer's body into memory, so that the
// connection is free while the caller decides what to do with it.
func bufferBody(resp *http.Response) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// loadCredentials resolves the keychain for the host and, for Basic
// registries, fixes the header every request carries. The caller holds
// authLock.
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
	h.mu.Lock()
	defer h.mu.Unlock()
	h.auth = auth
	h.credentialed = cfg.Username != "" || cfg.Password != "" || cfg.Auth != "" || cfg.IdentityToken != "" || cfg.RegistryToken != ""
	h.secrets = append(h.secrets, secrets...)
	if !isBearer(h.challenge) {
		h.header = header
		h.gen++
	}
	return nil
}

// exchange trades the credentials for a bearer token covering h.scopes.
// The caller holds authLock.
//
// A token server gives the part of the scopes the user may have (the
// token specification: the intersection, not an error), so asking for
// the push an operation announced (Announce) costs a user who may only
// pull nothing. A server that refuses instead (401 or 403) is asked again
// without the announced push scopes; a write asks for its scope itself
// when it comes, and meets the refusal then.
func (h *host) exchange(ctx context.Context) error {
	err := h.exchangeOnce(ctx)
	var ae *AuthError
	if err != nil && errors.As(err, &ae) && h.dropAnnounced() {
		return h.exchangeOnce(ctx)
	}
	return err
}

// dropAnnounced removes the announced scopes no write has asked for from
// the scopes to ask for, and reports whether there were any.
func (h *host) dropAnnounced() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.announced) == 0 {
		return false
	}
	h.scopes = slices.DeleteFunc(h.scopes, func(s string) bool { return h.announced[s] })
	h.announced = nil
	return true
}

// exchangeOnce is one exchange (with its retries) for h.scopes.
func (h *host) exchangeOnce(ctx context.Context) error {
	reg, err := name.NewRegistry(h.name, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("registry %q: %v: %w", h.name, err, ErrInvalidReference)
	}
	h.mu.Lock()
	auth, scopes, challenge := h.auth, slices.Clone(h.scopes), h.challenge
	h.mu.Unlock()
	var tok *transport.Token
	err = h.retry.retry(ctx, func(int) error {
		t, err := transport.Exchange(ctx, reg, auth, h.plain, scopes, challenge)
		if err != nil {
			return h.exchangeError(err)
		}
		tok = t
		return nil
	})
	if err != nil {
		// Retried already: the request that needed the token is not.
		return &errFinal{err: named(err, "authenticating to %s: %w", h.name)}
	}
	t := tok.Token
	if t == "" {
		t = tok.AccessToken
	}
	if t == "" {
		return fmt.Errorf("authenticating to %s: the token server sent no token", h.name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.header = "Bearer " + t
	h.gen++
	h.granted = map[string]bool{}
	for _, s := range scopes {
		h.granted[s] = true
	}
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
			return &AuthError{Registry: h.name, Status: te.StatusCode, Anonymous: !h.hasCredentials()}
		case retryableStatus[te.StatusCode]:
			return &ResponseError{Method: http.MethodGet, Path: "token", Status: te.StatusCode}
		}
	}
	return h.transportError(err)
}

// current is the Authorization header and its generation.
func (h *host) current() (string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.header, h.gen
}

// hasCredentials reports whether the host's credentials were loaded and
// are not anonymous.
func (h *host) hasCredentials() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.credentialed
}

// secretList is every secret the host has seen, for redaction.
func (h *host) secretList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.secrets)
}

// refresh answers a 401 to a request sent with generation gen of the
// header: a bearer token renewed (adding the scope the challenge asks
// for), or, on a host whose first answer needed no credentials, the
// challenge answered now (anonymous reads, authenticated writes). What
// another request already did is not repeated.
func (h *host) refresh(ctx context.Context, gen int, c *transport.Challenge, path string) error {
	if err := h.lock(ctx); err != nil {
		return err
	}
	defer h.unlock()
	h.mu.Lock()
	done := h.gen != gen
	first := h.challenge == nil
	hidden := h.pinged && !h.open[repositoryOf(path)]
	basic := !first && !isBearer(h.challenge)
	h.mu.Unlock()
	if done {
		return nil
	}
	if first {
		if hidden {
			// The host said it wants no credentials, and "not found"
			// answers about this repository were believed on that word
			// alone: authenticating now could make a write of what they
			// hid. The 401 stands.
			return nil
		}
		return h.authenticateLocked(ctx, c)
	}
	if basic {
		// The Basic credentials were loaded already: nothing to renew.
		return nil
	}
	h.mu.Lock()
	if scope := c.Parameters["scope"]; scope != "" && !slices.Contains(h.scopes, scope) {
		h.scopes = append([]string{scope}, h.scopes...)
	}
	h.mu.Unlock()
	return h.exchange(ctx)
}

// authTransport adds the host's credentials to requests for the host (and
// only the host: a redirect to blob storage never carries them) and, once,
// answers a 401 that a fresh token or the host's first challenge can
// resolve: an expired or too narrow bearer token, or credentials a host
// that let anonymous requests through wants after all (for a write).
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
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		c, ok := pickChallenge(resp.Header.Values("WWW-Authenticate"))
		renew := ok && isBearer(c) && strings.HasPrefix(header, "Bearer ") && !t.h.declined(gen, c)
		if !renew && !(ok && header == "") {
			return resp, nil
		}
		if err := t.h.refresh(req.Context(), gen, c, req.URL.Path); err != nil {
			resp.Body.Close()
			return nil, err
		}
	case resp.StatusCode < 300 && header == "":
		t.h.readable(req.URL.Path)
		return resp, nil
	case (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden) && header == "" && t.h.presumedAnonymous(req):
		if err := bufferBody(resp); err != nil {
			return nil, err
		}
		if err := t.h.confirm(req.Context()); err != nil {
			return nil, err
		}
	default:
		return resp, nil
	}
	if header, _ = t.h.current(); header == "" {
		// No credentials to answer with: the answer stands.
		return resp, nil
	}
	drain(resp)
	retry := withAuth(req, header)
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			// A streamed body cannot be sent twice; the caller's retry
			// reopens it with the new credentials in place.
			return nil, &errRetry{err: fmt.Errorf("%s %s: credentials renewed", req.Method, req.URL.Path)}
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

// Announce tells the client which repositories ("host/path") an operation
// is about to read and write, before its first request, so that a registry
// with bearer tokens is asked once for a token covering all of them: the
// first challenge's exchange covers every scope noted so far, and reads
// that come before a write would otherwise hold a pull token and exchange
// again for push (a fresh promotion: pull for the destination's tags,
// then pull,push for the copy). Nothing is sent; a host whose token was
// exchanged already adds the scopes at its next exchange. A repository to
// write is read too: it gets the pull scope reads ask for as well.
//
// Announcing a write the operation may not make (a promotion that turns
// out to have happened already) asks for push it does not use; a token
// server grants what the user may have, so a user who may only pull is
// not refused for it (and a server that refuses is asked again without
// it: see host.exchange). A dry run should announce reads only.
func (c *Client) Announce(read, write []string) error {
	type note struct {
		h     *host
		scope string
		push  bool
	}
	// Every reference is parsed before any scope is noted: a bad one
	// changes nothing.
	var notes []note
	add := func(repo string, push bool) error {
		r, err := parseReference(repo, "")
		if err != nil {
			return err
		}
		h := c.host(r.registry)
		notes = append(notes, note{h: h, scope: pullScope(r.repo)})
		if push {
			notes = append(notes, note{h: h, scope: pushScope(r.repo), push: true})
		}
		return nil
	}
	for _, repo := range read {
		if err := add(repo, false); err != nil {
			return err
		}
	}
	for _, repo := range write {
		if err := add(repo, true); err != nil {
			return err
		}
	}
	for _, n := range notes {
		n.h.mu.Lock()
		switch {
		case slices.Contains(n.h.scopes, n.scope):
		case n.push:
			// First: a few registries read only the first scope to decide
			// access (go-containerregistry's remote.Write puts push first
			// for them).
			n.h.scopes = slices.Insert(n.h.scopes, 0, n.scope)
			if n.h.announced == nil {
				n.h.announced = map[string]bool{}
			}
			n.h.announced[n.scope] = true
		default:
			n.h.scopes = append(n.h.scopes, n.scope)
		}
		n.h.mu.Unlock()
	}
	return nil
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
