package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Errors callers branch on. They are wrapped with context; match them with
// errors.Is. Errors that carry a fix a person can apply also implement
// interface{ Hint() string }.
var (
	// ErrNotFound means the registry does not know the manifest, blob or
	// repository (MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN, or a 404).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized means the registry refused the request after
	// authentication (401 or 403): missing, wrong or insufficient
	// credentials. The concrete error is an *AuthError.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTagConflict means an immutable tag already names another digest.
	// The concrete error is a *TagConflictError.
	ErrTagConflict = errors.New("tag conflict")
	// ErrInsecureRefused means a registry would have to be reached over
	// plain HTTP, which is only allowed for loopback hosts and hosts named
	// with WithInsecureRegistry.
	ErrInsecureRefused = errors.New("plain HTTP refused")
	// ErrUnknownAuthority means the registry's TLS certificate is signed by
	// an authority the client does not trust (see WithCAFile).
	ErrUnknownAuthority = errors.New("certificate signed by unknown authority")
	// ErrUnsupported means a manifest the client cannot copy faithfully,
	// such as Docker schema 1 or an unknown media type.
	ErrUnsupported = errors.New("unsupported manifest")
	// ErrInvalidReference means an image reference or tag does not parse.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrTooLarge means a response body (manifest, config, tag list) is
	// larger than the client accepts.
	ErrTooLarge = errors.New("response too large")
)

// TagConflictError reports that an immutable tag already names another
// digest. Nothing was written when a copy returns it.
type TagConflictError struct {
	// Repository is the destination repository, host included.
	Repository string
	// Tag is the tag that is taken.
	Tag string
	// Have is the digest the tag names now.
	Have string
	// Want is the digest the copy would have written.
	Want string
}

func (e *TagConflictError) Error() string {
	return fmt.Sprintf("tag %s:%s already names %s, not %s", e.Repository, e.Tag, e.Have, e.Want)
}

// Is makes errors.Is(err, ErrTagConflict) true.
func (e *TagConflictError) Is(target error) bool { return target == ErrTagConflict }

// AuthError reports that a registry refused the credentials (or their
// absence) for a request.
type AuthError struct {
	// Registry is the registry host.
	Registry string
	// Status is the HTTP status (401 or 403).
	Status int
	// Code is the registry's error code when it sent one (UNAUTHORIZED,
	// DENIED).
	Code string
	// Anonymous says the refused request carried no credentials: the
	// Docker config has none for the registry (a bearer token obtained
	// without any counts as none), or they were not sent. A 401 then
	// means credentials are required, not that they are wrong.
	Anonymous bool
	// Scope is what the credentials were refused
	// ("repository:prod/app:pull,push") when the registry said they are
	// valid but lack it (error="insufficient_scope": a token server that
	// granted less than asked, such as pull without push).
	Scope string
}

func (e *AuthError) Error() string {
	what := "rejected the credentials"
	switch {
	case e.Scope != "":
		what = "refused " + describeScope(e.Scope) + " to these credentials"
	case e.Status == http.StatusForbidden:
		what = "denied access"
	case e.Anonymous:
		what = "requires credentials"
	}
	return fmt.Sprintf("registry %s %s (HTTP %d)", e.Registry, what, e.Status)
}

// describeScope says a token scope for a person: "repository:prod/app:pull,push"
// is "push to prod/app" (pull, pull,push and friends name their strongest action).
func describeScope(scope string) string {
	parts := strings.Split(scope, ":")
	if len(parts) != 3 || parts[0] != "repository" {
		return scope
	}
	if strings.Contains(parts[2], "push") {
		return "push to " + parts[1]
	}
	return parts[2] + " of " + parts[1]
}

// Is makes errors.Is(err, ErrUnauthorized) true.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

// Hint names the fix: log in, or point DOCKER_CONFIG at a config that has
// credentials for the registry.
func (e *AuthError) Hint() string {
	if e.Scope != "" {
		return fmt.Sprintf("the credentials the Docker config has for %s may not do that: log in as a user who may (`docker login %s`), or ask for the access", e.Registry, e.Registry)
	}
	return fmt.Sprintf("run `docker login %s` or set DOCKER_CONFIG to a directory whose config.json has credentials for it", e.Registry)
}

// InsecureError reports that a registry speaks plain HTTP (or a redirect
// pointed at plain HTTP) and the host is not allowed plain HTTP.
type InsecureError struct {
	// Registry is the host that would have been reached over plain HTTP.
	Registry string
}

func (e *InsecureError) Error() string {
	return fmt.Sprintf("registry %s would have to be reached over plain HTTP, which is refused for hosts other than loopback", e.Registry)
}

// Is makes errors.Is(err, ErrInsecureRefused) true.
func (e *InsecureError) Is(target error) bool { return target == ErrInsecureRefused }

// Hint names the flag that allows plain HTTP for one host.
func (e *InsecureError) Hint() string {
	return fmt.Sprintf("if plain HTTP is intended, pass --insecure-registry %s", e.Registry)
}

// CertificateError reports a TLS certificate signed by an unknown
// authority.
type CertificateError struct {
	// Registry is the host that presented the certificate.
	Registry string
	// Err is the verification error.
	Err error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("registry %s presented a certificate signed by an unknown authority", e.Registry)
}

// Unwrap returns the TLS verification error.
func (e *CertificateError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnknownAuthority) true.
func (e *CertificateError) Is(target error) bool { return target == ErrUnknownAuthority }

// Hint names the flag that adds a CA.
func (e *CertificateError) Hint() string {
	return "pass --ca-file with the certificate of the authority that signed it"
}

// ResponseError is an unexpected HTTP status from a registry, with the
// registry's error codes when the body carried them.
type ResponseError struct {
	// Method and Path name the request (the path has no query, so no
	// upload session or token ever shows).
	Method string
	Path   string
	// Status is the HTTP status code.
	Status int
	// Codes are the registry error codes (MANIFEST_UNKNOWN, ...).
	Codes []string
	// Message is the first error message of the body, if any.
	Message string
	// RetryAfter is how long the registry asked to wait (429, 503), zero
	// when it did not say.
	RetryAfter time.Duration
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if len(e.Codes) > 0 {
		fmt.Fprintf(&b, " %s", strings.Join(e.Codes, ","))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *ResponseError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// errorBodyLimit caps how much of an error response is read.
const errorBodyLimit = 64 << 10

// newResponseError reads the (capped) error body of resp and describes it.
// The caller closes the body.
func newResponseError(resp *http.Response, now time.Time) *ResponseError {
	e := &ResponseError{
		Method: resp.Request.Method,
		Path:   resp.Request.URL.Path,
		Status: resp.StatusCode,
	}
	if resp.Request.Method != http.MethodHead {
		body, _ := readLimited(resp.Body, errorBodyLimit)
		var doc struct {
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(body, &doc) == nil {
			for _, d := range doc.Errors {
				e.Codes = append(e.Codes, d.Code)
				if e.Message == "" {
					e.Message = d.Message
				}
			}
		}
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// redactedError hides secrets in the text of an error while keeping the
// chain for errors.Is and errors.As.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string { return redact(e.err.Error(), e.secrets) }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
