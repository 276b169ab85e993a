// Package registrytest runs an in-process OCI registry for tests:
// go-containerregistry's pkg/registry behind httptest, wrapped with what
// tests of a registry client need and pkg/registry lacks: a log of every
// request (counted by kind, auth apart), injected faults (500, 429 with
// Retry-After, dropped connections) from a seeded generator, Basic or
// token authentication, per-repository blob visibility with real
// cross-repository mounts (201), tag-list pagination with Link headers,
// HEAD answers without Docker-Content-Digest, and a check after every tag
// write that the tag names a complete image.
//
// Content is pushed with helpers that bypass the log and the faults, so a
// test's counts are the client's requests only.
package registrytest

import (
	"encoding/json"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// Kind is what a request is about.
type Kind string

// Request kinds.
const (
	KindPing      Kind = "ping"      // GET /v2/
	KindToken     Kind = "token"     // the token endpoint
	KindManifest  Kind = "manifest"  // /v2/<repo>/manifests/<ref>
	KindBlob      Kind = "blob"      // /v2/<repo>/blobs/<digest>
	KindUpload    Kind = "upload"    // /v2/<repo>/blobs/uploads/...
	KindTags      Kind = "tags"      // /v2/<repo>/tags/list
	KindReferrers Kind = "referrers" // /v2/<repo>/referrers/<digest>
	KindOther     Kind = "other"
)

// Request is one request the registry answered, as the log keeps it.
type Request struct {
	Method string
	Kind   Kind
	// Repo is the repository path ("" for ping and token).
	Repo string
	// Ref is the tag or digest of a manifest, the digest of a blob, or the
	// digest an upload PUT (or a mount) names.
	Ref string
	// From is the source repository of a mount request (mounted when
	// Status is 201; refused otherwise, 202 opening an upload session).
	From string
	// UserAgent is the client's User-Agent header.
	UserAgent string
	// Scopes are the scopes a token request asks for
	// ("repository:<path>:pull,push"), one per scope parameter value.
	Scopes []string
	// Status is the status sent (0 for a dropped connection).
	Status int
	// Fault names the injected fault, if any: "500", "429", "drop",
	// "drop-after" (the request took effect, then its connection was cut).
	Fault string
}

// String is "METHOD kind repo ref status", for failure messages.
func (r Request) String() string {
	s := r.Method + " " + string(r.Kind)
	if r.Repo != "" {
		s += " " + r.Repo
	}
	if r.Ref != "" {
		s += " " + r.Ref
	}
	if r.From != "" {
		s += " from=" + r.From
	}
	s += " " + strconv.Itoa(r.Status)
	if r.Fault != "" {
		s += " fault=" + r.Fault
	}
	return s
}

// Auth reports a request of the authentication handshake, which request
// budgets exclude: the ping, token requests, and requests answered 401 (a
// client learns the challenge from its first request and sends it again
// with credentials, instead of pinging first).
func (r Request) Auth() bool {
	return r.Kind == KindPing || r.Kind == KindToken || r.Status == http.StatusUnauthorized
}

// Write reports a request that changes the registry (or tries to).
func (r Request) Write() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Upload reports a completed blob upload (the final PUT, or a one-shot
// POST with the digest), not a mount.
func (r Request) Upload() bool {
	return r.Kind == KindUpload && r.Status == http.StatusCreated && r.From == "" && r.Ref != "" &&
		(r.Method == http.MethodPut || r.Method == http.MethodPost)
}

// NotAuth is a filter for Count: every request but the auth handshake.
func NotAuth(r Request) bool { return !r.Auth() }

// Faults configures injected failures.
type Faults struct {
	// Rate is the fraction of requests that fail, 0 to 1.
	Rate float64
	// Seed seeds the generator that picks them.
	Seed uint64
	// Kinds are the faults to pick from: "500", "429", "drop",
	// "drop-after". Default: all four.
	Kinds []string
	// RetryAfter is the Retry-After value sent with a 429 (seconds or an
	// HTTP date). Default "1".
	RetryAfter string
	// Only limits the faults to matching requests. Default: all.
	Only func(Request) bool
	// Limit stops injecting after this many faults (0: no limit).
	Limit int
}

// Option configures a Server.
type Option func(*Server)

// WithTLS serves HTTPS with httptest's certificate (see CAFile).
func WithTLS() Option { return func(s *Server) { s.tls = true } }

// WithBasicAuth requires Basic credentials on every request.
func WithBasicAuth(user, password string) Option {
	return func(s *Server) { s.authMode, s.user, s.password = "basic", user, password }
}

// WithTokenAuth requires bearer tokens, issued by the server's /token
// endpoint for these Basic credentials, scoped per repository and action
// like Docker's token authentication.
func WithTokenAuth(user, password string) Option {
	return func(s *Server) { s.authMode, s.user, s.password = "token", user, password }
}

// WithPullOnly makes the user of WithTokenAuth one who may pull but not
// push. Its token endpoint, asked for push, grants pull alone, as the
// token specification says a token server does (the intersection of what
// is asked and what is allowed, not an error); with refuse it answers 403
// instead, as a stricter server might.
func WithPullOnly(refuse bool) Option {
	return func(s *Server) { s.pullOnly, s.refusePush = true, refuse }
}

// WithAnonymousTokens makes the token endpoint of WithTokenAuth answer a
// request without credentials too, with a token that grants nothing, as
// Docker Hub's, Harbor's and docker_auth's do: the registry then answers
// 401 to every request that carries it.
func WithAnonymousTokens() Option { return func(s *Server) { s.anonymousTokens = true } }

// WithReferrersAPI turns the OCI referrers API on or off (default on).
// Off, the registry behaves like registry:2: clients keep the fallback tag.
func WithReferrersAPI(on bool) Option { return func(s *Server) { s.referrers = on } }

// WithFaults injects failures.
func WithFaults(f Faults) Option { return func(s *Server) { s.faults = f } }

// WithoutHeadDigest strips Docker-Content-Digest from manifest HEAD
// answers (the header is only a SHOULD).
func WithoutHeadDigest() Option { return func(s *Server) { s.noHeadDigest = true } }

// WithTagPageSize pages tag lists by n tags with Link headers.
func WithTagPageSize(n int) Option { return func(s *Server) { s.tagPage = n } }

// WithLatency delays every answer by d, to emulate a registry across a
// network in benchmarks whose cost is round trips. Tests never need it.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithMountRefusal refuses every cross-repository mount with status:
// http.StatusAccepted answers with an ordinary upload session instead, as
// distribution does when it cannot mount (ECR without mounting enabled,
// a blob the token may not read); any other status is an error answer,
// as Harbor's 401 for a project the client cannot see, or a 400 or 404
// for a source a registry will not mount from. A 401 carries the
// challenge of the server's authentication (Basic without any). Default:
// a blob the source repository has is mounted (201).
func WithMountRefusal(status int) Option { return func(s *Server) { s.mountRefusal = status } }

// WithHook calls f after each logged request (from the request's
// goroutine), for instance to cancel a client after N uploads.
func WithHook(f func(Request)) Option { return func(s *Server) { s.hook = f } }

// Server is an in-process registry.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port").
	URL string
	// Host is "127.0.0.1:port", what image references start with.
	Host string

	srv   *httptest.Server
	inner http.Handler
	blobs *blobStore

	tls             bool
	authMode        string
	user            string
	password        string
	anonymousTokens bool
	pullOnly        bool
	refusePush      bool
	referrers       bool
	faults          Faults
	noHeadDigest    bool
	mountRefusal    int
	tagPage         int
	hook            func(Request)
	latency         time.Duration

	mu          sync.Mutex
	idle        *sync.Cond
	inFlight    int
	maxInFlight int
	injected    int
	log         []Request
	rng         *rand.Rand
	tokens      map[string]map[string]string // token → repo → actions
	nextToken   int
	violations  []string
	// doneSessions are the upload session paths a PUT completed.
	doneSessions map[string]bool
}

// New starts a registry for the test; it stops when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{referrers: true, blobs: newBlobStore(), tokens: map[string]map[string]string{}, doneSessions: map[string]bool{}}
	s.idle = sync.NewCond(&s.mu)
	for _, o := range opts {
		o(s)
	}
	if s.faults.RetryAfter == "" {
		s.faults.RetryAfter = "1"
	}
	if len(s.faults.Kinds) == 0 {
		s.faults.Kinds = []string{"500", "429", "drop", "drop-after"}
	}
	s.rng = rand.New(rand.NewPCG(s.faults.Seed, s.faults.Seed^0x9e3779b97f4a7c15))
	s.inner = ggcrregistry.New(
		ggcrregistry.Logger(log.New(discard{}, "", 0)),
		ggcrregistry.WithReferrersSupport(s.referrers),
		ggcrregistry.WithBlobHandler(s.blobs),
	)
	s.srv = httptest.NewUnstartedServer(s)
	// Refused handshakes are what some tests are about; keep them quiet.
	s.srv.Config.ErrorLog = log.New(discard{}, "", 0)
	if s.tls {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	u, _ := url.Parse(s.URL)
	s.Host = u.Host
	return s
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// CAFile writes the server's certificate (its own CA) as PEM into the
// test's temporary directory and returns the path.
func (s *Server) CAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, certPEM(s.srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Requests returns the log, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Reset clears the log.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.maxInFlight = s.inFlight
}

// Count counts the logged requests that match every filter.
func (s *Server) Count(filters ...func(Request) bool) int {
	n := 0
	for _, r := range s.Requests() {
		ok := true
		for _, f := range filters {
			ok = ok && f(r)
		}
		if ok {
			n++
		}
	}
	return n
}

// Summary is the log grouped as "METHOD kind: n", one per line, for
// failure messages.
func (s *Server) Summary() string {
	counts := map[string]int{}
	for _, r := range s.Requests() {
		counts[r.Method+" "+string(r.Kind)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, counts[k])
	}
	return b.String()
}

// Uploads returns the digests of the completed blob uploads in the log.
func (s *Server) Uploads() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Upload() {
			out = append(out, r.Ref)
		}
	}
	return out
}

