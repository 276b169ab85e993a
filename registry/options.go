package registry

import (
	"context"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Option configures a Client.
type Option func(*options)

// options is everything a Client is configured with. New fills the
// defaults; nothing changes it afterwards.
type options struct {
	keychain  authn.Keychain
	caFile    string
	insecure  []string
	jobs      int
	retry     RetryPolicy
	transport http.RoundTripper
	userAgent string
	progress  func(Update)
}

// defaultJobs is the default number of transfers and checks in flight.
// Registries such as ECR (10 manifest writes per second) and Artifact
// Registry punish bursts more than they reward parallelism, hence a bound
// at all; crane's 4 is nested per index level (up to 16 in flight for an
// index), so a flat 8 keeps up with it (BenchmarkCopyRemote) while staying
// under those limits.
const defaultJobs = 8

// WithKeychain sets where credentials come from. Default: the Docker
// config (DOCKER_CONFIG or ~/.docker/config.json, with credential helpers
// and credsStore), as read by authn.DefaultKeychain. See
// DockerConfigKeychain to name the directory explicitly.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) { o.keychain = k }
}

// WithCAFile adds the PEM certificates in path to the system roots for
// every registry. Default: the system roots only. Cannot be combined with
// WithTransport (that transport brings its own TLS configuration).
func WithCAFile(path string) Option {
	return func(o *options) { o.caFile = path }
}

// WithInsecureRegistry allows plain HTTP for one registry, named as
// "host:port" or "host" (every port). HTTPS is still tried first. Default:
// plain HTTP only for loopback hosts (localhost, *.localhost, 127.0.0.0/8,
// ::1); any other host is refused plain HTTP with ErrInsecureRefused.
func WithInsecureRegistry(host string) Option {
	return func(o *options) { o.insecure = append(o.insecure, host) }
}

// WithJobs bounds the number of blob transfers and manifest checks in
// flight during one Copy. Default: 8. Values below 1 mean the default.
func WithJobs(n int) Option {
	return func(o *options) { o.jobs = n }
}

// WithRetry sets how transient failures are retried. Zero fields of p take
// the defaults documented on RetryPolicy.
func WithRetry(p RetryPolicy) Option {
	return func(o *options) { o.retry = p }
}

// WithTransport sets the HTTP transport under the client's own layers
// (scheme guard, authentication, retries), for tests and custom dialers.
// Default: a clone of http.DefaultTransport with the TLS roots of
// WithCAFile.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// WithUserAgent sets the User-Agent header. Default: "release".
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}

// WithProgress receives byte counts while Copy transfers blobs. It is
// called from one goroutine at a time. Default: none.
func WithProgress(f func(Update)) Option {
	return func(o *options) { o.progress = f }
}

// Update is a progress report of a Copy: bytes of blobs transferred so far
// and the total to transfer. Complete can go back when a transfer
// restarts after a failure.
type Update struct {
	Complete int64
	Total    int64
}

// RetryPolicy says how transient failures are retried: 408, 429, 499, 500,
// 502, 503, 504 and 522 responses, connection resets, unexpected EOFs and
// timeouts. A server-sent Retry-After (seconds or an HTTP date) is honoured,
// capped at MaxRetryAfter. Each HTTP request is retried on its own; a blob
// upload reopens its source stream for each try.
type RetryPolicy struct {
	// Attempts is the number of tries per request, the first included.
	// Default 5.
	Attempts int
	// Initial is the first backoff; each next one triples, with ±10%
	// jitter. Default 250ms.
	Initial time.Duration
	// Max caps one backoff. Default 10s.
	Max time.Duration
	// MaxRetryAfter caps a wait the server asks for. Default 60s.
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx is done. Default: a timer. Tests inject
	// one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to read an HTTP-date Retry-After. Default
	// time.Now.
	Now func() time.Time
}