// Violations returns what the check after each tag write found: tags that
// named a manifest whose children or blobs were not all in the repository
// at that moment.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// ExpireTokens forgets every issued token, as if they had expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]map[string]string{}
}

// classify reads what a request is about from its path.
func classify(r *http.Request) Request {
	req := Request{Method: r.Method, Kind: KindOther}
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		req.Kind = KindPing
		return req
	case p == "/token":
		req.Kind = KindToken
		for _, v := range r.URL.Query()["scope"] {
			req.Scopes = append(req.Scopes, strings.Fields(v)...)
		}
		return req
	case !strings.HasPrefix(p, "/v2/"):
		return req
	}
	elems := strings.Split(strings.TrimSuffix(strings.TrimPrefix(p, "/v2/"), "/"), "/")
	n := len(elems)
	switch {
	case n >= 3 && elems[n-2] == "manifests":
		req.Kind, req.Repo, req.Ref = KindManifest, strings.Join(elems[:n-2], "/"), elems[n-1]
	case n >= 3 && elems[n-2] == "blobs" && elems[n-1] == "uploads":
		req.Kind, req.Repo = KindUpload, strings.Join(elems[:n-2], "/")
	case n >= 4 && elems[n-3] == "blobs" && elems[n-2] == "uploads":
		req.Kind, req.Repo = KindUpload, strings.Join(elems[:n-3], "/")
	case n >= 3 && elems[n-2] == "blobs":
		req.Kind, req.Repo, req.Ref = KindBlob, strings.Join(elems[:n-2], "/"), elems[n-1]
	case n >= 3 && elems[n-2] == "tags" && elems[n-1] == "list":
		req.Kind, req.Repo = KindTags, strings.Join(elems[:n-2], "/")
	case n >= 3 && elems[n-2] == "referrers":
		req.Kind, req.Repo, req.Ref = KindReferrers, strings.Join(elems[:n-2], "/"), elems[n-1]
	}
	if req.Kind == KindUpload {
		q := r.URL.Query()
		req.Ref = q.Get("digest")
		if m := q.Get("mount"); m != "" {
			req.Ref, req.From = m, q.Get("from")
		}
	}
	return req
}

// ServeHTTP logs, injects faults, authenticates, emulates what
// pkg/registry lacks, and hands the rest to pkg/registry.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := classify(r)
	req.UserAgent = r.UserAgent()
	s.enter()
	defer s.leave()
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	sw := &statusWriter{ResponseWriter: w}
	defer func() { s.record(req, sw.status) }()

	switch req.Fault = s.pickFault(req); req.Fault {
	case "500":
		writeError(sw, http.StatusInternalServerError, "UNKNOWN", "injected fault")
		return
	case "429":
		sw.Header().Set("Retry-After", s.faults.RetryAfter)
		writeError(sw, http.StatusTooManyRequests, "TOOMANYREQUESTS", "injected fault")
		return
	case "drop":
		drop(w)
		return
	case "drop-after":
		s.serve(httptest.NewRecorder(), r, &req)
		drop(w)
		return
	}
	s.serve(sw, r, &req)
}

// serve is everything after fault injection.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, req *Request) {
	if !s.authorize(w, r, req) {
		return
	}
	switch {
	case req.Kind == KindToken:
		s.issueToken(w, r)
		return
	case req.Kind == KindUpload && r.Method == http.MethodPost && req.From != "":
		switch {
		case s.mountRefusal == http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", s.challenge(req, "pull,push"))
			writeError(w, s.mountRefusal, "UNAUTHORIZED", "mount refused")
			return
		case s.mountRefusal != 0 && s.mountRefusal != http.StatusAccepted:
			writeError(w, s.mountRefusal, "DENIED", "mount refused")
			return
		case s.mountRefusal == 0 && s.blobs.has(req.From, req.Ref) && s.mayMount(r, req.From):
			s.blobs.link(req.Repo, req.Ref)
			w.Header().Set("Location", "/v2/"+req.Repo+"/blobs/"+req.Ref)
			w.Header().Set("Docker-Content-Digest", req.Ref)
			w.WriteHeader(http.StatusCreated)
			return
		}
		// Not mountable: an ordinary upload session (202), as registries
		// do. The log keeps From: it was a mount request, refused.
	case req.Kind == KindManifest && r.Method == http.MethodHead && s.noHeadDigest:
		w = &headerFilter{ResponseWriter: w, drop: "Docker-Content-Digest"}
	case req.Kind == KindTags && r.Method == http.MethodGet && s.tagPage > 0:
		s.pageTags(w, r, req.Repo)
		return
	case req.Kind == KindReferrers && r.Method == http.MethodGet && s.referrers:
		s.serveReferrers(w, r, req.Repo)
		return
	}
	if req.Kind == KindUpload && (r.Method == http.MethodPut || r.Method == http.MethodPatch) && s.sessionDone(r.URL.Path) {
		// distribution ends a session with its PUT: a retry of a PUT that
		// completed finds it gone (pkg/registry would accept it again).
		writeError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
		return
	}
	st := &statusWriter{ResponseWriter: w}
	s.inner.ServeHTTP(st, r)
	if req.Kind == KindUpload && r.Method == http.MethodPut && st.status == http.StatusCreated {
		s.mu.Lock()
		s.doneSessions[r.URL.Path] = true
		s.mu.Unlock()
	}
	if req.Kind == KindManifest && r.Method == http.MethodPut && st.status == http.StatusCreated && !strings.Contains(req.Ref, ":") {
		if err := s.complete(req.Repo, req.Ref, 0); err != nil {
			s.mu.Lock()
			s.violations = append(s.violations, fmt.Sprintf("tag %s:%s written while %v", req.Repo, req.Ref, err))
			s.mu.Unlock()
		}
	}
}

func (s *Server) sessionDone(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doneSessions[path]
}

// enter and leave count the requests being served.
func (s *Server) enter() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
}

func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	if s.inFlight == 0 {
		s.idle.Broadcast()
	}
}

// WaitIdle returns once no request is being served: after a client was
// cancelled, the requests it had started may still be finishing.
func (s *Server) WaitIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.inFlight > 0 {
		s.idle.Wait()
	}
}

// MaxInFlight is the largest number of requests served at once since the
// last Reset.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

func (s *Server) record(req Request, status int) {
	req.Status = status
	s.mu.Lock()
	s.log = append(s.log, req)
	s.mu.Unlock()
	if s.hook != nil {
		s.hook(req)
	}
}

// pickFault draws whether this request fails, and how.
func (s *Server) pickFault(req Request) string {
	if s.faults.Rate <= 0 || (s.faults.Only != nil && !s.faults.Only(req)) {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (s.faults.Limit > 0 && s.injected >= s.faults.Limit) || s.rng.Float64() >= s.faults.Rate {
		return ""
	}
	s.injected++
	return s.faults.Kinds[s.rng.IntN(len(s.faults.Kinds))]
}

// drop cuts the connection without an answer. w is the server's own
// writer (ServeHTTP passes it, not its statusWriter).
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot drop", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	conn.Close()
}

// writeError writes a registry error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// pageTags serves one page of a tag list and a Link to the next.
func (s *Server) pageTags(w http.ResponseWriter, r *http.Request, repo string) {
	q := r.URL.Query()
	n := s.tagPage
	if v, err := strconv.Atoi(q.Get("n")); err == nil && v > 0 && v < n {
		n = v
	}
	inner := r.Clone(r.Context())
	iq := url.Values{"n": {strconv.Itoa(n + 1)}}
	if last := q.Get("last"); last != "" {
		iq.Set("last", last)
	}
	inner.URL.RawQuery = iq.Encode()
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, inner)
	if rec.Code != http.StatusOK {
		relay(w, rec)
		return
	}
	var page struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	json.Unmarshal(rec.Body.Bytes(), &page)
	if len(page.Tags) > n {
		page.Tags = page.Tags[:n]
		next := url.Values{"n": {strconv.Itoa(n)}, "last": {page.Tags[n-1]}}
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?%s>; rel="next"`, repo, next.Encode()))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(page)
}

// serveReferrers answers the referrers API with pkg/registry's list, each
// artifactType corrected to the manifest's own artifactType field where it
// has one (pkg/registry always reports the config media type, which the
// spec only allows as a fallback).
func (s *Server) serveReferrers(w http.ResponseWriter, r *http.Request, repo string) {
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		relay(w, rec)
		return
	}
	var idx map[string]any
	json.Unmarshal(rec.Body.Bytes(), &idx)
	list, _ := idx["manifests"].([]any)
	for _, e := range list {
		d, _ := e.(map[string]any)
		dg, _ := d["digest"].(string)
		raw, _, ok := s.Manifest(repo, dg)
		if !ok {
			continue
		}
		var m struct {
			ArtifactType string `json:"artifactType"`
		}
		if json.Unmarshal(raw, &m) == nil && m.ArtifactType != "" {
			d["artifactType"] = m.ArtifactType
		}
	}
	w.Header().Set("Content-Type", MediaOCIIndex)
	json.NewEncoder(w).Encode(idx)
}

// relay sends an answer of pkg/registry as it was recorded.
func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// statusWriter remembers the status sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// headerFilter drops a header from an answer.
type headerFilter struct {
	http.ResponseWriter
	drop string
}

func (w *headerFilter) WriteHeader(code int) {
	w.Header().Del(w.drop)
	w.ResponseWriter.WriteHeader(code)
}
